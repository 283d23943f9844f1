"""Writing whoosh segments directly, fast: the same files whoosh's own writer makes, sooner.

whoosh's writer sends every token through a chain of Token objects, then pickles every posting
into a sorting pool on disk and back. Here a batch of documents is analyzed straight to stems,
its postings are gathered in memory and written in term order through whoosh's own codec,
and batches are written by parallel processes, one segment each. Memory is bounded by the
batch, not the corpus. A segment is invisible until the index commits it.
"""

from __future__ import annotations

import multiprocessing
import os
from array import array
from collections import defaultdict
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from functools import lru_cache
from itertools import pairwise
from pickle import dumps
from typing import Any

from whoosh.codec import default_codec
from whoosh.filedb.filestore import FileStorage
from whoosh.system import pack_uint
from whoosh.util.numeric import byte_to_length, length_to_byte

from newssearch import schema
from newssearch.analysis import stemmer
from newssearch.documents import Document

BATCH_DOCUMENTS = 5_000
BATCH_BYTES = 8_000_000
WORKERS = min(2, os.cpu_count() or 1)
_UNCOMPRESSED = 2  # postings in a term below which its block is stored without zlib


def batches(documents: Iterable[Document]) -> Iterator[list[Document]]:
    """Yields lists of documents of at most BATCH_DOCUMENTS or about BATCH_BYTES of text."""
    batch: list[Document] = []
    size = 0
    for doc in documents:
        batch.append(doc)
        size += len(doc.body) + len(doc.title)
        if len(batch) >= BATCH_DOCUMENTS or size >= BATCH_BYTES:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def write_segments(
    directory: str, indexname: str, index_schema: Any, documents: Iterable[Document]
) -> list[Any]:
    """Returns the new (uncommitted) whoosh segments holding `documents`.

    The first batch is written in this process; when there is more, batches go to WORKERS
    processes, with at most two batches per worker in flight.
    """
    chunks = batches(documents)
    first = next(chunks, None)
    if first is None:
        return []
    second = next(chunks, None)
    if second is None or WORKERS < 2:
        segments = [write_segment(directory, indexname, index_schema, first)]
        if second is not None:
            segments += [
                write_segment(directory, indexname, index_schema, batch)
                for batch in (second, *chunks)
            ]
        return segments
    # spawn, not fork: forking a process that may hold threads can deadlock.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(WORKERS, mp_context=context) as pool:
        pending: list[Future[Any]] = []
        done: list[Any] = []
        for batch in (first, second, *chunks):
            if len(pending) >= 2 * WORKERS:
                done.append(pending.pop(0).result())
            pending.append(pool.submit(write_segment, directory, indexname, index_schema, batch))
        done += [future.result() for future in pending]
    return done


def write_segment(
    directory: str, indexname: str, index_schema: Any, documents: list[Document]
) -> Any:
    """Returns a new whoosh segment, written to `directory`, holding `documents` in order."""
    storage = FileStorage(directory)
    codec = default_codec()
    segment = codec.new_segment(storage, indexname)
    perdoc = codec.per_document_writer(storage, segment)
    analyzer = schema.analyzer_of(index_schema)
    assert analyzer is not None
    stems = stemmer(analyzer.language).stems
    postings: dict[str, dict[str, list[tuple[int, float, bytes]]]] = defaultdict(
        lambda: defaultdict(list)
    )
    lengths: dict[str, dict[int, int]] = defaultdict(dict)

    for docnum, doc in enumerate(documents):
        values = schema.document_fields(doc)
        perdoc.start_doc(docnum)
        # As whoosh's SegmentWriter.add_document does it, field by field in name order.
        for name in sorted(values):
            value = values[name]
            if value is None:
                continue
            field = index_schema[name]
            length = 0
            if field.indexed:
                items = (
                    _positions(stems(value)) if name in schema.TEXT_FIELDS else field.index(value)
                )
                field_postings = postings[name]
                for text, freq, weight, encoded in items:
                    if field.scorable:
                        length += freq
                    field_postings[text].append((docnum, weight, encoded))
                if length:
                    lengths[name][docnum] = byte_to_length(length_to_byte(length))
            perdoc.add_field(name, field, value if field.stored else None, length)
            if field.column_type:
                perdoc.add_column_value(name, field.column_type, field.to_column_value(value))
        perdoc.finish_doc()
    segment.set_doc_count(len(documents))
    perdoc.close()
    _write_postings(codec.field_writer(storage, segment), index_schema, postings, lengths)
    if segment.should_assemble():
        segment.create_compound_file(storage)
        segment.compound = True
    return segment


def _positions(stems: list[str]) -> Iterator[tuple[str, int, float, bytes]]:
    """Yields what whoosh's Positions format yields for these stems: (text, freq, weight, value)."""
    positions: dict[str, list[int]] = {}
    for position, stem in enumerate(stems):
        found = positions.get(stem)
        if found is None:
            positions[stem] = [position]
        else:
            found.append(position)
    single = _single_position
    for stem, found in positions.items():
        if len(found) == 1:
            yield stem, 1, 1.0, single(found[0])
        else:
            deltas = [found[0], *(b - a for a, b in pairwise(found))]
            yield stem, len(found), float(len(found)), pack_uint(len(deltas)) + dumps(deltas, 2)


@lru_cache(maxsize=65_536)
def _single_position(position: int) -> bytes:
    # Most words occur once in a field: their encoded value depends on the position alone.
    encoded: bytes = pack_uint(1) + dumps([position], 2)
    return encoded


def _write_postings(
    writer: Any,
    index_schema: Any,
    postings: dict[str, dict[Any, list[tuple[int, float, bytes]]]],
    lengths: dict[str, dict[int, int]],
) -> None:
    """Writes every field's terms in byte order, each term's postings in document order.

    Blocks are handed to whoosh's postings writer whole, as its add_posting() would have built
    them one posting at a time (whoosh-reloaded is pinned; the differential test guards this).
    """
    for name in sorted(postings):
        writer.start_field(name, index_schema[name])
        field_lengths = lengths[name]
        terms = postings[name]
        compression = writer._postwriter._compression
        for text in sorted(terms):
            writer.start_term(text.encode("utf-8") if isinstance(text, str) else text)
            block_writer = writer._postwriter
            limit = block_writer._blocklimit
            found = terms[text]
            # zlib only makes a block of a posting or two bigger, and costs time.
            block_writer._compression = 0 if len(found) <= _UNCOMPRESSED else compression
            for start in range(0, len(found), limit):
                if start:
                    block_writer._write_block()
                    block_writer._new_block()
                _fill_block(block_writer, found[start : start + limit], field_lengths)
            writer.finish_term()
        writer.finish_field()
    writer.close()


def _fill_block(
    block_writer: Any, postings: list[tuple[int, float, bytes]], field_lengths: dict[int, int]
) -> None:
    docnums = [p[0] for p in postings]
    weights = [p[1] for p in postings]
    block_writer._ids = array("I", docnums)
    block_writer._weights = array("f", weights)
    block_writer._values = [p[2] for p in postings if p[2]]
    block_writer._maxweight = max(weights)
    found = [field_lengths[d] for d in docnums if field_lengths.get(d)]
    block_writer._minlength = min(found) if found else None
    block_writer._maxlength = max(found) if found else 0
