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
import zlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from functools import lru_cache
from itertools import pairwise
from pickle import dumps
from typing import Any

import numpy as np
from whoosh.codec import default_codec
from whoosh.codec.whoosh3 import WHOOSH3_HEADER_MAGIC, W3TermInfo
from whoosh.filedb.filestore import FileStorage
from whoosh.system import pack_int, pack_long, pack_uint, pack_ushort
from whoosh.util.numeric import byte_to_length, length_to_byte

from newssearch import schema
from newssearch.analysis import stemmer, words
from newssearch.documents import Document

BATCH_DOCUMENTS = 5_000
BATCH_BYTES = 8_000_000
WORKERS = min(2, os.cpu_count() or 1)
_COMPRESS_ABOVE = 512  # bytes of block data from which zlib is worth its set-up time
_ZLIB_LEVEL = 1  # whoosh uses 3; on blocks this small 1 packs nearly as tight, faster
_BLOCK = 128  # postings per block, as whoosh writes them
_TERM_INFO = W3TermInfo._struct  # flags, total weight, doc freq, min/max length, max weight, ids


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
    stem = stemmer(analyzer.language).stem
    text = {name: _FieldTokens(stem) for name in schema.TEXT_FIELDS}
    keywords: dict[str, dict[bytes, list[tuple[int, float, bytes]]]] = defaultdict(
        lambda: defaultdict(list)
    )

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
            if name in text:
                length = text[name].add(value)
            elif field.indexed:
                for term, _freq, weight, encoded in field.index(value):
                    keywords[name][term].append((docnum, weight, encoded))
            perdoc.add_field(name, field, value if field.stored else None, length)
            if field.column_type:
                perdoc.add_column_value(name, field.column_type, field.to_column_value(value))
        perdoc.finish_doc()
        for tokens in text.values():
            tokens.end_document()
    segment.set_doc_count(len(documents))
    perdoc.close()

    writer = codec.field_writer(storage, segment)
    compression = _ZLIB_LEVEL
    for name in sorted([*text, *keywords]):
        writer.start_field(name, index_schema[name])
        if name in text:
            for term, docs, freqs, encoded, lengths in text[name].postings():
                _write_term(writer, term, docs, freqs, encoded, lengths, compression)
        else:
            for term in sorted(keywords[name]):
                found = keywords[name][term]
                _write_term(
                    writer,
                    term,
                    [p[0] for p in found],
                    [p[1] for p in found],
                    [p[2] for p in found],
                    [0] * len(found),
                    compression,
                )
        writer.finish_field()
    writer.close()
    if segment.should_assemble():
        segment.create_compound_file(storage)
        segment.compound = True
    return segment


class _FieldTokens:
    """A batch's tokens of one text field, as term numbers, inverted all at once with numpy."""

    def __init__(self, stem: Callable[[str], str]) -> None:
        self.vocabulary: dict[str, int] = {}  # stem -> term number
        self.terms: list[int] = []
        self.lengths: list[int] = []
        self._stem = stem
        self._by_word: dict[str, int] = {}  # folded word -> term number, one lookup a token
        self._pending = 0

    def add(self, text: str) -> int:
        """Adds one document's text (its words in position order); returns how many words."""
        found = words(text)
        by_word = self._by_word
        numbers = [by_word.get(word) for word in found]
        if None in numbers:  # words this batch has not met yet
            for i, number in enumerate(numbers):
                if number is None:
                    word = found[i]
                    number = by_word.get(word)
                    if number is None:
                        stems = self.vocabulary
                        number = stems.setdefault(self._stem(word), len(stems))
                        by_word[word] = number
                    numbers[i] = number
        self.terms.extend(numbers)  # type: ignore[arg-type]
        self._pending += len(found)
        return len(found)

    def end_document(self) -> None:
        self.lengths.append(self._pending)
        self._pending = 0

    def postings(
        self,
    ) -> Iterator[tuple[bytes, list[int], list[float], list[bytes], list[int]]]:
        """Yields (term, docnums, frequencies, encoded positions, field lengths) in term order."""
        if not self.terms:
            return
        names = sorted(self.vocabulary)
        rank = np.empty(len(names), dtype=np.int64)
        rank[[self.vocabulary[n] for n in names]] = np.arange(len(names))
        lengths = np.array(self.lengths, dtype=np.int64)
        docs = np.repeat(np.arange(lengths.size), lengths)
        positions = np.arange(docs.size) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        terms = rank[np.array(self.terms, dtype=np.int64)]
        order = np.lexsort((positions, docs, terms))
        terms, docs, positions = terms[order], docs[order], positions[order]
        new = np.ones(terms.size, dtype=np.bool_)
        new[1:] = (terms[1:] != terms[:-1]) | (docs[1:] != docs[:-1])
        starts = np.flatnonzero(new)
        freqs = np.diff(np.append(starts, terms.size))
        # whoosh's Positions value: a count, then the pickled gaps between positions.
        gaps = positions.copy()
        gaps[1:] -= positions[:-1]
        gaps[starts] = positions[starts]
        gap_list = gaps.tolist()
        encoded = [
            _single_position(gap_list[a])
            if f == 1
            else pack_uint(f) + dumps(gap_list[a : a + f], 2)
            for a, f in zip(starts.tolist(), freqs.tolist(), strict=True)
        ]
        quantized = [byte_to_length(length_to_byte(n)) for n in self.lengths]
        posting_terms = terms[starts].tolist()
        posting_docs = docs[starts].tolist()
        posting_freqs = freqs.astype(np.float64).tolist()
        bounds = (np.flatnonzero(np.diff(terms[starts])) + 1).tolist()
        for first, last in zip([0, *bounds], [*bounds, len(posting_terms)], strict=True):
            term_docs = posting_docs[first:last]
            yield (
                names[posting_terms[first]].encode("utf-8"),
                term_docs,
                posting_freqs[first:last],
                encoded[first:last],
                [quantized[d] for d in term_docs],
            )


