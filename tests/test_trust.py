"""Opening an index runs no code from it: every pickle goes through the allow-list."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import ARTICLES, write_jsonl
from whoosh import columns, formats
from whoosh.codec import whoosh3
from whoosh.filedb import structfile
from whoosh.filedb.structfile import StructFile

from newssearch import Index, IndexCorruptError, load_documents
from newssearch.cli import main
from newssearch.engine import checksums, storage, trust


class _RunsCode:
    """Pickles as a call of os.system, as a hostile table of contents would."""

    def __init__(self, command: str) -> None:
        self.command = command

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, (self.command,))


def hostile_toc(ix: Path, marker: Path, *, sealed: bool) -> None:
    """Replaces the index's table of contents with one whose schema runs `touch marker`;
    `sealed`: with a checksum footer that matches, as a forger would write it."""
    (path,) = ix.glob("_MAIN_*.toc")
    generation = int(path.stem.rsplit("_", 1)[1])
    raw = __import__("io").BytesIO()
    stream = StructFile(raw)
    for size in (4, 8, 4):
        stream.write_varint(size)
    stream.write_int(-12345)
    stream.write_int(-111)
    for number in (2, 7, 5):
        stream.write_varint(number)
    stream.write_string(pickle.dumps(_RunsCode(f"touch {marker}"), 2))
    stream.write_int(generation)
    stream.write_int(0)
    stream.write_pickle([])
    body = raw.getvalue()
    path.write_bytes(body + checksums.seal(body, {}) if sealed else body)


@pytest.mark.parametrize("sealed", [False, True], ids=["as in the issue", "footer forged"])
def test_a_hostile_table_of_contents_runs_nothing(tmp_path: Path, sealed: bool) -> None:
    ix = tmp_path / "ix"
    Index.create(ix).add(load_documents(write_jsonl(tmp_path / "a.jsonl", ARTICLES)))
    marker = tmp_path / "PWNED"
    hostile_toc(ix, marker, sealed=sealed)
    expected = (
        f"the index at {ix} is damaged: a pickle names posix.system, which an index never "
        "contains, so it was not loaded (nothing from it ran); "
        f"rebuild it with `newssearch index --rebuild --index {ix} PATH...`"
    )
    with pytest.raises(IndexCorruptError) as caught:
        Index.open(ix)
    assert str(caught.value) == expected
    for command in (["stats"], ["query", "defense"], ["check"], ["index", str(tmp_path)]):
        result = CliRunner().invoke(main, [*command, "--index", str(ix)])
        assert (result.exit_code, result.stderr) == (1, f"newssearch: {expected}\n"), command
    done = subprocess.run(  # and the installed command, in a process of its own
        [str(Path(sys.executable).parent / "newssearch"), "stats", "--index", str(ix)],
        capture_output=True,
        text=True,
    )
    assert (done.returncode, done.stderr) == (1, f"newssearch: {expected}\n")
    assert not marker.exists()


def test_only_admitted_names_are_loaded() -> None:
    with pytest.raises(trust.RefusedPickle, match=r"names posix\.system"):
        trust.loads(pickle.dumps(_RunsCode("true"), 2))
    with pytest.raises(trust.RefusedPickle, match=r"names builtins\.eval"):
        trust.loads(pickle.dumps(eval))
    with pytest.raises(trust.RefusedPickle, match="'rot13' codec"):
        trust.loads(b"\x80\x02c_codecs\nencode\nX\x03\x00\x00\x00abcX\x05\x00\x00\x00rot13\x86R.")
    with pytest.raises(pickle.UnpicklingError, match="persistent"):
        trust.loads(b"\x80\x02X\x01\x00\x00\x00aQ.")  # a persistent id: refused by pickle itself
    data = ([1, 2, 3], None, (b"\x00\xffbytes", 2.5, "text"))
    assert trust.loads(pickle.dumps(data, 2)) == data  # bytes in protocol 2: _codecs.encode
    assert trust.loads_all([pickle.dumps(d, p) for p in (2, 5) for d in data]) == [*data, *data]


def test_whoosh_reads_its_pickles_through_the_allow_list() -> None:
    assert structfile.load_pickle is trust._load_from
    assert whoosh3.loads is columns.loads is formats.loads is trust._loads_from


def test_a_hostile_pickle_in_a_segment_is_refused_where_it_is_read(tmp_path: Path) -> None:
    """A stored-fields value whose pickle runs code (written with whoosh's own writer through
    newssearch's storage, so the checksums match): reading it refuses it."""
    ix = tmp_path / "ix"
    index = Index.create(ix)
    index.add(load_documents(write_jsonl(tmp_path / "a.jsonl", ARTICLES)))
    marker = tmp_path / "PWNED"
    with index._ix.writer() as writer:
        writer.add_document(id="evil", body="defense", meta=_RunsCode(f"touch {marker}"))
    storage._CHECKED.clear()
    with pytest.raises(IndexCorruptError, match=r"names posix\.system"):
        Index.open(ix).search("defense", limit=20)
    with pytest.raises(IndexCorruptError, match=r"names posix\.system"):
        Index.open(ix).check()
    assert not marker.exists()
