"""Merging an index's segments: as commits accumulate them, `optimize`, and a killed merge."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import segments_of

from newssearch import Document, Index
from newssearch.cli import main
from newssearch.engine import merging


def _docs(prefix: str, count: int) -> list[Document]:
    return [
        Document(f"{prefix}-{n}", body=f"merged words {prefix} number {n}") for n in range(count)
    ]


def _shape(index: Index) -> list[tuple[int, int]]:
    """Returns (live, total) documents of each segment of the last commit."""
    return [(s.doc_count(), s.doc_count_all()) for s in Index.open(index.path)._ix._segments()]


def _ids(index: Index, query: str) -> list[str]:
    return sorted(hit.id for hit in index.search(query, limit=1000, snippets=False).hits)


@pytest.fixture
def small(monkeypatch: pytest.MonkeyPatch) -> None:
    """Segments of 10 documents; the policy's floor 10 too, a level merged from 4 segments."""
    segments_of(monkeypatch, 10)
    monkeypatch.setattr(merging, "FLOOR_DOCUMENTS", 10)
    monkeypatch.setattr(merging, "LEVEL_SEGMENTS", 4)


def test_commits_merge_four_small_segments_and_expunge_deletions(
    tmp_path: Path, small: None
) -> None:
    index = Index.create(tmp_path / "ix")
    for n in range(3):
        index.add(_docs(f"a{n}", 10))
    assert index.delete(["a0-3", "a1-4"]) == ["a0-3", "a1-4"]
    assert _shape(index) == [(9, 10), (9, 10), (10, 10)]  # deleted in place, three segments
    index.add(_docs("a3", 10))  # the fourth: all four become one, without the deleted two
    assert _shape(index) == [(38, 38)]
    assert _ids(index, "merged") == sorted(
        f"a{k}-{n}" for k in range(4) for n in range(10) if (k, n) not in ((0, 3), (1, 4))
    )
    assert [hit.id for hit in index.search("a0", limit=3, sort="date").hits] == [
        "a0-0",
        "a0-1",
        "a0-2",
    ]  # undated, so in index order: the merge kept it
    # Re-adding the same documents finds them unchanged: the fingerprints survived the merge.
    assert index.add(_docs("a3", 10)).unchanged == 10


def test_a_segment_that_lost_most_of_its_documents_is_rewritten(
    tmp_path: Path, small: None
) -> None:
    index = Index.create(tmp_path / "ix")
    index.add(_docs("a", 10))
    index.add(_docs("b", 10))
    deleted = index.delete([f"a-{n}" for n in range(6)])
    assert len(deleted) == 6
    assert _shape(index) == [(4, 4), (10, 10)]
    assert index.delete([f"b-{n}" for n in range(10)]) == [f"b-{n}" for n in range(10)]
    assert _shape(index) == [(4, 4)]  # none left: dropped


def test_optimize_merges_everything_into_one_segment(tmp_path: Path, small: None) -> None:
    index = Index.create(tmp_path / "ix")
    index.add(_docs("a", 35))  # 10, 10, 7, 8: four at the floor, merged as they came
    index.add(_docs("b", 10))
    index.delete(["a-1", "b-2"])
    assert _shape(index) == [(34, 35), (9, 10)]
    report = index.optimize()
    assert (report.segments_before, report.segments_after, report.documents) == (2, 1, 43)
    assert _shape(index) == [(43, 43)]
    assert len(_ids(index, "merged")) == 43
    assert index.check().segments == 1
    again = index.optimize()
    assert (again.segments_before, again.segments_after) == (1, 1)
    assert again.summary().startswith("1 segment already, nothing to merge (43 documents)")


def test_optimize_on_the_command_line(tmp_path: Path, small: None) -> None:
    index = Index.create(tmp_path / "ix")
    index.add(_docs("a", 10))
    index.add(_docs("b", 10))
    result = CliRunner().invoke(main, ["optimize", "--index", str(tmp_path / "ix")])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"{tmp_path / 'ix'}: merged 2 segments into 1 (20 documents)")
    assert _shape(index) == [(20, 20)]
    missing = CliRunner().invoke(main, ["optimize", "--index", str(tmp_path / "none")])
    assert missing.exit_code == 1
    assert missing.output == (
        f"newssearch: no index at {tmp_path / 'none'}; build one with "
        f"`newssearch index --index {tmp_path / 'none'}`\n"
    )


_OPTIMIZER = textwrap.dedent(
    """
    import sys
    import time
    from newssearch import Index
    from newssearch.engine import joining

    # A merge copies 2,000 documents in a moment: here it copies a few terms at a time, and
    # waits after each, so that the kills land inside it.
    joining.CHUNK_BYTES = 1_000
    write_chunk = joining._write_chunk

    def slowly(*args):
        time.sleep(0.02)
        write_chunk(*args)

    joining._write_chunk = slowly
    index = Index.open(sys.argv[1])
    print("merging", flush=True)
    print(index.optimize().summary(), flush=True)
    """
)


def test_a_merge_killed_midway_leaves_the_last_commit_searchable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    segments_of(monkeypatch, 500)
    monkeypatch.setattr(merging, "MERGE_FACTOR", 1_000)  # no merge until optimize
    index = Index.create(tmp_path / "ix")
    words = " ".join(f"w{n}" for n in range(100))
    index.add(Document(f"d{n}", body=f"{words} unique{n}") for n in range(2_000))
    before = _shape(index)
    assert len(before) == 4
    killed = 0
    for delay in (0.05, 0.3, 0.8, 1.5):
        process = subprocess.Popen(
            [sys.executable, "-c", _OPTIMIZER, str(tmp_path / "ix")],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert process.stdout is not None
        assert process.stdout.readline() == "merging\n"
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        process.stdout.close()
        now = _shape(index)
        assert now in (before, [(2_000, 2_000)])  # the last commit, or the whole merge
        if now != before:
            break
        killed += 1
        reopened = Index.open(tmp_path / "ix")
        assert reopened.check().segments == 4
        assert [hit.id for hit in reopened.search("unique1999", snippets=False).hits] == ["d1999"]
    assert killed >= 1  # at least one kill came before the merge was committed
    # The lock died with the merger: the next one merges, and the leftovers are gone.
    report = Index.open(tmp_path / "ix").optimize()
    assert report.documents == 2_000 and report.segments_after == 1
    reopened = Index.open(tmp_path / "ix")
    assert reopened.check().segments == 1
    assert len(reopened.search("w7", limit=10, snippets=False).hits) == 10
    assert reopened.search("w7", snippets=False).total == 2_000
