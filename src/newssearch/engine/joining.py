"""Segments without deletions joined into one by copying: posting blocks, term tables, columns.

Nothing is analyzed or decoded again. A joined posting list is its term's lists in each
segment one after the other, each segment's docnums raised by the documents before it. In
whoosh 3's block format only two numbers of a block are absolute docnums -- the header's last
docnum and the first of the data's docnum gaps -- so a block is copied with those two raised
(a compressed one moved without inflating it, `blocks.moved`; others inflated and packed
again), and the first segment's blocks as they are. Term table rows are added up; columns are
concatenated. The blocks are walked and their headers read with numpy, a range of terms
(about CHUNK_BYTES of postings, or CHUNK_TERMS terms) at a time. Memory is bounded by that,
and by the new segment's term count: its term table keeps 12 bytes a term until it is written
(`term_table`; as many terms as documents at least, the ids).

Only segments the fast writer wrote are joined (the layout of every header is checked), of
fewer than 2**31 documents in all (whoosh pickles docnums as signed 32-bit ints); anything
else raises NotCopyable, and the caller rewrites the segments instead.
"""

from __future__ import annotations

import heapq
import zlib
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import chain
from typing import Any

import numpy as np
import numpy.typing as npt
from whoosh.codec.whoosh3 import WHOOSH3_HEADER_MAGIC
from whoosh.filedb.filestore import FileStorage
from whoosh.filedb.filetables import OrderedHashReader
from whoosh.reading import SegmentReader
from whoosh.system import pack_ushort

from newssearch.engine import blocks, columns, postings, segments, term_table

CHUNK_BYTES = 1 << 20  # postings read at a time, from all the joined segments together
CHUNK_TERMS = 8_192  # or the records of about this many terms
RECORDS_PIECE = 1 << 16  # bytes of a term table read at a time
WALK_ALONE = 8  # posting lists left that are walked one by one, not together

Ints = npt.NDArray[np.int64]
Bytes = npt.NDArray[np.uint8]

_K, _M, _J = ord("K"), ord("M"), ord("J")  # pickle's BININT1, BININT2, BININT


class NotCopyable(Exception):
    """A segment's files are not laid out as the fast writer lays them out."""


def join(directory: str, indexname: str, index_schema: Any, joined: Sequence[Any]) -> Any:
    """Returns one new segment holding the documents of `joined` (whoosh segments without
    deletions, at least one) in order, written to `directory` by copying."""
    assert joined and not any(s.has_deletions() for s in joined)
    if sum(s.doc_count_all() for s in joined) >= 2**31:
        raise NotCopyable("2**31 documents or more in one segment")
    storage, codec, segment = segments.new_segment(directory, indexname)
    source = FileStorage(directory, supports_mmap=False)  # read, not mapped into memory
    readers: list[Any] = []
    try:
        readers += (SegmentReader(source, index_schema, s) for s in joined)
        sizes = [s.doc_count_all() for s in joined]
        segment.set_doc_count(sum(sizes))
        lengths: defaultdict[str, int] = defaultdict(int)
        for s in joined:
            for name, total in s._fieldlengths.items():
                lengths[name] += total
        segment._fieldlengths = lengths
        try:
            columns.write_joined(storage, segment, index_schema, readers, sizes)
        except ValueError as error:  # a kind of column it does not copy
            raise NotCopyable(str(error)) from error
        writer = term_table.field_writer(codec, storage, segment)
        try:
            _write_postings(writer, index_schema, readers, np.cumsum([0, *sizes[:-1]]).tolist())
        finally:
            writer.close()  # what a failed join wrote no commit references: removed later
    finally:
        for reader in readers:
            reader.close()
    return segments.finish(storage, segment)


# Term tables and posting lists

_Record = tuple[str, bytes, int, bytes]  # field, term, segment (its number), term table row


