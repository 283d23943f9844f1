"""Readers for a test collection: documents, queries and TREC relevance judgments."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
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
