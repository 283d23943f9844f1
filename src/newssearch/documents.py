"""Documents and the readers that stream them from seed text files and JSON Lines.

`load_documents(path)` yields a `Document` for every good record and a `Rejected` (with
`file:line: reason`) for every bad one, so one bad record never stops the rest.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from newssearch.dates import PartialDate
from newssearch.errors import DateError, DocumentError

SUFFIXES = (".txt", ".jsonl", ".jsonl.gz")
_HEADLINE_CHARS = 100
_SEED_HEADER = re.compile(r"\s*date\s+(\d{4}-\d\d-\d\d \d\d:\d\d\S*|\S+)\s?")
# A full stop ends a sentence unless it ends an initial (`U.S.`, `Z. Hasanov`) or a title.
_SENTENCE_END = re.compile(
    r"(?<!\b[A-Z])(?<!\b(?:Mr|Ms|Dr|St|Jr|Sr|Co|No|Mt))(?<!\b(?:Mrs|Inc|Ltd|Gen|Col))"
    r"[.!?](?=\s)|\n\s*\n"
)


@dataclass(frozen=True)
class Document:
    """One article; `date` is a PartialDate (`PartialDate.parse("2019-10")`) or None."""

    id: str
    body: str = ""
    title: str = ""
    date: PartialDate | None = None
    url: str = ""
    source: str = ""
    tags: tuple[str, ...] = ()
    origin: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not self.id.strip():
            raise DocumentError("missing id")
        object.__setattr__(self, "tags", tuple(self.tags))
        if not self.title.strip() and not self.body.strip():
            raise DocumentError(f"document {self.id!r} has no text (neither title nor body)")

    @property
    def headline(self) -> str:
        """Returns the title, or for an untitled article its first sentence, shortened."""
        return self.title.strip() or headline(self.body)

    def fingerprint(self) -> str:
        """Returns a hash of everything indexed: equal hashes mean an unchanged document."""
        parts = [
            self.title,
            self.body,
            self.date.text if self.date else "",
            self.url,
            self.source,
            "\x1f".join(self.tags),
        ]
        return hashlib.blake2b("\x1e".join(parts).encode(), digest_size=16).hexdigest()


@dataclass(frozen=True)
class Rejected:
    """A record that could not be read as a document, and why."""

    origin: str
    reason: str

    def __str__(self) -> str:
        return f"{self.origin}: {self.reason}"


def headline(body: str) -> str:
    """Returns the first sentence of `body`, cut at a word boundary near 100 characters with `…`."""
    text = body.strip()
    end = _SENTENCE_END.search(text)
    sentence = " ".join((text[: end.end()] if end else text).split())
    if len(sentence) <= _HEADLINE_CHARS:
        return sentence
    cut = sentence.rfind(" ", 0, _HEADLINE_CHARS)
    return sentence[: cut if cut > 0 else _HEADLINE_CHARS].rstrip(",;:") + "…"


def load_documents(*paths: str | os.PathLike[str]) -> Iterator[Document | Rejected]:
    """Yields the documents in files and folders (recursively), and a Rejected for each bad one.

    Reads `*.txt` (seed text: `date <DATE>` then the body; the id is the file name),
    `*.jsonl` and `*.jsonl.gz`, streaming, in sorted path order.
    """
    for path in paths:
        for file in _files(Path(path)):
            if isinstance(file, Rejected):
                yield file
            elif file.name.endswith(".txt"):
                yield _read_seed(file)
            else:
                yield from _read_jsonl(file)


def _files(path: Path) -> Iterator[Path | Rejected]:
    if path.is_dir():
        yield from sorted(p for p in path.rglob("*") if p.name.endswith(SUFFIXES) and p.is_file())
    elif path.is_file():
        if path.name.endswith(SUFFIXES):
            yield path
        else:
            yield Rejected(str(path), f"unsupported file type (expected {', '.join(SUFFIXES)})")
    else:
        yield Rejected(str(path), "no such file or directory")


def _read_seed(path: Path) -> Document | Rejected:
    origin = f"{path}:1"
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as e:
        return Rejected(
            origin, f"not UTF-8 text (byte 0x{e.object[e.start]:02x} at offset {e.start})"
        )
    except OSError as e:
        return Rejected(origin, f"cannot read: {e.strerror}")
    header = _SEED_HEADER.match(text)
    if header is None:
        return Rejected(origin, "expected the text to start with 'date <DATE>'")
    try:
        return Document(
            id=path.name[: -len(".txt")],
            body=text[header.end() :].strip(),
            date=PartialDate.parse(header.group(1)),
            origin=origin,
        )
    except (DocumentError, DateError) as e:
        return Rejected(origin, str(e))


def _read_jsonl(path: Path) -> Iterator[Document | Rejected]:
    try:
        stream = gzip.open(path, "rb") if path.name.endswith(".gz") else open(path, "rb")  # noqa: SIM115
        with stream:
            for number, raw in enumerate(stream, start=1):
                if raw.strip():
                    yield _parse_record(raw, f"{path}:{number}")
    except (OSError, EOFError) as e:
        yield Rejected(str(path), f"cannot read: {e}")


def _parse_record(raw: bytes, origin: str) -> Document | Rejected:
    try:
        record = json.loads(raw.decode("utf-8-sig").rstrip("\r\n"))
    except UnicodeDecodeError as e:
        return Rejected(
            origin, f"not UTF-8 (byte 0x{e.object[e.start]:02x} at column {e.start + 1})"
        )
    except json.JSONDecodeError as e:
        return Rejected(origin, f"not JSON: {e.msg} at column {e.colno}")
    if not isinstance(record, dict):
        return Rejected(origin, "not a JSON object")
    try:
        return _document(record, origin)
    except (DocumentError, DateError) as e:
        return Rejected(origin, str(e))


def _document(record: dict[str, Any], origin: str) -> Document:
    doc_id = record.get("id")
    if isinstance(doc_id, int) and not isinstance(doc_id, bool):
        doc_id = str(doc_id)
    if doc_id is None or (isinstance(doc_id, str) and not doc_id.strip()):
        raise DocumentError("missing id")
    if not isinstance(doc_id, str):
        raise DocumentError(f"id must be a string, not {doc_id!r}")
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
    return Document(
        id=doc_id,
        title=record.get("title") or "",
        body=body,
        date=PartialDate.parse(date) if date else None,
        url=record.get("url") or "",
        source=record.get("source") or "",
        tags=tuple(tags),
        origin=origin,
    )
