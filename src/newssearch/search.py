"""Running a query: parse, evaluate, rank (BM25, ties by newer date then id) or sort by date, page.

`total` is exact: the evaluation sees every match, and ties are broken the same way on every
page, so pages never overlap or skip.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from newssearch import expand as expansion
from newssearch import query, suggest
from newssearch.dates import DateRange
from newssearch.documents import headline
from newssearch.engine import schema
from newssearch.engine.execute import Executor
from newssearch.errors import DateError, NewssearchError
from newssearch.snippets import Snippet, make_snippet

SORTS = ("relevance", "date", "-date")


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
    suggestion: str | None = None  # a corrected query (see newssearch.suggest), or None
    # With expand: the feedback words and their weights (summing to 1), best first.
    expansion: tuple[tuple[str, float], ...] = ()


def run(
    executor: Executor,
    text: str | query.Node,
    *,
    limit: int = 10,
    offset: int = 0,
    date_from: str | None = None,
    date_to: str | None = None,
    sort: str = "relevance",
    match: str = "all",
    snippets: bool = True,
    suggestions: bool = True,
    expand: bool | expansion.Expansion = False,
) -> SearchResults:
    """Returns page `offset`..`offset+limit` of the hits for `text` (or an already parsed tree).

    `date_from`/`date_to` bound the dates inclusively at their own precision (as `date:`).
    With `suggestions`, a query with few hits may get a corrected query (`suggestion`).
    `expand` (True, or an `Expansion` with its own settings) re-ranks the matches by
    pseudo-relevance feedback (`newssearch.expand`); it needs `sort="relevance"`.
    """
    started = time.perf_counter()
    if sort not in SORTS:
        raise NewssearchError(f"sort must be one of {', '.join(SORTS)}, not {sort!r}")
    if limit < 1 or offset < 0:
        raise NewssearchError("limit must be at least 1 and offset at least 0")
    settings = expansion.Expansion() if expand is True else expand or None
    if settings is not None and sort != "relevance":
        raise NewssearchError(f"expand re-ranks by relevance: it cannot go with sort={sort!r}")
    language = executor.language  # the searched commit's: another writer may rebuild
    # A tree comes from within (similar): its text is its printed form.
    tree = parsed = (
        query.parse(text, match, language, executor.keyword_fields)
        if isinstance(text, str)
        else text
    )
    dates = None
    if date_from or date_to:
        try:
            bounds = DateRange.between(date_from, date_to)
        except DateError as e:
            raise NewssearchError(f"bad --from/--to date: {e}") from None
        dates = query.Dates(bounds, f"[{date_from or '*'} TO {date_to or '*'}]")
        tree = query.And((tree, dates))
    runs = executor.run(tree, scored=sort == "relevance")
    docnums, keys = _matches(runs, sort)
    found: tuple[tuple[str, float], ...] = ()
    if settings is not None:
        top = _page(executor, docnums, keys, 0, settings.docs)
        found = expansion.feedback_words(
            executor, docnums[top].tolist(), (-keys[0][top]).tolist(), settings
        )
        feedback = expansion.feedback_tree(tree, found)
        if feedback is not None:
            runs = expansion.rerank(executor, runs, feedback, settings)
            docnums, keys = _matches(runs, sort)
    page = _page(executor, docnums, keys, offset, limit)
    hits = tuple(
        _hit(
            executor.searcher,
            int(docnums[i]),
            float(-keys[0][i]) if sort == "relevance" else 0.0,
            tree,
            language,
            snippets,
        )
        for i in page
    )
    suggestion = None
    if suggestions and docnums.size < suggest.GOOD_HITS:  # good hits: no cost at all
        suggestion = suggest.suggest(
            executor,
            str(text),
            parsed,
            match,
            int(docnums.size),
            lambda fixed: _count(executor, fixed if dates is None else query.And((fixed, dates))),
        )
    took = (time.perf_counter() - started) * 1000
    return SearchResults(str(text), int(docnums.size), took, hits, suggestion, found)


def _count(executor: Executor, tree: query.Node) -> int:
    """Returns how many live documents `tree` matches."""
    return sum(int(np.count_nonzero(mask)) for _, mask, _ in executor.run(tree, scored=False))


def _matches(
    runs: expansion.Runs, sort: str
) -> tuple[np.ndarray[Any, Any], list[np.ndarray[Any, Any]]]:
    """Returns the docnums of every match and their sort keys, most significant first."""
    parts: list[tuple[Any, Any, Any]] = []
    for segment, mask, scores in runs:
        local = np.flatnonzero(mask)
        parts.append(
            (
                local + segment.offset,
                segment.starts[local],
                scores[local] if scores is not None else np.zeros(local.size),
            )
        )
    docnums = np.concatenate([p[0] for p in parts]) if parts else np.zeros(0, np.int64)
    starts = np.concatenate([p[1] for p in parts]) if parts else np.zeros(0, np.int64)
    undated = starts == schema.UNDATED
    if sort == "relevance":
        # Rounded so that equal scores tie exactly whatever the order of float additions.
        scores = np.round(np.concatenate([p[2] for p in parts]), 9) if parts else np.zeros(0)
        return docnums, [-scores, undated, -starts]
    return docnums, [undated, starts if sort == "date" else -starts]


def _page(
    executor: Executor,
    docnums: np.ndarray[Any, Any],
    keys: list[np.ndarray[Any, Any]],
    offset: int,
    limit: int,
) -> list[int]:
    """Returns the positions in `docnums` of the page, in order, ties broken by id."""
    if offset >= docnums.size:
        return []
    order = np.lexsort(keys[::-1])
    # Extend the page to everything tied with its last match: the ids decide among those.
    end = min(offset + limit, order.size)
    rest = order[end:]
    tied = np.ones(rest.size, dtype=np.bool_)
    for key in keys:
        tied &= key[rest] == key[order[end - 1]]
    head = order[: end + (rest.size if tied.all() else int(np.argmin(tied)))]
    same = np.ones(head.size - 1, dtype=np.bool_)
    for key in keys:
        same &= key[head[1:]] == key[head[:-1]]
    ranked: list[int] = []
    run = [int(head[0])]
    for i, tie in zip(head[1:].tolist(), same.tolist(), strict=True):
        if not tie:
            ranked += _by_id(executor, docnums, run)
            run = []
        run.append(i)
    ranked += _by_id(executor, docnums, run)
    return ranked[offset : offset + limit]


def _by_id(executor: Executor, docnums: np.ndarray[Any, Any], run: list[int]) -> list[int]:
    if len(run) == 1:
        return run
    return sorted(run, key=lambda i: executor.doc_id(int(docnums[i])))


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
