"""Checksums of an index's files: a size and CRC32 per file, kept at the end of each commit.

Lucene ends every file with a CRC32 footer. whoosh must still read these files as they are, so
the checksums of every file a commit references go where whoosh never looks: after the last
pickle of the commit's table of contents (whoosh's reader stops there). The footer ends with
a CRC32 of the whole table of contents, itself included, so a damaged table of contents is
caught too:

    table of contents | checksum table (JSON) | its length (4 bytes) | CRC32 (4 bytes) | b"NSc1"
"""

from __future__ import annotations

import json
import os
import struct
import zlib
from pathlib import Path

MAGIC = b"NSc1"
_TAIL = struct.Struct(">II")  # table length, CRC32 of everything before it
_CHUNK = 1 << 20

Table = dict[str, tuple[int, int]]  # file name -> (size in bytes, CRC32)


class Damage(ValueError):
    """What is wrong with an index's files, as a phrase naming the file."""


def seal(body: bytes, table: Table) -> bytes:
    """Returns the footer that follows `body` (a table of contents) and records `table`."""
    encoded = json.dumps({name: list(entry) for name, entry in sorted(table.items())}).encode()
    head = body + encoded + struct.pack(">I", len(encoded))
    return encoded + _TAIL.pack(len(encoded), zlib.crc32(head)) + MAGIC


def unseal(name: str, data: bytes) -> tuple[bytes, Table]:
    """Returns the table of contents in `data` without its footer, and the checksum table;
    raises Damage if the footer is missing or does not match."""
    tail = len(MAGIC) + _TAIL.size
    if not data:
        raise Damage(f"{name} is empty")
    if len(data) < tail or not data.endswith(MAGIC):
        raise Damage(
            f"{name} has no checksum footer (damaged, truncated, or not written by newssearch)"
        )
    length, crc = _TAIL.unpack(data[-tail : -len(MAGIC)])
    body_end = len(data) - tail - length
    if body_end < 0 or zlib.crc32(data[: -tail + 4]) != crc:
        raise Damage(f"{name} does not match its checksum (the table of contents is damaged)")
    raw = json.loads(data[body_end:-tail])
    return data[:body_end], {n: (int(size), int(c)) for n, (size, c) in raw.items()}


def file_checksum(path: Path) -> tuple[int, int]:
    """Returns (size, CRC32) of the file at `path`, read in 1 MB pieces."""
    crc = size = 0
    with open(path, "rb") as file:
        while piece := file.read(_CHUNK):
            crc = zlib.crc32(piece, crc)
            size += len(piece)
    return size, crc


def check_sizes(folder: Path, table: Table) -> None:
    """Raises Damage for the first file of `table` that is missing or of another size."""
    for name, (size, _) in sorted(table.items()):
        try:
            found = os.stat(folder / name).st_size
        except FileNotFoundError:
            raise Damage(f"{name} is missing") from None
        if found != size:
            raise Damage(f"{name} is {found:,} bytes, its commit says {size:,} (truncated?)")


def check_contents(folder: Path, table: Table) -> int:
    """Returns how many bytes were read; raises Damage for the first file of `table` that is
    missing, of another size, or whose CRC32 differs (flipped bytes)."""
    check_sizes(folder, table)
    total = 0
    for name, (size, crc) in sorted(table.items()):
        found_size, found_crc = file_checksum(folder / name)
        if (found_size, found_crc) != (size, crc):
            raise Damage(f"{name} does not match its checksum (its bytes have changed)")
        total += found_size
    return total
