"""The readers: documents streamed from seed text, JSON Lines and JSON arrays, files or folders.

`load_documents(path)` yields a `Document` for every good record and a `Rejected` (with
`file:line: reason`) for every bad one, so one bad record never stops the rest. Records are
cut from their files by `newssearch.records`, which bounds their size.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import stat
import sys
import zlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from newssearch import records
from newssearch.dates import PartialDate
from newssearch.documents import Document, Rejected, shorten, shown
from newssearch.errors import DateError, DocumentError

SUFFIXES = (".txt", ".jsonl", ".jsonl.gz", ".json")
STDIN = "-"  # the path that means standard input (JSON Lines)
_STDIN_NAME = "<stdin>"
_SEED_HEADER = re.compile(r"\s*date\s+(\d{4}-\d\d-\d\d \d\d:\d\d\S*|\S+)\s?")


def load_documents(
    *paths: str | os.PathLike[str],
    keyword_fields: Mapping[str, str] | None = None,
    lenient_dates: bool = False,
    max_record_bytes: int = records.MAX_RECORD_BYTES,
    progress: Callable[[int], None] | None = None,
) -> Iterator[Document | Rejected]:
    """Yields the documents in files and folders (recursively), and a Rejected for each bad one.

    Reads `*.txt` (seed text: `date <DATE>` then the body; the id is the file name),
    `*.jsonl` and `*.jsonl.gz` (one JSON object a line), `*.json` (an array of such objects),
    streaming, in sorted path order; the path `-` is standard input, read as JSON Lines.
    `keyword_fields` maps an index's extra keyword fields to the record keys they are read
    from (`Index.keyword_fields`); with `lenient_dates`, a record whose date does not parse is
    kept undated, with a `warning`. A record (line, array element, seed file) longer than
    `max_record_bytes` is rejected with its size, without being held in memory. `progress`,
    if given, is called after each record of a file with the bytes of the files read so far
    (of `input_size(*paths)`; compressed bytes for `.gz`; standard input does not count).
    """
    reading = _Reading(dict(keyword_fields or {}), lenient_dates, max_record_bytes)
    done = 0
    for path in paths:
        if isinstance(path, str) and path == STDIN:
            yield from _read_json(sys.stdin.buffer, _STDIN_NAME, records.lines, reading)
            continue
        for file in _files(Path(path)):
            if isinstance(file, Rejected):
                yield file
                continue
            if file.name.endswith(".txt"):
                yield _read_seed(file, reading)
            else:
                yield from _read_file(file, reading, _after(done, progress))
            done += _size(file)
            if progress:
                progress(done)


def _after(base: int, progress: Callable[[int], None] | None) -> Callable[[int], None] | None:
    """Returns `progress` for one file: its offsets counted after the `base` bytes before it."""
    return None if progress is None else (lambda at: progress(base + at))


def input_size(*paths: str | os.PathLike[str]) -> int:
    """Returns the total size in bytes of the files `load_documents(*paths)` reads (0 for `-`)."""
    files = (f for p in paths if p != STDIN for f in _files(Path(p)))
    return sum(_size(f) for f in files if isinstance(f, Path))


def _size(path: Path) -> int:
    """Returns the file's size in bytes; 0 for one that cannot be read (it is rejected)."""
    try:
        return path.stat().st_size
    except OSError:
        return 0


@dataclass(frozen=True)
class _Reading:
    """How load_documents reads: keyword fields (name -> record key), dates, the size limit."""

    keyword_fields: dict[str, str]
    lenient_dates: bool
    limit: int


def _files(path: Path) -> Iterator[Path | Rejected]:
    """Yields the readable files at `path` (a file, or a folder walked without following
    links to folders) in sorted order, and a Rejected for each that cannot be read."""
    kind = _kind(path)
    if kind == "folder":
        found: list[tuple[Path, Rejected | None]] = []

        def unreadable(error: OSError) -> None:
            where = Path(error.filename or path)
            found.append((where, Rejected(str(where), f"cannot read: {error.strerror}")))

        for folder, _, names in os.walk(path, onerror=unreadable):
            for name in names:
                if name.endswith(SUFFIXES):
                    file = Path(folder, name)
                    problem = _kind(file)
                    found.append(
                        (file, None if problem == "file" else Rejected(str(file), problem))
                    )
        for file, rejected in sorted(found, key=lambda pair: pair[0]):
            yield rejected or file
    elif kind != "file":
        yield Rejected(str(path), kind)
    elif path.name.endswith(SUFFIXES):
        yield path
    else:
        yield Rejected(str(path), f"unsupported file type (expected {', '.join(SUFFIXES)})")