def _write_postings(
    writer: Any, index_schema: Any, readers: Sequence[Any], shifts: list[int]
) -> None:
    """Writes the joined posting lists and term table of the segments of `readers`, whose
    docnums are raised by `shifts`: their term tables merged as they are read, and the terms
    written about CHUNK_BYTES of postings (or CHUNK_TERMS records) at a time."""
    records = heapq.merge(*(_records(reader, n) for n, reader in enumerate(readers)))
    chunk: list[_Record] = []
    size = 0
    field = None
    for record in records:
        name, term = record[0], record[1]
        full = size >= CHUNK_BYTES or len(chunk) >= CHUNK_TERMS
        if chunk and (name != field or (full and term != chunk[-1][1])):
            _write_chunk(writer, readers, shifts, chunk)
            chunk, size = [], 0
        if name != field:
            if field is not None:
                writer.finish_field()
            writer.start_field(name, index_schema[name])
            field = name
        chunk.append(record)
        size += int.from_bytes(record[3][-4:], "big")  # the row's length of the posting list
    if chunk:
        _write_chunk(writer, readers, shifts, chunk)
        writer.finish_field()


def _records(reader: Any, number: int) -> Iterator[_Record]:
    """Yields the records of a segment's term table, in order (by field name, then term),
    read RECORDS_PIECE bytes at a time."""
    tindex: OrderedHashReader = reader._terms._tindex
    fieldmap = reader._terms._fieldmap
    if sorted(fieldmap) != sorted(fieldmap, key=fieldmap.__getitem__):
        raise NotCopyable("field numbers out of the order of field names")
    names = {field: name for name, field in fieldmap.items()}
    size = postings.TERM_INFO.itemsize
    start, end = tindex.startofdata, tindex.endofdata
    pending = b""
    for piece in range(start, end, RECORDS_PIECE):
        pending += bytes(tindex.dbfile.get(piece, min(RECORDS_PIECE, end - piece)))
        at = 0
        while at + 8 <= len(pending):
            key_length, value_length = term_table.KEY_VALUE_LENGTHS.unpack_from(pending, at)
            stop = at + 8 + key_length + value_length
            if stop > len(pending):
                break
            if value_length != size or key_length < 2:
                raise NotCopyable("a term table record of another size")
            key = pending[at + 8 : at + 8 + key_length]
            name = names.get(int.from_bytes(key[:2], "big"))
            if name is None:
                raise NotCopyable("a term of a field the segment does not name")
            yield name, key[2:], number, pending[stop - size : stop]
            at = stop
        pending = pending[at:]
    if pending:
        raise NotCopyable("a term table that ends inside a record")


def _write_chunk(
    writer: Any, readers: Sequence[Any], shifts: list[int], chunk: list[_Record]
) -> None:
    """Writes the joined posting lists of the terms of `chunk` (records of one field, by term,
    then segment), read from `readers`, and their term table rows."""
    names: list[bytes] = []
    numbers = []
    for _, term, _, _ in chunk:
        if not names or term != names[-1]:
            names.append(term)
        numbers.append(len(names) - 1)
    terms = np.array(numbers, dtype=np.int64)
    sources = np.array([record[2] for record in chunk], dtype=np.int64)
    rows = np.frombuffer(b"".join(record[3] for record in chunk), dtype=postings.TERM_INFO)
    parts = []
    for source in np.unique(sources).tolist():
        mine = sources == source
        parts.append(_Blocks.read(readers[source], rows[mine], terms[mine], shifts[source]))
    _write_blocks(writer, names, parts)


