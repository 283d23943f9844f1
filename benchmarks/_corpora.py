"""Readers for a test collection (documents, queries, TREC judgments) and for a news corpus."""

from __future__ import annotations

import calendar
import gzip
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from random import Random


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


# The scale corpus (`scaled_articles`, scale_corpus.py): what a copy changes.
SWAP_SHARE = 0.02  # the share of words a copy replaces
SCALE_SEED = 9
ZIPF_EXPONENT = 1.2  # of the invented words' ranks: distinct words grow as swaps**(1/1.2)
MAX_RANK = 70**5
_LETTERS = re.compile(r"([^\W\d_]+)")
_SYLLABLES = [c + v for c in "bdfgklmnprstvz" for v in "aeiou"]  # 70 of them


def scaled_articles(
    path: Path, count: int, swap: float = SWAP_SHARE, seed: int = SCALE_SEED
) -> Iterator[Article]:
    """Yields `count` articles: the corpus from the start, then copies of it (`copy_text`).

    Copy 0 is the corpus as it is; copy k >= 1 gives each id the suffix `~k`, its date k years
    later and a `swap` share of its words replaced by invented ones, so `count` = 4 x the
    corpus size yields four distinct documents per article; a smaller count is a prefix.
    """
    copy = 0
    while True:
        yielded = 0
        for article in read_articles(path):
            if count <= 0:
                return
            if copy:
                article = copied_article(article, copy, swap, seed)
            yield article
            yielded += 1
            count -= 1
        if not yielded:
            return
        copy += 1


def invented_word(rank: int) -> str:
    """Returns the invented word of `rank` >= 1: three syllables or more, one word per rank."""
    number = rank + len(_SYLLABLES) ** 2  # written in base 70, a syllable a digit
    syllables = []
    while number:
        number, digit = divmod(number, len(_SYLLABLES))
        syllables.append(_SYLLABLES[digit])
    return "".join(reversed(syllables))


def copy_text(text: str, random: Random, swap: float) -> str:
    """Returns `text` with a `swap` share of its words (runs of letters) replaced by invented
    ones, drawn by Zipf's law (rank r with probability ~ r**-1.2), so that, as in a real
    archive, a few new words come back often and most are rare (Heaps' law)."""
    parts = _LETTERS.split(text)  # separator, word, separator, word, ..., separator
    words = len(parts) // 2
    swaps = int(words * swap + random.random())  # rounded up with the odds of the fraction
    for index in random.sample(range(words), min(swaps, words)):
        rank = int((1.0 - random.random()) ** (-1 / (ZIPF_EXPONENT - 1)))
        parts[2 * index + 1] = invented_word(min(rank, MAX_RANK))
    return "".join(parts)


def shifted_date(text: str | None, years: int) -> str | None:
    """Returns a date text (`1987-02-26T15:01:01`, `1987`) `years` later; 29 February becomes
    the 28th in a common year. Text that does not start with a year is returned as it is."""
    if not text or not text[:4].isdigit():
        return text
    year = int(text[:4]) + years
    rest = text[4:]
    if rest.startswith("-02-29") and not calendar.isleap(year):
        rest = "-02-28" + rest[6:]
    return f"{year:04d}{rest}"


def copy_fields(
    doc_id: str, fields: dict[str, str | None], copy: int, swap: float, seed: int
) -> dict[str, str | None]:
    """Returns copy `copy` of one record's `title`, `body` and `date`: the same random choices
    for the same (seed, copy, id), whatever order the records are read in."""
    random = Random(f"{seed}:{copy}:{doc_id}")
    return {
        "title": copy_text(fields.get("title") or "", random, swap),
        "body": copy_text(fields.get("body") or "", random, swap),
        "date": shifted_date(fields.get("date"), copy),
    }


def copied_article(article: Article, copy: int, swap: float, seed: int) -> Article:
    """Returns copy `copy` >= 1 of `article`: id `{id}~{copy}`, `copy_fields` applied."""
    fields = {"title": article.title, "body": article.body, "date": article.date}
    new = copy_fields(article.id, fields, copy, swap, seed)
    return Article(f"{article.id}~{copy}", new["title"] or "", new["body"] or "", new["date"])


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
