"""Running a query: parse, match, rank (BM25F, ties by newer date then id) or sort by date, page.

`total` is exact: every match is visited (whoosh's own count can undercount when it skips
blocks that cannot reach the top), and ties are broken the same way on every page.
"""

from __future__ import annotations

import heapq
import json
import time
from dataclasses import dataclass
from typing import Any

from newssearch import query, schema
from newssearch.dates import DateRange
from newssearch.documents import headline
from newssearch.errors import DateError, NewssearchError
from newssearch.ranking import NewsBM25F
from newssearch.snippets import Snippet, make_snippet

SORTS = ("relevance", "date", "-date")
_WEIGHTING = NewsBM25F()


@dataclass(frozen=True)
class Hit:
    """One matching document. `date` is at its own precision (`2019-10`), or None."""

    id: str
    title: str
    date: str | None
    score: float
    snippet: Snippet | None
    url: str = ""
    source: str = ""
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class SearchResults:
    """A page of hits; `total` counts every match, not just this page."""

    query: str
    total: int
    took_ms: float
    hits: tuple[Hit, ...]


def run(
    searcher: Any,
    language: str,
    text: str,
    *,
    limit: int = 10,
    offset: int = 0,
    date_from: str | None = None,
    date_to: str | None = None,
    sort: str = "relevance",
    match: str = "all",
    snippets: bool = True,
) -> SearchResults:
    """Returns page `offset`..`offset+limit` of the hits for `text`.

    `date_from`/`date_to` bound the dates inclusively at their own precision (as `date:`).
    """
    started = time.perf_counter()
    if sort not in SORTS:
        raise NewssearchError(f"sort must be one of {', '.join(SORTS)}, not {sort!r}")
    if limit < 1 or offset < 0:
        raise NewssearchError("limit must be at least 1 and offset at least 0")
    tree = query.parse(text, match, language)
    if date_from or date_to:
        try:
            bounds = DateRange.between(date_from, date_to)
        except DateError as e:
            raise NewssearchError(f"bad --from/--to date: {e}") from None
        tree = query.And((tree, query.Dates(bounds, f"[{date_from or '*'} TO {date_to or '*'}]")))
    matches, ids = _matches(searcher, query.to_whoosh(tree, language), sort == "relevance")
    page = _page(matches, ids, sort, offset, limit)
    hits = tuple(
        _hit(searcher, docnum, score, tree, language, snippets) for score, _, docnum in page
    )
    return SearchResults(text, len(matches), (time.perf_counter() - started) * 1000, hits)


def _matches(
    searcher: Any, whoosh_query: Any, scored: bool
) -> tuple[list[tuple[float, int, int]], Any]:
    """Returns (score, date start, docnum) of every match, and a docnum -> id lookup."""
    context = searcher.context(weighting=_WEIGHTING) if scored else searcher.boolean_context()
    matches: list[tuple[float, int, int]] = []
    id_columns = []
    for sub, base in searcher.leaf_searchers():
        reader = sub.reader()
        if not reader.doc_count_all():
            continue
        starts = reader.column_reader("date_start")
        id_columns.append((base, reader.doc_count_all(), reader.column_reader("id")))
        matcher = whoosh_query.matcher(sub, context)
        while matcher.is_active():
            docnum = matcher.id()
            # Rounded so that equal scores tie exactly whatever the order of float additions.
            score = round(matcher.score(), 9) if scored else 0.0
            matches.append((score, starts[docnum], base + docnum))
            matcher.next()

    def id_of(docnum: int) -> str:
        for base, count, column in id_columns:
            if base <= docnum < base + count:
                return str(column[docnum - base])
        raise KeyError(docnum)

    return matches, id_of


def _page(
    matches: list[tuple[float, int, int]], id_of: Any, sort: str, offset: int, limit: int
) -> list[tuple[float, int, int]]:
    """Returns the page of matches in order; only the top offset+limit and their ties are sorted."""

    def key(m: tuple[float, int, int]) -> tuple[Any, ...]:
        score, start, _ = m
        undated = start == schema.UNDATED
        if sort == "relevance":
            return (-score, undated, -start)
        return (undated, start if sort == "date" else -start)

    top = heapq.nsmallest(offset + limit, matches, key=key)
    if not top:
        return []
    boundary = key(top[-1])
    tied = [m for m in matches if key(m) <= boundary] if len(top) == offset + limit else top
    tied.sort(key=lambda m: (*key(m), id_of(m[2])))
    return tied[offset : offset + limit]


def _hit(
    searcher: Any, docnum: int, score: float, tree: query.Node, language: str, snippets: bool
) -> Hit:
    stored = searcher.stored_fields(docnum)
    body = stored.get("body") or ""
    meta = json.loads(stored.get("meta") or "{}")
    return Hit(
        id=stored["id"],
        title=(stored.get("title") or "").strip() or headline(body),
        date=stored.get("date"),
        score=score,
        snippet=make_snippet(body, tree, language) if snippets else None,
        url=meta.get("url", ""),
        source=meta.get("source", ""),
        tags=tuple(meta.get("tags", ())),
    )
