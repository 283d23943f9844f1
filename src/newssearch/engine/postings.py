"""A whole field's posting lists, encoded at once with numpy into whoosh 3's block format.

whoosh writes a posting list block by block, 128 postings a block: a pickled header tuple, then
a pickled (document gaps, weights, values) tuple, where every posting's value (its positions)
is a pickle of its own. Here the bytes of those pickles -- the opcodes themselves -- are laid
out for every block of every term of a field in one pass over arrays, and written in one call.
A block's data pickle is zlib-compressed, as whoosh's writer compresses every block, where that
pays (`_compress`). whoosh's reader (`pickle.load`) reads them as it reads its own;
whoosh-reloaded is pinned, and a differential test holds the result to whoosh's own writer.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise
from typing import Any

import numpy as np
import numpy.typing as npt
from whoosh.codec.whoosh3 import WHOOSH3_HEADER_MAGIC, W3TermInfo
from whoosh.system import pack_ushort

from newssearch.engine.blocks import COMPRESS_FROM, FIRST_LONG, FIRST_SUM, LEVEL, pack

Ints = npt.NDArray[np.int64]
Integers = npt.NDArray[np.signedinteger[Any]]  # int32 or int64, as `write_field` takes them

BLOCK = 128  # postings per block, as whoosh writes them
CHUNK_POSITIONS = 1 << 16  # positions (postings, where no positions) encoded at once

# The pickle opcodes used (pickletools names them).
_PROTO, _MARK, _TUPLE, _TUPLE3, _STOP, _NONE = 0x80, ord("("), ord("t"), 0x87, ord("."), ord("N")
_EMPTY_LIST, _APPENDS = ord("]"), ord("e")
_SHORT_BINBYTES, _BINBYTES = ord("C"), ord("B")
_BININT1, _BININT2, _BININT = ord("K"), ord("M"), ord("J")

MAGIC = np.frombuffer(WHOOSH3_HEADER_MAGIC, dtype=np.uint8)
HEADER_START, HEADER_END = bytes((_PROTO, 2, _MARK)), bytes((_TUPLE, _STOP))  # of a header
# W3TermInfo's row ("!BfIBBfII"), then the posting list's offset and length, as whoosh packs them.
assert W3TermInfo._struct.format == "!BfIBBfII"
TERM_INFO = np.dtype(
    [
        ("flags", "u1"),
        ("weight", ">f4"),
        ("doc_freq", ">u4"),
        ("min_length", "u1"),
        ("max_length", "u1"),
        ("max_weight", ">f4"),
        ("min_id", ">u4"),
        ("max_id", ">u4"),
        ("offset", ">i8"),
        ("length", ">i4"),
    ]
)


def write_field(
    writer: Any,
    names: list[bytes],
    term: Integers,
    doc: Integers,
    freq: Integers,
    length: Integers | None,
    gaps: Integers | None,
) -> None:
    """Writes the posting lists of the field `writer` has started (a W3FieldWriter).

    Postings are given as integer arrays (int32 or int64), sorted by term number, then
    docnum: `term` numbers index `names` (sorted term texts), `freq` is the number of
    occurrences (the weight), `length` the field length's byte (`length_to_byte`) of the
    posting's document, or None where the field keeps no lengths. `gaps` gives, posting after
    posting, each occurrence's position minus the previous one (the first: the position
    itself) -- needed when the field's format stores positions, ignored otherwise.
    """
    # A chunk of whole terms at a time: the encoder's arrays (several per output byte) are
    # then bounded by CHUNK_POSITIONS, not by the segment's size.
    spread = np.cumsum(freq) - freq  # where each posting's position gaps start
    for first, end in _chunks(term, freq if gaps is not None else np.ones_like(freq)):
        part = slice(first, end)
        values = None if gaps is None else gaps[spread[first] : spread[end - 1] + freq[end - 1]]
        _write_chunk(
            writer,
            names,
            _wide(term[part]),
            _wide(doc[part]),
            _wide(freq[part]),
            None if length is None else _wide(length[part]),
            None if values is None else _wide(values),
        )


def _wide(values: Integers) -> Ints:
    """Returns `values` as int64, which the encoder's arithmetic needs (offsets grow)."""
    return values.astype(np.int64, copy=False)


