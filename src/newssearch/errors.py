"""Every error newssearch raises, in one place.

    NewssearchError                 base class; the CLI prints it as one line
    ├── DocumentError               a document or input file that cannot be indexed
    ├── DateError                   a date that is not a valid partial date
    ├── QuerySyntaxError            a malformed query; carries .position and .reason
    │   └── QueryLimitError         a query past a documented limit (length, depth, slop, words)
    ├── InvalidArgumentError        a bad argument to a library call (limit, offset, sort, match)
    ├── IndexNotFoundError          no index at the given path
    ├── IncompatibleIndexError      an index made by another newssearch format version
    ├── IndexCorruptError           an index whose files are damaged, missing or untrusted
    ├── IndexLockedError            another writer holds the index lock
    ├── IndexAccessError            the index's files cannot be written or read (disk full,
    │                               no permission, a lock path that is a directory)
    └── DocumentNotFoundError       no document with the given id (`Index.get`, `similar`)

whoosh's own exceptions never leave the library: they are translated at the boundary.
"""

from __future__ import annotations


class NewssearchError(Exception):
    """Base class of every error newssearch raises on purpose."""


class DocumentError(NewssearchError):
    """A document (or the file it comes from) that cannot be indexed."""


class DateError(NewssearchError, ValueError):
    """A string that is not a partial date (`2019`, `2019-10`, `2019-10-15`, ISO timestamp)."""


class QuerySyntaxError(NewssearchError):
    """A malformed query. `position` is the 0-based character offset of the problem."""

    def __init__(self, query: str, position: int, reason: str) -> None:
        self.query = query
        self.position = position
        self.reason = reason
        super().__init__(f"{reason} (at position {position})")


class QueryLimitError(QuerySyntaxError):
    """A query past one of the limits the README lists: its length, nesting depth, a slop, or
    the number of words it reaches (prefixes expanded). `position` is where it goes past."""


class InvalidArgumentError(NewssearchError, ValueError):
    """A bad argument to a library call, such as `Index.search(..., match="bogus")`."""


class IndexNotFoundError(NewssearchError):
    """No newssearch index exists at the path."""


class IncompatibleIndexError(NewssearchError):
    """The index was written by an incompatible version of newssearch."""


class IndexCorruptError(NewssearchError):
    """The index's files are damaged (truncated, missing, checksum mismatch, undecodable) or
    hold something an index of ours never contains; the message names the path and says how
    to rebuild."""


class IndexLockedError(NewssearchError):
    """Another writer holds the index's write lock."""


class DocumentNotFoundError(NewssearchError):
    """No live document in the index has the id. `doc_id` is the id asked for."""

    def __init__(self, doc_id: str) -> None:
        self.doc_id = doc_id
        super().__init__(f"no document with id {doc_id!r} in the index")


class IndexAccessError(NewssearchError):
    """The index's files could not be written or read (no space left, no permission, a lock
    path that cannot be a lock file); the last commit is intact."""
