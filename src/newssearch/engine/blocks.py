"""One posting block's data pickle as newssearch writes it: the long form of its first docnum,
packed (its prefix stored, the rest deflated), moved (its first docnum raised without
inflating it), or raised when it is not compressed.

In whoosh 3's format a block's data is a pickle of (docnum gaps, weights, values), zlib-
compressed when that pays; its first gap is the block's first docnum itself. A join of
segments (`joining`) raises that docnum in every block of every segment but the first. To do
so without inflating and deflating the block, a block that may be compressed (COMPRESS_FROM
bytes or more) writes its first docnum in a long form whose bytes always add up to the same
sum, and `pack` stores the pickle's first PREFIX bytes uncompressed (a stored deflate block)
before the rest, deflated apart: `moved` then replaces the prefix and amends the Adler-32
checksum, whose A sum the prefix leaves unchanged and whose B sum changes by the prefix's
own. whoosh's reader inflates and loads such a block as any other.
"""

from __future__ import annotations

import zlib

# A block's data pickle is zlib-compressed at whoosh's level if COMPRESS_FROM bytes or more and
# shorter so. On Reuters, blocks below 64 bytes (rare terms') are 2/3 of them and gain nothing;
# from 64 bytes on nearly every block shrinks, by 60% in all (benchmarks/README.md).
LEVEL = 3
COMPRESS_FROM = 64
FIRST_SUM = 1_020  # what the eight bytes of a long first docnum add up to


_K, _M, _J = ord("K"), ord("M"), ord("J")  # pickle's BININT1, BININT2, BININT


def first_docnum(docnum: int) -> bytes:
    """Returns the long form of a block's first docnum gap in its data pickle: a BININT, then
    a SHORT_BINBYTES of four bytes that POP drops, whose bytes bring the eight bytes' sum to
    1,020 whatever the docnum. With the pickle's first three bytes (PROTO 3, MARK) that is
    the PREFIX that `pack` stores uncompressed, and whose byte sum, and so the zlib stream's
    Adler-32 sum A, never changes: `moved` raises the docnum without inflating the block."""
    number = docnum.to_bytes(4, "little")
    return b"J" + number + b"C\x04" + _FILLERS[FIRST_SUM - sum(number)]


# The four bytes (and POP) that bring a sum of four bytes (the index) to 1,020.
_FILLERS = [
    bytes(min(255, max(0, rest - 255 * i)) for i in range(4)) + b"0" for rest in range(1_021)
]


FIRST_LONG = len(first_docnum(0))
PREFIX = 3 + FIRST_LONG  # the data pickle's bytes up to its second docnum gap, long form
_STORED = b"\x78\x5e\x00" + PREFIX.to_bytes(2, "little") + (0xFFFF ^ PREFIX).to_bytes(2, "little")


def pack(data: bytes | memoryview) -> bytes:
    """Returns a data pickle in the long form (`first_docnum`) as a zlib stream: its PREFIX in
    a stored deflate block, the rest deflated apart (at LEVEL, referring to nothing before
    it), whoosh's reader inflating it as any other."""
    deflate = zlib.compressobj(LEVEL, zlib.DEFLATED, -15)
    body = deflate.compress(data[PREFIX:]) + deflate.flush()
    checksum = zlib.adler32(data).to_bytes(4, "big")
    return b"".join((_STORED, data[:PREFIX], body, checksum))


def moved(packed: bytes, shift: int) -> bytes | None:
    """Returns a block's data, as `pack` packs it, with its first docnum raised by `shift`
    without inflating it: the stored prefix replaced and the Adler-32 sum B amended; None
    when the data is not laid out so."""
    head = len(_STORED)
    old = packed[head : head + PREFIX]
    if packed[:head] != _STORED or old[:4] != b"\x80\x03(J" or old[8:10] != b"C\x04":
        return None
    new = b"\x80\x03(" + first_docnum(int.from_bytes(old[4:8], "little") + shift)
    checksum = int.from_bytes(packed[-4:], "big")
    b = (checksum >> 16) + (zlib.adler32(new) >> 16) - (zlib.adler32(old) >> 16)
    amended = ((b % 65521) << 16 | (checksum & 0xFFFF)).to_bytes(4, "big")
    return b"".join((packed[:head], new, packed[head + PREFIX : -4], amended))


def raised(data: bytes, shift: int) -> bytes:
    """Returns a block's (uncompressed) data pickle with its first docnum gap raised by
    `shift`, in the long form (`first_docnum`) if the pickle, that gap in its shortest form,
    is COMPRESS_FROM bytes or more."""
    op = data[3]
    size = 1 if op == _K else 2 if op == _M else 4 if op == _J else 0
    if data[:3] != b"\x80\x03(" or not size:
        raise ValueError("a block whose first docnum is not a pickled int after PROTO 3, MARK")
    docnum = int.from_bytes(data[4 : 4 + size], "little") + shift
    rest = data[4 + size :]
    if rest[:2] == b"C\x04" and rest[6:7] == b"0":
        rest = rest[7:]  # the long form's four bytes, dropped
    compact = _pickled_int(docnum)
    if 3 + len(compact) + len(rest) >= COMPRESS_FROM:
        return b"\x80\x03(" + first_docnum(docnum) + rest
    return b"\x80\x03(" + compact + rest


def _pickled_int(value: int) -> bytes:
    """Returns a non-negative int below 2**31 pickled as BININT1, BININT2 or BININT."""
    if value < 256:
        return bytes((_K, value))
    if value < 65536:
        return bytes((_M, value & 255, value >> 8))
    return b"J" + value.to_bytes(4, "little")
