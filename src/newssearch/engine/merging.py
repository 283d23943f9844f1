"""Segment merging: which segments a commit merges (a log-structured policy), and the merge.

The policy is Lucene's LogMergePolicy by document counts. Each segment has a level, the
logarithm base MERGE_FACTOR of its live documents (segments below FLOOR_DOCUMENTS count as
that size). From the start of the index, the segments down to 0.75 of a level below the
largest form a group; a group of LEVEL_SEGMENTS or more has every MERGE_FACTOR neighbours
become one segment (as TieredMergePolicy lets a tier hold some segments before it merges
them: a merge costs about what indexing its documents did), so the number of segments stays
logarithmic in the corpus up to segments of LARGEST_MERGED live documents, which are never
merged further (a merge holds its documents in memory, as the writer holds a batch; see the
README's limits). A segment that has lost more than
DELETED_SHARE of its documents is rewritten alone, and one with none left is dropped.

A merge rewrites the live documents of its segments, read back from their stored fields,
with the fast writer (`segments.write_segment`): deleted documents are expunged, and the new
segment is whoosh's format like any other. Neighbours are merged in their order and the new
segment takes their place, so documents keep their order in the index. Merges happen inside
a commit: until it is written, readers and a killed writer see the previous commit.
"""

from __future__ import annotations

import heapq
import math
import multiprocessing
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from itertools import groupby
from typing import Any

import numpy as np
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, _lenfield
from whoosh.filedb.filestore import FileStorage
from whoosh.reading import SegmentReader

from newssearch.engine import execute, postings, schema, segments
from newssearch.engine.postings_cache import Ids, read_postings

MERGE_FACTOR = 4
LEVEL_SEGMENTS = 8
FLOOR_DOCUMENTS = segments.BATCH_DOCUMENTS
LARGEST_MERGED = 20_000
DELETED_SHARE = 0.5
LEVEL_SPAN = 0.75


def choose(sizes: Sequence[tuple[int, int]]) -> list[range]:
    """Returns the runs of neighbouring segments to merge, as ranges of positions in `sizes`
    (each segment's live and total document counts, in index order), in order, disjoint.

    A run of one is a segment to rewrite without its deleted documents (or to drop)."""
    live = [count for count, _ in sizes]
    levels = [math.log(max(count, FLOOR_DOCUMENTS), MERGE_FACTOR) for count in live]
    floor = math.log(FLOOR_DOCUMENTS, MERGE_FACTOR)
    runs: list[range] = []
    start = 0
    while start < len(sizes):
        top = max(levels[start:])
        bottom = top - LEVEL_SPAN if top > floor else -math.inf
        upto = max(i for i in range(start, len(sizes)) if levels[i] >= bottom)
        first = start if upto + 1 - start >= LEVEL_SEGMENTS else upto + 1
        while first + MERGE_FACTOR <= upto + 1:
            run = range(first, first + MERGE_FACTOR)
            if sum(live[i] for i in run) <= LARGEST_MERGED:
                runs.append(run)
                first += MERGE_FACTOR
            else:
                first += 1
        start = upto + 1
    merged = {i for run in runs for i in run}
    for i, (count, total) in enumerate(sizes):
        if i not in merged and total and total - count > DELETED_SHARE * total:
            runs.append(range(i, i + 1))
    return sorted(runs, key=lambda run: run.start)


def merge(
    directory: str, indexname: str, index_schema: Any, current: Sequence[Any], everything: bool
) -> list[Any]:
    """Returns the segments to commit in place of `current` (whoosh segments, in index order):
    the runs `choose` picks merged, or with `everything` all of them in one (`optimize`)."""
    if everything:
        runs = [range(len(current))] if current else []
        if len(current) == 1 and not current[0].deleted_count():
            runs = []  # one segment without deletions is merged already
    else:
        runs = choose([(s.doc_count(), s.doc_count_all()) for s in current])
    if not runs:
        return list(current)
    jobs = [[current[i] for i in run] for run in runs]
    small = sum(s.doc_count() for job in jobs for s in job) < FLOOR_DOCUMENTS
    if small or segments.WORKERS < 2:
        written = [rewrite(directory, indexname, index_schema, job) for job in jobs]
    else:
        # Not in this process, which would keep the memory; spawn, not fork, as
        # segments.write_segments does. Each merge holds at most LARGEST_MERGED documents.
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(segments.WORKERS, mp_context=context) as pool:
            futures = [pool.submit(rewrite, directory, indexname, index_schema, j) for j in jobs]
            written = [future.result() for future in futures]
    replaced = {run.start: segment for run, segment in zip(runs, written, strict=True)}
    inside = {i for run in runs for i in run}
    result = []
    for i, segment in enumerate(current):
        if i in replaced:
            if replaced[i] is not None:
                result.append(replaced[i])
        elif i not in inside:
            result.append(segment)
    return result


