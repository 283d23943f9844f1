"""The Starlette app: the search page (HTML, works without JavaScript) and the JSON API.

Read-only: it only ever calls `Index.search`, `Index.get` and `Index.similar`, which answer
from the index's last commit and pick up a newer one on the next request. Handlers are
`async` and run one at a time on the event loop, so the `Index` (not thread-safe) is never
used by two requests at once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
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
    IndexAccessError,
    IndexCorruptError,
    IndexNotFoundError,
    InvalidArgumentError,
    NewssearchError,
    QuerySyntaxError,
)
from newssearch.index import Index
from newssearch.results import SearchResults
from newssearch.web import views
from newssearch.web.forms import MATCHES, SearchForm, Syntax

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
_INDEX_ERRORS = (IndexNotFoundError, IncompatibleIndexError, IndexCorruptError, IndexAccessError)


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

    def page(request: Request, template: str, show: Callable[[SearchForm], Any]) -> Response:
        """Returns the page `template` showing `show(form)` as `view`, or the problem instead."""
        context: dict[str, Any] = {
            "sorts": SORT_LABELS,
            "matches": {m: MATCH_LABELS[m] for m in MATCHES},
            "form": SearchForm(q=request.query_params.get("q", "")),
            "view": None,
            "problem": None,
        }
        status = 200
        try:
            form = context["form"] = SearchForm.read(request.query_params)
            context["view"] = show(form)
        except NewssearchError as e:
            problem = context["problem"] = _Problem.of(e)
            status = problem.status
        return templates.TemplateResponse(
            request, template, context, status_code=status, headers=_HEADERS
        )

    async def search_page(request: Request) -> Response:
        def show(form: SearchForm) -> dict[str, Any] | None:
            if not form.q.strip():
                return None
            facets = ("tag", "source", *index.keyword_fields, "date")
            return views.results_view(form, _search(index, form, facets), _syntax(index))

        return page(request, "search.html", show)

    async def article_page(request: Request) -> Response:
        doc_id = request.path_params["doc_id"]

        def show(form: SearchForm) -> dict[str, Any]:
            document, marked = _article(index, doc_id, form.q)
            similar = index.similar(doc_id, limit=SIMILAR_SHOWN, snippets=False)
            return views.article_view(form, document, marked, similar, _syntax(index))

        return page(request, "article.html", show)

    async def api_search(request: Request) -> Response:
        def answer(form: SearchForm) -> dict[str, Any]:
            if "q" not in request.query_params:
                raise InvalidArgumentError("the parameter q (the query) is missing")
            facets = [name for name in request.query_params.get("facets", "").split(",") if name]
            return _search(index, form, facets).to_dict(expansion=form.expand)

        return _api(request, answer)

    async def api_article(request: Request) -> Response:
        def answer(form: SearchForm) -> dict[str, Any]:
            return articles.to_dict(*_article(index, request.path_params["doc_id"], form.q))

        return _api(request, answer)

    async def api_similar(request: Request) -> Response:
        doc_id = request.path_params["doc_id"]

        def answer(form: SearchForm) -> dict[str, Any]:
            results = index.similar(
                doc_id, form.limit, form.offset, form.date_from or None, form.date_to or None
            )
            return {"id": doc_id, **results.to_dict()}

        return _api(request, answer)

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


def _api(request: Request, answer: Callable[[SearchForm], dict[str, Any]]) -> Response:
    """Returns `answer(form)` as JSON, or the problem as a JSON error with its status."""
    try:
        return JSONResponse(answer(SearchForm.read(request.query_params)))
    except NewssearchError as e:
        problem = _Problem.of(e)
        return JSONResponse(problem.to_dict(e), problem.status)


def _search(index: Index, form: SearchForm, facets: Sequence[str] = ()) -> SearchResults:
    return index.search(form.q, **form.search_args(), facets=facets)


def _article(index: Index, doc_id: str, text: str) -> tuple[Document, Marked]:
    """Returns the stored article and its title and body with the words of query `text` marked
    (nothing marked for an empty query)."""
    document = index.get(doc_id)
    syntax = _syntax(index)
    marked = highlight(
        document, text if text.strip() else None, syntax.language, syntax.keyword_fields
    )
    return document, marked


def _syntax(index: Index) -> Syntax:
    return Syntax(index.language, tuple(index.keyword_fields))
