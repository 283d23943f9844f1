"""Facets: how many matching articles carry each tag and source (and value of the index's extra
keyword fields), and fall in each date bucket.

Counted over every match, not a page, from the per-segment match masks the executor computes:
a keyword field's (document, value) pairs, read from its posting lists once per segment, are
counted within the mask by one `bincount`; date buckets come from the date columns. Values
are the indexed (folded) forms, so each one can be searched again as `tag:VALUE`; they are
listed by count, largest first, then by value.

Date buckets are UTC years, months or days. Unless a precision is given (`date:month`), it is
the finest of day, month and year at which the dated matches span at most MAX_BUCKETS buckets.
An article goes in the bucket of that precision that holds its whole date; an article dated
more coarsely than that (`2019` in a month histogram) is counted in the bucket of its own
precision (`2019`), listed before the finer buckets that start with it. Undated articles are in
no bucket. Buckets are listed in date order, empty ones left out.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from newssearch.engine import schema
from newssearch.engine.execute import Mask, Segment
from newssearch.errors import NewssearchError

KEYWORD_FIELDS = ("tag", "source")
PRECISIONS = ("year", "month", "day")  # coarsest first: the index is the bucket's level
MAX_BUCKETS = 36
_UNITS = ("M8[Y]", "M8[M]", "M8[D]")
_LABEL_LENGTHS = (4, 7, 10)  # YYYY, YYYY-MM, YYYY-MM-DD
_DAY = 86_400
_SPAN = 1024  # more than the days of any date's interval (a year at most)
_NONE = np.zeros(0, np.int64)
NAMES = (*KEYWORD_FIELDS, "date", *(f"date:{p}" for p in PRECISIONS))

Counts = list[tuple[str, int]]


@dataclass(frozen=True)
class Facet:
    """One facet asked for: a keyword field, or `date` with a precision (None: automatic)."""

    field: str
    precision: str | None = None


def parse_facets(names: Sequence[str], keyword_fields: Sequence[str] = ()) -> tuple[Facet, ...]:
    """Returns the facets `names` ask for (`tag`, `source`, `date`, `date:month`..., and the
    index's extra `keyword_fields`, such as `place`), once each.

    Raises NewssearchError for an unknown name, or for two date facets.
    """
    if isinstance(names, str):
        raise NewssearchError(f"facets is a list of names, such as [{names!r}], not a string")
    known = (*KEYWORD_FIELDS, *keyword_fields, *NAMES[len(KEYWORD_FIELDS) :])
    found: dict[str, tuple[Facet, str]] = {}
    for name in names:
        if name not in known:
            raise NewssearchError(f"unknown facet {name!r} (known: {', '.join(known)})")
        field, _, precision = name.partition(":")
        facet = Facet(field, precision or None)
        if field in found and found[field][0] != facet:
            raise NewssearchError(f"one date facet at a time, not {found[field][1]!r} and {name!r}")
        found[field] = (facet, name)
    return tuple(facet for facet, _ in found.values())


def count(
    facets: Sequence[Facet], matched: Sequence[tuple[Segment, Mask, Any]]
) -> dict[str, Counts]:
    """Returns, per facet field, the (value, count) pairs over the matches of every segment."""
    return {
        facet.field: (
            _dates(facet.precision, matched)
            if facet.field == "date"
            else _keywords(facet.field, matched)
        )
        for facet in facets
    }


def _keywords(field: str, matched: Sequence[tuple[Segment, Mask, Any]]) -> Counts:
    totals: Counter[str] = Counter()
    for segment, mask, _ in matched:
        if not mask.any():
            continue
        values, docs, numbers = segment.keywords(field)
        counts = np.bincount(numbers[mask[docs]], minlength=len(values))
        for k in np.flatnonzero(counts).tolist():
            totals[values[k].decode("utf-8")] += int(counts[k])
    return sorted(totals.items(), key=lambda item: (-item[1], item[0]))


def _dates(precision: str | None, matched: Sequence[tuple[Segment, Mask, Any]]) -> Counts:
    starts = np.concatenate([seg.starts[mask] for seg, mask, _ in matched] or [_NONE])
    ends = np.concatenate([seg.ends[mask] for seg, mask, _ in matched] or [_NONE])
    dated = starts != schema.UNDATED
    if not dated.any():
        return []
    # Articles share few (first day, last day) pairs: the calendar work is done once per pair.
    first_days = starts[dated] // _DAY
    pairs, pair_counts = np.unique(
        first_days * _SPAN + (ends[dated] // _DAY - first_days), return_counts=True
    )
    first = (pairs // _SPAN).astype("M8[D]")
    last = first + (pairs % _SPAN).astype("m8[D]")
    level = PRECISIONS.index(precision) if precision else _automatic(first, last)
    # The finest level up to `level` whose bucket holds the whole date; a year always does.
    levels = np.zeros(first.size, dtype=np.int64)
    for finer in range(1, level + 1):
        unit = _UNITS[finer]
        levels[first.astype(unit) == last.astype(unit)] = finer
    bucket_days = np.select(
        [levels == k for k in range(len(PRECISIONS))],
        [first.astype(unit).astype("M8[D]").astype(np.int64) for unit in _UNITS],
    )
    # One integer per bucket, in date order, a coarser bucket before finer ones starting with it.
    keys, where = np.unique(bucket_days * len(PRECISIONS) + levels, return_inverse=True)
    counts = np.bincount(where, weights=pair_counts, minlength=keys.size)
    return [
        (_label(int(key) // len(PRECISIONS), int(key) % len(PRECISIONS)), int(n))
        for key, n in zip(keys.tolist(), counts.tolist(), strict=True)
    ]


def _automatic(first: npt.NDArray[Any], last: npt.NDArray[Any]) -> int:
    """Returns the finest level at which the dates span at most MAX_BUCKETS buckets."""
    low, high = first.min(), last.max()
    for level in (2, 1):
        unit = _UNITS[level]
        if int((high.astype(unit) - low.astype(unit)).astype(np.int64)) < MAX_BUCKETS:
            return level
    return 0


def _label(day: int, level: int) -> str:
    return str(np.datetime64(day, "D"))[: _LABEL_LENGTHS[level]]
