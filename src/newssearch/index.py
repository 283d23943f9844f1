"""The on-disk index: create, open, add (insert, replace, skip unchanged), delete, optimize, stats.

Every change is one whoosh commit: readers see the previous commit until the new one is
complete, so a writer killed at any moment loses only its own uncommitted work.
"""

from __future__ import annotations

import html
import os
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from whoosh.index import LockError

from newssearch.changes import IdTable, IndexReport, MergeReport, Tally, fingerprints
from newssearch.documents import Document, Rejected
from newssearch.engine import merging, schema, segments, storage
from newssearch.engine.postings_cache import CACHE_BYTES, PostingsCache
from newssearch.engine.stats import IndexStats, read_stats
from newssearch.errors import (
    IndexLockedError,
    IndexNotFoundError,
    NewssearchError,
)

if TYPE_CHECKING:  # the query side is imported by the first query (indexing does without it)
    from newssearch.engine import verify
    from newssearch.engine.execute import Executor
    from newssearch.expand import Expansion
    from newssearch.results import Hit, SearchResults

DEFAULT_LOCK_TIMEOUT = 10.0


class Index:
    """A newssearch index in a directory; made by `Index.create` or `Index.open`."""

    def __init__(
        self,
        path: Path,
        ix: Any,
        lock_timeout: float,
        replacement: Any = None,
        cache_bytes: int = CACHE_BYTES,
    ) -> None:
        if isinstance(cache_bytes, bool) or not isinstance(cache_bytes, int) or cache_bytes < 0:
            raise NewssearchError(f"cache_bytes must be a whole number >= 0, not {cache_bytes!r}")
        self.path = path
        self._ix = ix
        self._lock_timeout = lock_timeout
        # A schema that the next add() commits in place of the whole index (create(overwrite=True)).
        self._replacement = replacement
        self._searcher: Any = None
        self._executor: Executor | None = None
        self._postings = PostingsCache(cache_bytes)

    @classmethod
    def create(
        cls,
        path: str | os.PathLike[str],
        language: str = "english",
        *,
        overwrite: bool = False,
        lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
        keyword_fields: Sequence[str] = (),
    ) -> Index:
        """Returns a new, empty index at `path` that stems in `language`.

        With `overwrite=True` an existing index stays searchable, unchanged, until the first
        `add` commits; that commit replaces all of it at once. Each of `keyword_fields`
        (`"places"`, or `"place=places"`) adds a keyword field, searched as `place:usa`, that
        holds the values of each record's `places` (see the README). With `overwrite=True`, an
        index that cannot be opened (damaged, or of another format) is emptied at once instead.
        """
        directory = Path(path)
        try:
            new_schema = schema.make_schema(language, keyword_fields)
        except ValueError as e:
            raise NewssearchError(str(e)) from None
        with storage.translated(directory):
            _refuse_a_file(directory)
            if storage.exists(directory):
                if not overwrite:
                    raise NewssearchError(
                        f"an index already exists at {directory}; open it, or rebuild it "
                        "(`newssearch index --rebuild`, `Index.create(..., overwrite=True)`)"
                    )
                try:
                    current = storage.NewsStorage(directory).open_index()
                except NewssearchError:
                    current = storage.empty_in_place(directory, new_schema, lock_timeout)
                return cls(directory, current, lock_timeout, new_schema)
            directory.mkdir(parents=True, exist_ok=True)
            created = storage.NewsStorage(directory).create_index(new_schema)
        return cls(directory, created, lock_timeout)

    @classmethod
    def open(
        cls,
        path: str | os.PathLike[str],
        *,
        lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
        cache_bytes: int = CACHE_BYTES,
    ) -> Index:
        """Returns the index at `path`; raises IndexNotFoundError, IncompatibleIndexError or
        IndexCorruptError (which say how to rebuild it). Queries keep up to `cache_bytes` of
        decoded posting lists for the next ones (see the README's limits)."""
        directory = Path(path)
        with storage.translated(directory):
            _refuse_a_file(directory)
            if not storage.exists(directory):
                build = f"`newssearch index --index {directory}`"
                raise IndexNotFoundError(f"no index at {directory}; build one with {build}")
            ix = storage.NewsStorage(directory).open_index()
            storage.refuse_foreign(directory, ix.schema)
        return cls(directory, ix, lock_timeout, cache_bytes=cache_bytes)

    @property
    def language(self) -> str:
        """Returns the language the index stems words in."""
        with storage.translated(self.path):
            found = schema.analyzer_of(self._replacement or self._ix.schema)
        assert found is not None
        return found.language

    @property
    def keyword_fields(self) -> dict[str, str]:
        """Returns the extra keyword fields, each field name -> the record key it reads."""
        found = schema.analyzer_of(self._replacement or self._ix.schema)
        assert found is not None
        return dict(found.keyword_fields)

    def add(
        self,
        items: Iterable[Document | Rejected],
        *,
        strict: bool = False,
        progress: Callable[[int], None] | None = None,
    ) -> IndexReport:
        """Returns what was done after adding new ids, replacing changed ones and skipping the rest.

        Items are Documents or Rejected records (as `load_documents` yields them); everything is
        committed at once at the end. With `strict=True` the first Rejected raises DocumentError
        and nothing is committed. A document whose id occurs twice in one run is rejected.
        """
        started = time.perf_counter()
        replacing = self._replacement is not None
        tally = Tally()
        with self._writing() as writer:
            if replacing:
                writer.schema = self._replacement
            known = IdTable() if replacing else fingerprints(self._ix)
            changed = tally.changed(items, known, writer, strict, progress)
            new = segments.write_segments(
                str(self.path), self._ix.indexname, writer.schema, changed
            )
            if replacing:
                self._commit(writer, new)
                self._replacement = None
            elif new:
                self._commit(writer, [*writer.segments, *new])
            else:
                storage.abandon(writer)  # whoosh's cancel leaves the new segment's files
        return IndexReport(
            tally.added,
            tally.updated,
            tally.unchanged,
            tuple(tally.rejected),
            time.perf_counter() - started,
            tuple(tally.warnings),
        )

    def delete(self, ids: Sequence[str]) -> list[str]:
        """Returns the ids that were deleted (the others were not in the index)."""
        with self._writing() as writer:
            deleted = [
                doc_id for doc_id in dict.fromkeys(ids) if writer.delete_by_term("id", doc_id)
            ]
            if deleted:
                self._commit(writer, writer.segments)
            else:
                storage.abandon(writer)  # whoosh's cancel leaves the new segment's files
        return deleted

    def optimize(self) -> MergeReport:
        """Returns what was merged: every segment of the index rewritten as one, without its
        deleted documents, in one commit (nothing is written if it is one segment already)."""
        started = time.perf_counter()
        with self._writing() as writer:
            before = list(writer.segments)
            final = self._merged(writer, before, True)
            if final != before:
                writer.commit(mergetype=lambda _writer, _old: final)
            else:
                storage.abandon(writer)
        return MergeReport(
            len(before),
            len(final),
            sum(segment.doc_count() for segment in final),
            time.perf_counter() - started,
        )

    def search(
        self,
        query: str,
        limit: int = 10,
        offset: int = 0,
        date_from: str | None = None,
        date_to: str | None = None,
        sort: str = "relevance",
        match: str = "all",
        snippets: bool = True,
        expand: bool | Expansion = False,
        facets: Sequence[str] = (),
        recency: str | None = None,
        now: datetime | None = None,
    ) -> SearchResults:
        """Returns the hits for `query`, ranked, and the `facets` asked for (`tag`, `source`,
        `date`, `date:month`...) over every match (see `newssearch.search.run`); `expand=True`
        re-ranks them by pseudo-relevance feedback (see `newssearch.expand`)."""
        from newssearch import search

        with self._translated():
            return search.run(
                self._current_executor(),
                query,
                limit=limit,
                offset=offset,
                date_from=date_from,
                date_to=date_to,
                sort=sort,
                match=match,
                snippets=snippets,
                expand=expand,
                facets=facets,
                recency=recency,
                now=now,
            )

    def iter_hits(
        self,
        query: str,
        offset: int = 0,
        limit: int | None = None,
        date_from: str | None = None,
        date_to: str | None = None,
        sort: str = "relevance",
        match: str = "all",
        snippets: bool = True,
        expand: bool | Expansion = False,
        recency: str | None = None,
        now: datetime | None = None,
    ) -> Iterator[Hit]:
        """Yields every hit for `query` (from `offset`, at most `limit`) in the order of
        `search`, a page at a time (see `newssearch.search.stream`), all from the commit that
        was current at the call: the iterator holds its own searcher until it is exhausted."""
        from newssearch import search
        from newssearch.engine.execute import Executor

        with self._translated():
            executor = Executor(self._ix.searcher(), self._postings)
            try:
                hits = search.stream(
                    executor,
                    query,
                    offset=offset,
                    limit=limit,
                    date_from=date_from,
                    date_to=date_to,
                    sort=sort,
                    match=match,
                    snippets=snippets,
                    expand=expand,
                    recency=recency,
                    now=now,
                )
            except BaseException:
                executor.searcher.close()
                raise
        return self._closing(hits, executor.searcher)

    def _closing(self, hits: Iterator[Hit], searcher: Any) -> Iterator[Hit]:
        """Yields `hits` within the error boundary of a read, then closes `searcher` (also when
        the caller stops early)."""
        try:
            with self._translated():
                yield from hits
        finally:
            searcher.close()

    def get(self, doc_id: str) -> Document:
        """Returns the stored Document `doc_id`; raises DocumentNotFoundError if there is none."""
        from newssearch import articles

        with self._translated():
            return articles.get(self._current_executor(), doc_id)

    def similar(
        self,
        doc_id: str,
        limit: int = 10,
        offset: int = 0,
        date_from: str | None = None,
        date_to: str | None = None,
        snippets: bool = True,
    ) -> SearchResults:
        """Returns the articles most like `doc_id`, ranked, itself excluded (see
        `newssearch.similar`); raises DocumentNotFoundError for an unknown id."""
        from newssearch import similar

        with self._translated():
            return similar.run(
                self._current_executor(),
                doc_id,
                limit=limit,
                offset=offset,
                date_from=date_from,
                date_to=date_to,
                snippets=snippets,
            )

    def check(self) -> verify.IndexCheck:
        """Returns what was verified of the last commit: every file against its checksum, every
        segment readable, document counts agreeing, stored fields, columns and postings
        decoding. Raises IndexCorruptError naming the path and what is wrong."""
        from newssearch.engine import verify

        with storage.translated(self.path):
            return verify.check(self._ix)

    def stats(self) -> IndexStats:
        """Returns what the index holds, read from its last commit."""
        with self._translated():
            return read_stats(
                self._current_searcher(), self.path, self.language, len(self._ix._segments())
            )

    def close(self) -> None:
        """Releases the searcher's open files."""
        if self._searcher is not None:
            searcher, self._searcher = self._searcher, None
            with storage.translated(self.path):
                searcher.close()

    def __enter__(self) -> Index:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        documents = self._current_searcher().doc_count()
        return f"Index({str(self.path)!r}, language={self.language!r}, documents={documents})"

    def _repr_html_(self) -> str:
        """Returns the path, language and document count as HTML, escaped, for notebooks."""
        documents = self._current_searcher().doc_count()
        return (
            f"<p>newssearch index <code>{html.escape(str(self.path))}</code>: "
            f"{documents:,} documents, stemmed in {html.escape(self.language)}</p>"
        )

    def _current_executor(self) -> Executor:
        from newssearch.engine.execute import Executor

        searcher = self._current_searcher()
        if self._executor is None or self._executor.searcher is not searcher:
            self._executor = Executor(searcher, self._postings)
        return self._executor

    def _current_searcher(self) -> Any:
        if self._searcher is None:
            self._searcher = self._ix.searcher()
        elif not self._searcher.up_to_date():
            # Not Searcher.refresh(): it reuses segment readers and misses new deletions.
            self._searcher.close()
            self._searcher = self._ix.searcher()
        return self._searcher

    def _translated(self) -> Any:
        """Returns the error boundary of a read: an unexpected exception is damage if the last
        commit's files no longer match their checksums, else it is raised as it is."""
        return storage.translated(self.path, verify=self._ix.storage.check_contents)

    @contextmanager
    def _writing(self) -> Iterator[Any]:
        """Yields a whoosh writer holding the lock (see `storage.writer`); on any failure,
        removes what it wrote, then lets the lock go."""
        with self._translated():
            try:
                writer = storage.writer(self._ix, self._lock_timeout)
            except LockError:
                raise IndexLockedError(
                    f"the index at {self.path} is locked by another writer "
                    f"(waited {self._lock_timeout:g} s); try again when it has finished"
                ) from None
            try:
                yield writer
            except BaseException:
                storage.abandon(writer)
                raise

    def _commit(self, writer: Any, current: list[Any]) -> None:
        """Commits `current` (the writer's segments and its new ones, in order) once the merge
        policy (`newssearch.engine.merging`) has merged what it picks."""
        final = self._merged(writer, current, False)
        writer.commit(mergetype=lambda _writer, _old: final)

    def _merged(self, writer: Any, current: list[Any], everything: bool) -> list[Any]:
        """Returns the segments to commit in place of `current`, as `merging.merge` merges
        them, once the committed files of the segments it merged are found to match their
        checksums: a merge must not carry damage into a new segment with new checksums."""
        final = merging.merge(
            str(self.path), self._ix.indexname, writer.schema, current, everything
        )
        kept = {id(segment) for segment in final}
        self._ix.storage.check_segments([s for s in current if id(s) not in kept])
        return final


def _refuse_a_file(path: Path) -> None:
    if path.exists() and not path.is_dir():
        raise IndexNotFoundError(f"{path} is a file, not an index directory")
