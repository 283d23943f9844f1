"""Decoded posting lists: one term's postings in one segment, read block by block straight from
whoosh's files into arrays, and the cache that keeps them within a byte budget.
"""

from __future__ import annotations

import zlib
from collections import OrderedDict
from dataclasses import dataclass
from functools import cached_property
from itertools import chain
from typing import Any

import numpy as np
import numpy.typing as npt

from newssearch.engine import trust

# Bytes of decoded posting lists an open index keeps for warm queries (`Index.open(cache_bytes=)`).
CACHE_BYTES = 200_000_000

SHIFT = 1 << 32  # positions within a field stay below this

Ids = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Postings:
    """One term's postings in one segment: docnums, term frequencies, encoded positions."""

    docs: Ids
    freqs: npt.NDArray[np.float64]
    values: tuple[bytes, ...]

    @cached_property
    def flat(self) -> tuple[Ids, Ids]:
        """Returns (docnum, position) of every occurrence, as two arrays in document order."""
        # whoosh's Positions encoding: a count, then a pickled list of deltas. The pickles,
        # their STOPs cut off, make one pickle of a list of those lists: one call for them all,
        # through the allow-list as every pickle of an index.
        lists = trust.loads(b"(" + b"".join(value[4:-1] for value in self.values) + b"l.")
        if not isinstance(lists, list) or len(lists) != len(self.values):  # one by one, then
            lists = trust.loads_all([value[4:] for value in self.values])
        counts = [len(found) for found in lists]
        deltas = list(chain.from_iterable(lists))
        if not deltas:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        steps = np.array(deltas, dtype=np.int64)
        lengths = np.array(counts, dtype=np.int64)
        running = np.cumsum(steps)
        firsts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
        positions = running - np.repeat(running[firsts] - steps[firsts], lengths)
        return np.repeat(self.docs, lengths), positions

    @cached_property
    def keys(self) -> Ids:
        """Returns docnum * 2**32 + position of every occurrence, sorted."""
        docs, positions = self.flat
        keys: Ids = docs * SHIFT + positions
        return keys


class PostingsCache:
    """Decoded posting lists, least recently used dropped first past a byte budget (the last
    one read is always kept, however large)."""

    def __init__(self, budget: int = CACHE_BYTES) -> None:
        self._items: OrderedDict[Any, Postings] = OrderedDict()
        self._budget = budget
        self._size = 0

    @property
    def size(self) -> int:
        """Returns the bytes the cached posting lists hold, as the budget counts them."""
        return self._size

    def get(self, key: Any) -> Postings | None:
        found = self._items.get(key)
        if found is not None:
            self._items.move_to_end(key)
        return found

    def put(self, key: Any, postings: Postings) -> None:
        self._items[key] = postings
        self._size += postings.docs.nbytes * 3 + 40 * len(postings.values)
        while self._size > self._budget and len(self._items) > 1:
            _, dropped = self._items.popitem(last=False)
            self._size -= dropped.docs.nbytes * 3 + 40 * len(dropped.values)


def read_postings(reader: Any, field: str, text: bytes) -> Postings:
    """Returns the decoded postings of a term, read block by block from whoosh's files."""
    empty = Postings(np.zeros(0, np.int64), np.zeros(0), ())
    if (field, text) not in reader:
        return empty
    matcher = reader._terms.matcher(field, text, reader.schema[field].format)
    if not hasattr(matcher, "_read_data"):  # an inlined posting list: the generic, slow way
        docs, freqs, values = [], [], []
        while matcher.is_active():
            docs.append(matcher.id())
            freqs.append(matcher.weight())
            values.append(matcher.value())
            matcher.next()
        return Postings(np.array(docs, np.int64), np.array(freqs, np.float64), tuple(values))
    raws, counts = [], []
    postfile = matcher._postfile
    while matcher.is_active():
        raw = postfile.get(matcher._dataoffset, matcher._nextoffset - matcher._dataoffset)
        raws.append(zlib.decompress(raw) if matcher._compression else raw)
        counts.append(matcher._blocklength)
        matcher._next_block()
    doc_parts, freq_parts, values = [], [], []
    for count, (ids, weights, block_values) in zip(counts, trust.loads_all(raws), strict=True):
        doc_parts.append(np.cumsum(np.array(ids, dtype=np.int64)))
        if weights is None:
            freq_parts.append(np.ones(count))
        elif isinstance(weights, float):
            freq_parts.append(np.full(count, weights))
        else:
            freq_parts.append(np.array(weights, dtype=np.float64))
        if block_values:
            values.extend(block_values)
    return Postings(np.concatenate(doc_parts), np.concatenate(freq_parts), tuple(values))