def _chunks(term: Integers, counts: Integers) -> list[tuple[int, int]]:
    """Returns (first, end) ranges of the postings, each of whole terms, in order, each of
    CHUNK_POSITIONS `counts` or fewer (or of a single term that has more)."""
    if not term.size:
        return []
    ends = np.flatnonzero(np.append(term[1:] != term[:-1], True)) + 1  # after each term
    total = np.cumsum(counts)[ends - 1]  # the counts up to each term's end
    cuts, done, next_term = [0], 0, 0
    while cuts[-1] < term.size:
        last = int(np.searchsorted(total, done + CHUNK_POSITIONS, side="right")) - 1
        last = max(last, next_term)
        cuts.append(int(ends[last]))
        done, next_term = int(total[last]), last + 1
    return list(pairwise(cuts))


def _write_chunk(
    writer: Any,
    names: list[bytes],
    term: Ints,
    doc: Ints,
    freq: Ints,
    length: Ints | None,
    gaps: Ints | None,
) -> None:
    """Writes the posting lists of whole terms: `write_field`'s arguments for some of them."""
    blocks = _Blocks(term)
    values = _values(writer._format, blocks, freq, gaps)
    out, term_offsets = _encode(blocks, doc, freq, length, values)
    base = writer._postfile.tell()
    writer._postfile.write(out)

    firsts = blocks.starts[blocks.leading]  # each term's first posting
    doc_freq = np.diff(np.append(firsts, term.size))
    info = np.zeros(firsts.size, dtype=TERM_INFO)
    info["weight"] = np.add.reduceat(freq, firsts)
    info["doc_freq"] = doc_freq
    info["min_length"], info["max_length"] = _length_bounds(length, firsts)
    info["max_weight"] = np.maximum.reduceat(freq, firsts)
    info["min_id"] = doc[firsts]
    info["max_id"] = doc[firsts + doc_freq - 1]
    info["offset"] = base + term_offsets
    info["length"] = np.diff(np.append(term_offsets, len(out)))
    field = pack_ushort(writer._fieldid)
    writer._tindex.add_terms([field + names[t] for t in term[firsts].tolist()], info.tobytes())


class _Blocks:
    """How postings sorted by term fall into blocks: every BLOCK postings of a term."""

    def __init__(self, term: Ints) -> None:
        count = term.size
        firsts = np.flatnonzero(np.concatenate(([True], term[1:] != term[:-1])))
        self.rank = np.arange(count) - np.repeat(firsts, np.diff(np.append(firsts, count)))
        opens = self.rank % BLOCK == 0
        self.starts = np.flatnonzero(opens)  # each block's first posting
        self.sizes = np.diff(np.append(self.starts, count))  # postings per block
        self.of = np.cumsum(opens) - 1  # each posting's block
        self.leading = self.rank[self.starts] == 0  # the first block of its term
        self.closing = np.append(self.leading[1:], True)  # the last block of its term

    def total(self, sizes: Ints) -> Ints:
        """Returns per block the sum of a size per posting."""
        return np.add.reduceat(sizes, self.starts)

    def within(self, sizes: Ints) -> Ints:
        """Returns per posting the sum of the sizes of the postings before it in its block."""
        return _within(sizes, self.starts, self.sizes)


