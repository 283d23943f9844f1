"""Joining segments by copying: the block rewrite, the columns, and segments it must not copy.

(The differential test in test_segments.py holds a joined index to whoosh's own writer, every
posting read by stock whoosh; test_merges.py kills a join midway.)"""

from __future__ import annotations

import pickle
import zlib
from pathlib import Path
from typing import Any

import pytest
from conftest import segments_of
from whoosh import index as whoosh_index

from newssearch import Document, Index
from newssearch.engine import blocks, columns, joining, merging
from newssearch.engine import schema as ns_schema


@pytest.mark.parametrize(
    ("first", "shift"),
    [(5, 0), (5, 100), (200, 100), (65_000, 1_000), (70_000, 5), (0, 1 << 30)],
)
def test_a_blocks_first_docnum_is_raised_across_pickle_widths(first: int, shift: int) -> None:
    """The first docnum gap is a BININT1, BININT2 or BININT: raising it may widen it; a long
    pickle gets the long form, whatever it had."""
    short = ((first, 1, 300, 70_000), (2, 1, 1, 5), None)
    assert pickle.loads(blocks.raised(pickle.dumps(short, 3), shift)) == (
        (first + shift, 1, 300, 70_000),
        (2, 1, 1, 5),
        None,
    )
    long = ((first, *range(40)), None, (b"x" * 30,))
    raised = blocks.raised(pickle.dumps(long, 3), shift)
    assert raised[3:4] == b"J" and raised[8:10] == b"C\x04"  # the long form
    assert pickle.loads(raised) == ((first + shift, *range(40)), None, (b"x" * 30,))
    assert blocks.raised(raised, 7) == blocks.raised(pickle.dumps(long, 3), shift + 7)


@pytest.mark.parametrize("shift", [0, 1, 255, 70_000, (1 << 31) - 1 - 70_000])
def test_a_packed_block_is_moved_without_inflating_it(shift: int) -> None:
    """`pack` stores the long form's prefix apart; `moved` raises its docnum in place and
    amends the Adler-32 sum: zlib inflates the result to the raised pickle."""
    block = ((70_000, *range(1, 300)), (1, 2) * 150, None)
    data = blocks.raised(pickle.dumps(block, 3), 0)
    packed = blocks.pack(data)
    assert zlib.decompress(packed) == data and len(packed) < len(data)
    found = blocks.moved(packed, shift)
    assert found is not None and zlib.decompress(found) == blocks.raised(data, shift)
    assert pickle.loads(zlib.decompress(found))[0][:2] == (70_000 + shift, 1)
    assert blocks.moved(zlib.compress(data, blocks.LEVEL), shift) is None  # another layout


def _docs(prefix: str, count: int) -> list[Document]:
    return [
        Document(f"{prefix}-{n}", title=f"title {n}" if n % 3 else "", body=f"words {prefix} {n}")
        for n in range(count)
    ]


