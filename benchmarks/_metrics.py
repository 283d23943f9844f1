"""Ranking metrics for one query, from its ranked doc ids and its relevant ids.

Gains are binary. The ranked ids are assumed distinct, best first. A query with no
relevant documents scores 0 everywhere (such queries are left out anyway).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence


def ndcg_at_k(ranked: Sequence[str], relevant: Collection[str], k: int = 10) -> float:
    """Returns nDCG@k: DCG, log2(rank + 1) discount, over the ideal DCG."""
    dcg = sum(1 / math.log2(rank + 1) for rank, doc in enumerate(ranked[:k], 1) if doc in relevant)
    ideal = sum(1 / math.log2(rank + 1) for rank in range(1, min(k, len(relevant)) + 1))
    return dcg / ideal if ideal else 0.0


def average_precision(ranked: Sequence[str], relevant: Collection[str]) -> float:
    """Returns AP: mean over relevant docs of precision at their rank, 0 if missed."""
    if not relevant:
        return 0.0
    found = 0
    total = 0.0
    for rank, doc in enumerate(ranked, 1):
        if doc in relevant:
            found += 1
            total += found / rank
    return total / len(relevant)


def recall_at_k(ranked: Sequence[str], relevant: Collection[str], k: int = 100) -> float:
    """Returns the share of relevant docs found in the top k."""
    if not relevant:
        return 0.0
    return sum(1 for doc in ranked[:k] if doc in relevant) / len(relevant)
