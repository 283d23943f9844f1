"""newssearch: full-text search for news archives.

from newssearch import Index, load_documents
index = Index.create("index/")
index.add(load_documents("seeds/"))
for hit in index.search('"cooperation plan" AND date:2019').hits:
    print(hit.id, hit.title, hit.snippet)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from newssearch.changes import IndexReport, MergeReport
    from newssearch.dates import PartialDate
    from newssearch.documents import Document, Rejected
    from newssearch.engine.stats import IndexStats
    from newssearch.errors import (
        DateError,
        DocumentError,
        DocumentNotFoundError,
        IncompatibleIndexError,
        IndexAccessError,
        IndexCorruptError,
        IndexLockedError,
        IndexNotFoundError,
        InvalidArgumentError,
        NewssearchError,
        QueryLimitError,
        QuerySyntaxError,
    )
    from newssearch.expand import Expansion
    from newssearch.index import Index
    from newssearch.readers import load_documents

# Each public name and the module it lives in, imported on first use (PEP 562): a process that
# needs one module — a command's start-up, the writer's worker processes, which import
# `newssearch.engine.segments` — does not pay for whoosh's reading side, numpy and the query
# engine it does not use.
_HOMES = {
    "IndexReport": "changes",
    "MergeReport": "changes",
    "PartialDate": "dates",
    "Document": "documents",
    "Rejected": "documents",
    "IndexStats": "engine.stats",
    "DateError": "errors",
    "DocumentError": "errors",
    "DocumentNotFoundError": "errors",
    "IncompatibleIndexError": "errors",
    "IndexAccessError": "errors",
    "IndexCorruptError": "errors",
    "IndexLockedError": "errors",
    "IndexNotFoundError": "errors",
    "InvalidArgumentError": "errors",
    "NewssearchError": "errors",
    "QueryLimitError": "errors",
    "QuerySyntaxError": "errors",
    "Expansion": "expand",
    "Index": "index",
    "load_documents": "readers",
}

__all__ = [
    "DateError",
    "Document",
    "DocumentError",
    "DocumentNotFoundError",
    "Expansion",
    "IncompatibleIndexError",
    "Index",
    "IndexAccessError",
    "IndexCorruptError",
    "IndexLockedError",
    "IndexNotFoundError",
    "IndexReport",
    "IndexStats",
    "InvalidArgumentError",
    "MergeReport",
    "NewssearchError",
    "PartialDate",
    "QueryLimitError",
    "QuerySyntaxError",
    "Rejected",
    "load_documents",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'newssearch' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"newssearch.{home}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_HOMES])
