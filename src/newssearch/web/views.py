"""What the templates show: results and articles as plain values, every link worked out.

Text from documents stays text (the templates escape it); only snippets and marked titles and
bodies, which `Snippet.render("html")` has escaped already, are passed on as markup.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from markupsafe import Markup

from newssearch.articles import Marked
from newssearch.documents import Document
from newssearch.results import SearchResults
from newssearch.web.forms import SearchForm, Syntax, keyword_clause

FACET_VALUES_SHOWN = 10  # per keyword facet on the page; the API lists them all
HISTOGRAM = (280, 80)  # width and height of the date histogram, in pixels


def results_view(form: SearchForm, results: SearchResults, syntax: Syntax) -> dict[str, Any]:
    """Returns what the search page shows of `results`: the hits, the paging links, the
    corrected query, and the facets and date histogram, each value a link that narrows the
    query to it."""
    hits = [
        {
            "rank": rank,
            "id": hit.id,
            "title": Markup(hit.marked_title.render("html")),
            "title_generated": hit.title_generated,
            "date": hit.date,
            **_keywords(form, hit.source, hit.tags, syntax),
            "snippet": Markup(hit.snippet.render("html")) if hit.snippet else "",
            "article_url": form.url(article_path(hit.id)),
        }
        for rank, hit in enumerate(results.hits, start=form.offset + 1)
    ]
    last = form.offset + len(results.hits)
    suggestion = results.suggestion
    return {
        "total": results.total,
        "took_ms": results.took_ms,
        "first": form.offset + 1 if hits else 0,
        "last": last,
        "hits": hits,
        "previous_url": form.url(offset=max(0, form.offset - form.limit)) if form.offset else None,
        "next_url": form.url(offset=last) if last < results.total else None,
        "suggestion": suggestion,
        "suggestion_url": form.url(q=suggestion, offset=0) if suggestion else None,
        "facets": [
            (
                name,
                [
                    (value, count, form.narrowed_url(keyword_clause(name, value), syntax))
                    for value, count in counts[:FACET_VALUES_SHOWN]
                ],
            )
            for name, counts in results.facets.items()
            if name != "date" and counts
        ],
        "histogram": _histogram(form, results.facets.get("date", []), syntax),
    }


def article_view(
    form: SearchForm, document: Document, marked: Marked, similar: SearchResults, syntax: Syntax
) -> dict[str, Any]:
    """Returns what the article page shows: the marked title and body, its details (the tags
    and source as links that search them), and the similar articles."""
    url = document.url if document.url.lower().startswith(("http://", "https://")) else ""
    return {
        "id": document.id,
        "title": Markup(marked.title.render("html")) if document.title.strip() else None,
        "headline": document.headline,
        "date": document.date.text if document.date else None,
        **_keywords(form, document.source, document.tags, syntax),
        "keywords": [
            (name, value, form.narrowed_url(keyword_clause(name, value), syntax))
            for name, values in sorted(document.keywords.items())
            for value in values
        ],
        "url": url,
        "body": Markup(marked.body.render("html")),
        "back_url": form.url() if form.q.strip() else None,
        "similar": [(hit.title, hit.date, article_path(hit.id)) for hit in similar.hits],
    }


def _histogram(form: SearchForm, buckets: list[tuple[str, int]], syntax: Syntax) -> dict[str, Any]:
    """Returns the bars of the date histogram, in date order: a link each, narrowing the query
    to its bucket (`date:1987-03`)."""
    width, height = HISTOGRAM
    top = max((count for _, count in buckets), default=1)
    step = width / max(len(buckets), 1)
    return {
        "width": width,
        "height": height,
        "bars": [
            {
                "bucket": bucket,
                "count": count,
                "url": form.narrowed_url(f"date:{bucket}", syntax),
                "x": round(i * step, 1),
                "width": round(max(step - 1, 1), 1),
                "height": round(max(height * count / top, 1), 1),
            }
            for i, (bucket, count) in enumerate(buckets)
        ],
    }


def article_path(doc_id: str) -> str:
    """Returns the path of the article page of `doc_id` (any characters in it escaped)."""
    return f"/article/{quote(doc_id, safe='')}"


def _keywords(
    form: SearchForm, source: str, tags: tuple[str, ...], syntax: Syntax
) -> dict[str, Any]:
    """Returns the source and the tags, each with the link that narrows the query to it."""
    return {
        "source": source,
        "source_url": form.narrowed_url(keyword_clause("source", source), syntax)
        if source
        else None,
        "tags": [(tag, form.narrowed_url(keyword_clause("tag", tag), syntax)) for tag in tags],
    }
