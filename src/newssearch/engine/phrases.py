"""Phrases over decoded posting lists, vectorized: exact ones by shared position keys, sloppy
ones by each word's nearest later occurrence of the next.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from newssearch.engine.postings_cache import SHIFT, Ids, Postings


def exact_phrases(found: list[Postings]) -> tuple[Ids, npt.NDArray[np.float64]]:
    """Returns the documents where the words occur in a row, and how often, vectorized:
    word i at position p of document d is the key d * 2**32 + p - i, shared by a phrase."""
    keys = found[0].keys
    for i, postings in enumerate(found[1:], start=1):
        if not keys.size:
            break
        docs, positions = postings.flat
        keep = positions >= i
        mine = docs[keep] * SHIFT + positions[keep] - i
        keys = np.intersect1d(keys, mine, assume_unique=True)
    docs, counts = np.unique(keys // SHIFT, return_counts=True)
    return docs, counts.astype(np.float64)


def sloppy_phrases(found: list[Postings], slop: int) -> tuple[Ids, npt.NDArray[np.float64]]:
    """Returns the documents where each next word follows within slop+1 positions, and how
    many first-word positions start such a chain, vectorized: from the last word back, the
    occurrences of each word whose nearest later occurrence of the next one is in reach."""
    reach = slop + 1
    ends = found[-1].keys  # the occurrences that end (or, below, continue) a chain
    for postings in reversed(found[:-1]):
        if not ends.size:
            break
        mine = postings.keys
        after = np.searchsorted(ends, mine, side="right")
        ok = after < ends.size
        nearest = ends[np.minimum(after, ends.size - 1)]
        ok &= (nearest - mine <= reach) & (nearest // SHIFT == mine // SHIFT)
        ends = mine[ok]
    docs, counts = np.unique(ends // SHIFT, return_counts=True)
    return docs, counts.astype(np.float64)
