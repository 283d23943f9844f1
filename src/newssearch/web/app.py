"""The Starlette app: the search page (HTML, works without JavaScript) and the JSON API.

Read-only: it only ever calls `Index.search`, `Index.get` and `Index.similar`, which answer
from the index's last commit and pick up a newer one on the next request. Handlers are
`async` and run one at a time on the event loop, so the `Index` (not thread-safe) is never
used by two requests at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from newssearch import articles
from newssearch.articles import Marked, highlight
from newssearch.documents import Document
from newssearch.errors import (
    DocumentNotFoundError,
    IncompatibleIndexError,
    IndexNotFoundError,
    NewssearchError,
    QuerySyntaxError,
)
from newssearch.index import Index
from newssearch.search import SearchResults
from newssearch.web.forms import MATCHES, SearchForm, keyword_clause

SIMILAR_SHOWN = 5  # similar articles listed under an article
SORT_LABELS = {"relevance": "relevance", "-date": "newest first", "date": "oldest first"}
MATCH_LABELS = {"all": "all words", "any": "any word"}
# Nothing on the page runs a script, and nothing it shows can load one: a document that
# smuggled markup past the escaping would still be inert.
_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
# Errors of the index itself, not of the request: the server's fault, not the user's.
_INDEX_ERRORS = (IndexNotFoundError, IncompatibleIndexError)


@dataclass(frozen=True)
class _Problem:
    """A request that cannot be answered: the message, its HTTP status, and for a malformed
    query, where in it."""

    message: str
    status: int
    position: int | None = None

    @classmethod
    def of(cls, error: NewssearchError) -> _Problem:
        if isinstance(error, QuerySyntaxError):
            return cls(f"{error.reason}", 400, error.position)
        if isinstance(error, DocumentNotFoundError):
            return cls(str(error), 404)
        return cls(str(error), 500 if isinstance(error, _INDEX_ERRORS) else 400)

    def to_dict(self, error: NewssearchError) -> dict[str, Any]:
        found: dict[str, Any] = {"type": type(error).__name__, "message": self.message}
        if self.position is not None:
            found["position"] = self.position
        return {"error": found}


def create_app(index: Index, hosts: Sequence[str] = ("*",)) -> Starlette:
    """Returns the ASGI app serving `index`: `/` (the search page), `/article/ID`, the API
    (`/api/search`, `/api/article/ID`, `/api/similar/ID`) and `/static/`.

    Requests whose Host header is not among `hosts` get status 400: a server on loopback
    answers only to its own names, so a web page that rebinds its DNS name to 127.0.0.1
    cannot read the archive through the visitor's browser.
    """
    templates = Jinja2Templates(
        env=Environment(
            loader=PackageLoader("newssearch.web"), autoescape=True, undefined=StrictUndefined
        )
    )

    async def search_page(request: Request) -> Response:
        context: dict[str, Any] = {
            "sorts": SORT_LABELS,
            "matches": {m: MATCH_LABELS[m] for m in MATCHES},
            "results": None,
            "problem": None,
        }
        status = 200
        try:
            form = SearchForm.read(request.query_params)
            context["form"] = form
            if form.q.strip():
                context["results"] = _page(index, form, _search(index, form))
        except NewssearchError as e:
            context.setdefault("form", SearchForm(q=request.query_params.get("q", "")))
            problem = _Problem.of(e)
            context["problem"] = problem
            status = problem.status
        return templates.TemplateResponse(
            request, "search.html", context, status_code=status, headers=_HEADERS
        )

    async def api_search(request: Request) -> Response:
        try:
            if "q" not in request.query_params:
                raise NewssearchError("the parameter q (the query) is missing")
            results = _search(index, SearchForm.read(request.query_params))
        except NewssearchError as e:
            problem = _Problem.of(e)
            return JSONResponse(problem.to_dict(e), problem.status)
        return JSONResponse(results.to_dict())

    async def article_page(request: Request) -> Response:
        doc_id = request.path_params["doc_id"]
        context: dict[str, Any] = {
            "sorts": SORT_LABELS,
            "matches": {m: MATCH_LABELS[m] for m in MATCHES},
            "article": None,
            "problem": None,
            "form": SearchForm(q=request.query_params.get("q", "")),
        }
        status = 200
        try:
            form = context["form"] = SearchForm.read(request.query_params)
            document = index.get(doc_id)
            marked = highlight(document, form.q if form.q.strip() else None, index.language)
            similar = index.similar(doc_id, limit=SIMILAR_SHOWN, snippets=False)
            context["article"] = _article(index, form, document, marked, similar)
        except NewssearchError as e:
            problem = context["problem"] = _Problem.of(e)
            status = problem.status
        return templates.TemplateResponse(
            request, "article.html", context, status_code=status, headers=_HEADERS
        )

    async def api_article(request: Request) -> Response:
        try:
            text = request.query_params.get("q", "")
            document = index.get(request.path_params["doc_id"])
            marked = highlight(document, text if text.strip() else None, index.language)
        except NewssearchError as e:
            problem = _Problem.of(e)
            return JSONResponse(problem.to_dict(e), problem.status)
        return JSONResponse(articles.to_dict(document, marked))

    async def api_similar(request: Request) -> Response:
        doc_id = request.path_params["doc_id"]
        try:
            form = SearchForm.read(request.query_params)
            results = index.similar(
                doc_id, form.limit, form.offset, form.date_from or None, form.date_to or None
            )
        except NewssearchError as e:
            problem = _Problem.of(e)
            return JSONResponse(problem.to_dict(e), problem.status)
        return JSONResponse({"id": doc_id, **results.to_dict()})

    async def api_unknown(request: Request) -> Response:
        message = (
            f"no such API endpoint: {request.url.path} "
            "(see /api/search, /api/article/ID, /api/similar/ID)"
        )
        return JSONResponse({"error": {"type": "NotFound", "message": message}}, 404)

    return Starlette(
        middleware=[Middleware(TrustedHostMiddleware, allowed_hosts=list(hosts))],
        routes=[
            Route("/", search_page),
            Route("/article/{doc_id:path}", article_page),
            Route("/api/search", api_search),
            Route("/api/article/{doc_id:path}", api_article),
            Route("/api/similar/{doc_id:path}", api_similar),
            Route("/api/{rest:path}", api_unknown),
            Mount("/static", StaticFiles(packages=[("newssearch.web", "static")]), name="static"),
        ],
    )


def _search(index: Index, form: SearchForm) -> SearchResults:
    return index.search(form.q, **form.search_args())


def _page(index: Index, form: SearchForm, results: SearchResults) -> dict[str, Any]:
    """Returns what the template shows of `results`: the hits, with every link worked out."""
    language = index.language
    hits = [
        {
            "rank": rank,
            "id": hit.id,
            "title": hit.title,
            "date": hit.date,
            "source": hit.source,
            "source_url": form.narrowed_url(keyword_clause("source", hit.source), language)
            if hit.source
            else None,
            "tags": [
                (tag, form.narrowed_url(keyword_clause("tag", tag), language)) for tag in hit.tags
            ],
            "snippet": Markup(hit.snippet.render("html")) if hit.snippet else "",
            "article_url": form.url(f"/article/{quote(hit.id, safe='')}"),
        }
        for rank, hit in enumerate(results.hits, start=form.offset + 1)
    ]
    last = form.offset + len(results.hits)
    return {
        "total": results.total,
        "took_ms": results.took_ms,
        "first": form.offset + 1 if hits else 0,
        "last": last,
        "hits": hits,
        "previous_url": form.url(offset=max(0, form.offset - form.limit)) if form.offset else None,
        "next_url": form.url(offset=last) if last < results.total else None,
        "suggestion": results.suggestion,
        "suggestion_url": form.url(q=results.suggestion, offset=0) if results.suggestion else None,
    }


def _article(
    index: Index, form: SearchForm, document: Document, marked: Marked, similar: SearchResults
) -> dict[str, Any]:
    """Returns what the article page shows: the marked title and body, its details as links
    that search them, and the similar articles."""
    language = index.language
    url = document.url if document.url.lower().startswith(("http://", "https://")) else ""
    return {
        "id": document.id,
        "title": Markup(marked.title.render("html")) if document.title.strip() else None,
        "headline": document.headline,
        "date": document.date.text if document.date else None,
        "source": document.source,
        "source_url": form.narrowed_url(keyword_clause("source", document.source), language)
        if document.source
        else None,
        "tags": [
            (tag, form.narrowed_url(keyword_clause("tag", tag), language)) for tag in document.tags
        ],
        "url": url,
        "body": Markup(marked.body.render("html")),
        "back_url": form.url() if form.q.strip() else None,
        "similar": [
            (hit.title, hit.date, f"/article/{quote(hit.id, safe='')}") for hit in similar.hits
        ],
    }
