"""Readers for a test collection (documents, queries, TREC judgments) and for a news corpus."""

from __future__ import annotations

import gzip
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path


@dataclass(frozen=True)
class Doc:
    id: str
    title: str
    body: str


@dataclass(frozen=True)
class Collection:
    """A collection directory holding `docs.jsonl`, `queries.jsonl` and `qrels.tsv`."""

    path: Path

    @property
    def docs_path(self) -> Path:
        return self.path / "docs.jsonl"

    def docs(self) -> Iterator[Doc]:
        """Yields every document; a missing title or body reads as empty."""
        with self.docs_path.open(encoding="utf-8") as lines:
            for line in lines:
                if line.strip():
                    record = json.loads(line)
                    yield Doc(
                        str(record["id"]),
                        record.get("title") or "",
                        record.get("body") or "",
                    )

    def queries(self) -> dict[str, str]:
        """Returns query text by query id."""
        with (self.path / "queries.jsonl").open(encoding="utf-8") as lines:
            records = [json.loads(line) for line in lines if line.strip()]
        return {str(r["id"]): r["text"] for r in records}

    def qrels(self) -> dict[str, set[str]]:
        """Returns the relevant doc ids by query id (judgments with relevance > 0)."""
        relevant: dict[str, set[str]] = {}
        with (self.path / "qrels.tsv").open(encoding="utf-8") as lines:
            for line in lines:
                fields = line.split()
                if len(fields) == 4 and int(fields[3]) > 0:
                    relevant.setdefault(fields[0], set()).add(fields[2])
        return relevant

    def missing_files(self) -> list[str]:
        names = ("docs.jsonl", "queries.jsonl", "qrels.tsv")
        return [name for name in names if not (self.path / name).is_file()]


# ---- a news corpus for the speed benchmarks -------------------------------------------------

NEWS_SUFFIXES = (".jsonl", ".jsonl.gz", ".txt")
_SEED_HEADER = re.compile(r"\s*date\s+(\S+)\s?")
_DATE = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?)?)?)?")


@dataclass(frozen=True)
class Article:
    """One news article; `date` is its text as given (`1987-03-02T10:01:00`, `2019-10`) or None."""

    id: str
    title: str
    body: str
    date: str | None

    @property
    def text_bytes(self) -> int:
        """Returns the UTF-8 size of title and body: what "MB of text" counts."""
        return len(self.title.encode()) + len(self.body.encode())


def read_articles(path: Path) -> Iterator[Article]:
    """Yields the articles of a JSON Lines file (`.jsonl`, `.jsonl.gz`) or of a folder.

    A folder is read recursively in sorted order: JSON Lines files and seed text files
    (`date <DATE>` then the body; the id is the file name), as `newssearch index` reads them.
    Records that are not JSON objects, or have no id or no text at all, and `.txt` files
    that do not start with `date`, are skipped.
    """
    if path.is_dir():
        for root, dirs, names in os.walk(path):
            dirs.sort()
            for name in sorted(names):
                if name.endswith(NEWS_SUFFIXES):
                    yield from _read_news_file(Path(root, name))
    else:
        yield from _read_news_file(path)


def scaled_articles(path: Path, count: int) -> Iterator[Article]:
    """Yields `count` articles: the corpus from the start, repeated with new ids if needed.

    Copy k >= 1 gives each id the suffix `~k`, so `count` = 4 x the corpus size reads it four
    times and yields four distinct documents per article; a smaller count is a prefix.
    """
    copy = 0
    while True:
        yielded = 0
        for article in read_articles(path):
            if count <= 0:
                return
            if copy:
                article = replace(article, id=f"{article.id}~{copy}")
            yield article
            yielded += 1
            count -= 1
        if not yielded:
            return
        copy += 1


def count_articles(path: Path) -> int:
    """Returns how many articles `read_articles(path)` yields."""
    return sum(1 for _ in read_articles(path))


def date_seconds(text: str | None) -> int | None:
    """Returns the start of a date (`1987`, `1987-03`, ISO timestamp) in UTC seconds, or None."""
    match = _DATE.match(text.strip()) if text else None
    if match is None:
        return None
    year, month, day, hour, minute, second = (
        int(part or default)
        for part, default in zip(match.groups(), ("0", "1", "1", "0", "0", "0"), strict=True)
    )
    try:
        moment = datetime(year, month, day, hour, minute, second, tzinfo=timezone.utc)
    except ValueError:
        return None
    return int(moment.timestamp())


def _read_news_file(path: Path) -> Iterator[Article]:
    if path.name.endswith(".txt"):
        # Seed text: `date <DATE>` then the body. Other text files (READMEs) are not articles.
        text = path.read_text(encoding="utf-8", errors="replace")
        header = _SEED_HEADER.match(text)
        body = text[header.end() :].strip() if header else ""
        if header and body:
            yield Article(path.name[: -len(".txt")], "", body, header.group(1))
        return
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as lines:
        for line in lines:
            if not line.strip():
                continue
            record = json.loads(line)
            if not isinstance(record, dict) or record.get("id") in (None, ""):
                continue
            title = record.get("title") or ""
            body = record.get("body") or record.get("text") or record.get("content") or ""
            if title.strip() or body.strip():
                yield Article(str(record["id"]), title, body, record.get("date") or None)