@lru_cache(maxsize=65_536)
def _single_position(position: int) -> bytes:
    # Most words occur once in a field: their encoded value depends on the position alone.
    encoded: bytes = pack_uint(1) + dumps([position], 2)
    return encoded


def _write_term(
    writer: Any,
    term: bytes,
    docs: list[int],
    freqs: list[float],
    encoded: list[bytes],
    lengths: list[int],
    compression: int,
) -> None:
    """Writes one term's posting list in whoosh 3's block format, and its W3TermInfo row, as
    whoosh's W3PostingsWriter and W3FieldWriter would, without their per-posting calls
    (whoosh-reloaded is pinned; a differential test holds this to whoosh's own writer)."""
    postfile = writer._postfile
    start = postfile.tell()
    out = [WHOOSH3_HEADER_MAGIC]
    count = len(docs)
    shortest: int | None = None
    longest = 0
    heaviest = 0.0
    for first in range(0, count, _BLOCK):
        ids = docs[first : first + _BLOCK]
        weights = freqs[first : first + _BLOCK]
        present = [n for n in lengths[first : first + _BLOCK] if n]
        block_shortest = min(present) if present else None
        block_longest = max(present) if present else 0
        block_heaviest = max(weights)
        if block_shortest is not None:
            shortest = block_shortest if shortest is None else min(shortest, block_shortest)
        longest = max(longest, block_longest)
        heaviest = max(heaviest, block_heaviest)
        if min(weights) == block_heaviest:
            mini_weights: Any = None if block_heaviest == 1.0 else block_heaviest
        else:
            mini_weights = tuple(weights)
        gaps = (ids[0], *(b - a for a, b in pairwise(ids)))
        data = dumps((gaps, mini_weights, tuple(encoded[first : first + _BLOCK])), 2)
        # zlib gains little on a small block and costs a fixed set-up time: skip those.
        level = compression if len(data) > _COMPRESS_ABOVE else 0
        if level:
            data = zlib.compress(data, level)
        head = dumps(
            (
                len(ids),
                ids[-1],
                block_heaviest,
                level,
                length_to_byte(block_shortest),
                length_to_byte(block_longest),
            ),
            2,
        )
        size = len(head) + len(data)
        out += [pack_int(-size if first + _BLOCK >= count else size), head, data]
    chain = b"".join(out)
    postfile.write(chain)
    info = _TERM_INFO.pack(
        0,
        sum(freqs),
        count,
        0 if shortest is None else length_to_byte(shortest),
        length_to_byte(longest),
        heaviest,
        docs[0],
        docs[-1],
    )
    writer._tindex.add(
        pack_ushort(writer._fieldid) + term, info + pack_long(start) + pack_int(len(chain))
    )