def rewrite(directory: str, indexname: str, index_schema: Any, merged: Sequence[Any]) -> Any:
    """Returns one new segment holding the live documents of `merged`, in order; None when
    none is left.

    Posting lists are merged as they are, a term at a time (decoded as queries decode them,
    docnums renumbered past the deleted documents, encoded by `postings.write_field` a chunk
    of terms at a time); then stored fields and columns are copied a document at a time,
    with the field lengths the postings add up to. Memory is bounded by the largest posting
    list, not by the number of documents merged."""
    storage = FileStorage(directory)
    sources: list[_Source] = []
    try:
        for segment in merged:
            before = sources[-1].base + sources[-1].count if sources else 0
            sources.append(_Source(SegmentReader(storage, index_schema, segment), before))
        total = sum(source.count for source in sources)
        if not total:
            return None
        store, codec, segment = segments.new_segment(directory, indexname)
        lengths = {name: np.zeros(total, dtype=np.int64) for name in schema.TEXT_FIELDS}
        writer = codec.field_writer(store, segment)
        fields = set().union(*(source.reader.indexed_field_names() for source in sources))
        for name in sorted(fields):
            writer.start_field(name, index_schema[name])
            _merge_field(writer, name, sources, lengths.get(name))
            writer.finish_field()
        writer.close()
        perdoc = codec.per_document_writer(store, segment)
        analyzer = schema.analyzer_of(index_schema)
        assert analyzer is not None
        keyword_names = [name for name, _ in analyzer.keyword_fields]
        for source in sources:
            for docnum, old in enumerate(source.live_docs, start=source.base):
                values = schema.document_fields(
                    schema.stored_document(source.reader.stored_fields(old)), keyword_names
                )
                own = {name: int(found[docnum]) for name, found in lengths.items()}
                segments.add_stored(perdoc, index_schema, docnum, values, own)
        segment.set_doc_count(total)
        perdoc.close()
        return segments.finish(store, segment)
    finally:
        for source in sources:
            source.reader.close()


class _Source:
    """One segment being merged: its reader, which of its documents are live, the docnum
    each gets in the merged segment (its live documents come from `base` on, in order), and
    its documents' field length bytes."""

    def __init__(self, reader: Any, base: int) -> None:
        self.reader = reader
        size = reader.doc_count_all()
        self.live = np.ones(size, dtype=np.bool_)
        if reader.has_deletions():
            self.live[list(reader._perdoc.deleted_docs())] = False
        self.live_docs: list[int] = np.flatnonzero(self.live).tolist()
        self.count = len(self.live_docs)
        self.base = base
        self.renumbered = base + np.cumsum(self.live) - 1
        self.length_bytes = {
            name: execute.column(reader, _lenfield(name), size, LENGTHS_COLUMN)
            for name in schema.TEXT_FIELDS
        }


def _merge_field(writer: Any, name: str, sources: list[_Source], lengths: Ids | None) -> None:
    """Writes field `name`'s merged posting lists; for a text field, adds each document's
    occurrences to `lengths` (by new docnum)."""
    positions = writer._format.supports("positions")
    chunk = _Chunk()
    lexicons = heapq.merge(*(source.reader.lexicon(name) for source in sources))
    for text, _ in groupby(lexicons):
        for source in sources:
            if (name, text) not in source.reader:
                continue
            found = read_postings(source.reader, name, text)
            keep = source.live[found.docs]
            if not keep.any():
                continue
            old = found.docs[keep]
            freqs = found.freqs[keep].astype(np.int64)
            gaps = None
            if positions:
                at, where = found.flat
                where = where[source.live[at]]
                gaps = np.diff(where, prepend=0)
                firsts = np.cumsum(freqs) - freqs  # each posting's first occurrence
                gaps[firsts] = where[firsts]
            if lengths is not None:
                lengths[source.renumbered[old]] += freqs
            length_bytes = source.length_bytes.get(name)
            chunk.add(
                text,
                source.renumbered[old],
                freqs,
                None if length_bytes is None else length_bytes[old],
                gaps,
            )
        if chunk.positions >= postings.CHUNK_POSITIONS:
            chunk.write(writer)
    chunk.write(writer)


class _Chunk:
    """Merged postings of whole terms, in term order, waiting to be written together."""

    def __init__(self) -> None:
        self.names: list[bytes] = []
        self.parts: list[tuple[int, Ids, Ids, Ids | None, Ids | None]] = []
        self.positions = 0

    def add(
        self, text: bytes, docs: Ids, freqs: Ids, lengths: Ids | None, gaps: Ids | None
    ) -> None:
        """Adds one segment's postings of term `text` (the last term added, or a greater one)."""
        if not self.names or self.names[-1] != text:
            self.names.append(text)
        self.parts.append((len(self.names) - 1, docs, freqs, lengths, gaps))
        self.positions += docs.size if gaps is None else gaps.size

    def write(self, writer: Any) -> None:
        """Writes the postings added (to the field `writer` has started), then forgets them."""
        if not self.parts:
            return
        term = np.concatenate(
            [np.full(part[1].size, part[0], dtype=np.int64) for part in self.parts]
        )
        docs, freqs = (np.concatenate([part[i] for part in self.parts]) for i in (1, 2))
        lengths, gaps = (
            None if self.parts[0][i] is None else np.concatenate([part[i] for part in self.parts])
            for i in (3, 4)
        )
        postings.write_field(writer, self.names, term, docs, freqs, lengths, gaps)
        self.names, self.parts, self.positions = [], [], 0
