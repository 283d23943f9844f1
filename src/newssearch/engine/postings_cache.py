"""Decoded posting lists: one term's postings in one segment, read block by block straight from
whoosh's files into arrays, and the cache that keeps them within a byte budget.
"""

from __future__ import annotations

import io
import zlib
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import chain
from typing import Any

import numpy as np
import numpy.typing as npt
from whoosh.codec.whoosh3 import WHOOSH3_HEADER_MAGIC

from newssearch.engine import trust

# Bytes of decoded posting lists an open index keeps for warm queries (`Index.open(cache_bytes=)`).
CACHE_BYTES = 200_000_000

SHIFT = 1 << 32  # positions within a field stay below this

Ids = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Postings:
    """One term's postings in one segment: docnums, term frequencies, and, when they were read,
    the occurrences as keys: docnum * 2**32 + position, sorted."""

    docs: Ids
    freqs: npt.NDArray[np.float64]
    occurrences: Ids | None = None

    @property
    def keys(self) -> Ids:
        """Returns docnum * 2**32 + position of every occurrence, sorted."""
        assert self.occurrences is not None, "read without positions"
        return self.occurrences

    @property
    def flat(self) -> tuple[Ids, Ids]:
        """Returns (docnum, position) of every occurrence, as two arrays in document order."""
        return self.keys // SHIFT, self.keys % SHIFT

    @property
    def nbytes(self) -> int:
        """Returns the bytes its arrays hold."""
        extra = 0 if self.occurrences is None else self.occurrences.nbytes
        return self.docs.nbytes + self.freqs.nbytes + extra


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
        replaced = self._items.pop(key, None)
        if replaced is not None:
            self._size -= replaced.nbytes
        self._items[key] = postings
        self._size += postings.nbytes
        while self._size > self._budget and len(self._items) > 1:
            _, dropped = self._items.popitem(last=False)
            self._size -= dropped.nbytes


def read_postings(reader: Any, field: str, text: bytes, positions: bool = False) -> Postings:
    """Returns the decoded postings of a term, with its occurrences' positions if asked for
    (and the field has them): the whole list read at once from whoosh's postings file, its
    blocks walked here (whoosh's matcher reads a block a few bytes at a time), every block's
    data unpickled in one pass."""
    empty = Postings(np.zeros(0, np.int64), np.zeros(0), np.zeros(0, np.int64))
    if (field, text) not in reader:
        return empty
    info = reader._terms.term_info(field, text)
    if info.is_inlined():  # a posting list short enough to live in the term's row
        ids, weights, inlined = info.inlined_postings()
        docs = np.array(ids, np.int64)
        keys = _keys(docs, inlined) if positions else None
        return Postings(docs, np.array(weights, np.float64), keys)
    offset, length = info.extent()  # whoosh reads the length back as a 1-tuple
    raw = reader._terms._postfile.get(offset, length[0] if isinstance(length, tuple) else length)
    if raw[:4] != WHOOSH3_HEADER_MAGIC:
        raise ValueError(f"the postings of {field}:{text!r} do not start with a block header")
    stream = io.BytesIO(raw)
    headers = trust.unpickler(stream)  # reads a header's bytes only: BytesIO has no peek
    raws, counts = [], []
    at, last = 4, False
    while not last:
        size = int.from_bytes(raw[at : at + 4], "big", signed=True)
        last = size < 0
        end = at + 4 + abs(size)
        if end > len(raw):
            raise ValueError(f"the postings of {field}:{text!r} end inside a block")
        stream.seek(at + 4)
        count, _, _, compression, _, _ = headers.load()
        data = raw[stream.tell() : end]
        raws.append(zlib.decompress(data) if compression else data)
        counts.append(count)
        at = end
    doc_parts, freq_parts, values = [], [], []  # values: the positions' pickles
    for count, (ids, weights, block_values) in zip(counts, trust.loads_all(raws), strict=True):
        doc_parts.append(np.cumsum(np.array(ids, dtype=np.int64)))
        if weights is None:
            freq_parts.append(np.ones(count))
        elif isinstance(weights, float):
            freq_parts.append(np.full(count, weights))
        else:
            freq_parts.append(np.array(weights, dtype=np.float64))
        if positions and block_values:
            values.extend(block_values)
    docs = np.concatenate(doc_parts)
    return Postings(docs, np.concatenate(freq_parts), _keys(docs, values) if positions else None)


def _keys(docs: Ids, values: Sequence[bytes]) -> Ids | None:
    """Returns docnum * 2**32 + position of every occurrence, sorted, from each posting's
    value (whoosh's Positions encoding: a count, then a pickled list of deltas); None for a
    field without positions."""
    if not values or not isinstance(values[0], bytes):
        return None
    # The pickles, their STOPs cut off, make one pickle of a list of those lists: one call for
    # them all, through the allow-list as every pickle of an index.
    lists = trust.loads(b"(" + b"".join(value[4:-1] for value in values) + b"l.")
    if not isinstance(lists, list) or len(lists) != len(values):  # one by one, then
        lists = trust.loads_all([value[4:] for value in values])
    counts = [len(found) for found in lists]
    deltas = list(chain.from_iterable(lists))
    if not deltas:
        return np.zeros(0, np.int64)
    steps = np.array(deltas, dtype=np.int64)
    lengths = np.array(counts, dtype=np.int64)
    running = np.cumsum(steps)
    firsts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    positions = running - np.repeat(running[firsts] - steps[firsts], lengths)
    keys: Ids = np.repeat(docs, lengths) * SHIFT + positions
    return keys
