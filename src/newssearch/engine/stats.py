"""What a commit holds: documents, the date range, size on disk, language, terms, segments."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from newssearch.engine import schema


@dataclass(frozen=True)
class IndexStats:
    """What an index holds: `date_min`/`date_max` are dates at their own precision, or None."""

    documents: int
    date_min: str | None
    date_max: str | None
    size_bytes: int
    language: str
    distinct_terms: int
    segments: int
    path: str = field(default="")


def read_stats(searcher: Any, path: Path, language: str, segments: int) -> IndexStats:
    """Returns what the commit `searcher` reads holds; `path` is the index's directory."""
    reader = searcher.reader()
    first = last = None
    for sub, offset in searcher.leaf_searchers():
        sub_reader = sub.reader()
        if not sub_reader.doc_count_all():
            continue
        starts = sub_reader.column_reader("date_start")
        for docnum in sub_reader.all_doc_ids():
            start = starts[docnum]
            if start == schema.UNDATED:
                continue
            if first is None or start < first[0]:
                first = (start, docnum + offset)
            if last is None or start > last[0]:
                last = (start, docnum + offset)
    terms = {text for name in schema.TEXT_FIELDS for text in reader.lexicon(name)}
    size = sum(f.stat().st_size for f in path.iterdir() if f.is_file())
    return IndexStats(
        documents=searcher.doc_count(),
        date_min=searcher.stored_fields(first[1])["date"] if first else None,
        date_max=searcher.stored_fields(last[1])["date"] if last else None,
        size_bytes=size,
        language=language,
        distinct_terms=len(terms),
        segments=segments,
        path=str(path),
    )