def _encode(
    blocks: _Blocks, doc: Ints, freq: Ints, length: Ints | None, values: _Values
) -> tuple[bytes, Ints]:
    """Returns the bytes of every term's posting list, one after the other, and their offsets.

    A posting list is whoosh's magic number, then blocks of: their length (4 bytes,
    big-endian, negated for the term's last block); a header pickle (postings, last docnum,
    greatest weight, the zlib level of the data or 0 for uncompressed, least and greatest
    length byte); a data pickle (docnum gaps from the block's start, weights or None when all
    are 1, values). The blocks are laid out uncompressed, then compressed where that pays.
    """
    starts, sizes = blocks.starts, blocks.sizes
    id_gaps = doc - np.concatenate(([0], doc[:-1]))
    id_gaps[starts] = doc[starts]
    id_sizes = int_sizes(id_gaps)
    last_ids = doc[starts + sizes - 1]
    max_weights = np.maximum.reduceat(freq, starts)
    unweighted = max_weights == 1
    weight_sizes = np.where(unweighted[blocks.of], 0, int_sizes(freq))
    weights_part = np.where(unweighted, 1, 2 + blocks.total(weight_sizes))
    min_lengths, max_lengths = _length_bounds(length, starts)
    # postings, last docnum, greatest weight, zlib level (0 until compressed), length bytes
    numbers = (sizes, last_ids, max_weights, np.zeros_like(sizes), min_lengths, max_lengths)
    data_sizes = 6 + blocks.total(id_sizes) + weights_part + values.part
    # A block that may be compressed has its first docnum in the long form (`engine.blocks`).
    movable = data_sizes >= COMPRESS_FROM
    id_sizes[starts[movable]] = FIRST_LONG
    data_sizes = 6 + blocks.total(id_sizes) + weights_part + values.part
    head_sizes = heads_size(blocks.leading, numbers)
    block_sizes = head_sizes + data_sizes
    offsets = np.cumsum(block_sizes) - block_sizes
    out = np.zeros(int(block_sizes.sum()), dtype=np.uint8)
    places = put_heads(out, offsets, blocks.leading, blocks.closing, numbers, data_sizes)
    level_at = places[3] + 1  # the byte of the compression level, 0 (one byte, as the lengths)
    length_at = offsets + np.where(blocks.leading, 4, 0)
    # The data: docnum gaps
    at = data_at = places[-1]
    out[at], out[at + 1], out[at + 2] = _PROTO, 3, _MARK
    put_ints(out, at[blocks.of] + 3 + blocks.within(id_sizes), id_gaps)
    _put_first_docnums(out, at[movable] + 3, doc[starts[movable]])
    at = at + data_sizes - 3 - values.part - weights_part
    out[at] = _TUPLE
    # weights
    at = at + 1
    out[at[unweighted]] = _NONE
    weighted = ~unweighted
    out[at[weighted]] = _MARK
    out[(at + weights_part - 1)[weighted]] = _TUPLE
    chosen = weight_sizes > 0
    weight_at = at[blocks.of] + 1 + blocks.within(weight_sizes)
    put_ints(out, weight_at[chosen], freq[chosen])
    # values
    at = at + weights_part
    values.put(out, at)
    at = at + values.part
    out[at], out[at + 1] = _TUPLE3, _STOP
    packed, saved = _compress(out, blocks.closing, length_at, level_at, data_at, data_sizes)
    term_offsets = offsets[blocks.leading]
    return packed, term_offsets - (np.cumsum(saved) - saved)[blocks.leading]


def _compress(
    out: npt.NDArray[np.uint8],
    closing: npt.NDArray[np.bool_],
    length_at: Ints,
    level_at: Ints,
    data_at: Ints,
    data_sizes: Ints,
) -> tuple[bytes, Ints]:
    """Compresses the data pickle of every block of at least COMPRESS_FROM bytes that `pack`
    shortens, as whoosh's writer would (the level in the header, the block's length less);
    returns the blocks' bytes and how many bytes shorter each block became."""
    tried = np.flatnonzero(data_sizes >= COMPRESS_FROM)
    raw = out.data
    packed = [
        pack(raw[start : start + size])
        for start, size in zip(data_at[tried].tolist(), data_sizes[tried].tolist(), strict=True)
    ]
    packed_sizes = np.array([len(data) for data in packed], dtype=np.int64)
    shorter = packed_sizes < data_sizes[tried]
    chosen = tried[shorter]
    saved = np.zeros(data_sizes.size, dtype=np.int64)
    saved[chosen] = data_sizes[chosen] - packed_sizes[shorter]
    out[level_at[chosen]] = LEVEL
    head_sizes = data_at[chosen] - length_at[chosen] - 4
    put_block_lengths(out, length_at[chosen], head_sizes + packed_sizes[shorter], closing[chosen])
    pieces: list[Any] = []
    end = 0
    kept = (data for data, short in zip(packed, shorter.tolist(), strict=True) if short)
    ends = data_at[chosen] + data_sizes[chosen]
    for start, stop, data in zip(data_at[chosen].tolist(), ends.tolist(), kept, strict=True):
        pieces += (raw[end:start], data)  # the blocks up to this one's data, and its data
        end = stop
    pieces.append(raw[end:])
    return b"".join(pieces), saved


