"""The engine's on-disk parts: the whoosh schema, the fast segment writer, the posting-block
encoder and the vectorized evaluator. Only this sub-package and `index.py` import whoosh."""
