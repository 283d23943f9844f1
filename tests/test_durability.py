"""Commits that survive power loss and a full disk; stale and unusable locks; no leftovers."""

from __future__ import annotations

import errno
import os
import random
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import ARTICLES, write_jsonl
from whoosh.filedb import filestore

from newssearch import Document, Index, IndexAccessError, load_documents
from newssearch.engine import checksums, storage


@pytest.fixture
def ix(tmp_path: Path) -> Path:
    Index.create(tmp_path / "ix").add(load_documents(write_jsonl(tmp_path / "a.jsonl", ARTICLES)))
    return tmp_path / "ix"


def ids(path: Path, query: str = "defense OR cooperation OR wheat") -> list[str]:
    return [h.id for h in Index.open(path).search(query, limit=100, snippets=False).hits]


def referenced(path: Path) -> list[str]:
    """Returns the files the last commit references, its table of contents and the lock."""
    toc, table = storage.NewsStorage(path).read_toc()
    return sorted([*table, f"_MAIN_{toc.generation}.toc", "MAIN_WRITELOCK"])


def test_a_commit_is_fsynced_before_and_after_its_table_of_contents_is_renamed(
    ix: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = set(referenced(ix))
    events: list[tuple[str, str]] = []
    real_fsync, real_rename = os.fsync, os.rename

    def fsync(fd: int) -> None:
        events.append(("fsync", Path(os.readlink(f"/proc/self/fd/{fd}")).name))
        real_fsync(fd)

    def rename(old: Any, new: Any) -> None:
        events.append(("rename", f"{Path(old).name} -> {Path(new).name}"))
        real_rename(old, new)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "rename", rename)
    Index.open(ix).add([Document(id="new", body="a new article")])
    monkeypatch.undo()
    (renamed,) = [i for i, (kind, _) in enumerate(events) if kind == "rename"]
    temp, final = events[renamed][1].split(" -> ")
    (new_segment,) = set(referenced(ix)) - old - {final}
    before, after = events[:renamed], events[renamed + 1 :]
    synced = [name for _, name in before]
    assert final == "_MAIN_2.toc" and temp.startswith("_MAIN_2.toc.")
    assert synced[-2:] == [temp, "ix"]  # the table of contents, then the directory
    assert new_segment in synced[:-2]  # the new segment before them
    assert after == [("fsync", "ix")]  # the directory again once renamed


class _FullDisk:
    """A file object whose writes fail with ENOSPC once `budget` bytes have been written."""

    written = 0
    budget = 0

    def __init__(self, file: Any) -> None:
        self._file = file

    def write(self, data: bytes) -> int:
        if _FullDisk.written + len(data) > _FullDisk.budget:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        _FullDisk.written += len(data)
        return int(self._file.write(data))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._file, name)

    def __enter__(self) -> _FullDisk:
        return self

    def __exit__(self, *exc: object) -> None:
        self._file.close()


@pytest.fixture
def full_disk(monkeypatch: pytest.MonkeyPatch) -> Iterator[type[_FullDisk]]:
    """Every file whoosh creates (through FileStorage.create_file) fills a shared budget."""
    _FullDisk.written = 0
    monkeypatch.setattr(
        filestore,
        "open",
        lambda *a, **k: _FullDisk(open(*a, **k)),  # noqa: SIM115
        raising=False,
    )
    yield _FullDisk


BIG = [
    Document(id=f"big{n}", body=" ".join(random.Random(n).choices(["oil", "grain", "x"], k=900)))
    for n in range(40)
]


@pytest.mark.parametrize("budget", [0, 2_000, 8_000, 20_000])
def test_a_full_disk_leaves_the_last_commit_and_nothing_else(
    ix: Path, full_disk: type[_FullDisk], budget: int
) -> None:
    before, searchable = sorted(os.listdir(ix)), ids(ix)
    full_disk.budget = budget
    with pytest.raises(IndexAccessError) as caught:
        Index.open(ix).add(BIG)
    assert str(caught.value) == (
        f"no space left on the device of the index at {ix}; the last commit is intact and "
        "searchable: free some space and run again"
    )
    full_disk.budget = 10**9
    assert sorted(os.listdir(ix)) == before  # what the failed writer wrote is gone
    assert ids(ix) == searchable
    assert Index.open(ix).add(BIG).added == len(BIG)  # and the next run just works
    assert Index.open(ix).check().documents == len(ARTICLES) + len(BIG)


