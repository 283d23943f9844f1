"""A segment's columns read straight from whoosh's files: numeric ones as whole arrays, ids and
stored fields a document at a time, through offsets computed with numpy.

whoosh's reader of a variable-length column derives the offset of every document in a Python
loop when it opens the column (about 20 ms for a segment of 20,000 documents): the first query
after opening an index paid that for the ids of every segment, and for the stored fields of
every segment a hit of the page is in. Here the offsets cost one array operation.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from typing import Any

import numpy as np
import numpy.typing as npt

from newssearch.engine import trust

_STORED = "_stored"  # whoosh's column of a segment's stored fields (pickled, compressed)


def numeric(reader: Any, name: str, size: int, column: Any) -> npt.NDArray[np.int64]:
    """Returns a whole numeric column of a segment as an array, read straight from its file."""
    perdoc = reader._perdoc
    if not perdoc.has_column(name):
        return np.full(size, column.default_value(), dtype=np.int64)
    found = perdoc.column_reader(name, column)
    raw = found._dbfile.get(found._basepos, found._count * found._fixedlen)
    values = np.frombuffer(raw, dtype=">" + found._typecode).astype(np.int64)
    # whoosh leaves out the trailing documents whose value is the default.
    return np.concatenate([values, np.full(size - values.size, found._default, dtype=np.int64)])


class VarBytes:
    """A variable-length bytes column of a segment (whoosh's VarBytesColumn format): a
    document's value is read from the file when it is asked for."""

    def __init__(self, reader: Any, name: str) -> None:
        perdoc = reader._perdoc
        size = reader.doc_count_all()
        self._file: Any = None
        self._lengths: npt.NDArray[Any] = np.zeros(size, np.int64)
        self._offsets = self._lengths
        if not perdoc.has_column(name):
            return
        if name not in perdoc._colfiles:  # where whoosh's reader keeps it: closed with it
            perdoc._colfiles[name] = perdoc._get_column_file(name)
        self._file, self._base, length = perdoc._colfiles[name]
        # As whoosh writes it: the values, their lengths, with more than 2**15 documents
        # their offsets, then the lengths' type code, or the two type codes and "X".
        end = self._base + length - 1
        code = chr(self._file.get_byte(end))
        offsets = None
        if code == "X":
            offsets_code = chr(self._file.get_byte(end - 1))
            code = chr(self._file.get_byte(end - 2))
            end -= 2 + size * np.dtype(offsets_code).itemsize
            offsets = self._array(end, offsets_code, size)
        self._lengths = self._array(end - size * np.dtype(code).itemsize, code, size)
        self._offsets = np.cumsum(self._lengths) - self._lengths if offsets is None else offsets

    def _array(self, position: int, code: str, count: int) -> npt.NDArray[np.int64]:
        raw = self._file.get(position, count * np.dtype(code).itemsize)
        return np.frombuffer(raw, dtype=np.dtype(code).newbyteorder(">")).astype(np.int64)

    @property
    def lengths(self) -> npt.NDArray[np.int64]:
        """Returns every document's value's length (0 for none)."""
        return self._lengths

    def content(self, piece: int) -> Iterator[bytes]:
        """Yields every document's value, one after the other, `piece` bytes at a time."""
        total = int(self._lengths.sum())
        for start in range(0, total, piece):
            yield bytes(self._file.get(self._base + start, min(piece, total - start)))

    def __getitem__(self, docnum: int) -> bytes:
        length = int(self._lengths[docnum])
        if not length:
            return b""
        return bytes(self._file.get(self._base + int(self._offsets[docnum]), length))


class Ids:
    """A segment's id column: a document's id (as whoosh's `column_reader("id")` gives it)."""

    def __init__(self, reader: Any) -> None:
        self._values = VarBytes(reader, "id")

    def __getitem__(self, docnum: int) -> str:
        return self._values[docnum].decode("utf-8")


class Stored:
    """A segment's stored fields (as whoosh's `stored_fields` gives them): each document's
    dict, decompressed and unpickled through the allow-list when it is asked for."""

    def __init__(self, reader: Any) -> None:
        self._values = VarBytes(reader, _STORED)

    def __getitem__(self, docnum: int) -> dict[str, Any]:
        found = self._values[docnum]
        data = zlib.decompress(found) if found else b""
        stored = trust.loads(data) if data else None
        return stored if stored is not None else {}
