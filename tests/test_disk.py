"""A damaged index on disk: one clear error naming the path and the fix, from every operation
and every command, never a traceback; `check`; rebuilding; what stock whoosh still reads."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import ARTICLES, ROOT, write_jsonl

from newssearch import (
    Document,
    IncompatibleIndexError,
    Index,
    IndexCorruptError,
    IndexNotFoundError,
    NewssearchError,
    load_documents,
)
from newssearch.cli import main
from newssearch.engine import schema as ns_schema
from newssearch.engine import storage


@pytest.fixture(autouse=True)
def _new_process() -> Iterator[None]:
    """Each test reads as a new process would: nothing known checked yet."""
    storage._CHECKED.clear()
    yield
    storage._CHECKED.clear()


def build(folder: Path) -> Path:
    index = Index.create(folder / "ix")
    index.add(load_documents(write_jsonl(folder / "articles.jsonl", ARTICLES)))
    index.close()
    storage._CHECKED.clear()
    return folder / "ix"


def segment(ix: Path) -> Path:
    (found,) = ix.glob("MAIN_*.seg")
    return found


def toc(ix: Path) -> Path:
    (found,) = ix.glob("_MAIN_*.toc")
    return found


def _truncate(ix: Path) -> str:
    path = segment(ix)
    size = path.stat().st_size
    os.truncate(path, size // 2)
    return f"{path.name} is {size // 2:,} bytes, its commit says {size:,} (truncated?)"


def _empty_segment(ix: Path) -> str:
    path = segment(ix)
    size = path.stat().st_size
    path.write_bytes(b"")
    return f"{path.name} is 0 bytes, its commit says {size:,} (truncated?)"


def _missing_segment(ix: Path) -> str:
    path = segment(ix)
    path.unlink()
    return f"{path.name} is missing"


def _flipped_bytes(ix: Path) -> str:
    path = segment(ix)
    data = bytearray(path.read_bytes())
    for offset in random.Random(1).sample(range(len(data) // 4, len(data) * 3 // 4), 200):
        data[offset] ^= 0xFF
    path.write_bytes(bytes(data))
    return f"{path.name} does not match its checksum (its bytes have changed)"


def _one_flipped_bit(ix: Path) -> str:
    path = segment(ix)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    return f"{path.name} does not match its checksum (its bytes have changed)"


def _empty_toc(ix: Path) -> str:
    path = toc(ix)
    path.write_bytes(b"")
    return f"{path.name} is empty"


def _garbage_toc(ix: Path) -> str:
    path = toc(ix)
    path.write_bytes(random.Random(2).randbytes(path.stat().st_size))
    return f"{path.name} has no checksum footer (damaged, truncated, or not written by newssearch)"


def _truncated_toc(ix: Path) -> str:
    path = toc(ix)
    os.truncate(path, path.stat().st_size - 3)
    return f"{path.name} has no checksum footer (damaged, truncated, or not written by newssearch)"


def _changed_toc(ix: Path) -> str:
    path = toc(ix)
    data = bytearray(path.read_bytes())
    data[40] ^= 0x10
    path.write_bytes(bytes(data))
    return f"{path.name} does not match its checksum (the table of contents is damaged)"


DAMAGE: dict[str, Callable[[Path], str]] = {
    "truncated segment": _truncate,
    "empty segment": _empty_segment,
    "missing segment": _missing_segment,
    "200 flipped bytes": _flipped_bytes,
    "one flipped bit": _one_flipped_bit,
    "empty table of contents": _empty_toc,
    "garbage table of contents": _garbage_toc,
    "truncated table of contents": _truncated_toc,
    "changed table of contents": _changed_toc,
}


def damaged_message(ix: Path, reason: str) -> str:
    return (
        f"the index at {ix} is damaged: {reason}; "
        f"rebuild it with `newssearch index --rebuild --index {ix} PATH...`"
    )


OPERATIONS: dict[str, Callable[[Path], object]] = {
    "open": lambda ix: Index.open(ix),
    "search": lambda ix: Index.open(ix).search("defense"),
    "stats": lambda ix: Index.open(ix).stats(),
    "add": lambda ix: Index.open(ix).add([Document(id="new", body="new article")]),
    "delete": lambda ix: Index.open(ix).delete(["a1"]),
    "check": lambda ix: Index.open(ix).check(),
    "create over it": lambda ix: Index.create(ix),
}


@pytest.mark.parametrize("operation", OPERATIONS)
@pytest.mark.parametrize("damage", DAMAGE)
def test_every_damage_is_one_clear_error_from_every_operation(
    tmp_path: Path, damage: str, operation: str
) -> None:
    ix = build(tmp_path)
    reason = DAMAGE[damage](ix)
    if operation == "create over it":
        with pytest.raises(NewssearchError, match="an index already exists"):
            OPERATIONS[operation](ix)
        return
    with pytest.raises(NewssearchError) as caught:
        OPERATIONS[operation](ix)
    assert type(caught.value) is IndexCorruptError  # no whoosh or builtin exception
    assert str(caught.value) == damaged_message(ix, reason)


@pytest.mark.parametrize("command", [["stats"], ["query", "defense"], ["delete", "a1"], ["check"]])
@pytest.mark.parametrize("damage", DAMAGE)
def test_every_command_says_it_in_one_line_and_exits_1(
    tmp_path: Path, damage: str, command: list[str]
) -> None:
    ix = build(tmp_path)
    reason = DAMAGE[damage](ix)
    result = CliRunner().invoke(main, [*command, "--index", str(ix)])
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == f"newssearch: {damaged_message(ix, reason)}\n"


def test_the_installed_command_prints_no_traceback(tmp_path: Path) -> None:
    ix = build(tmp_path)
    reason = _truncate(ix)
    script = Path(sys.executable).parent / "newssearch"
    for command in (["stats"], ["query", "defense"], ["index", str(tmp_path / "articles.jsonl")]):
        done = subprocess.run(
            [str(script), *command, "--index", str(ix)], capture_output=True, text=True
        )
        assert (done.returncode, done.stdout) == (1, ""), command
        assert done.stderr == f"newssearch: {damaged_message(ix, reason)}\n", command


def test_rebuild_replaces_a_damaged_index(tmp_path: Path) -> None:
    ix = build(tmp_path)
    _truncate(ix)
    result = CliRunner().invoke(
        main, ["index", "--rebuild", "--index", str(ix), str(tmp_path / "articles.jsonl")]
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("added 8, updated 0, unchanged 0, rejected 0 in ")
    assert sorted(os.listdir(ix)) == sorted(["MAIN_WRITELOCK", segment(ix).name, toc(ix).name])
    assert Index.open(ix).check().documents == 8


def test_check_reports_counts_when_all_is_well(tmp_path: Path) -> None:
    ix = build(tmp_path)
    Index.open(ix).delete(["a3"])
    report = Index.open(ix).check()
    assert (report.documents, report.segments, report.files) == (7, 1, 1)
    assert report.bytes == segment(ix).stat().st_size
    assert report.terms > 50 and report.postings > report.terms
    result = CliRunner().invoke(main, ["check", "--index", str(ix)])
    assert result.exit_code == 0
    assert result.stdout == f"{ix}: {report.summary()}\n"
    assert report.summary().startswith(
        f"ok: 7 documents, 1 segment, 1 file ({report.bytes:,} bytes) checksummed, "
    )


def test_check_finds_what_decodes_but_disagrees(tmp_path: Path) -> None:
    """A segment list whose document count disagrees with the segment, checksums all matching
    (as a bug would write it): `check` reads the segment whole and says what does not decode."""
    ix = build(tmp_path)
    index = Index.open(ix)
    writer = storage.writer(index._ix, 1.0)
    (only,) = writer.segments
    only._doccount += 1
    writer.commit(merge=False)
    storage._CHECKED.clear()
    with pytest.raises(IndexCorruptError) as caught:
        Index.open(ix).check()
    assert str(caught.value) == damaged_message(
        ix, f"segment {only.segment_id()}: document 0: its stored fields do not decode (error)"
    )


def test_a_commit_over_the_budget_has_its_contents_checked_where_it_matters(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Over EAGER_CHECK_BYTES, opening checks sizes, not contents (as Lucene's open does);
    `check` still finds changed bytes, and so does a merge before it commits: the damage is
    never carried into a new segment with new checksums."""
    ix = build(tmp_path)
    Index.open(ix).add([Document(id="new", body="a second segment")])
    older = min(ix.glob("MAIN_*.seg"), key=lambda path: path.stat().st_mtime_ns)
    data = bytearray(older.read_bytes())
    data[len(data) // 2] ^= 0x01
    older.write_bytes(bytes(data))
    reason = f"{older.name} does not match its checksum (its bytes have changed)"
    storage._CHECKED.clear()
    monkeypatch.setattr(storage, "EAGER_CHECK_BYTES", 0)
    index = Index.open(ix)
    assert [h.id for h in index.search("second").hits] == ["new"]
    with pytest.raises(IndexCorruptError) as checked:
        index.check()
    assert str(checked.value) == damaged_message(ix, reason)
    before = sorted(p.name for p in ix.iterdir())
    with pytest.raises(IndexCorruptError) as merged:
        index.optimize()
    assert str(merged.value) == damaged_message(ix, reason)
    assert sorted(p.name for p in ix.iterdir()) == before  # nothing committed, nothing left
    index.close()


def test_an_older_format_says_how_to_rebuild(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An index of format 1 (before checksums): whoosh's plain writer, no footer."""
    from whoosh import index as whoosh_index

    monkeypatch.setattr(ns_schema, "FORMAT_VERSION", 1)
    (tmp_path / "ix").mkdir()
    old = whoosh_index.create_in(str(tmp_path / "ix"), ns_schema.make_schema("english"))
    with old.writer() as writer:
        writer.add_document(**ns_schema.document_fields(Document(id="x", body="alpha")))
    monkeypatch.undo()
    ix = tmp_path / "ix"
    expected = (
        f"the index at {ix} is format 1; this newssearch reads format {ns_schema.FORMAT_VERSION}: "
        f"rebuild it with `newssearch index --rebuild --index {ix} PATH...`"
    )
    for operation in ("open", "check"):
        with pytest.raises(IncompatibleIndexError) as caught:
            OPERATIONS[operation](ix)
        assert str(caught.value) == expected
    result = CliRunner().invoke(main, ["query", "alpha", "--index", str(ix)])
    assert (result.exit_code, result.stderr) == (1, f"newssearch: {expected}\n")
    rebuilt = Index.create(ix, overwrite=True)
    assert rebuilt.add([Document(id="y", body="beta")]).added == 1
    assert [h.id for h in Index.open(ix).search("beta").hits] == ["y"]


def test_a_newer_format_says_how_to_rebuild(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ns_schema, "FORMAT_VERSION", 99)
    Index.create(tmp_path / "ix").add([Document(id="x", body="alpha")])
    monkeypatch.undo()
    result = CliRunner().invoke(main, ["stats", "--index", str(tmp_path / "ix")])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"newssearch: the index at {tmp_path / 'ix'} is format 99;")


def test_a_directory_that_is_not_an_index(tmp_path: Path) -> None:
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "notes.txt").write_text("mine")
    with pytest.raises(IndexNotFoundError, match=r"^no index at .*notes; build one with"):
        Index.open(tmp_path / "notes")
    (tmp_path / "file").write_text("a file")
    with pytest.raises(IndexNotFoundError, match=r"file is a file, not an index directory$"):
        Index.open(tmp_path / "file")
    with pytest.raises(IndexNotFoundError, match=r"file is a file, not an index directory$"):
        Index.create(tmp_path / "file")
    Index.create(tmp_path / "notes").add([Document(id="x", body="alpha")])
    assert (tmp_path / "notes" / "notes.txt").read_text() == "mine"  # not an index file


