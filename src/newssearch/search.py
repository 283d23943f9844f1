"""Running a query: parse, evaluate, rank (BM25, ties by newer date then id) or sort by date, page.

`total` is exact: the evaluation sees every match, and ties are broken the same way on every
page, so pages never overlap or skip. Facets count every match (`facets.py`); recency, when
asked for, multiplies relevance by a decay on article age (`recency.py`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

import numpy as np

from newssearch import expand as expansion
from newssearch import facets as facet_counts
from newssearch import query, suggest
from newssearch import recency as decay
from newssearch.dates import DateRange, utc
from newssearch.documents import headline
from newssearch.engine import schema
from newssearch.engine.execute import Executor, Mask, Scores, Segment
from newssearch.errors import DateError, InvalidArgumentError
from newssearch.results import Hit, SearchResults
from newssearch.snippets import make_snippet, mark_text

SORTS = ("relevance", "date", "-date")
EXPORT_PAGE = 500  # hits ranked and read per step of `stream`


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
    facets: Sequence[str] = (),
    recency: str | None = None,
    now: datetime | None = None,
) -> SearchResults:
    """Returns page `offset`..`offset+limit` of the hits for `text` (or an already parsed tree),
    and the `facets` asked for.

    `date_from`/`date_to` bound the dates inclusively at their own precision (as `date:`), and
    may be relative (`now-30d`, `-30d`). With `suggestions`, a query with few hits may get a
    corrected query (`suggestion`). `expand` (True, or an `Expansion` with its own settings)
    re-ranks the matches by pseudo-relevance feedback (`newssearch.expand`); it needs
    `sort="relevance"`. `recency` is a half-life (`30d`): relevance (after any expansion)
    decays with article age. Relative dates and ages count from `now` (default: the system
    clock). `limit=0` counts: the total and the facets, no hits, nothing scored or ranked.
    `snippets=False` leaves out the snippets and the title marks.
    """
    started = time.perf_counter()
    _check_arguments(limit, offset, date_from, date_to, snippets, least_limit=0)
    if not isinstance(suggestions, bool):
        raise InvalidArgumentError(f"suggestions must be True or False, not {suggestions!r}")
    wanted = facet_counts.parse_facets(facets, executor.keyword_fields)
    ranked = _Ranked(
        executor,
        text,
        date_from,
        date_to,
        sort,
        match,
        expand,
        recency,
        now,
        scored=limit > 0,
        first=offset + limit,
    )
    total = ranked.total
    page = _page(executor, ranked.docnums, ranked.keys, offset, limit) if limit else []
    hits = tuple(ranked.hit(i, snippets) for i in page)
    suggestion = None
    if suggestions and total < suggest.GOOD_HITS:  # good hits: no cost at all
        dates = ranked.dates
        suggestion = suggest.suggest(
            executor,
            str(text),
            ranked.parsed,
            match,
            total,
            lambda fixed: _count(executor, fixed if dates is None else query.And((fixed, dates))),
        )
    found = facet_counts.count(wanted, ranked.matched) if wanted else {}
    took = (time.perf_counter() - started) * 1000
    return SearchResults(str(text), total, took, hits, suggestion, ranked.expansion, found)


def _count(executor: Executor, tree: query.Node) -> int:
    """Returns how many live documents `tree` matches."""
    return sum(int(np.count_nonzero(mask)) for _, mask, _ in executor.run(tree, scored=False))


def stream(
    executor: Executor,
    text: str | query.Node,
    *,
    offset: int = 0,
    limit: int | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
    sort: str = "relevance",
    match: str = "all",
    snippets: bool = True,
    expand: bool | expansion.Expansion = False,
    recency: str | None = None,
    now: datetime | None = None,
) -> Iterator[Hit]:
    """Returns an iterator over every hit for `text` from `offset` on (at most `limit`), in the
    order of `run`.

    The query is evaluated once, on one commit, and at once (a bad query raises here, not on
    the first hit); hits are then read a page at a time, so memory stays that of a page.
    """
    _check_arguments(1 if limit is None else limit, offset, date_from, date_to, snippets)
    ranked = _Ranked(executor, text, date_from, date_to, sort, match, expand, recency, now)
    end = ranked.docnums.size if limit is None else min(ranked.docnums.size, offset + limit)
    return _pages(ranked, offset, end, snippets)


def _pages(ranked: _Ranked, offset: int, end: int, snippets: bool) -> Iterator[Hit]:
    for first in range(offset, end, EXPORT_PAGE):
        size = min(EXPORT_PAGE, end - first)
        for i in _page(ranked.executor, ranked.docnums, ranked.keys, first, size):
            yield ranked.hit(i, snippets)


class _Ranked:
    """Every match of a query, evaluated once: docnums, sort keys and scores, and the masks."""

    def __init__(
        self,
        executor: Executor,
        text: str | query.Node,
        date_from: str | None,
        date_to: str | None,
        sort: str,
        match: str,
        expand: bool | expansion.Expansion,
        recency: str | None,
        now: datetime | None,
        scored: bool = True,
        first: int | None = None,
    ) -> None:
        """Evaluates the query; `scored=False` only finds the matches (for a count). With
        `first`, only the matches that can be among the first `first` by relevance (and their
        ties) are kept in `docnums`, `keys` and `scores`; `total` counts them all."""
        if sort not in SORTS:
            raise InvalidArgumentError(f"sort must be one of {', '.join(SORTS)}, not {sort!r}")
        if not isinstance(expand, (bool, expansion.Expansion)):
            raise InvalidArgumentError(
                f"expand must be True, False or an Expansion, not {expand!r}"
            )
        settings = expansion.Expansion() if expand is True else expand or None
        if settings is not None and sort != "relevance":
            raise InvalidArgumentError(
                f"expand re-ranks by relevance: it cannot go with sort={sort!r}"
            )
        half_life = decay.half_life(recency) if recency is not None else None
        if half_life is not None and sort != "relevance":
            raise InvalidArgumentError(
                f"recency ranks by relevance; it does not apply to sort={sort!r}"
            )
        moment = utc(now)
        self.executor = executor
        self.language = executor.language  # the searched commit's: another writer may rebuild
        # A tree comes from within (similar): its text is its printed form.
        if not isinstance(text, (str, query.Node)):
            raise InvalidArgumentError(f"a query is a str, not {type(text).__name__}")
        tree = self.parsed = (
            query.parse(text, match, self.language, executor.keyword_fields, moment)
            if isinstance(text, str)
            else text
        )
        executor.check(tree, str(text))
        self.dates: query.Dates | None = None
        if date_from or date_to:
            try:
                bounds = DateRange.between(date_from, date_to, moment, shorthand=True)
            except DateError as e:
                raise InvalidArgumentError(f"bad --from/--to date: {e}") from None
            self.dates = query.Dates(bounds, f"[{date_from or '*'} TO {date_to or '*'}]")
            tree = query.And((tree, self.dates))
        self.tree = tree
        runs = executor.run(tree, scored=scored and sort == "relevance")
        self.expansion: tuple[tuple[str, float], ...] = ()
        if (
            settings is not None and scored
        ):  # feedback from the top by relevance alone, then re-ranked
            docnums, keys, scores, _ = _matches(runs, sort, None, 0)
            top = _page(executor, docnums, keys, 0, settings.docs)
            self.expansion = expansion.feedback_words(
                executor, docnums[top].tolist(), scores[top].tolist(), settings
            )
            feedback = expansion.feedback_tree(tree, self.expansion)
            if feedback is not None:
                runs = expansion.rerank(executor, runs, feedback, settings)
        self.matched = runs
        self.docnums, self.keys, self.scores, self.total = _matches(
            runs, sort, half_life if scored else None, int(moment.timestamp()), first
        )

    def hit(self, i: int, snippets: bool) -> Hit:
        """Returns the Hit of the `i`th match."""
        return _hit(
            self.executor,
            int(self.docnums[i]),
            float(self.scores[i]),
            self.tree,
            self.language,
            snippets,
        )


def _check_arguments(
    limit: object,
    offset: object,
    date_from: object,
    date_to: object,
    snippets: object,
    least_limit: int = 1,
) -> None:
    """Raises InvalidArgumentError for an argument of `run` or `stream` of the wrong type or
    range."""
    for name, value, least in (("limit", limit, least_limit), ("offset", offset, 0)):
        if not isinstance(value, int) or isinstance(value, bool):
            raise InvalidArgumentError(f"{name} must be an int, not {type(value).__name__}")
        if value < least:
            raise InvalidArgumentError(f"{name} must be at least {least}, not {value}")
    for name, value in (("date_from", date_from), ("date_to", date_to)):
        if value is not None and not isinstance(value, str):
            raise InvalidArgumentError(f"{name} must be a date string or None, not {value!r}")
    if not isinstance(snippets, bool):
        raise InvalidArgumentError(f"snippets must be True or False, not {snippets!r}")


def _matches(
    matched: list[tuple[Segment, Mask, Scores | None]],
    sort: str,
    half_life: float | None,
    now: int,
    first: int | None = None,
) -> tuple[np.ndarray[Any, Any], list[np.ndarray[Any, Any]], np.ndarray[Any, Any], int]:
    """Returns the docnums of every match, their sort keys (most significant first), their
    scores (0 unless ranked by relevance) and how many there are. With `first`, ranked by
    relevance, only those of each segment that can be among its first `first` (and the ties of
    the last) are returned; the count is of all."""
    total = 0
    parts = []
    for segment, mask, values in matched:
        local = np.flatnonzero(mask)
        total += local.size
        # Rounded so that equal scores tie exactly whatever the order of float additions.
        scores = np.round(values[local], 9) if values is not None else local * 0.0
        starts = factors = None  # the dates: gathered for the matches kept, unless needed here
        lead = -scores
        if half_life is not None:  # relevance × decay, compared as logs
            starts = segment.starts[local]
            factors = decay.log_factors(starts, segment.ends[local], now, half_life)
            with np.errstate(divide="ignore"):
                lead = -(np.log(scores) + factors)
        if first is not None and sort == "relevance" and local.size > first:
            keep = lead <= np.partition(lead, first - 1)[first - 1] if first else lead < -np.inf
            local, scores, lead = local[keep], scores[keep], lead[keep]
            if starts is not None and factors is not None:
                starts, factors = starts[keep], factors[keep]
        parts.append(
            (
                local + segment.offset,
                scores,
                segment.starts[local] if starts is None else starts,
                lead,
                factors,
            )
        )
    none = [np.zeros(0, np.int64)]
    docnums, scores, starts, lead = (
        np.concatenate([part[n] for part in parts] or none) for n in range(4)
    )
    undated = starts == schema.UNDATED
    if sort != "relevance":
        keys = [undated, starts if sort == "date" else -starts]
        return docnums, keys, np.zeros(docnums.size), total
    if half_life is None:
        return docnums, [lead, undated, -starts], scores, total
    # The undated (factor 0) after the dated, by relevance.
    decays = np.exp(np.concatenate([part[4] for part in parts if part[4] is not None] or none))
    return docnums, [lead, undated, -scores, -starts], scores * decays, total


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
    chosen = _leading(np.arange(docnums.size), keys, offset + limit)
    order = chosen[np.lexsort([key[chosen] for key in keys[::-1]])]
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


def _leading(
    chosen: np.ndarray[Any, Any], keys: list[np.ndarray[Any, Any]], count: int
) -> np.ndarray[Any, Any]:
    """Returns the positions among `chosen` of the first `count` in the order of `keys` (most
    significant first), and of every other tied with the last of them on all keys, unordered:
    a partition per key, so a page of a million matches sorts only its own few."""
    if chosen.size <= count or not keys:
        return chosen
    values = keys[0][chosen]
    kth = np.partition(values, count - 1)[count - 1]
    before = chosen[values < kth]
    return np.concatenate((before, _leading(chosen[values == kth], keys[1:], count - before.size)))


def _by_id(executor: Executor, docnums: np.ndarray[Any, Any], run: list[int]) -> list[int]:
    if len(run) == 1:
        return run
    return sorted(run, key=lambda i: executor.doc_id(int(docnums[i])))


def _hit(
    executor: Executor, docnum: int, score: float, tree: query.Node, language: str, snippets: bool
) -> Hit:
    stored = executor.stored_fields(docnum)
    body = stored.get("body") or ""
    meta = json.loads(stored.get("meta") or "{}")
    title = " ".join((stored.get("title") or "").split())
    generated = not title
    if generated:
        title = headline(body)
    snippet = None
    if snippets:
        # A title-only article shows its title as the snippet; a made-up title is body text.
        snippet = (
            make_snippet(body, tree, language)
            if body.strip()
            else make_snippet(title, tree, language, field="title")
        )
    return Hit(
        id=stored["id"],
        title=title,
        date=stored.get("date"),
        score=score,
        snippet=snippet,
        url=meta.get("url", ""),
        source=meta.get("source", ""),
        tags=tuple(meta.get("tags", ())),
        title_generated=generated,
        title_spans=(
            mark_text(title, tree, language, "body" if generated else "title").spans
            if snippets
            else ()
        ),
    )
