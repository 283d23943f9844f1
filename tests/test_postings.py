"""The fast writer's compressed posting blocks: whoosh's own format, read back exactly by stock
whoosh's reader, and compressed by the rule (at least COMPRESS_FROM bytes, and shorter)."""

from __future__ import annotations

import itertools
import random
import zlib
from pathlib import Path

import numpy as np
from whoosh import index as whoosh_index
from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.filedb.structfile import BufferFile
from whoosh.formats import Existence

from newssearch import Document, Index
from newssearch.engine import blocks, postings


def test_stock_whoosh_reads_compressed_blocks_exactly(tmp_path: Path) -> None:
    rng = random.Random(7)
    bodies = [
        rng.choices(["oil", "crude", "price", "opec"], k=rng.randint(1, 40)) for _ in range(600)
    ]
    bodies[3] = ["zinc"]  # a rare term: one small block, left uncompressed
    docs = [
        Document(f"d{n}", title="report", body=" ".join(words)) for n, words in enumerate(bodies)
    ]
    Index.create(tmp_path / "ix").add(docs)
    expected = {
        (f"d{n}", tuple(i for i, word in enumerate(words) if word == "oil"))
        for n, words in enumerate(bodies)
        if "oil" in words
    }
    with whoosh_index.open_dir(str(tmp_path / "ix")).searcher() as searcher:
        levels, found = [], set()
        matcher = searcher.postings("body", b"oil")
        while matcher.is_active():
            levels.append(matcher._compression)
            positions = matcher.value_as("positions")
            assert matcher.weight() == len(positions)
            found.add((searcher.stored_fields(matcher.id())["id"], tuple(positions)))
            matcher.next()
        assert found == expected
        assert len(levels) == 558 and set(levels) == {blocks.LEVEL}  # 5 blocks, all compressed
        rare = searcher.postings("body", b"zinc")
        assert rare._compression == 0 and rare.value_as("positions") == [0]
        assert searcher.stored_fields(rare.id())["id"] == "d3"


def _encoded(lists: list[list[int]]) -> tuple[bytes, list[int]]:
    """Returns the posting lists of terms 0, 1, ... (their docnums, Existence format) encoded,
    and their offsets."""
    term = np.repeat(np.arange(len(lists)), [len(docs) for docs in lists])
    doc = np.array(list(itertools.chain.from_iterable(lists)), dtype=np.int64)
    blocks = postings._Blocks(term)
    out, offsets = postings._encode(blocks, doc, np.ones_like(doc), None, postings._Values(blocks))
    return out, offsets.tolist()


def test_a_block_is_compressed_from_compress_from_bytes_when_shorter() -> None:
    assert blocks.COMPRESS_FROM == 64
    # A data pickle of Existence postings: 8 bytes, and 2 per docnum gap below 256, 3 above.
    long_run = list(range(28))  # 64 bytes, gaps of 1: compressible
    short_run = [*range(26), 300]  # 63 bytes, as compressible, below the bound
    noise = list(itertools.accumulate(random.Random(1).sample(range(1, 256), 28)))  # 64 bytes
    lists = [long_run, short_run, noise]
    out, offsets = _encoded(lists)
    found = []  # per block: level, bytes stored, its pickle's bytes, zlib's bytes of it
    for start, end, docs in zip(offsets, [*offsets[1:], len(out)], lists, strict=True):
        matcher = W3LeafMatcher(BufferFile(out), start, end - start, Existence())
        assert list(matcher.all_ids()) == docs  # stock whoosh reads every block back
        data = out[matcher._dataoffset : matcher._nextoffset]
        pickled = zlib.decompress(data) if matcher._compression else data
        size = len(blocks.pack(pickled) if len(pickled) >= 64 else zlib.compress(pickled, 3))
        found.append((matcher._compression, len(data), len(pickled), size))
    # 64 bytes with the first docnum gap in its shortest form: 74 in the long form (`pack`s).
    (level, stored, pickled, size), below, noisy = found
    assert (level, stored, pickled) == (blocks.LEVEL, size, 74) and size < 74
    level, stored, pickled, size = below  # left raw below the bound, though zlib shortens it
    assert (level, stored, pickled) == (0, 63, 63) and size < 63
    level, stored, pickled, size = noisy  # left raw: packed, it would be longer
    assert (level, stored, pickled) == (0, 74, 74) and size > 74
