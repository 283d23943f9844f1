"""The index directory: commits that survive power loss, verified reads, and no leftovers.

`NewsStorage` is the whoosh FileStorage of every index newssearch opens or writes. When a
commit's table of contents is renamed into place it first gets its checksum footer
(`newssearch.engine.checksums`), the files of the commit's new segments and the table of
contents are fsynced, then the directory; the directory again after the rename (whoosh does
neither). `NewsIndex` reads a table of contents by checking its footer, then parsing it with
the allow-list unpickler (`newssearch.engine.trust`), then checking the size of every file it
names, and, in a commit of at most EAGER_CHECK_BYTES, the contents of every file. A larger
commit's contents are checked by `check`, before a merge commits, and when reading fails (as
Lucene checks only headers and lengths at open): opening then costs the same at any size.
A segment's compound file is mapped into memory and read from the mapping a piece at a time,
never copied whole (whoosh's own reader copies it). A writer, holding the lock, removes the
files no commit references (what a killed or failed writer left) before it writes and after a
failure, as Lucene's IndexFileDeleter does. The write lock is whoosh's: an fcntl lock,
released by the OS when its holder dies.
"""

from __future__ import annotations

import contextlib
import errno
import io
import mmap
import os
import shutil
import weakref
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from whoosh.filedb.filestore import FileStorage
from whoosh.filedb.structfile import StructFile
from whoosh.index import _CURRENT_TOC_VERSION, TOC, FileIndex, LockError
from whoosh.system import _FLOAT_SIZE, _INT_SIZE, _LONG_SIZE
from whoosh.util import random_name
from whoosh.util.filelock import FileLock, try_for
from whoosh.writing import SegmentWriter

from newssearch.engine import checksums, schema, trust
from newssearch.errors import (
    IncompatibleIndexError,
    IndexAccessError,
    IndexCorruptError,
    IndexLockedError,
    NewssearchError,
)

INDEXNAME = "MAIN"
_COMPOUND = ".seg"  # a segment's files in one, whoosh's compound file
# A commit whose files hold at most this many bytes has their contents checked when a process
# first reads it (about 1 ms per MB); a larger commit only has its files' sizes checked then.
EAGER_CHECK_BYTES = 64 * 1024 * 1024
# (path, size, CRC32) of every file whose contents this process has checked or written.
_CHECKED: set[tuple[str, int, int]] = set()
# The files this process's writers created, by index directory: a failed writer closes them.
_OPEN: dict[str, weakref.WeakSet[Any]] = {}
_DISK_FULL = (errno.ENOSPC, errno.EDQUOT)


def rebuild_hint(path: Path | str) -> str:
    """Returns the advice that ends every message about an unusable index."""
    return f"rebuild it with `newssearch index --rebuild --index {path} PATH...`"


def damaged(path: Path | str, reason: str) -> IndexCorruptError:
    """Returns the error for an index at `path` that is damaged as `reason` says."""
    return IndexCorruptError(f"the index at {path} is damaged: {reason}; {rebuild_hint(path)}")


def refuse_foreign(path: Path, found: Any) -> None:
    """Raises IncompatibleIndexError unless `found` is the schema this newssearch writes."""
    problem = schema.problem(found)
    if problem is not None:
        raise IncompatibleIndexError(
            f"the index at {path} is {problem}; this newssearch reads format "
            f"{schema.FORMAT_VERSION}: {rebuild_hint(path)}"
        )


def exists(path: Path) -> bool:
    """Returns whether `path` holds a commit of an index (by file names; nothing is read)."""
    return path.is_dir() and TOC._latest_generation(FileStorage(str(path)), INDEXNAME) >= 0


class _Lock(FileLock):  # type: ignore[misc]
    """whoosh's fcntl lock, with a clear error when the lock path cannot be a lock file."""

    def acquire(self, blocking: bool = False) -> bool:
        try:
            return bool(super().acquire(blocking))
        except OSError as e:
            raise IndexAccessError(
                f"cannot use {self.filename} as the index's write lock ({e.strerror}); "
                "it must be a file newssearch can create and write: remove what is there"
            ) from None