@dataclass
class _Blocks:
    """The posting blocks of some terms of one segment (their term numbers in the joined
    field, the numbers of their headers, their data: decompressed and its first docnum raised
    where the segment's docnums are, its zlib level then -1, to be decided), and the terms'
    rows in the segment's term table."""

    term: Ints
    count: Ints
    last: Ints
    weight: Ints
    level: Ints
    least: Ints
    most: Ints
    data: list[bytes]
    rows: Any
    terms: Ints
    shift: int

    @classmethod
    def read(cls, reader: Any, rows: Any, terms: Ints, shift: int) -> _Blocks:
        """Reads the blocks of the terms of `rows` (consecutive in the segment's postings),
        whose numbers in the joined field are `terms`; `shift` is added to its docnums.
        Raises NotCopyable for any block it cannot read as the writer lays them out."""
        try:
            return cls._read(reader, rows, terms, shift)
        except (IndexError, ValueError, zlib.error) as error:  # a list that ends early ...
            raise NotCopyable(f"a posting block that does not read: {error}") from error

    @classmethod
    def _read(cls, reader: Any, rows: Any, terms: Ints, shift: int) -> _Blocks:
        offsets = rows["offset"].astype(np.int64)
        lengths = rows["length"].astype(np.int64)
        if np.any(offsets[1:] != offsets[:-1] + lengths[:-1]):
            raise NotCopyable("posting lists out of term order")
        raw = bytes(reader._terms._postfile.get(int(offsets[0]), int(lengths.sum())))
        buf = np.frombuffer(raw, dtype=np.uint8)
        starts = offsets - offsets[0]
        _expect(buf, starts, WHOOSH3_HEADER_MAGIC, "a posting list without whoosh 3's magic")
        at, of = _walk(raw, starts + 4, starts + lengths)
        _expect(buf, at + 4, postings.HEADER_START, "a block header of another layout")
        numbers = []
        head = at + 4 + len(postings.HEADER_START)
        for _ in range(6):  # postings, last docnum, greatest weight, zlib level, length bytes
            value, head = _ints(buf, head)
            numbers.append(value)
        _expect(buf, head, postings.HEADER_END, "a block header of another layout")
        count, last, weight, level, least, most = numbers
        block_ends = at + 4 + np.abs(_int32(buf, at))
        data = [raw[s:e] for s, e in zip((head + 2).tolist(), block_ends.tolist(), strict=True)]
        if shift:
            level = level.copy()
            for i, (d, z) in enumerate(zip(data, level.tolist(), strict=True)):
                fast = blocks.moved(d, shift) if z else None
                if fast is not None:
                    data[i] = fast
                else:  # inflated, raised, to be compressed again (or not)
                    data[i] = blocks.raised(zlib.decompress(d) if z else d, shift)
                    level[i] = -1
        last = last + shift
        return cls(terms[of], count, last, weight, level, least, most, data, rows, terms, shift)


def _expect(buf: Bytes, at: Ints, expected: bytes, problem: str) -> None:
    """Raises NotCopyable(`problem`) unless `expected` is at each of `at`."""
    for i, byte in enumerate(expected):
        if np.any(buf[at + i] != byte):
            raise NotCopyable(problem)


def _walk(raw: bytes, firsts: Ints, ends: Ints) -> tuple[Ints, Ints]:
    """Returns where each block of the posting lists that start at `firsts` (after the magic
    number) and end at `ends` starts, in order, and which list it is of: a block of every
    list at a time, then the few long lists left one by one."""
    buf = np.frombuffer(raw, dtype=np.uint8)
    at, of = [], []
    current = firsts.copy()
    going = np.arange(firsts.size)
    while going.size > WALK_ALONE:
        here = current[going]
        if np.any(here + 4 > ends[going]):
            raise NotCopyable("a posting list that ends inside a block")
        length = _int32(buf, here)
        at.append(here)
        of.append(going)
        current[going] = here + 4 + np.abs(length)
        going = going[length > 0]
    for term in going.tolist():
        place, end, found = int(current[term]), int(ends[term]), []
        while True:
            if place + 4 > end:
                raise NotCopyable("a posting list that ends inside a block")
            size = int.from_bytes(raw[place : place + 4], "big", signed=True)
            found.append(place)
            place += 4 + abs(size)
            if size < 0:
                break
        at.append(np.array(found, dtype=np.int64))
        of.append(np.full(len(found), term))
        current[term] = place
    if np.any(current != ends):
        raise NotCopyable("a posting list whose last block ends before or after it")
    found_at, which = np.concatenate(at), np.concatenate(of)
    order = np.argsort(found_at, kind="stable")
    return found_at[order], which[order]


def _int32(buf: Bytes, at: Ints) -> Ints:
    """Returns the big-endian signed 4-byte integers at `at`."""
    picked = buf[at[:, None] + np.arange(4)].copy()
    found: Ints = picked.view(">i4").ravel().astype(np.int64)
    return found