def _kind(path: Path) -> str:
    """Returns "file", "folder", or why `path` is neither (a symlink loop, a FIFO...)."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return "no such file or directory" + (" (a broken symlink)" if path.is_symlink() else "")
    except OSError as e:
        return f"cannot read: {e.strerror}"
    if stat.S_ISDIR(mode):
        return "folder"
    if stat.S_ISREG(mode):
        return "file"
    return "not a regular file (a FIFO, socket or device); not read"


def _read_seed(path: Path, reading: _Reading) -> Document | Rejected:
    origin = f"{path}:1"
    try:
        with open(path, "rb") as stream:
            raw = records.whole(stream, reading.limit)
    except OSError as e:
        return Rejected(origin, f"cannot read: {e.strerror}")
    if raw.problem:
        return Rejected(origin, raw.problem)
    try:
        text = raw.data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        return Rejected(
            origin, f"not UTF-8 text (byte 0x{e.object[e.start]:02x} at offset {e.start})"
        )
    header = _SEED_HEADER.match(text)
    if header is None:
        return Rejected(origin, "expected the text to start with 'date <DATE>'")
    try:
        date, warning = _date(header.group(1), reading.lenient_dates)
        return Document(
            id=path.name[: -len(".txt")],
            body=text[header.end() :].strip(),
            date=date,
            origin=origin,
            warning=warning,
        )
    except (DocumentError, DateError) as e:
        return Rejected(origin, shorten(str(e)))


def _read_file(
    path: Path, reading: _Reading, progress: Callable[[int], None] | None = None
) -> Iterator[Document | Rejected]:
    """Yields the file's records; `progress` gets the bytes of the file read (compressed)."""
    cut = records.array_elements if path.name.endswith(".json") else records.lines
    try:
        file = open(path, "rb")  # noqa: SIM115
    except OSError as e:
        yield Rejected(str(path), f"cannot read: {e.strerror}")
        return
    stream = gzip.GzipFile(fileobj=file) if path.name.endswith(".gz") else file
    with file, stream:
        for item in _read_json(stream, str(path), cut, reading):
            yield item
            if progress:
                progress(file.tell())


def _read_json(
    stream: records.Stream,
    name: str,
    cut: Callable[[records.Stream, int], Iterator[records.RawRecord]],
    reading: _Reading,
) -> Iterator[Document | Rejected]:
    try:
        for raw in cut(stream, reading.limit):
            yield _parse_record(raw, name, reading)
    except (OSError, EOFError, zlib.error) as e:
        yield Rejected(name, f"cannot read: {e}")


def _parse_record(raw: records.RawRecord, name: str, reading: _Reading) -> Document | Rejected:
    origin = f"{name}:{raw.line}"
    if raw.problem:
        return Rejected(origin, raw.problem)
    try:
        text = raw.data.decode("utf-8-sig").rstrip("\r\n")
    except UnicodeDecodeError as e:
        line, column = _position(raw, e.start)
        return Rejected(
            f"{name}:{line}", f"not UTF-8 (byte 0x{e.object[e.start]:02x} at column {column})"
        )
    nested = f"nested too deeply (more than {records.MAX_NESTING} arrays and objects)"
    if records.too_deep(raw.data):
        return Rejected(origin, nested)
    try:
        record = json.loads(text)
    except json.JSONDecodeError as e:
        line = raw.line + e.lineno - 1
        column = e.colno + (raw.column - 1 if e.lineno == 1 else 0)
        reason = f"not JSON: {e.msg.removesuffix(' at')} at column {column}"
        return Rejected(f"{name}:{line}", reason)
    except RecursionError:  # a deep stack already; too_deep lets at most MAX_NESTING through
        return Rejected(origin, nested)
    except ValueError:  # the only other one: an integer of more than 4,300 digits
        return Rejected(origin, "not JSON: a number with too many digits")
    if not isinstance(record, dict):
        return Rejected(origin, "not a JSON object")
    try:
        return _document(record, origin, reading)
    except (DocumentError, DateError) as e:
        return Rejected(origin, shorten(str(e)))


def _position(raw: records.RawRecord, offset: int) -> tuple[int, int]:
    """Returns the line and column of byte `offset` of a raw record."""
    newline = raw.data.rfind(b"\n", 0, offset)
    if newline < 0:
        return raw.line, raw.column + offset
    return raw.line + raw.data.count(b"\n", 0, offset), offset - newline


def _document(record: dict[str, Any], origin: str, reading: _Reading) -> Document:
    doc_id = record.get("id")
    if isinstance(doc_id, int) and not isinstance(doc_id, bool):
        doc_id = str(doc_id)
    if doc_id is None or (isinstance(doc_id, str) and not doc_id.strip()):
        raise DocumentError("missing id")
    if not isinstance(doc_id, str):
        raise DocumentError(f"id must be a string, not {shown(doc_id)}")
    body = next((record[k] for k in ("body", "text", "content") if record.get(k)), "")
    tags = record.get("tags", record.get("topics")) or []
    date = record.get("date")
    for name, value in (
        ("title", record.get("title")),
        ("body", body),
        ("url", record.get("url")),
        ("source", record.get("source")),
        ("date", date),
    ):
        if value is not None and not isinstance(value, str):
            raise DocumentError(f"{name} must be a string, not {type(value).__name__}")
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise DocumentError("tags must be a list of strings")
    keywords = {}
    for field_name, key in reading.keyword_fields.items():
        values = record.get(key) or []
        if isinstance(values, str):
            values = [values]
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise DocumentError(f"{key} must be a string or a list of strings")
        keywords[field_name] = tuple(values)
    parsed, warning = _date(date, reading.lenient_dates) if date else (None, "")
    return Document(
        id=doc_id,
        title=record.get("title") or "",
        body=body,
        date=parsed,
        url=record.get("url") or "",
        source=record.get("source") or "",
        tags=tuple(tags),
        origin=origin,
        keywords=keywords,
        warning=warning,
    )


def _date(text: str, lenient: bool) -> tuple[PartialDate | None, str]:
    """Returns the date `text` names, and a warning; lenient, a bad date is none, warned."""
    try:
        return PartialDate.parse(text), ""
    except DateError as e:
        if not lenient:
            raise
        return None, f"{shorten(str(e))}; indexed undated (--lenient-dates)"