class NewsStorage(FileStorage):  # type: ignore[misc]
    """A whoosh FileStorage whose commits are checksummed and fsynced (see the module)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        # Not whoosh's own mapping of a compound file, which copies each sub-file into a BytesIO
        # as it is opened: `open_file` maps it, and its sub-files read from the mapping.
        super().__init__(str(path), supports_mmap=False)
        self.path = Path(path)

    def lock(self, name: str) -> _Lock:
        return _Lock(self._fpath(name))

    def temp_storage(self, name: str | None = None) -> NewsStorage:
        found = NewsStorage(self.path / (name or f"{random_name()}.tmp"))
        found.create()
        return found

    def create_file(self, name: str, *args: Any, **kwargs: Any) -> Any:
        created = super().create_file(name, *args, **kwargs)
        _OPEN.setdefault(str(self.path), weakref.WeakSet()).add(created)
        return created

    def open_file(self, name: str, *args: Any, **kwargs: Any) -> Any:
        if not name.endswith(_COMPOUND):
            return super().open_file(name, *args, **kwargs)
        with open(self._fpath(name), "rb") as file:  # the mapping needs no open file
            mapped = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
        return StructFile(mapped, name=name)

    def create_index(self, schema: Any, indexname: str = INDEXNAME, **_: Any) -> NewsIndex:
        TOC.create(self, schema, indexname)
        return NewsIndex(self, indexname)

    def open_index(self, indexname: str = INDEXNAME, **_: Any) -> NewsIndex:
        return NewsIndex(self, indexname)

    def rename_file(self, oldname: str, newname: str, safe: bool = False) -> None:
        if not TOC._pattern(INDEXNAME).match(newname):
            super().rename_file(oldname, newname, safe)
            return
        self._seal(oldname)
        _fsync_directory(self.path)
        super().rename_file(oldname, newname, safe)
        _fsync_directory(self.path)

    def _seal(self, tocname: str) -> None:
        """Appends the checksum footer to a new table of contents; fsyncs it and the files of
        the segments it adds."""
        with open(self.path / tocname, "r+b") as file:
            body = file.read()
            toc = _parse(body)
            previous = self._committed_table()
            table: checksums.Table = {}
            for segment in toc.segments:
                for name in segment.list_files(self):
                    if name not in previous:
                        table[name] = checksums.file_checksum(self.path / name)
                        _fsync_file(self.path / name)
                        _CHECKED.add((str(self.path / name), *table[name]))
                    else:
                        table[name] = previous[name]
            file.write(checksums.seal(body, table))
            file.flush()
            os.fsync(file.fileno())

    def _committed_table(self) -> checksums.Table:
        """Returns the checksum table of the last commit, or {} if it has none."""
        generation = TOC._latest_generation(self, INDEXNAME)
        try:
            data = (self.path / TOC._filename(INDEXNAME, generation)).read_bytes()
            return checksums.unseal("", data)[1]
        except (OSError, checksums.Damage):
            return {}

    def read_toc(self, indexname: str = INDEXNAME) -> tuple[Any, checksums.Table]:
        """Returns the last commit's table of contents (a whoosh TOC) and its checksum table,
        after checking its footer, the size of every file it names, and, if they hold at most
        EAGER_CHECK_BYTES, the contents of those this process has not checked before."""
        while True:
            generation = TOC._latest_generation(self, indexname)
            if generation < 0:
                raise damaged(self.path, "its table of contents is missing")
            name = TOC._filename(indexname, generation)
            data = b""
            try:
                data = (self.path / name).read_bytes()
                body, table = checksums.unseal(name, data)
                toc = _parse(body)
                if toc.generation != generation:
                    raise checksums.Damage(f"{name} says it is commit {toc.generation}")
                checksums.check_sizes(self.path, table)
                if sum(size for size, _ in table.values()) <= EAGER_CHECK_BYTES:
                    _check_once(self.path, table)
            except (OSError, checksums.Damage) as e:
                if TOC._latest_generation(self, indexname) != generation:
                    continue  # a writer committed meanwhile (and removed what it replaced)
                if isinstance(e, checksums.Damage):
                    if data and not data.endswith(checksums.MAGIC):
                        _refuse_unsealed(self.path, data)  # an older format, or not ours?
                    raise damaged(self.path, str(e)) from None
                raise
            for segment in toc.segments:
                if not any(n.startswith(f"{segment.segment_id()}.") for n in table):
                    raise damaged(self.path, f"segment {segment.segment_id()} has no checksums")
            return toc, table

    def check_contents(self) -> int:
        """Returns the bytes read checking every file of the last commit against its checksum;
        raises IndexCorruptError for the first that differs."""
        table = self.read_toc()[1]
        try:
            return checksums.check_contents(self.path, table)
        except checksums.Damage as e:
            raise damaged(self.path, str(e)) from None

    def check_segments(self, segments: Iterable[Any]) -> None:
        """Checks the files of the last commit's `segments` that this process has not checked
        yet against their checksums; raises IndexCorruptError for the first that differs."""
        table = self.read_toc()[1]
        prefixes = tuple(f"{segment.segment_id()}." for segment in segments)
        try:
            _check_once(self.path, {n: e for n, e in table.items() if n.startswith(prefixes)})
        except checksums.Damage as e:
            raise damaged(self.path, str(e)) from None

    def remove_unreferenced(self) -> list[str]:
        """Returns the index files it removed: those no commit references, and the writers'
        temporary folder (only a writer holding the lock calls it). Other files stay."""
        shutil.rmtree(self.path / f"{INDEXNAME}.tmp", ignore_errors=True)
        generation = TOC._latest_generation(self, INDEXNAME)
        current = TOC._filename(INDEXNAME, generation)
        try:
            referenced = set(checksums.unseal(current, (self.path / current).read_bytes())[1])
        except (OSError, checksums.Damage):
            return []  # an unreadable last commit: leave everything for `check` to report
        segment_files = TOC._segment_pattern(INDEXNAME)
        removed = []
        for name in self.list():
            ours = name.startswith(f"_{INDEXNAME}_") or segment_files.match(name)
            if not ours or name in referenced or name == current:
                continue
            try:
                os.remove(self.path / name)
                removed.append(name)
            except OSError:
                pass  # removed meanwhile, or not a file: the next writer tries again
        return removed


class NewsIndex(FileIndex):  # type: ignore[misc]
    """A whoosh FileIndex whose table of contents is read by NewsStorage.read_toc."""

    def __init__(self, storage: NewsStorage, indexname: str = INDEXNAME) -> None:
        self.storage = storage
        self._schema = None
        self.indexname = indexname
        self._read_toc()

    def _read_toc(self) -> Any:
        return self.storage.read_toc(self.indexname)[0]


def _check_once(folder: Path, table: checksums.Table) -> None:
    """Checks the contents of the files of `table` that this process has not checked yet
    (segment files never change once written): raises Damage for one that differs."""
    new = {n: entry for n, entry in table.items() if (str(folder / n), *entry) not in _CHECKED}
    checksums.check_contents(folder, new)
    _CHECKED.update((str(folder / n), *entry) for n, entry in new.items())


def _refuse_unsealed(path: Path, data: bytes) -> None:
    """Raises IncompatibleIndexError if `data`, a table of contents without a checksum
    footer, is a readable one of another format or not newssearch's; else returns."""
    try:
        found = _parse(data).schema
    except trust.RefusedPickle:
        raise
    except Exception:
        return
    refuse_foreign(path, found)


