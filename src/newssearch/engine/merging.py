"""Segment merging: which segments a commit merges (a log-structured policy), and the merge.

The policy is Lucene's LogMergePolicy by document counts. Each segment has a level, the
logarithm base MERGE_FACTOR of its live documents (segments below FLOOR_DOCUMENTS count as
that size). From the start of the index, the segments down to 0.75 of a level below the
largest form a group; a group of LEVEL_SEGMENTS or more has every MERGE_FACTOR neighbours
become one segment (as TieredMergePolicy lets a tier hold some segments before it merges
them: a merge costs about what indexing its documents did), so the number of segments stays
logarithmic in the corpus up to segments of LARGEST_MERGED live documents, which are never
merged further (a merge holds its documents' postings in memory, as the writer holds a
batch's; see the README's limits). A segment that has lost more than DELETED_SHARE of its
documents is rewritten alone, and one with none left is dropped.

A merge rewrites the live documents of its segments, read back from their stored fields one
at a time, with the fast writer (`segments.write_segment`), in a process of its own, one merge
at a time (MERGE_WORKERS): deleted documents are expunged, and the new
segment is whoosh's format like any other. Neighbours are merged in their order and the new
segment takes their place, so documents keep their order in the index. Merges happen inside
a commit: until it is written, readers and a killed writer see the previous commit.
"""

from __future__ import annotations

import math
import multiprocessing
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from itertools import chain
from typing import Any

from whoosh.filedb.filestore import FileStorage
from whoosh.reading import SegmentReader

from newssearch.documents import Document
from newssearch.engine import joining, schema, segments

MERGE_FACTOR = 4
LEVEL_SEGMENTS = 8
FLOOR_DOCUMENTS = segments.LOCAL_DOCUMENTS
LARGEST_MERGED = 20_000
DELETED_SHARE = 0.5
LEVEL_SPAN = 0.75
MERGE_WORKERS = 1


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
            whole = all(count == total for count, total in (sizes[i] for i in run))
            if whole or sum(live[i] for i in run) <= LARGEST_MERGED:
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
    the runs `choose` picks merged, again until it picks none (a merge's segment may complete
    a group of the next level), or with `everything` all of them in one (`optimize`)."""
    if everything:
        if len(current) > 1 or (current and current[0].deleted_count()):
            return _merged(directory, indexname, index_schema, list(current), [range(len(current))])
        return list(current)  # one segment without deletions is merged already
    result = list(current)
    while runs := choose([(s.doc_count(), s.doc_count_all()) for s in result]):
        result = _merged(directory, indexname, index_schema, result, runs)
    return result


def _merged(
    directory: str, indexname: str, index_schema: Any, current: list[Any], runs: list[range]
) -> list[Any]:
    """Returns `current` with each of `runs` merged into one segment (or dropped, when none of
    its documents is left): joined by copying when none has deletions, else rewritten."""
    jobs = [[current[i] for i in run] for run in runs]
    written: dict[int, Any] = {}
    rewrites = []
    for n, job in enumerate(jobs):
        if any(segment.has_deletions() for segment in job):
            rewrites.append(n)
            continue
        try:
            written[n] = joining.join(directory, indexname, index_schema, job)
        except joining.NotCopyable:
            rewrites.append(n)
    small = sum(s.doc_count() for n in rewrites for s in jobs[n]) < FLOOR_DOCUMENTS
    if small:
        written.update((n, rewrite(directory, indexname, index_schema, jobs[n])) for n in rewrites)
    elif rewrites:
        # In a process of their own, one merge at a time: this process keeps none of a
        # merge's memory, and a merge holds LARGEST_MERGED documents' postings, about what
        # the two batch writers hold together (merges run after the batches are written).
        # Spawn, not fork, as segments.write_segments does.
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(MERGE_WORKERS, mp_context=context) as pool:
            futures = {
                n: pool.submit(rewrite, directory, indexname, index_schema, jobs[n])
                for n in rewrites
            }
            written.update((n, future.result()) for n, future in futures.items())
    replaced = {run.start: written[n] for n, run in enumerate(runs)}
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
    """Returns one new segment holding the live documents of `merged`, in order, read back
    one at a time; None when none is left."""
    live = _live(FileStorage(directory), index_schema, merged)
    first = next(live, None)
    if first is None:
        return None
    return segments.write_segment(directory, indexname, index_schema, chain([first], live))


def _live(storage: Any, index_schema: Any, merged: Sequence[Any]) -> Iterator[Document]:
    """Yields the live documents of the segments `merged`, in order, from their stored fields."""
    for segment in merged:
        reader = SegmentReader(storage, index_schema, segment)
        try:
            for docnum in range(segment.doc_count_all()):
                if not segment.is_deleted(docnum):
                    yield schema.stored_document(reader.stored_fields(docnum))
        finally:
            reader.close()
