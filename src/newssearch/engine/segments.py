"""Writing whoosh segments directly, fast: the same files whoosh's own writer makes, sooner.

whoosh's writer sends every token through a chain of Token objects, then pickles every posting
into a sorting pool on disk and back. Here documents are analyzed straight to stems, their
tokens kept as term numbers (4 bytes a token), inverted with numpy a range of terms at a time
and encoded (`newssearch.engine.postings`); batches are written by parallel processes, each
adding every other batch to a segment of its own. Memory is bounded by the segment size,
not the corpus. A segment is invisible until the index commits it.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from array import array
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from itertools import chain
from typing import Any

import numpy as np
import numpy.typing as npt
from whoosh.codec import default_codec
from whoosh.util.numeric import length_to_byte

from newssearch.analysis import stemmer, words
from newssearch.documents import Document
from newssearch.engine import malloc, postings, schema, term_table
from newssearch.engine.storage import NewsStorage

BATCH_DOCUMENTS = 1_000  # sent to a writer process at a time
BATCH_BYTES = 2_000_000  # or about this much text
# A writer process finishes its segment at this many documents or about this much text. Its
# memory grows with the segment, and a query searches every segment: on Reuters 48×, segments
# of 20,000 (52) peaked at 338 MB for all processes, 12,000 (88) at 307-314 MB and 10,000
# (104) at 306 MB, against some 258 MB for Reuters once (about 11,000 per process), while
# queries took some 10% longer on the 88 than on the 52.
SEGMENT_DOCUMENTS = 12_000
SEGMENT_BYTES = 16_000_000
LOCAL_DOCUMENTS = 5_000  # input up to this many documents (or bytes) is written here, at once
LOCAL_BYTES = 8_000_000
WARM_DOCUMENTS = 1_000  # read before the writer processes are started (see write_segments)
WORKERS = min(2, os.cpu_count() or 1)
PASS_TOKENS = 1 << 18  # a field's tokens inverted at once: bounds the inversion's arrays


def batches(documents: Iterable[Document]) -> Iterator[list[Document]]:
    """Yields lists of at most BATCH_DOCUMENTS documents or about BATCH_BYTES of text, in order."""
    batch: list[Document] = []
    size = 0
    for doc in documents:
        batch.append(doc)
        size += _text_size(doc)
        if len(batch) >= BATCH_DOCUMENTS or size >= BATCH_BYTES:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def _text_size(doc: Document) -> int:
    return len(doc.title) + len(doc.body)


def write_segments(
    directory: str, indexname: str, index_schema: Any, documents: Iterable[Document]
) -> list[Any]:
    """Returns the new (uncommitted) whoosh segments holding `documents`.

    Input of at most LOCAL_DOCUMENTS (or LOCAL_BYTES) is written here, as one segment.
    Otherwise batch n goes to process n % WORKERS, at most two batches per process in flight,
    and each process adds its batches to a segment of its own, finished at SEGMENT_DOCUMENTS
    (or SEGMENT_BYTES) and at the end: no process holds documents beyond a few batches, and
    segments are large without a merge. (So a segment's documents are every WORKERS-th batch
    of the input, in order.) The processes are started once WARM_DOCUMENTS have been read, so
    that they start up while the first batches are read.
    """
    writers = _Writers()
    try:
        chunks = batches(writers.started_after(documents, WARM_DOCUMENTS))
        head: list[list[Document]] = []
        count = size = 0
        for batch in chunks:
            head.append(batch)
            count += len(batch)
            size += sum(map(_text_size, batch))
            if count > LOCAL_DOCUMENTS or size > LOCAL_BYTES:
                break
        where = (directory, indexname, index_schema)
        limits = (SEGMENT_DOCUMENTS, SEGMENT_BYTES)  # as this process has them (tests set them)
        if count <= LOCAL_DOCUMENTS and size <= LOCAL_BYTES:  # all of it: written here, at once
            writers.close(wait=False)  # while the processes stop
            return _write_here(where, head, limits)
        if WORKERS < 2:
            return _write_here(where, chain(head, chunks), limits)
        pending: deque[Future[Any]] = deque()
        done: list[Any] = []
        for n, batch in enumerate(chain(head, chunks)):
            if len(pending) >= 2 * WORKERS:
                done.append(pending.popleft().result())
            pending.append(writers.submit(n % WORKERS, where, batch, limits))
        done += [future.result() for future in pending]
        done += writers.finish()
        return [segment for segment in done if segment is not None]
    finally:
        writers.close()


def _write_here(
    where: tuple[str, str, Any], chunks: Iterable[list[Document]], limits: tuple[int, int]
) -> list[Any]:
    """Returns the segments of `chunks` written in this process, as a writer process writes
    its batches."""
    global _open
    try:
        found = [_add_batch(where, batch, limits) for batch in chunks]
        found.append(_finish_open())
    finally:
        _open = None  # after an error too: the next call starts a segment of its own
    return [segment for segment in found if segment is not None]


class _Writers:
    """The WORKERS writer processes, each a pool of one (so that batch n goes to process
    n % WORKERS, and a segment's documents are the same on every run), started on demand,
    ready before they are used.

    spawn, not fork: forking a process that may hold threads can deadlock. A spawned process
    imports what it runs (this module, not the query side) and the main module again (the
    `newssearch` command's, which imports its commands only when they run).
    """

    def __init__(self) -> None:
        self._pools: list[ProcessPoolExecutor] = []

    def started_after(self, documents: Iterable[Document], count: int) -> Iterator[Document]:
        """Yields `documents`, starting the processes after the first `count` (if WORKERS > 1)."""
        for n, doc in enumerate(documents, start=1):
            if n == count and WORKERS > 1:
                self._start()
            yield doc

    def _start(self) -> None:
        if self._pools:  # started already (by an early batch)
            return
        context = multiprocessing.get_context("spawn")
        self._pools = [
            ProcessPoolExecutor(1, mp_context=context, initializer=start_worker)
            for _ in range(WORKERS)
        ]
        for pool in self._pools:  # a pool starts its process with the first task
            pool.submit(_ready)

    def submit(
        self,
        worker: int,
        where: tuple[str, str, Any],
        documents: list[Document],
        limits: tuple[int, int],
    ) -> Future[Any]:
        """Has process `worker` add `documents` to its segment in the index `where` (directory,
        name, schema); the future is that segment once `limits` finished it, else None."""
        self._start()
        return self._pools[worker].submit(_add_batch, where, documents, limits)

    def finish(self) -> list[Any]:
        """Returns the segments the processes were still writing, finished (None for none)."""
        futures = [pool.submit(_finish_open) for pool in self._pools]
        return [future.result() for future in futures]

    def close(self, wait: bool = True) -> None:
        """Stops the processes (`wait`: until they have); batches not yet written are
        cancelled (after an error)."""
        pools, self._pools = self._pools, []
        for pool in pools:
            pool.shutdown(wait=wait, cancel_futures=True)


def start_worker() -> None:
    """Sets up a writer or merging process: its freed memory returned
    (`malloc.trim_freed_memory`), and its end when the process that started it ends, even
    killed: it would otherwise wait for work forever (and hold the pipes of that process's
    output)."""
    malloc.trim_freed_memory()

    def watch(parent: Any) -> None:
        parent.join()
        os._exit(1)

    threading.Thread(target=watch, args=(multiprocessing.parent_process(),), daemon=True).start()


# In a writer process: the segment it is adding batches to.
_open: SegmentWriter | None = None


def _ready() -> None:
    """Does nothing, in a writer process: run once in each, it has them start at once."""


def _add_batch(
    where: tuple[str, str, Any], documents: list[Document], limits: tuple[int, int]
) -> Any:
    """Adds `documents` to this process's segment; returns the segment if that finished it
    (it holds `limits`' documents or characters of text), else None."""
    global _open
    if _open is None:
        _open = SegmentWriter(*where)
    _open.add(documents)
    if not _open.full(limits):
        return None
    full, _open = _open, None
    return full.finish()


def _finish_open() -> Any:
    """Returns this process's segment finished, or None if it has none."""
    global _open
    last, _open = _open, None
    return None if last is None else last.finish()


def write_segment(
    directory: str, indexname: str, index_schema: Any, documents: Iterable[Document]
) -> Any:
    """Returns a new whoosh segment, written to `directory`, holding `documents` in order
    (at least one, read once, one at a time)."""
    writer = SegmentWriter(directory, indexname, index_schema)
    writer.add(documents)
    return writer.finish()


class SegmentWriter:
    """A new segment being written: documents added in order (stored fields written at once,
    tokens kept as term numbers), then the posting lists at `finish`."""

    def __init__(self, directory: str, indexname: str, index_schema: Any) -> None:
        self._storage, self._codec, self._segment = new_segment(directory, indexname)
        self._perdoc = self._codec.per_document_writer(self._storage, self._segment)
        self._schema = index_schema
        analyzer = schema.analyzer_of(index_schema)
        assert analyzer is not None
        stem = stemmer(analyzer.language).uncached
        self._keyword_names = [name for name, _ in analyzer.keyword_fields]
        self._text = {name: _FieldTokens(stem) for name in schema.TEXT_FIELDS}
        self._keywords: dict[str, dict[bytes, list[tuple[int, int]]]] = defaultdict(
            lambda: defaultdict(list)
        )
        self.count = 0  # documents
        self.size = 0  # characters of text

    def add(self, documents: Iterable[Document]) -> None:
        """Adds `documents`, in order, after those added before."""
        for doc in documents:
            docnum = self.count
            self.count += 1
            self.size += _text_size(doc)
            values = schema.document_fields(doc, self._keyword_names)
            lengths = {}
            for name, value in values.items():
                if value is None:
                    continue
                if name in self._text:
                    lengths[name] = self._text[name].add(value)
                elif self._schema[name].indexed:
                    for term, freq, _weight, _encoded in self._schema[name].index(value):
                        self._keywords[name][term].append((docnum, freq))
            add_stored(self._perdoc, self._schema, docnum, values, lengths)
            for tokens in self._text.values():
                tokens.end_document()

    def full(self, limits: tuple[int, int]) -> bool:
        """Returns whether the segment holds (documents, characters of text) `limits` or more."""
        return self.count >= limits[0] or self.size >= limits[1]

    def finish(self) -> Any:
        """Returns the segment, its posting lists written and its files assembled."""
        self._segment.set_doc_count(self.count)
        self._perdoc.close()
        writer = term_table.field_writer(self._codec, self._storage, self._segment)
        for name in sorted([*self._text, *self._keywords]):
            writer.start_field(name, self._schema[name])
            if name in self._text:
                self._text[name].write(writer)
            else:
                _write_keywords(writer, self._keywords[name])
            writer.finish_field()
        writer.close()
        return finish(self._storage, self._segment)


def new_segment(directory: str, indexname: str) -> tuple[NewsStorage, Any, Any]:
    """Returns the storage, codec and a new (empty, uncommitted) whoosh segment to write."""
    storage = NewsStorage(directory)  # fsynced and checksummed when the index commits
    codec = default_codec()
    return storage, codec, codec.new_segment(storage, indexname)


def add_stored(
    perdoc: Any, index_schema: Any, docnum: int, values: dict[str, Any], lengths: dict[str, int]
) -> None:
    """Writes document `docnum`'s stored fields, field lengths (`lengths` by field; others 0)
    and column values with whoosh's per-document writer, as whoosh's SegmentWriter does:
    field by field in name order."""
    perdoc.start_doc(docnum)
    for name in sorted(values):
        value = values[name]
        if value is None:
            continue
        field = index_schema[name]
        perdoc.add_field(name, field, value if field.stored else None, lengths.get(name, 0))
        if field.column_type:
            perdoc.add_column_value(name, field.column_type, field.to_column_value(value))
    perdoc.finish_doc()


def finish(storage: NewsStorage, segment: Any) -> Any:
    """Returns `segment`, its files written, assembled into whoosh's compound file."""
    if segment.should_assemble():
        segment.create_compound_file(storage)
        segment.compound = True
    return segment


class _FieldTokens:
    """A segment's tokens of one text field, as term numbers, inverted with numpy."""

    def __init__(self, stem: Callable[[str], str]) -> None:
        self.vocabulary: dict[str, int] = {}  # stem -> term number
        self.terms = array("i")  # 4 bytes a token
        self.lengths = array("i")
        self._stem = stem
        self._by_word: dict[str, int] = {}  # folded word -> term number, one lookup a token
        self._pending = 0

    def add(self, text: str) -> int:
        """Adds one document's text (its words in position order); returns how many words."""
        found = words(text)
        known = len(self.terms)
        try:
            self.terms.extend(map(self._by_word.__getitem__, found))
        except KeyError:  # words this batch has not met yet: number them, then start over
            del self.terms[known:]
            stems = self.vocabulary
            for word in found:
                if word not in self._by_word:
                    self._by_word[word] = stems.setdefault(self._stem(word), len(stems))
            self.terms.extend(map(self._by_word.__getitem__, found))
        self._pending += len(found)
        return len(found)

    def end_document(self) -> None:
        self.lengths.append(self._pending)
        self._pending = 0

    def write(self, writer: Any) -> None:
        """Writes the segment's posting lists of this field (started in whoosh's `writer`), the
        tokens of about PASS_TOKENS at a time (of whole terms, in term order): the inversion's
        arrays, several per token, are bounded by that, not by the segment's size."""
        if not self.terms:
            return
        names = sorted(self.vocabulary)
        encoded = [name.encode("utf-8") for name in names]
        rank = np.empty(len(names), dtype=np.int32)
        rank[[self.vocabulary[n] for n in names]] = np.arange(len(names), dtype=np.int32)
        lengths = np.frombuffer(self.lengths, dtype=np.int32)
        terms = rank[np.frombuffer(self.terms, dtype=np.int32)]  # in document, position order
        self.terms = array("i")
        firsts = np.cumsum(lengths, dtype=np.int64) - lengths  # each document's first token
        length_bytes = np.array([length_to_byte(n) for n in self.lengths], dtype=np.int32)
        counts = np.cumsum(np.bincount(terms, minlength=len(names)))  # tokens up to each term
        low = 0
        while low < len(names):
            # The terms of this pass: at least one, then as many as fit PASS_TOKENS.
            done = counts[low - 1] if low else 0
            high = max(low + 1, int(np.searchsorted(counts, done + PASS_TOKENS, side="right")))
            at = np.flatnonzero((terms >= low) & (terms < high)).astype(np.int32)
            at = at[np.argsort(terms[at], kind="stable")]  # by term, then as they came
            self._write_pass(writer, encoded, terms[at], at, firsts, length_bytes)
            low = high

    @staticmethod
    def _write_pass(
        writer: Any,
        names: list[bytes],
        terms: npt.NDArray[np.int32],
        at: npt.NDArray[np.int32],
        firsts: npt.NDArray[np.int64],
        length_bytes: npt.NDArray[np.int32],
    ) -> None:
        """Writes the postings of the tokens at `at` (token numbers, sorted by term, then by
        position in the segment), whose term numbers are `terms`."""
        docs = (np.searchsorted(firsts, at, side="right") - 1).astype(np.int32)  # empty ones
        positions = (at - firsts[docs]).astype(np.int32)  # share a first: the last one has it
        new = np.ones(terms.size, dtype=np.bool_)
        new[1:] = (terms[1:] != terms[:-1]) | (docs[1:] != docs[:-1])
        starts = np.flatnonzero(new)
        gaps = np.empty_like(positions)  # each position less the one before in its posting
        gaps[0] = positions[0]
        np.subtract(positions[1:], positions[:-1], out=gaps[1:])
        gaps[starts] = positions[starts]
        count = np.diff(np.append(starts, terms.size)).astype(np.int32)
        postings.write_field(
            writer,
            names,
            terms[starts],
            docs[starts],
            count,
            length_bytes[docs[starts]],
            gaps,
        )


def _write_keywords(writer: Any, found: dict[bytes, list[tuple[int, int]]]) -> None:
    """Writes a keyword field's posting lists: (docnum, frequency) by term, docnums ascending."""
    names = sorted(found)
    pairs = [found[name] for name in names]
    counts = np.array([len(p) for p in pairs], dtype=np.int64)
    flat = np.array([pair for p in pairs for pair in p], dtype=np.int64).reshape(-1, 2)
    postings.write_field(
        writer,
        names,
        np.repeat(np.arange(len(names)), counts),
        flat[:, 0],
        flat[:, 1],
        None,
        None,
    )
