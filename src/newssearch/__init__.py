"""newssearch: full-text search for news archives.

from newssearch import Index, load_documents
index = Index.create("index/")
index.add(load_documents("seeds/"))
for hit in index.search('"cooperation plan" AND date:2019').hits:
    print(hit.id, hit.title, hit.snippet)
"""

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
