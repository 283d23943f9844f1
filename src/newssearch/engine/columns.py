"""A segment's columns read straight from whoosh's files: numeric ones as whole arrays, ids and
stored fields a document at a time, through offsets computed with numpy; and the columns of a
joined segment written from theirs.

whoosh's reader of a variable-length column derives the offset of every document in a Python
loop when it opens the column (about 20 ms for a segment of 20,000 documents): the first query
after opening an index paid that for the ids of every segment, and for the stored fields of
every segment a hit of the page is in. Here the offsets cost one array operation.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, W3Codec, _lenfield
from whoosh.columns import NumericColumn, VarBytesColumn
from whoosh.filedb import compound

from newssearch.engine import trust

_STORED = "_stored"  # whoosh's column of a segment's stored fields (pickled, compressed)
OFFSETS_FROM = 2**15  # whoosh writes a bytes column's offsets past this many documents
PIECE = 1 << 20  # bytes of a column copied at a time


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


def write_joined(
    storage: Any, segment: Any, index_schema: Any, readers: Sequence[Any], sizes: list[int]
) -> None:
    """Writes the columns of a new segment joined from the segments of `readers` (of `sizes`
    documents): each their columns one after the other, as whoosh's per-document writer
    would have written them. Raises ValueError for a kind of column it does not copy."""
    fixed = {_lenfield(name): LENGTHS_COLUMN for name in index_schema.names()}
    varbytes = ["_stored"]
    for name, field in index_schema.items():
        if isinstance(field.column_type, NumericColumn):
            fixed[name] = field.column_type
        elif isinstance(field.column_type, VarBytesColumn):
            varbytes.append(name)
        elif field.column_type is not None:
            raise ValueError(f"a column of {type(field.column_type).__name__}")
    files = compound.CompoundWriter(storage.temp_storage(f"{segment.indexname}.tmp"))
    for name, column in fixed.items():
        if any(r._perdoc.has_column(name) for r in readers):
            parts = [numeric(r, name, n, column) for r, n in zip(readers, sizes, strict=True)]
            files.create_file(name).write(_numeric_column(np.concatenate(parts), column))
    for name in varbytes:
        if name == "_stored" or any(r._perdoc.has_column(name) for r in readers):
            _write_bytes_column(files.create_file(name), [VarBytes(r, name) for r in readers])
    files.save_as_files(storage, lambda name: W3Codec.column_filename(segment, name))


def _numeric_column(values: npt.NDArray[np.int64], column: Any) -> bytes:
    """Returns a numeric column's bytes: its values up to the last that is not the default."""
    kept = np.flatnonzero(values != column._default)
    end = int(kept[-1]) + 1 if kept.size else 0
    return values[:end].astype(">" + column._typecode).tobytes()


def _write_bytes_column(out: Any, found: Sequence[VarBytes]) -> None:
    """Writes a bytes column to `out`: the values (PIECE bytes at a time), their lengths, past
    OFFSETS_FROM documents their offsets, then the type codes (and "X" after offsets)."""
    for part in found:
        for piece in part.content(PIECE):
            out.write(piece)
    lengths = np.concatenate([part.lengths for part in found])
    length_code = _code(int(lengths.max()) if lengths.size else 0)
    out.write(lengths.astype(">" + length_code).tobytes())
    if lengths.size > OFFSETS_FROM:
        offsets = np.cumsum(lengths) - lengths
        offset_code = _code(int(offsets[-1]))
        out.write(offsets.astype(">" + offset_code).tobytes())
        out.write(f"{length_code}{offset_code}X".encode())
    else:
        out.write(length_code.encode())


def _code(largest: int) -> str:
    """Returns the type code of the narrowest unsigned array that holds `largest`."""
    return "B" if largest < 1 << 8 else "H" if largest < 1 << 16 else "I"