def _put_first_docnums(out: npt.NDArray[np.uint8], at: Ints, docnums: Ints) -> None:
    """Writes `engine.blocks.first_docnum` of each of `docnums` at `at`."""
    number = docnums.astype("<u4").view(np.uint8).reshape(-1, 4)
    rest = FIRST_SUM - number.sum(axis=1, dtype=np.int64)
    filler = np.clip(rest[:, None] - 255 * np.arange(4), 0, 255)
    row = np.concatenate(
        [
            np.full((at.size, 1), _BININT),
            number,
            np.tile(np.frombuffer(b"C\x04", np.uint8), (at.size, 1)),
            filler,
            np.full((at.size, 1), ord("0")),
        ],
        axis=1,
    )
    out[at[:, None] + np.arange(FIRST_LONG)] = row


class _Values:
    """A field's posting values in a block's data pickle: None (whoosh's Existence format)."""

    def __init__(self, blocks: _Blocks) -> None:
        self.blocks = blocks
        self.part: Ints = np.ones(blocks.starts.size, dtype=np.int64)  # bytes per block

    def put(self, out: npt.NDArray[np.uint8], at: Ints) -> None:
        """Writes each block's values at `at`."""
        out[at] = _NONE


class _Frequencies(_Values):
    """whoosh's Frequency values: a bytes object per block, the count of each posting in 4."""

    def __init__(self, blocks: _Blocks, freq: Ints) -> None:
        super().__init__(blocks)
        self.freq = freq
        self.part = 5 + 4 * blocks.sizes

    def put(self, out: npt.NDArray[np.uint8], at: Ints) -> None:
        blocks = self.blocks
        out[at] = _BINBYTES
        put_int32(out, at + 1, 4 * blocks.sizes, "<i4")
        put_int32(out, at[blocks.of] + 5 + 4 * (blocks.rank % BLOCK), self.freq, ">u4")


class _Positions(_Values):
    """whoosh's Positions values: a tuple of a bytes object per posting, its count in 4 bytes,
    then a pickled list of its position gaps."""

    def __init__(self, blocks: _Blocks, freq: Ints, gaps: Ints) -> None:
        super().__init__(blocks)
        self.freq, self.gaps = freq, gaps
        self.gap_sizes = int_sizes(gaps)
        self.gap_firsts = np.cumsum(freq) - freq
        self.lengths = 8 + np.add.reduceat(self.gap_sizes, self.gap_firsts)
        self.heads = np.where(self.lengths < 256, 2, 5)  # SHORT_BINBYTES or BINBYTES
        self.sizes = self.heads + self.lengths
        self.part = 2 + blocks.total(self.sizes)

    def put(self, out: npt.NDArray[np.uint8], at: Ints) -> None:
        freq, lengths = self.freq, self.lengths
        out[at] = _MARK
        out[at + self.part - 1] = _TUPLE
        value_at = at[self.blocks.of] + 1 + self.blocks.within(self.sizes)
        short = self.heads == 2
        out[value_at[short]] = _SHORT_BINBYTES
        out[value_at[short] + 1] = lengths[short]
        out[value_at[~short]] = _BINBYTES
        put_int32(out, value_at[~short] + 1, lengths[~short], "<i4")
        value_at = value_at + self.heads
        put_int32(out, value_at, freq, ">u4")
        out[value_at + 4], out[value_at + 5] = _EMPTY_LIST, _MARK
        gap_at = np.repeat(value_at + 6, freq) + _within(self.gap_sizes, self.gap_firsts, freq)
        put_ints(out, gap_at, self.gaps)
        out[value_at + lengths - 2], out[value_at + lengths - 1] = _APPENDS, _STOP


def _values(form: Any, blocks: _Blocks, freq: Ints, gaps: Ints | None) -> _Values:
    """Returns the encoder of the values of whoosh format `form` (Positions, Frequency or
    Existence, told apart as whoosh does: by their fixed value size)."""
    fixed = form.fixed_value_size()
    if fixed is None and gaps is not None:
        return _Positions(blocks, freq, gaps)
    if fixed == 0:
        return _Values(blocks)
    if fixed == 4:
        return _Frequencies(blocks, freq)
    raise ValueError(f"cannot encode the values of {form!r}")