def test_a_missing_table_of_contents_is_no_index(tmp_path: Path) -> None:
    ix = build(tmp_path)
    toc(ix).unlink()
    with pytest.raises(IndexNotFoundError, match="no index at"):
        Index.open(ix)


def test_stock_whoosh_in_a_new_process_reads_a_checksummed_index(tmp_path: Path) -> None:
    """The checksum footer is invisible to whoosh: a process that imports only whoosh opens the
    index (its own TOC reader, its own pickle.loads for the table of contents) and searches."""
    ix = build(tmp_path)
    Index.open(ix).add([Document(id="more", body="defense matters")])
    code = (
        "import sys; from whoosh import index, query\n"
        "ix = index.open_dir(sys.argv[1])\n"
        "with ix.searcher() as s:\n"
        "    print(sorted(s.stored_fields(d)['id'] for d in"
        " s.docs_for_query(query.Term('body', 'defens'))))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(ix)], capture_output=True, text=True, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "['a3', 'a7', 'a8', 'more']\n"


def test_the_readme_section_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Durability, integrity and trust", 1)[1].split("\n## ", 1)[0]
    commands = [block.split("```")[0] for block in section.split("```sh\n")[1:]]
    assert commands == ["newssearch check\n"]
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NEWSSEARCH_INDEX", raising=False)
    Index.create("index").add([Document(id="x", body="alpha")])
    result = CliRunner().invoke(main, commands[0].split()[1:])
    assert result.exit_code == 0
    assert result.stdout.startswith("index: ok: 1 document, 1 segment, 1 file (")
    # The example error is what a damaged index gives, its segment named x1.
    (example,) = [b.split("```")[0] for b in section.split("```\n")[1::2] if "damaged" in b]
    build(tmp_path)
    storage._CHECKED.clear()
    name = segment(Path("ix")).name
    _flipped_bytes(Path("ix"))
    result = CliRunner().invoke(main, ["query", "defense", "--index", "ix"])
    assert result.exit_code == 1
    assert result.stderr.replace(name, "MAIN_x1.seg") == example


def test_every_segment_gets_checksums_however_it_was_written(tmp_path: Path) -> None:
    """Small commits make whoosh's MERGE_SMALL merge segments with whoosh's own writer; the
    merged segments get their checksums too, and the unreferenced ones are gone."""
    index = Index.create(tmp_path / "ix")
    for n in range(14):
        index.add([Document(id=f"d{n}", body=f"article number {n} on defense")])
    index.delete(["d3"])
    toc, table = storage.NewsStorage(tmp_path / "ix").read_toc()
    files = {
        name
        for s in toc.segments
        for name in os.listdir(tmp_path / "ix")
        if name.startswith(f"{s.segment_id()}.")
    }
    assert set(table) == files and len(toc.segments) < 14  # merged
    assert sorted(os.listdir(tmp_path / "ix")) == sorted(
        [*files, f"_MAIN_{toc.generation}.toc", "MAIN_WRITELOCK"]
    )
    storage._CHECKED.clear()
    assert Index.open(tmp_path / "ix").check().documents == 13


def test_an_index_with_keyword_fields_opens_and_checks(tmp_path: Path) -> None:
    records = [{"id": "p1", "body": "wheat", "places": ["usa", "canada"]}]
    index = Index.create(tmp_path / "ix", keyword_fields=["places"])
    source = write_jsonl(tmp_path / "p.jsonl", records)
    index.add(load_documents(source, keyword_fields=index.keyword_fields))
    storage._CHECKED.clear()
    reopened = Index.open(tmp_path / "ix")  # its schema is exactly the one newssearch writes
    assert [h.id for h in reopened.search("place:canada").hits] == ["p1"]
    report = reopened.check()
    assert (report.documents, report.terms) == (1, 4)  # wheat, p1, and place: usa, canada
