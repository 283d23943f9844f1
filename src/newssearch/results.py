"""The results of a search: `Hit` (one matching article, its marked snippet and title) and
`SearchResults` (a page of hits with the exact total, facets, suggestion and expansion), with
their JSON form (`to_dict`, what `query --json` and the web API print) and notebook views.
"""

from __future__ import annotations

import html
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from newssearch.snippets import Snippet


@dataclass(frozen=True, repr=False)
class Hit:
    """One matching document. `date` is at its own precision (`2019-10`), or None.

    `title` is the article's title, or for an untitled one its first sentence
    (`title_generated`), whitespace runs collapsed; `title_spans` are its matched words.
    """

    id: str
    title: str
    date: str | None
    score: float
    snippet: Snippet | None
    url: str = ""
    source: str = ""
    tags: tuple[str, ...] = ()
    title_generated: bool = False
    title_spans: tuple[tuple[int, int], ...] = ()

    @property
    def marked_title(self) -> Snippet:
        """Returns the title with its matched words, to render like a snippet."""
        return Snippet(self.title, self.title_spans)

    def plain(self) -> dict[str, Any]:
        """Returns the hit as plain values (what exports write): id, title, date, score, url,
        source, tags (a list), and the snippet as plain text (None without snippets)."""
        return {
            "id": self.id,
            "title": self.title,
            "date": self.date,
            "score": self.score,
            "url": self.url,
            "source": self.source,
            "tags": list(self.tags),
            "snippet": self.snippet.text if self.snippet else None,
        }

    def to_dict(self) -> dict[str, Any]:
        """Returns the hit's JSON form: `--json`'s, and the server's: `plain()`, its snippet
        text as `snippet_text`, and beside it the marks.

        `snippet` is HTML with `<mark>`; `snippet_highlights` are [start, end) offsets in
        `snippet_text`, in characters (code points); `title_highlights` likewise in `title`.
        """
        found = self.plain()
        found["snippet_text"] = found.pop("snippet")
        return {
            **found,
            "snippet": self.snippet.render("html") if self.snippet else None,
            "snippet_highlights": [list(s) for s in self.snippet.spans] if self.snippet else [],
            "title_generated": self.title_generated,
            "title_highlights": [list(s) for s in self.title_spans],
        }

    def __repr__(self) -> str:
        return (
            f"Hit(id={self.id!r}, date={self.date!r}, score={self.score:.3f}, title={self.title!r})"
        )


@dataclass(frozen=True, repr=False)
class SearchResults:
    """A page of hits; `total` counts every match, not just this page, and so do `facets`:
    per facet asked for, (value, count) pairs (see `newssearch.facets`).

    Iterating (and `len`) goes over the page's hits; `total` counts them all.
    """

    query: str
    total: int
    took_ms: float
    hits: tuple[Hit, ...]
    suggestion: str | None = None  # a corrected query (see newssearch.suggest), or None
    # With expand: the feedback words and their weights (summing to 1), best first.
    expansion: tuple[tuple[str, float], ...] = ()
    facets: dict[str, list[tuple[str, int]]] = field(default_factory=dict)

    def __iter__(self) -> Iterator[Hit]:
        return iter(self.hits)

    def __len__(self) -> int:
        return len(self.hits)

    def to_dict(self, expansion: bool = False) -> dict[str, Any]:
        """Returns the JSON form, `--json`'s and the server's: `{"query", "total", "took_ms",
        "hits": [Hit.to_dict()...]}`; with `expansion`, also the expansion's words and weights
        as [word, weight] pairs; and the facets, when some were asked for."""
        found: dict[str, Any] = {
            "query": self.query,
            "total": self.total,
            "took_ms": round(self.took_ms, 3),
            "hits": [hit.to_dict() for hit in self.hits],
        }
        if expansion:
            found["expansion"] = [list(pair) for pair in self.expansion]
        if self.facets:
            found["facets"] = self.facets
        return found

    def __repr__(self) -> str:
        return (
            f"SearchResults(query={self.query!r}, total={self.total}, "
            f"hits={len(self.hits)}, took_ms={self.took_ms:.1f})"
        )

    def _repr_html_(self) -> str:
        """Returns the page as an HTML table, everything escaped, for notebooks."""
        rows = "".join(
            f"<tr><td>{html.escape(hit.id)}</td><td>{html.escape(hit.date or '')}</td>"
            f"<td>{hit.marked_title.render('html')}</td>"
            f"<td>{hit.snippet.render('html') if hit.snippet else ''}</td></tr>"
            for hit in self.hits
        )
        return (
            f"<p>{html.escape(self.query)}: {self.total:,} hits ({self.took_ms:.1f} ms)</p>"
            "<table><tr><th>id</th><th>date</th><th>title</th><th>snippet</th></tr>"
            f"{rows}</table>"
        )