def test_a_full_disk_while_sealing_the_commit(ix: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before, searchable = sorted(os.listdir(ix)), ids(ix)

    def no_space(*_: object) -> bytes:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(checksums, "seal", no_space)
    with pytest.raises(IndexAccessError, match=r"^no space left on the device"):
        Index.open(ix).add(BIG[:3])
    monkeypatch.undo()
    assert sorted(os.listdir(ix)) == before
    assert ids(ix) == searchable


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a tmpfs needs root")
def test_a_real_full_disk(tmp_path: Path) -> None:
    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount)])
    if done.returncode:
        pytest.skip("cannot mount a tmpfs here")
    try:
        ix = mount / "ix"
        Index.create(ix).add(load_documents(write_jsonl(tmp_path / "a.jsonl", ARTICLES)))
        before, searchable = sorted(os.listdir(ix)), ids(ix)
        rng = random.Random(5)
        huge = [
            Document(id=f"h{n}", body=" ".join(f"w{rng.randrange(10**6)}" for _ in range(5000)))
            for n in range(120)
        ]
        with pytest.raises(IndexAccessError, match=r"^no space left on the device"):
            Index.open(ix).add(huge)
        assert sorted(os.listdir(ix)) == before
        assert ids(ix) == searchable
        small = [Document(id="small", body="defense " * 1000)]
        assert Index.open(ix).add(small).added == 1  # space enough for a smaller run
        assert Index.open(ix).check().documents == len(ARTICLES) + 1
    finally:
        subprocess.run(["umount", "--lazy", str(mount)], check=True)


_HOLDER = textwrap.dedent(
    """
    import sys, time
    from newssearch import Document, Index
    from newssearch.engine import segments, storage

    index = Index.open(sys.argv[1])
    writer = storage.writer(index._ix, 1.0)
    docs = [Document(id=f"lost{n}", body="never committed") for n in range(50)]
    segments.write_segments(sys.argv[1], "MAIN", writer.schema, docs)
    print("holding", flush=True)
    time.sleep(60)
    """
)


def test_a_killed_writers_lock_and_files_need_no_cleaning_by_hand(ix: Path) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(ix)], stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout is not None and holder.stdout.readline() == "holding\n"
    assert {n for n in os.listdir(ix) if n.endswith(".seg")} - set(referenced(ix))  # its files
    with pytest.raises(Exception, match="locked by another writer"):
        Index.open(ix, lock_timeout=0).add([Document(id="x", body="blocked")])
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    holder.stdout.close()
    (ix / "_MAIN_2.toc.1733100000.5").write_bytes(b"half a table of contents")  # as killed
    # The OS released the lock with the process: the next writer proceeds at once, and
    # removes what the killed one left before it writes.
    assert Index.open(ix, lock_timeout=0).add([Document(id="after", body="defense")]).added == 1
    assert sorted(os.listdir(ix)) == referenced(ix)
    assert Index.open(ix).add([]).added == 0  # a writer with nothing to commit leaves nothing
    assert sorted(os.listdir(ix)) == referenced(ix)
    assert "after" in ids(ix) and not any(i.startswith("lost") for i in ids(ix, "committed"))


def test_a_lock_path_that_is_a_directory(ix: Path) -> None:
    (ix / "MAIN_WRITELOCK").unlink()
    (ix / "MAIN_WRITELOCK").mkdir()
    searchable = ids(ix)
    with pytest.raises(IndexAccessError) as caught:
        Index.open(ix).add([Document(id="x", body="alpha")])
    assert str(caught.value) == (
        f"cannot use {ix / 'MAIN_WRITELOCK'} as the index's write lock (Is a directory); "
        "it must be a file newssearch can create and write: remove what is there"
    )
    assert ids(ix) == searchable  # reading needs no lock
    (ix / "MAIN_WRITELOCK").rmdir()
    assert Index.open(ix).add([Document(id="x", body="alpha")]).added == 1
