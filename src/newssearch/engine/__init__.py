"""The engine's on-disk parts: the whoosh schema, the fast segment writer, the posting-block
encoder, the vectorized evaluator, and the storage that makes commits durable, checksummed and
safe to open. Only this sub-package and `index.py` import whoosh."""

from newssearch.engine import schema, trust

# Every pickle whoosh reads from an index goes through the allow-list from here on (see
# newssearch.engine.trust.install), in this process and in the writer's worker processes,
# which import this package too.
trust.admit_analyzer(schema.NewsAnalyzer)
trust.install()
