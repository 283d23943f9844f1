"""An article read back from the index: the stored Document by id, its text with a query marked.

`Index.get` and `newssearch show` use it; `similar` starts from the document it finds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from newssearch import query
from newssearch.documents import Document
from newssearch.engine.execute import Executor
from newssearch.engine.schema import stored_document
from newssearch.errors import DocumentNotFoundError
from newssearch.snippets import Snippet, mark_text


@dataclass(frozen=True)
class Marked:
    """An article's title and whole body, each with the spans a query's words mark."""

    title: Snippet
    body: Snippet


def to_dict(document: Document, marked: Marked) -> dict[str, Any]:
    """Returns the article's JSON form, `newssearch show --json`'s and the server's: id, title,
    date (at its own precision), source, tags, url, body; title and body as HTML, `<mark>`ed."""
    return {
        "id": document.id,
        "title": marked.title.render("html"),
        "date": document.date.text if document.date else None,
        "source": document.source,
        "tags": list(document.tags),
        "url": document.url,
        "body": marked.body.render("html"),
    }


def docnum(executor: Executor, doc_id: str) -> int:
    """Returns the index-wide number of the live document `doc_id`; raises DocumentNotFoundError."""
    for segment, mask, _ in executor.run(query.Term(doc_id, "id"), scored=False):
        found = np.flatnonzero(mask)
        if found.size:
            return int(found[0]) + segment.offset
    raise DocumentNotFoundError(doc_id)


def get(executor: Executor, doc_id: str) -> Document:
    """Returns the stored Document `doc_id` (its date at its own precision); raises
    DocumentNotFoundError when no live document has that id."""
    return stored_document(executor.stored_fields(docnum(executor, doc_id)))


def highlight(
    document: Document, text: str | None, language: str, keyword_fields: tuple[str, ...] = ()
) -> Marked:
    """Returns the title and body of `document` with the words of the query `text` marked
    (as in snippets: stems, a phrase as one span, nothing under NOT); nothing marked for None.

    Raises QuerySyntaxError for a malformed query; `keyword_fields` are the index's extra ones.
    """
    if text is None:
        return Marked(Snippet(document.title), Snippet(document.body))
    tree = query.parse(text, "all", language, keyword_fields)
    return Marked(
        mark_text(document.title, tree, language, "title"),
        mark_text(document.body, tree, language, "body"),
    )
