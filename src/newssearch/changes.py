"""What a change to an index does: the tally that sorts incoming documents into new, changed,
unchanged and rejected against the last commit's fingerprints (ids held in compact tables),
and the reports of `add` and `optimize`."""

from __future__ import annotations

import hashlib
import os
from array import array
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from newssearch.documents import Document, Rejected
from newssearch.errors import DocumentError


@dataclass(frozen=True)
class IndexReport:
    """What one `Index.add` did: counts, the rejected records with reasons, seconds taken."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: tuple[Rejected, ...] = ()
    seconds: float = 0.0
    warnings: tuple[str, ...] = ()  # `file:line: message` of documents indexed with a warning

    def summary(self) -> str:
        """Returns one line: `added 3,012, updated 0, unchanged 1, rejected 0 in 0.2 s`."""
        warned = f", {len(self.warnings):,} with warnings" if self.warnings else ""
        return (
            f"added {self.added:,}, updated {self.updated:,}, unchanged {self.unchanged:,}, "
            f"rejected {len(self.rejected):,}{warned} in {self.seconds:.1f} s"
        )


@dataclass(frozen=True)
class MergeReport:
    """What `Index.optimize` did: segments before and after, live documents, seconds taken."""

    segments_before: int
    segments_after: int
    documents: int
    seconds: float

    def summary(self) -> str:
        """Returns one line: `merged 12 segments into 1 (21,578 documents) in 9.1 s`, or
        `1 segment already, nothing to merge (21,578 documents)`."""
        documents = f"{self.documents:,} document{'' if self.documents == 1 else 's'}"
        if self.segments_before == self.segments_after <= 1:
            return f"{self.segments_after} segment already, nothing to merge ({documents})"
        return (
            f"merged {self.segments_before} segments into {self.segments_after} "
            f"({documents}) in {self.seconds:.1f} s"
        )


class Tally:
    """Sorts incoming items into added, updated, unchanged and rejected, counting as it goes."""

    def __init__(self) -> None:
        self.added = self.updated = self.unchanged = 0
        self.rejected: list[Rejected] = []
        self.warnings: list[str] = []

    def changed(
        self,
        items: Iterable[Document | Rejected],
        known: IdTable,
        writer: Any,
        strict: bool,
        progress: Callable[[int], None] | None,
    ) -> Iterator[Document]:
        """Yields the documents to write: new ids, and changed ones (their old version deleted).

        `known` maps the ids of the index to their fingerprints (as `fingerprints` reads them)."""
        seen = IdTable(known.salt)  # the ids of this run -> their origins
        origins = _Origins()
        for count, item in enumerate(items, start=1):
            if isinstance(item, Document):
                key = seen.key(item.id)
                first = seen.get(key)
                if first is None:
                    seen.put(key, origins.encode(item.origin))
                else:
                    where = origins.decode(first, item.id)
                    item = Rejected(
                        item.origin or item.id, f"duplicate id {item.id!r} (first at {where})"
                    )
            if isinstance(item, Rejected):
                if strict:
                    raise DocumentError(str(item))
                self.rejected.append(item)
                continue
            if item.warning:
                self.warnings.append(f"{item.origin or item.id}: {item.warning}")
            previous = known.get(key)
            if previous is not None and previous == _print_key(item.fingerprint()):
                self.unchanged += 1
            else:
                if previous is None:
                    self.added += 1
                else:
                    writer.delete_by_term("id", item.id)
                    self.updated += 1
                yield item
            if progress is not None and count % 1000 == 0:
                progress(count)


def fingerprints(ix: Any) -> IdTable:
    """Returns id -> fingerprint (its first 64 bits) for every live document of the last commit."""
    table = IdTable()
    ids, prints = array("q"), array("q")
    with ix.reader() as reader:
        for segment_reader, _ in _leaves(reader) if reader.doc_count_all() else ():
            id_column = segment_reader.column_reader("id")
            print_column = segment_reader.column_reader("fingerprint")
            for docnum in segment_reader.all_doc_ids():
                ids.append(table.key(id_column[docnum]))
                prints.append(_print_key(print_column[docnum]))
    table.load(np.frombuffer(ids, np.int64), np.frombuffer(prints, np.int64))
    return table


def _leaves(reader: Any) -> list[tuple[Any, int]]:
    return reader.leaf_readers() if not reader.is_atomic() else [(reader, 0)]


class IdTable:
    """A map of ids to 64-bit integers in about 16 bytes an id, where a dict of strings takes
    some 200: each id is held as its 64-bit keyed hash (`key`), in a sorted array beside its
    value, the last insertions in a dict merged into the arrays every FLUSH.

    Two ids of 10⁶ share a key with probability about n²/2⁶⁵ ≈ 3·10⁻⁸; the salt is new for
    every table, so a collision does not repeat in the next run. What one would do is in the
    README (Input formats and limits)."""

    FLUSH = 16_384  # insertions held in the dict: each merge moves the arrays' entries once
    MOVE = 65_536  # entries moved at a time by a merge (its only temporary arrays)

    def __init__(self, salt: bytes | None = None) -> None:
        self.salt = os.urandom(16) if salt is None else salt
        # Sorted keys and their values in the first `_used` entries, room for more after.
        self._keys = np.empty(0, np.int64)
        self._values = np.empty(0, np.int64)
        self._used = 0
        self._recent: dict[int, int] = {}

    def key(self, text: str) -> int:
        """Returns the 64-bit keyed hash that stands for `text` in this table."""
        digest = hashlib.blake2b(
            text.encode("utf-8", "surrogatepass"), digest_size=8, salt=self.salt
        ).digest()
        return int.from_bytes(digest, "little", signed=True)

    def get(self, key: int) -> int | None:
        """Returns the value of `key`, or None if it has none."""
        found = self._recent.get(key)
        if found is not None or not self._used:
            return found
        at = int(self._keys[: self._used].searchsorted(key))
        return int(self._values[at]) if at < self._used and self._keys[at] == key else None

    def put(self, key: int, value: int) -> None:
        """Sets the value of `key` (a signed 64-bit integer)."""
        self._recent[key] = value
        if len(self._recent) >= self.FLUSH:
            n = len(self._recent)
            keys = np.fromiter(self._recent.keys(), np.int64, n)
            values = np.fromiter(self._recent.values(), np.int64, n)
            self._recent.clear()
            self.load(keys, values)

    def load(self, keys: np.ndarray, values: np.ndarray) -> None:
        """Sets the values of many keys at once (of a key given twice, `get` answers the first).

        The new keys are merged into the sorted arrays in place, from the back, MOVE entries at
        a time: a table of a million ids (16 MB) grows without a second copy of itself."""
        order = np.argsort(keys, kind="stable")
        keys, values = keys[order], values[order]
        used = self._used
        at = self._keys[:used].searchsorted(keys)
        present = at < used
        present[present] = self._keys[at[present]] == keys[present]
        self._values[at[present]] = values[present]
        keys, values, at = keys[~present], values[~present], at[~present]
        if not keys.size:
            return
        self._reserve(used + keys.size)
        # Entry i moves right by the number of new keys that go before it; new key j goes
        # to at[j] + j. From the back, a block's destinations are free or its own sources.
        for end in range(used, 0, -self.MOVE):
            start = max(0, end - self.MOVE)
            shift = at.searchsorted(np.arange(start, end), side="right")
            for column in (self._keys, self._values):
                column[np.arange(start, end) + shift] = column[start:end].copy()
        places = at + np.arange(keys.size)
        self._keys[places], self._values[places] = keys, values
        self._used = used + keys.size

    def _reserve(self, size: int) -> None:
        """Makes room for `size` entries, and an eighth more, so that flushes seldom grow the
        arrays; grown in place (realloc), which for blocks this large moves no memory."""
        if size > self._keys.size:
            for column in (self._keys, self._values):
                column.resize(size + size // 8, refcheck=False)


class _Origins:
    """Origins (`path:line`) as 64-bit integers that decode to the same string: the path's
    number << 32 | the line. A path is stored once for the run of origins that share it (the
    lines of one file); an origin not of that shape is stored whole, and none (a Document made
    in Python) is -1, which decodes to the document's id."""

    _WHOLE = 0xFFFFFFFF  # the line of an origin stored whole

    def __init__(self) -> None:
        self._paths = bytearray()  # UTF-8 (surrogates passed, as file names may hold them)
        self._ends = array("q")
        self._last: str | None = None

    def encode(self, origin: str) -> int:
        """Returns the integer that stands for `origin`."""
        if not origin:
            return -1
        path, colon, line = origin.rpartition(":")
        # Only a line that prints back as it was written: no sign, no leading zero.
        if not (colon and line.isascii() and line.isdigit() and len(line) < 10) or (
            line[0] == "0" and line != "0"
        ):
            path, line = origin, str(self._WHOLE)
        if path != self._last:
            self._paths += path.encode("utf-8", "surrogatepass")
            self._ends.append(len(self._paths))
            self._last = path
        return (len(self._ends) - 1) << 32 | int(line)

    def decode(self, code: int, doc_id: str) -> str:
        """Returns the origin that `code` stands for (`doc_id` for a document without one)."""
        if code < 0:
            return doc_id
        number, line = code >> 32, code & 0xFFFFFFFF
        start = self._ends[number - 1] if number else 0
        path = self._paths[start : self._ends[number]].decode("utf-8", "surrogatepass")
        return path if line == self._WHOLE else f"{path}:{line}"


def _print_key(fingerprint: str | bytes) -> int:
    # A fingerprint is a hex blake2b digest: its first 64 bits are as good a hash as any.
    return int(fingerprint[:16], 16) - (1 << 63)