def test_a_joined_bytes_column_past_the_offsets_cutoff_is_read_by_whoosh(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past OFFSETS_FROM documents a bytes column also holds its offsets (as whoosh writes
    it past 2**15): stock whoosh reads the ids and stored fields of the joined segment."""
    segments_of(monkeypatch, 10)
    monkeypatch.setattr(merging, "MERGE_FACTOR", 1_000)  # no merge until optimize
    monkeypatch.setattr(columns, "OFFSETS_FROM", 5)
    index = Index.create(tmp_path / "ix")
    for n in range(3):
        index.add(_docs(f"d{n}", 10))
    monkeypatch.setattr(merging, "rewrite", None)  # would fail if called: joined
    assert index.optimize().segments_after == 1
    ix = whoosh_index.open_dir(str(tmp_path / "ix"))
    with ix.searcher() as searcher:
        ids = searcher.reader().column_reader("id", translate=False)
        assert ids.had_stored_offsets
        expected = [f"d{k}-{n}" for k in range(3) for n in range(10)]
        assert [ids[d].decode() for d in range(30)] == expected
        assert [searcher.stored_fields(d)["id"] for d in range(30)] == expected
        # an untitled document has no title length (whoosh gives None, as for a written one)
        lengths = [searcher.reader().doc_field_length(d, "title", 0) for d in range(30)]
        assert lengths == [None if n % 3 == 0 else 2 for _ in range(3) for n in range(10)]
    assert Index.open(tmp_path / "ix").check().summary().startswith("ok: 30 documents, 1 segment")


def test_segments_whoosh_wrote_are_rewritten_not_joined(tmp_path: Path) -> None:
    """A segment whoosh's own writer wrote (its headers' greatest weights are floats) is not
    copied: NotCopyable, and the merge rewrites it."""
    ix = Index.create(tmp_path / "ix")._ix
    for prefix in ("a", "b"):
        writer = ix.writer()
        for doc in _docs(prefix, 5):
            writer.add_document(**ns_schema.document_fields(doc))
        writer.commit(merge=False)
    index = Index.open(tmp_path / "ix")
    segments = index._ix._segments()
    assert len(segments) == 2
    with pytest.raises(joining.NotCopyable):
        joining.join(str(tmp_path / "ix"), index._ix.indexname, index._ix.schema, segments)
    assert index.optimize().segments_after == 1
    left = sorted(path.suffix for path in (tmp_path / "ix").iterdir())
    assert left == ["", ".seg", ".toc"]  # the lock; the failed join's files are gone
    hits = Index.open(tmp_path / "ix").search("words", limit=20, sort="date").hits
    assert sorted(hit.id for hit in hits) == sorted(f"{p}-{n}" for p in "ab" for n in range(5))


def test_a_cascade_of_merges_joins_each_segment_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sixteen small segments in one commit: the policy merges them four by four, then the four
    new ones into one; the plan joins the sixteen once, in two processes (spawned: they see
    none of these patches, and need none)."""
    segments_of(monkeypatch, 10)
    monkeypatch.setattr(merging, "FLOOR_DOCUMENTS", 10)
    monkeypatch.setattr(merging, "LEVEL_SEGMENTS", 4)
    monkeypatch.setattr(merging, "JOIN_PROCESSES_FROM", 0)
    planned: list[int] = []
    joined = merging._joined

    def recorded(directory: str, indexname: str, schema: object, items: list[object]) -> object:
        planned.extend(len(item.parts) for item in items if isinstance(item, merging._Join))
        return joined(directory, indexname, schema, items)

    monkeypatch.setattr(merging, "_joined", recorded)
    index = Index.create(tmp_path / "ix")
    index.add(_docs("d", 160))
    assert planned == [16]
    reopened = Index.open(tmp_path / "ix")
    assert [(s.doc_count(), s.doc_count_all()) for s in reopened._ix._segments()] == [(160, 160)]
    hits = reopened.search("words", limit=200, sort="date").hits
    assert sorted(hit.id for hit in hits) == sorted(f"d-{n}" for n in range(160))
    assert reopened.check().summary().startswith("ok: 160 documents, 1 segment")


def test_a_rewrite_is_written_in_pieces_then_joined(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A segment that lost most of its documents is rewritten alone: its live documents are
    written again in pieces of a segment's size (here 10), which are then joined."""
    segments_of(monkeypatch, 100)
    monkeypatch.setattr(merging, "MERGE_FACTOR", 1_000)  # no merge of neighbours
    index = Index.create(tmp_path / "ix")
    index.add(_docs("d", 100))
    assert index.delete([f"d-{n}" for n in range(0, 100, 2)]) == [
        f"d-{n}" for n in range(0, 100, 2)
    ]
    segments_of(monkeypatch, 10)  # the rewrite's pieces
    joined = []
    join = joining.join

    def recorded(directory: str, indexname: str, schema: object, parts: list[object]) -> object:
        joined.append([part.doc_count() for part in parts])
        return join(directory, indexname, schema, parts)

    monkeypatch.setattr(joining, "join", recorded)
    assert Index.open(tmp_path / "ix").delete(["d-1"]) == ["d-1"]  # 51 of 100 gone: rewritten
    assert joined == [[10, 10, 10, 10, 9]]
    reopened = Index.open(tmp_path / "ix")
    assert [(s.doc_count(), s.doc_count_all()) for s in reopened._ix._segments()] == [(49, 49)]
    hits = reopened.search("words", limit=100, sort="date").hits
    assert sorted(hit.id for hit in hits) == sorted(f"d-{n}" for n in range(3, 100, 2))


def test_optimize_rewrites_only_the_segments_with_deletions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Three segments, one with a deletion: that one is rewritten, then all three joined, the
    documents in their order."""
    segments_of(monkeypatch, 10)
    monkeypatch.setattr(merging, "MERGE_FACTOR", 1_000)  # no merge until optimize
    index = Index.create(tmp_path / "ix")
    for n in range(3):
        index.add(_docs(f"d{n}", 10))
    assert index.delete(["d1-4"]) == ["d1-4"]
    rewritten = []
    rewrite = merging.rewrite

    def recorded(
        directory: str, indexname: str, schema: object, segment: Any, limits: tuple[int, int]
    ) -> list[object]:
        rewritten.append((segment.doc_count(), segment.doc_count_all()))
        return rewrite(directory, indexname, schema, segment, limits)

    monkeypatch.setattr(merging, "rewrite", recorded)
    report = index.optimize()
    assert rewritten == [(9, 10)]
    assert (report.segments_before, report.segments_after, report.documents) == (3, 1, 29)
    with whoosh_index.open_dir(str(tmp_path / "ix")).searcher() as searcher:
        ids = searcher.reader().column_reader("id")
        expected = [f"d{k}-{n}" for k in range(3) for n in range(10) if (k, n) != (1, 4)]
        assert [ids[d] for d in range(29)] == expected