def heads_size(leading: npt.NDArray[np.bool_], numbers: Sequence[Ints]) -> Ints:
    """Returns the bytes before each block's data: whoosh's magic number if it leads its term's
    list, its length, its header pickle of `numbers` (see `put_heads`)."""
    return np.where(leading, 4, 0) + 4 + _header_sizes(numbers)


def _header_sizes(numbers: Sequence[Ints]) -> Ints:
    """Returns the size of each block's header pickle of `numbers`."""
    sizes = np.full(numbers[0].size, len(HEADER_START) + len(HEADER_END), dtype=np.int64)
    for value in numbers:
        sizes += int_sizes(value)
    return sizes


def put_heads(
    out: npt.NDArray[np.uint8],
    offsets: Ints,
    leading: npt.NDArray[np.bool_],
    closing: npt.NDArray[np.bool_],
    numbers: Sequence[Ints],
    data_sizes: Ints,
) -> list[Ints]:
    """Writes at `offsets` what comes before each block's data: whoosh's magic number where
    the block leads its term's list, the block's length (negated where it closes it), and its
    header pickle of `numbers` (postings, last docnum, greatest weight, zlib level, least and
    greatest length byte). Returns where each number starts, then where the data starts."""
    for i, byte in enumerate(MAGIC):
        out[offsets[leading] + i] = byte
    at = offsets + np.where(leading, 4, 0)
    put_block_lengths(out, at, _header_sizes(numbers) + data_sizes, closing)
    at = at + 4
    for i, byte in enumerate(HEADER_START):
        out[at + i] = byte
    at = at + len(HEADER_START)
    places = []
    for value in numbers:
        places.append(at)
        at = put_ints(out, at, value)
    for i, byte in enumerate(HEADER_END):
        out[at + i] = byte
    return [*places, at + len(HEADER_END)]


def int_sizes(values: Ints) -> Ints:
    """Returns the pickled size of each non-negative int below 2**31: K, M or J and its bytes."""
    return np.where(values < 256, 2, np.where(values < 65536, 3, 5))


def put_ints(out: npt.NDArray[np.uint8], at: Ints, values: Ints) -> Ints:
    """Pickles each of `values` (non-negative, below 2**31) at `at`; returns where each ends."""
    sizes = int_sizes(values)
    out[at] = np.where(sizes == 2, _BININT1, np.where(sizes == 3, _BININT2, _BININT))
    out[at + 1] = values & 0xFF
    wide = sizes > 2
    out[at[wide] + 2] = (values[wide] >> 8) & 0xFF
    widest = sizes > 3
    out[at[widest] + 3] = (values[widest] >> 16) & 0xFF
    out[at[widest] + 4] = (values[widest] >> 24) & 0xFF
    return at + sizes


def put_block_lengths(
    out: npt.NDArray[np.uint8], at: Ints, lengths: Ints, closing: npt.NDArray[np.bool_]
) -> None:
    """Writes each block's length at `at`, negated for the last block of its term."""
    put_int32(out, at, np.where(closing, -lengths, lengths), ">i4")


def put_int32(out: npt.NDArray[np.uint8], at: Ints, values: Ints, dtype: str) -> None:
    """Writes each of `values` at `at` as a 4-byte integer of `dtype` (">i4", ">u4", "<i4")."""
    packed = values.astype(dtype).view(np.uint8).reshape(-1, 4)
    out[at[:, None] + np.arange(4)] = packed


def _within(sizes: Ints, starts: Ints, counts: Ints) -> Ints:
    """Returns each item's offset within its group: the sum of the sizes before it there."""
    before = np.cumsum(sizes) - sizes
    return before - np.repeat(before[starts], counts)


def _length_bounds(length: Ints | None, starts: Ints) -> tuple[Ints, Ints]:
    """Returns per group the least non-zero and the greatest length byte (0 when none)."""
    if length is None:
        none = np.zeros(starts.size, dtype=np.int64)
        return none, none
    least = np.minimum.reduceat(np.where(length == 0, 256, length), starts)
    return np.where(least == 256, 0, least), np.maximum.reduceat(length, starts)