def writer(ix: NewsIndex, timeout: float) -> Any:
    """Returns a whoosh writer holding the lock, once what no commit references (what a killed
    or failed writer left) is removed; raises whoosh's LockError after `timeout` seconds."""
    lock = ix.lock("WRITELOCK")
    if not try_for(lock.acquire, timeout=timeout, delay=0.1):
        raise LockError
    try:
        ix.storage.remove_unreferenced()
        found = SegmentWriter(ix, _lk=False)
    except BaseException:
        try:
            _close_files(ix.storage.path)
            ix.storage.remove_unreferenced()  # what the writer created before it failed
        finally:
            lock.release()
        raise
    found.writelock = lock
    return found


def abandon(writer: Any) -> None:
    """Ends a whoosh writer without a commit (it failed, or had nothing to commit): closes its
    files, removes every file no commit references (what it wrote) while it still holds the
    lock, then releases the lock. (whoosh's own `cancel` leaves its new segment's files.)"""
    with contextlib.suppress(Exception):  # a full disk may refuse the last flush
        writer._close_segment()
    _close_files(writer.storage.path)
    try:
        writer.storage.remove_unreferenced()
    finally:
        try:
            writer._finish()
        except Exception:
            if writer.writelock is not None and writer.writelock.fd is not None:
                writer.writelock.release()
        writer.is_closed = True


