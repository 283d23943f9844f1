"""The term table written from arrays: whoosh's reader finds every key, in order too."""

from __future__ import annotations

import random
import struct
from pathlib import Path

import numpy as np
from whoosh.filedb.filestore import FileStorage
from whoosh.filedb.filetables import OrderedHashReader, OrderedHashWriter

from newssearch.engine import term_table


def _written(folder: Path, keys: list[bytes], rows: list[bytes]) -> OrderedHashReader:
    storage = FileStorage(str(folder))
    table = term_table.TermTable(OrderedHashWriter(storage.create_file("t.trm")))
    table.extras["fieldmap"] = {"body": 0}
    for start in range(0, len(keys), 1_000):  # as the writer adds them: a chunk at a time
        table.add_terms(keys[start : start + 1_000], b"".join(rows[start : start + 1_000]))
    table.close()
    return OrderedHashReader.open(storage, "t.trm")


def test_whoosh_reads_every_key_where_it_looks(tmp_path: Path) -> None:
    rng = random.Random(5)
    keys = sorted({bytes(rng.choices(range(97, 123), k=rng.randint(1, 12))) for _ in range(20_000)})
    rows = [struct.pack("!q", n) + bytes(39) for n in range(len(keys))]  # 47 bytes, as a row
    reader = _written(tmp_path, keys, rows)
    try:
        assert all(reader[key] == row for key, row in zip(keys, rows, strict=True))
        assert b"not a key" not in reader and b"" not in reader
        assert list(reader.keys()) == keys  # in order, by the records
        assert reader.closest_key(keys[100] + b"\x00") == keys[101]  # by the ordered index
        assert reader.extras["fieldmap"] == {"body": 0}
        assert reader.extras["indexlen"] == len(keys)
    finally:
        reader.close()


def _probe(tables: bytes, directory: bytes, base: int, digest: int) -> int:
    """Returns the position whoosh's reader finds for `digest` (0: none), as it probes."""
    start, slots = struct.unpack_from("!qi", directory, 12 * (digest & 255))
    for step in range(slots):
        slot = ((digest >> 8) + step) % slots
        found, position = struct.unpack_from("!Iq", tables, start - base + 12 * slot)
        if not position:
            return 0
        if found == digest:
            return position
    return 0


def test_records_past_a_tables_end_wrap_around_to_its_free_slots() -> None:
    """Bucket 0 of three records: six slots, every record's slot the last, so two of them go
    on from the first slot; whoosh's probe finds all three."""
    digests = np.array([(5 + 6 * k) << 8 for k in range(3)], dtype=np.int64)
    positions = np.array([100, 200, 300], dtype=np.int64)
    tables, directory = term_table._hash_tables(digests, positions, 13)
    assert len(tables) == 6 * 12
    slots = struct.unpack("!" + "Iq" * 6, tables)[1::2]
    assert slots == (200, 300, 0, 0, 0, 100)
    assert [_probe(tables, directory, 13, int(d)) for d in digests] == [100, 200, 300]
