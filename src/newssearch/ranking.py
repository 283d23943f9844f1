"""BM25F relevance for whoosh: per-field BM25 summed, title weighted higher, Lucene's idf.

whoosh's own idf, log(N / (n + 1)) + 1, still gives a word found in nearly every document a
weight near 1; Lucene's log(1 + (N - n + 0.5) / (n + 0.5)) lets such words fade out.
"""

from __future__ import annotations

from math import log
from typing import Any

from whoosh import scoring

K1 = 1.2
B = 0.75


class NewsBM25F(scoring.BM25F):  # type: ignore[misc]
    """whoosh weighting model: BM25 with Lucene's idf; field weights come from query boosts."""

    def __init__(self, k1: float = K1, b: float = B) -> None:
        super().__init__(B=b, K1=k1)

    def idf(self, searcher: Any, fieldname: str, text: bytes) -> float:
        parent = searcher.get_parent()
        n = parent.doc_frequency(fieldname, text)
        total = parent.doc_count_all()
        return log(1 + (total - n + 0.5) / (n + 0.5))
