"""A search request's parameters, read and checked, and the links that change one of them.

The parameters are the `newssearch query` options under the same names (`q`, `limit`,
`offset`, `from`, `to`, `sort`, `match`, `expand=1`, `recency`; the API also `facets`), so a
page's address reads like the command line.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from newssearch import query
from newssearch.dates import resolve
from newssearch.errors import DateError, InvalidArgumentError, NewssearchError
from newssearch.search import SORTS

PAGE_SIZE = 10
MAX_LIMIT = 100
MATCHES = ("all", "any")
_NAMES = {"date_from": "from", "date_to": "to"}  # field -> parameter, where they differ


@dataclass(frozen=True)
class Syntax:
    """What reading a query of one index takes: its stemming language and its extra keyword
    fields (`place:`)."""

    language: str
    keyword_fields: tuple[str, ...] = ()

    def parse(self, text: str, match: str) -> query.Node:
        """Returns the query tree of `text`; raises QuerySyntaxError."""
        return query.parse(text, match, self.language, self.keyword_fields)


@dataclass(frozen=True)
class SearchForm:
    """What one search asks for; empty strings stand for "not given"."""

    q: str = ""
    offset: int = 0
    limit: int = PAGE_SIZE
    sort: str = "relevance"
    match: str = "all"
    date_from: str = ""
    date_to: str = ""
    expand: bool = False
    recency: str = ""

    @classmethod
    def read(cls, params: Mapping[str, str]) -> SearchForm:
        """Returns the form of request parameters; raises InvalidArgumentError or DateError
        naming a bad one."""
        date_from, date_to = (params.get(name, "").strip() for name in ("from", "to"))
        for name, value in (("from", date_from), ("to", date_to)):
            if value:
                try:
                    resolve(value, shorthand=True)
                except DateError as e:
                    raise DateError(f"{name}: {e}") from None
        return cls(
            q=params.get("q", ""),
            offset=_whole(params, "offset", 0, 0, None),
            limit=_whole(params, "limit", PAGE_SIZE, 1, MAX_LIMIT),
            sort=_choice(params, "sort", SORTS),
            match=_choice(params, "match", MATCHES),
            date_from=date_from,
            date_to=date_to,
            expand=_flag(params, "expand"),
            recency=params.get("recency", "").strip(),
        )

    def search_args(self) -> dict[str, Any]:
        """Returns the keyword arguments of `Index.search` for this form, the query excepted."""
        return {
            "limit": self.limit,
            "offset": self.offset,
            "date_from": self.date_from or None,
            "date_to": self.date_to or None,
            "sort": self.sort,
            "match": self.match,
            "expand": self.expand,
            "recency": self.recency or None,
        }

    def url(self, path: str = "/", **changes: Any) -> str:
        """Returns the address of this form with `changes`, leaving out default values."""
        form = dataclasses.replace(self, **changes)
        default = SearchForm()
        pairs = []
        for f in dataclasses.fields(form):
            value = getattr(form, f.name)
            if value != getattr(default, f.name):
                pairs.append(
                    (_NAMES.get(f.name, f.name), int(value) if f.name == "expand" else value)
                )
        return f"{path}?{urlencode(pairs)}" if pairs else path

    def narrowed_url(self, clause: str, syntax: Syntax) -> str:
        """Returns the address of the first page of this query narrowed by `clause`."""
        return self.url(q=narrow(self.q, clause, self.match, syntax), offset=0)


def narrow(text: str, clause: str, match: str, syntax: Syntax) -> str:
    """Returns query `text` with `AND clause` added, as the user would type it.

    `clause` is appended as is where that parses to "the old query AND clause" (as in
    `grain tag:wheat`); otherwise the old query goes in parentheses. A clause the query
    already requires is not added twice; to no query at all, the clause is the query.
    """
    if not text.strip():
        return clause
    old = syntax.parse(text, match)
    extra = syntax.parse(clause, match)
    required = old.children if isinstance(old, query.And) else (old,)
    if extra in required:
        return text
    wanted = query.And((*required, extra))
    for candidate in (f"{text} {clause}", f"{text} AND {clause}"):
        try:
            if syntax.parse(candidate, match) == wanted:
                return candidate
        except NewssearchError:
            break
    return f"({text}) AND {clause}"


def keyword_clause(field: str, value: str) -> str:
    """Returns the query clause that requires keyword `field` (tag, source, place...) to be
    `value`."""
    return str(query.Term(value, field))


def _whole(params: Mapping[str, str], name: str, default: int, low: int, high: int | None) -> int:
    raw = params.get(name, "").strip()
    if not raw:
        return default
    bounds = f"from {low} to {high}" if high is not None else f"at least {low}"
    try:
        value = int(raw)
    except ValueError:
        value = low - 1
    if value < low or (high is not None and value > high):
        raise InvalidArgumentError(f"{name} must be a whole number {bounds}, not {raw!r}")
    return value


def _flag(params: Mapping[str, str], name: str) -> bool:
    raw = params.get(name, "")
    if raw not in ("", "0", "1"):
        raise InvalidArgumentError(f"{name} must be 1 (on) or 0 (off), not {raw!r}")
    return raw == "1"


def _choice(params: Mapping[str, str], name: str, choices: tuple[str, ...]) -> str:
    value = params.get(name, "") or choices[0]
    if value not in choices:
        raise InvalidArgumentError(f"{name} must be one of {', '.join(choices)}, not {value!r}")
    return value