def _ints(buf: Bytes, at: Ints) -> tuple[Ints, Ints]:
    """Returns the pickled non-negative ints at `at` (BININT1, BININT2 or BININT) and where
    each ends."""
    op = buf[at]
    if not np.all((op == _K) | (op == _M) | (op == _J)):
        raise NotCopyable("a block header number that is not an int")
    size = np.where(op == _K, 2, np.where(op == _M, 3, 5))

    def byte(k: int) -> Ints:
        return buf[np.minimum(at + k, buf.size - 1)].astype(np.int64)

    value = byte(1) + np.where(size > 2, byte(2) << 8, 0)
    value += np.where(size > 3, (byte(3) << 16) + (byte(4) << 24), 0)
    return value, at + size


def _write_blocks(writer: Any, names: list[bytes], parts: list[_Blocks]) -> None:
    """Writes the joined posting lists of the terms `names` (numbered from 0 in order), from
    their blocks in each segment (`parts`, in segment order), and their term table rows."""
    order = np.argsort(np.concatenate([part.term for part in parts]), kind="stable")

    def joined(name: str) -> Ints:
        return np.concatenate([getattr(part, name) for part in parts])[order]

    term, count, last, weight, level, least, most = map(
        joined, ("term", "count", "last", "weight", "level", "least", "most")
    )
    everything = list(chain.from_iterable(part.data for part in parts))
    data = [everything[i] for i in order.tolist()]
    for i in np.flatnonzero(level < 0).tolist():  # compressed again by the writer's rule
        level[i] = 0
        if len(data[i]) >= blocks.COMPRESS_FROM:
            packed = blocks.pack(data[i])
            if len(packed) < len(data[i]):
                data[i], level[i] = packed, blocks.LEVEL
    lead = np.ones(term.size, dtype=np.bool_)
    lead[1:] = term[1:] != term[:-1]
    assert np.array_equal(term[lead], np.arange(len(names)))
    closing = np.append(lead[1:], True)
    numbers = (count, last, weight, level, least, most)
    data_sizes = np.array([len(d) for d in data], dtype=np.int64)
    prefix = postings.heads_size(lead, numbers)  # magic, length, header
    heads_at = np.cumsum(prefix) - prefix
    heads = np.zeros(int(prefix.sum()), dtype=np.uint8)
    postings.put_heads(heads, heads_at, lead, closing, numbers, data_sizes)
    packed_heads = heads.tobytes()
    pieces: list[bytes] = []
    for start, end, d in zip(heads_at.tolist(), (heads_at + prefix).tolist(), data, strict=True):
        pieces += (packed_heads[start:end], d)
    out = b"".join(pieces)
    base = writer._postfile.tell()
    writer._postfile.write(out)
    starts = (heads_at + np.cumsum(data_sizes) - data_sizes)[lead]  # each term's list
    info = _term_rows(parts, len(names))
    info["offset"] = base + starts
    info["length"] = np.diff(np.append(starts, len(out)))
    field = pack_ushort(writer._fieldid)
    writer._tindex.add_terms([field + name for name in names], info.tobytes())


def _term_rows(parts: list[_Blocks], size: int) -> Any:
    """Returns the term table rows (without where the lists are) of the terms numbered 0 to
    `size`: each segment's rows added up."""
    weight = np.zeros(size)
    doc_freq = np.zeros(size, dtype=np.int64)
    least = np.full(size, 256, dtype=np.int64)
    most = np.zeros(size, dtype=np.int64)
    greatest = np.zeros(size)
    first = np.full(size, -1, dtype=np.int64)
    last = np.zeros(size, dtype=np.int64)
    for part in parts:  # in segment order
        i, rows = part.terms, part.rows
        weight[i] += rows["weight"]
        doc_freq[i] += rows["doc_freq"]
        lengths = rows["min_length"].astype(np.int64)
        least[i] = np.minimum(least[i], np.where(lengths == 0, 256, lengths))
        most[i] = np.maximum(most[i], rows["max_length"])
        greatest[i] = np.maximum(greatest[i], rows["max_weight"])
        unset = first[i] < 0
        first[i[unset]] = rows["min_id"][unset] + part.shift
        last[i] = rows["max_id"] + part.shift
    info = np.zeros(size, dtype=postings.TERM_INFO)
    info["weight"], info["doc_freq"] = weight, doc_freq
    info["min_length"], info["max_length"] = np.where(least == 256, 0, least), most
    info["max_weight"], info["min_id"], info["max_id"] = greatest, first, last
    return info