def _close_files(path: Path) -> None:
    """Closes the files this process's writers created in the index at `path` (and its
    temporary folder), so that their space is freed now, not when they are collected."""
    folder = str(path)
    for key in [k for k in _OPEN if k == folder or k.startswith(folder + os.sep)]:
        for file in list(_OPEN.pop(key)):
            with contextlib.suppress(Exception):  # closed even when its last flush fails
                file.close()


def empty_in_place(path: Path, new_schema: Any, lock_timeout: float) -> NewsIndex:
    """Returns an empty index written, under the lock, over one that cannot be opened."""
    storage = NewsStorage(path)
    lock = storage.lock(f"{INDEXNAME}_WRITELOCK")
    if not try_for(lock.acquire, timeout=lock_timeout, delay=0.1):
        raise IndexLockedError(f"the index at {path} is locked by another writer")
    try:
        TOC.create(storage, new_schema, INDEXNAME)  # removes every table of contents first
        storage.remove_unreferenced()
    finally:
        lock.release()
    return NewsIndex(storage)


def _parse(body: bytes) -> Any:
    """Returns the whoosh TOC in `body` (as whoosh's TOC.read reads it), unpickled through
    the allow-list."""
    stream = StructFile(io.BytesIO(body))
    sizes = (stream.read_varint(), stream.read_varint(), stream.read_varint())
    if sizes != (_INT_SIZE, _LONG_SIZE, _FLOAT_SIZE) or stream.read_int() != -12345:
        raise checksums.Damage("the table of contents is not whoosh's")
    version = stream.read_int()
    release = (stream.read_varint(), stream.read_varint(), stream.read_varint())
    if version != _CURRENT_TOC_VERSION:
        raise checksums.Damage(f"the table of contents is whoosh format {version}")
    schema = trust.loads(stream.read_string())
    generation = stream.read_int()
    stream.read_int()  # unused
    segments = trust.load(stream.file)
    return TOC(schema, segments, generation, version=version, release=release)


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_directory(path: Path) -> None:
    """Makes the directory's entries (new, renamed, removed files) durable."""
    _fsync_file(path)


@contextmanager
def translated(path: Path, verify: Callable[[], object] | None = None) -> Iterator[None]:
    """Turns what using the index at `path` raises into a NewssearchError: a full disk or a
    refused permission as IndexAccessError; a file of the index missing, a pickle refused, or
    anything else as IndexCorruptError. With `verify` (a check of the last commit's files),
    an unexpected exception is damage only if `verify` finds some; otherwise it is not the
    index's doing and is raised as it is (whoosh's own exceptions never leave either way)."""
    try:
        yield
    except NewssearchError:
        raise
    except OSError as e:
        if e.errno in _DISK_FULL:
            raise IndexAccessError(
                f"no space left on the device of the index at {path}; the last commit is "
                "intact and searchable: free some space and run again"
            ) from None
        named = Path(e.filename) if isinstance(e.filename, str) else None
        if named is not None and path.resolve() not in (named.resolve(), *named.resolve().parents):
            raise  # not a file of the index (an input file, say)
        if isinstance(e, FileNotFoundError) and named is not None and named != path:
            raise damaged(path, f"{named.name} is missing") from None
        raise IndexAccessError(f"cannot use the index at {path}: {e.strerror or e}") from None
    except trust.RefusedPickle as e:
        raise damaged(path, f"{e}, so it was not loaded (nothing from it ran)") from None
    except Exception as e:  # struct.error, EOFError, UnpicklingError, zlib.error, whoosh's ...
        if verify is not None and not isinstance(e, LockError):
            verify()  # raises IndexCorruptError naming what is damaged
            raise
        raise damaged(path, f"{type(e).__name__}: {e}".rstrip(": ")) from None
