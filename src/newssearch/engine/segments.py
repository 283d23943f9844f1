"""Writing whoosh segments directly, fast: the same files whoosh's own writer makes, sooner.

whoosh's writer sends every token through a chain of Token objects, then pickles every posting
into a sorting pool on disk and back. Here a batch of documents is analyzed straight to stems,
its postings are gathered in memory, inverted with numpy and encoded a field at a time
(`newssearch.engine.postings`), and batches are written by parallel processes, one segment each.
Memory is bounded by the batch, not the corpus. A segment is invisible until the index
commits it.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from array import array
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

import numpy as np
from whoosh.codec import default_codec
from whoosh.util.numeric import length_to_byte

from newssearch.analysis import stemmer, words
from newssearch.documents import Document
from newssearch.engine import postings, schema
from newssearch.engine.storage import NewsStorage

BATCH_DOCUMENTS = 5_000
BATCH_BYTES = 8_000_000
WARM_DOCUMENTS = 1_000  # read before the writer processes are started (see write_segments)
WORKERS = min(2, os.cpu_count() or 1)


def batches(documents: Iterable[Document], parts: int = 1) -> Iterator[list[Document]]:
    """Yields lists of at most BATCH_DOCUMENTS documents or about BATCH_BYTES of text, in order.

    After a full batch, the end of the input is shared out for `parts` parallel writers: the
    partial rest comes as `parts` lists, together with the last full batch when that batch
    would otherwise leave one writer a batch behind the others (so, from the `parts + 1`th
    on, the newest full batch is held back until the next one fills).
    """
    done = 0  # full batches yielded
    held: list[Document] = []
    batch: list[Document] = []
    size = 0
    for doc in documents:
        batch.append(doc)
        size += _text_size(doc)
        if _full(len(batch), size):
            if held:
                yield held
                done += 1
            held = batch if parts > 1 and done >= parts else []
            if not held:
                yield batch
                done += 1
            batch, size = [], 0
    if held and done % parts:  # one writer is a batch behind: it takes the held batch whole
        yield held
        done += 1
        held = []
    rest = held + batch
    pieces = min(parts if done else 1, len(rest))
    for n in range(pieces):
        yield rest[n * len(rest) // pieces : (n + 1) * len(rest) // pieces]


def _full(documents: int, size: int) -> bool:
    return documents >= BATCH_DOCUMENTS or size >= BATCH_BYTES


def _text_size(doc: Document) -> int:
    return len(doc.title) + len(doc.body)


def write_segments(
    directory: str, indexname: str, index_schema: Any, documents: Iterable[Document]
) -> list[Any]:
    """Returns the new (uncommitted) whoosh segments holding `documents`.

    Input that fits one batch is written in this process. Otherwise batches go to WORKERS
    processes, with at most two batches per worker in flight. The processes are started once
    WARM_DOCUMENTS have been read, so that they start up while the first batch is read.
    """
    writers = _Writers()
    try:
        chunks = batches(writers.started_after(documents, WARM_DOCUMENTS), WORKERS)
        first = next(chunks, None)
        if first is None:
            return []
        if WORKERS < 2 or not _full(len(first), sum(map(_text_size, first))):
            writers.close(wait=False)  # input this small is written here, while they stop
            return [
                write_segment(directory, indexname, index_schema, batch)
                for batch in (first, *chunks)
            ]
        pending = [writers.submit(directory, indexname, index_schema, first)]
        done: list[Any] = []
        for batch in chunks:
            if len(pending) >= 2 * WORKERS:
                done.append(pending.pop(0).result())
            pending.append(writers.submit(directory, indexname, index_schema, batch))
        return done + [future.result() for future in pending]
    finally:
        writers.close()


class _Writers:
    """The WORKERS processes that write batches, started on demand, ready before they are used.

    spawn, not fork: forking a process that may hold threads can deadlock. A spawned process
    imports what it runs (this module, not the query side) and the main module again (the
    `newssearch` command's, which imports its commands only when they run).
    """

    def __init__(self) -> None:
        self._pool: ProcessPoolExecutor | None = None

    def started_after(self, documents: Iterable[Document], count: int) -> Iterator[Document]:
        """Yields `documents`, starting the processes after the first `count` (if WORKERS > 1)."""
        for n, doc in enumerate(documents, start=1):
            if n == count and WORKERS > 1:
                self._start()
            yield doc

    def _start(self) -> None:
        context = multiprocessing.get_context("spawn")
        self._pool = ProcessPoolExecutor(WORKERS, mp_context=context, initializer=_watch_parent)
        for _ in range(WORKERS):  # a pool starts a process per task submitted while none is idle
            self._pool.submit(_ready)

    def submit(
        self, directory: str, indexname: str, index_schema: Any, documents: list[Document]
    ) -> Future[Any]:
        if self._pool is None:
            self._start()
        assert self._pool is not None
        return self._pool.submit(write_segment, directory, indexname, index_schema, documents)

    def close(self, wait: bool = True) -> None:
        """Stops the processes (`wait`: until they have); batches not yet written are
        cancelled (after an error)."""
        if self._pool is not None:
            pool, self._pool = self._pool, None
            pool.shutdown(wait=wait, cancel_futures=True)


def _watch_parent() -> None:
    """Has this writer process end when the process that started it does, even killed: it
    would otherwise wait for batches forever (and hold the pipes of that process's output)."""

    def watch(parent: Any) -> None:
        parent.join()
        os._exit(1)

    threading.Thread(target=watch, args=(multiprocessing.parent_process(),), daemon=True).start()


def _ready() -> None:
    """Does nothing, in a writer process: run once in each, it has them start at once."""


def write_segment(
    directory: str, indexname: str, index_schema: Any, documents: Iterable[Document]
) -> Any:
    """Returns a new whoosh segment, written to `directory`, holding `documents` in order
    (at least one, read once, one at a time)."""
    storage, codec, segment = new_segment(directory, indexname)
    perdoc = codec.per_document_writer(storage, segment)
    analyzer = schema.analyzer_of(index_schema)
    assert analyzer is not None
    stem = stemmer(analyzer.language).stem
    keyword_names = [name for name, _ in analyzer.keyword_fields]
    text = {name: _FieldTokens(stem) for name in schema.TEXT_FIELDS}
    keywords: dict[str, dict[bytes, list[tuple[int, int]]]] = defaultdict(lambda: defaultdict(list))

    count = 0
    for docnum, doc in enumerate(documents):
        count = docnum + 1
        values = schema.document_fields(doc, keyword_names)
        lengths = {}
        for name, value in values.items():
            if value is None:
                continue
            if name in text:
                lengths[name] = text[name].add(value)
            elif index_schema[name].indexed:
                for term, freq, _weight, _encoded in index_schema[name].index(value):
                    keywords[name][term].append((docnum, freq))
        add_stored(perdoc, index_schema, docnum, values, lengths)
        for tokens in text.values():
            tokens.end_document()
    segment.set_doc_count(count)
    perdoc.close()

    writer = codec.field_writer(storage, segment)
    for name in sorted([*text, *keywords]):
        writer.start_field(name, index_schema[name])
        if name in text:
            text[name].write(writer)
        else:
            _write_keywords(writer, keywords[name])
        writer.finish_field()
    writer.close()
    return finish(storage, segment)


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
    """A batch's tokens of one text field, as term numbers, inverted all at once with numpy."""

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
        """Writes the batch's posting lists of this field (started in whoosh's `writer`)."""
        if not self.terms:
            return
        names = sorted(self.vocabulary)
        rank = np.empty(len(names), dtype=np.int32)
        rank[[self.vocabulary[n] for n in names]] = np.arange(len(names), dtype=np.int32)
        # int32, each array dropped once used: this inversion is the writer's largest memory.
        lengths = np.frombuffer(self.lengths, dtype=np.int32)
        terms = rank[np.frombuffer(self.terms, dtype=np.int32)]
        self.terms = array("i")
        order = np.argsort(terms, kind="stable")  # tokens came in document, position order
        terms = terms[order]
        docs = np.repeat(np.arange(lengths.size, dtype=np.int32), lengths)[order]
        positions = np.arange(terms.size, dtype=np.int32)
        positions -= np.repeat(np.cumsum(lengths, dtype=np.int32) - lengths, lengths)
        positions = positions[order]
        del order
        new = np.ones(terms.size, dtype=np.bool_)
        new[1:] = (terms[1:] != terms[:-1]) | (docs[1:] != docs[:-1])
        starts = np.flatnonzero(new)
        del new
        gaps = np.empty_like(positions)  # each position less the one before in its posting
        gaps[0] = positions[0]
        np.subtract(positions[1:], positions[:-1], out=gaps[1:])
        gaps[starts] = positions[starts]
        del positions
        length_bytes = np.array([length_to_byte(n) for n in self.lengths], dtype=np.int32)
        count = np.diff(np.append(starts, terms.size)).astype(np.int32)
        terms, docs = terms[starts], docs[starts]  # one a posting now
        del starts
        postings.write_field(
            writer,
            [name.encode("utf-8") for name in names],
            terms,
            docs,
            count,
            length_bytes[docs],
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
