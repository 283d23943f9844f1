"""More like this: an article's most distinctive words, searched as an ordinary ranked query.

As Lucene's MoreLikeThis: every stem of the article's title and body is weighted by tf·idf
(a title occurrence counts TITLE_WEIGHT times, as in ranking; the idf is the ranking's); stop
words (those `match="any"` drops) are never chosen; stems found fewer than `min_term_freq` times in
the article or in fewer than `min_doc_freq` articles are left out, and the `max_query_terms`
heaviest are ORed into a query (each written as the article's commonest word with that stem),
the article itself excluded. That query is then run as any other, ranked by BM25F, with
snippets; `SearchResults.query` is its text, which `newssearch query` answers the same way.
"""

from __future__ import annotations

import dataclasses
import time
from collections import Counter

from newssearch import articles, query, search
from newssearch.analysis import words
from newssearch.engine.execute import TITLE_WEIGHT, Executor
from newssearch.errors import NewssearchError
from newssearch.results import SearchResults

MIN_TERM_FREQ = 1
MIN_DOC_FREQ = 2  # the article itself and at least one other
MAX_QUERY_TERMS = 25


def run(
    executor: Executor,
    doc_id: str,
    *,
    limit: int = 10,
    offset: int = 0,
    date_from: str | None = None,
    date_to: str | None = None,
    snippets: bool = True,
    min_term_freq: int = MIN_TERM_FREQ,
    min_doc_freq: int = MIN_DOC_FREQ,
    max_query_terms: int = MAX_QUERY_TERMS,
) -> SearchResults:
    """Returns the articles most like `doc_id`, ranked, the article itself excluded.

    Raises DocumentNotFoundError for an unknown id, NewssearchError for a threshold under 1.
    An article with no word that passes the thresholds gets no hits (and the query "").
    `took_ms` covers choosing the words too.
    """
    started = time.perf_counter()
    if min_term_freq < 1 or min_doc_freq < 1 or max_query_terms < 1:
        raise NewssearchError("min_term_freq, min_doc_freq and max_query_terms must be at least 1")
    document = articles.get(executor, doc_id)
    words_of = distinctive_words(executor, document.title, document.body)
    chosen = [word for word, tf, df, _ in words_of if tf >= min_term_freq and df >= min_doc_freq][
        :max_query_terms
    ]
    if not chosen:
        return SearchResults("", 0, (time.perf_counter() - started) * 1000, ())
    terms = [query.Term(word) for word in chosen]
    either: query.Node = terms[0] if len(terms) == 1 else query.Or(tuple(terms))
    tree = query.And((either, query.Not(query.Term(doc_id, "id"))))
    results = search.run(
        executor,
        tree,
        limit=limit,
        offset=offset,
        date_from=date_from,
        date_to=date_to,
        snippets=snippets,
        suggestions=False,
    )
    return dataclasses.replace(results, took_ms=(time.perf_counter() - started) * 1000)


def distinctive_words(
    executor: Executor, title: str, body: str
) -> list[tuple[str, float, int, float]]:
    """Returns (word, tf, df, tf·idf) for each stem of the text but stop words, heaviest first
    (ties by word).

    `word` is the text's commonest word with that stem, `tf` the stem's weighted count (title
    occurrences count TITLE_WEIGHT times), `df` the articles that have it in title or body.
    """
    stem = executor.stem
    stop = query.stop_words(executor.language)
    tf: dict[str, float] = {}
    surfaces: dict[str, Counter[str]] = {}
    for text, weight in ((title, TITLE_WEIGHT), (body, 1.0)):
        for word in words(text):
            if word in stop:
                continue
            found = stem(word)
            tf[found] = tf.get(found, 0.0) + weight
            surfaces.setdefault(found, Counter())[word] += 1
    out = []
    for found, count in tf.items():
        key = found.encode()
        df = max(executor.searcher.doc_frequency(name, key) for name in ("title", "body"))
        idf = min(executor.idf(name, key) for name in ("title", "body"))
        word = min(surfaces[found].items(), key=lambda item: (-item[1], item[0]))[0]
        out.append((word, count, df, count * idf))
    return sorted(out, key=lambda item: (-item[3], item[0]))
