"""A segment's term table, written as whoosh's OrderedHashWriter writes it, from arrays.

whoosh's writer keeps, until it closes, a Python tuple per term in one of 256 buckets and the
term's position in a growing array (some 136 bytes a term), then writes each bucket's hash
table slot by slot. Here a term costs 12 bytes (its digest and position, in arrays) and the
hash tables are laid out with numpy: whoosh's reader (HashReader, OrderedHashReader) finds
every term where it looks, a linear probe from the slot of its hash, and reads the ordered
index and the extras (the field map) as whoosh wrote them.
"""

from __future__ import annotations

import struct
from array import array
from hashlib import md5
from typing import Any

import numpy as np
from whoosh.filedb.filetables import OrderedHashWriter, md5_hash

KEY_VALUE_LENGTHS = struct.Struct("!ii")  # a record's key and value lengths, then both
_SLOT = np.dtype([("digest", ">u4"), ("position", ">i8")])  # whoosh's "!Iq"
_DIRECTORY = np.dtype([("position", ">i8"), ("slots", ">i4")])  # whoosh's "!qi"


def field_writer(codec: Any, storage: Any, segment: Any) -> Any:
    """Returns whoosh's field writer of a new segment, its term table a TermTable."""
    writer = codec.field_writer(storage, segment)
    writer._tindex = TermTable(writer._tindex)
    return writer


class TermTable:
    """Takes over a new, empty OrderedHashWriter (its file, its extras, the field map in them)
    and writes the same file: records added in key order, then at `close` the 256 hash tables,
    their directory, the extras and the ordered index of record positions."""

    def __init__(self, started: OrderedHashWriter) -> None:
        assert started.hashfn is md5_hash and not started.index and not any(started.buckets)
        self.dbfile = started.dbfile
        self.extras = started.extras
        self.lastkey = b""
        self._digests = array("I")
        self._positions = array("q")

    def add(self, key: bytes, value: bytes) -> None:
        """Adds one record (as whoosh's writer would add it); keys must increase."""
        self.add_terms([key], value)

    def add_terms(self, keys: list[bytes], rows: bytes) -> None:
        """Adds (key, row) records in key order, the rows of equal size one after the other,
        in one write."""
        if keys and keys[0] <= self.lastkey:
            raise ValueError(f"keys must increase: {self.lastkey!r}..{keys[0]!r}")
        size = len(rows) // len(keys) if keys else 0
        position = self.dbfile.tell()
        records: list[bytes] = []
        for i, key in enumerate(keys):
            records += (
                KEY_VALUE_LENGTHS.pack(len(key), size),
                key,
                rows[i * size : (i + 1) * size],
            )
            self._positions.append(position)
            self._digests.append(
                int.from_bytes(md5(key, usedforsecurity=False).digest()[-4:], "big")
            )
            position += 8 + len(key) + size
        self.dbfile.write(b"".join(records))
        if keys:
            self.lastkey = keys[-1]

    def close(self) -> int:
        """Writes the hash tables, their directory, the extras and the index; closes the file
        and returns where it ends."""
        dbfile = self.dbfile
        digests = np.frombuffer(self._digests, dtype=np.uint32).astype(np.int64)
        positions = np.frombuffer(self._positions, dtype=np.int64)
        tables, directory = _hash_tables(digests, positions, dbfile.tell())
        dbfile.write(tables)
        dbfile.write(directory)
        start = dbfile.tell()
        code = _index_code(int(positions.max()) if positions.size else 0)
        self.extras["indextype"] = code
        self.extras["indexlen"] = positions.size
        dbfile.write_pickle(self.extras)
        dbfile.write(positions.astype(">" + code).tobytes())
        dbfile.write_int(dbfile.tell() - start)
        end: int = dbfile.tell()
        dbfile.close()
        return end


def _hash_tables(digests: Any, positions: Any, base: int) -> tuple[bytes, bytes]:
    """Returns the 256 hash tables (bucket: a digest's low byte; twice as many slots as
    records; a record in the first free slot from the one of `digest >> 8`, wrapping around)
    written from file offset `base`, and their directory."""
    bucket = digests & 255
    order = np.argsort(bucket, kind="stable")
    counts = np.bincount(bucket, minlength=256)
    directory = np.zeros(256, dtype=_DIRECTORY)
    directory["slots"] = 2 * counts
    directory["position"] = base + _SLOT.itemsize * (np.cumsum(2 * counts) - 2 * counts)
    pieces = []
    first = 0
    for count in counts.tolist():
        chosen = order[first : first + count]
        first += count
        if not count:
            continue
        slots = 2 * count
        home = (digests[chosen] >> 8) % slots
        by_home = np.argsort(home, kind="stable")
        chosen, home = chosen[by_home], home[by_home]
        step = np.arange(count)
        placed = np.maximum.accumulate(home - step) + step  # each after the one before it
        table = np.zeros(slots, dtype=_SLOT)
        fits = placed < slots
        table["digest"][placed[fits]] = digests[chosen[fits]]
        table["position"][placed[fits]] = positions[chosen[fits]]
        over = chosen[~fits]  # past the end: on from the first slot, in the free ones
        free = np.flatnonzero(table["position"] == 0)[: over.size]
        table["digest"][free] = digests[over]
        table["position"][free] = positions[over]
        pieces.append(table.tobytes())
    return b"".join(pieces), directory.tobytes()


def _index_code(largest: int) -> str:
    """Returns the type code whoosh's GrowableArray would have grown to for `largest`."""
    return "H" if largest < 2**16 else "i" if largest < 2**31 else "I" if largest < 2**32 else "q"
