"""Segment merging: which segments a commit merges (a log-structured policy), and the merge.

The policy is Lucene's LogMergePolicy by document counts. Each segment has a level, the
logarithm base MERGE_FACTOR of its live documents (segments below FLOOR_DOCUMENTS count as
that size). From the start of the index, the segments down to 0.75 of a level below the
largest form a group; a group of LEVEL_SEGMENTS or more has every MERGE_FACTOR neighbours
become one segment (as TieredMergePolicy lets a tier hold some segments before it merges
them), and the policy is asked again until it merges nothing, so the number of segments stays
logarithmic in the corpus. A segment that has lost more than DELETED_SHARE of its documents
is rewritten alone, and one with none left is dropped.

Segments without deletions are joined (`joining`): their posting blocks, term tables and
columns copied into one segment, nothing analyzed again, at any size. Segments with deletions
are rewritten: their live documents read back from their stored fields and written again by
the fast writer (`segments.write_segment`), which expunges the deleted ones, up to
LARGEST_MERGED live documents at a time (a rewrite holds its documents' postings in memory, as
the writer holds a segment's). Neighbours are merged in their order and the new segment takes
their place, so documents keep their order in the index. Merges happen inside a commit: until
it is written, readers and a killed writer see the previous commit.
"""

from __future__ import annotations

import math
import multiprocessing
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
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
JOIN_PROCESSES_FROM = 50_000  # documents joined in one commit that are worth two processes
JOIN_WORKERS = segments.WORKERS


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
    a group of the next level), or with `everything` all of them in one (`optimize`).

    Runs with deletions are rewritten as they are picked; runs without are planned, and each
    segment the plan ends with is joined once from the segments it holds (the eight small
    segments of a bulk load that two levels of merges make one are copied once, not twice)."""
    result: list[Any] = list(current)
    if everything:
        if len(result) > 1 or (result and result[0].has_deletions()):
            result = _planned(directory, indexname, index_schema, result, [range(len(result))])
    else:
        while runs := choose([(s.doc_count(), s.doc_count_all()) for s in result]):
            result = _planned(directory, indexname, index_schema, result, runs)
    return _joined(directory, indexname, index_schema, result)


@dataclass(frozen=True)
class _Join:
    """Segments without deletions, in order, to become one segment."""

    parts: list[Any]

    def doc_count(self) -> int:
        return sum(segment.doc_count() for segment in self.parts)

    doc_count_all = doc_count

    def has_deletions(self) -> bool:
        return False


def _planned(
    directory: str, indexname: str, index_schema: Any, current: list[Any], runs: list[range]
) -> list[Any]:
    """Returns `current` with each of `runs` replaced: by a _Join of its segments when none has
    deletions, else by their rewrite, done now (nothing when none of its documents is left)."""
    result: list[Any] = []
    done = 0
    for run in runs:
        result += current[done : run.start]
        group = [s for item in current[run.start : run.stop] for s in _parts(item)]
        if any(segment.has_deletions() for segment in group):
            written = _rewritten(directory, indexname, index_schema, group)
            result += [written] if written is not None else []
        else:
            result.append(_Join(group))
        done = run.stop
    return result + current[done:]


def _parts(item: Any) -> list[Any]:
    return item.parts if isinstance(item, _Join) else [item]


def _joined(directory: str, indexname: str, index_schema: Any, planned: list[Any]) -> list[Any]:
    """Returns `planned` with each _Join joined into one segment (`joining.join`), in processes
    of their own when they hold JOIN_PROCESSES_FROM documents or more (or rewritten, should
    a segment not be one the fast writer wrote)."""
    joins = [item for item in planned if isinstance(item, _Join)]
    written: dict[int, Any] = {}
    job = (directory, indexname, index_schema)
    if sum(item.doc_count() for item in joins) < JOIN_PROCESSES_FROM:
        for item in joins:
            try:
                written[id(item)] = joining.join(*job, item.parts)
            except joining.NotCopyable:
                written[id(item)] = _rewritten(*job, item.parts)
    elif joins:
        # Spawn, not fork, as segments.write_segments does; each process holds a chunk of
        # postings at a time, and this process none.
        context = multiprocessing.get_context("spawn")
        workers = min(JOIN_WORKERS, len(joins))
        start = segments.start_worker
        with ProcessPoolExecutor(workers, mp_context=context, initializer=start) as pool:
            futures = {id(item): pool.submit(joining.join, *job, item.parts) for item in joins}
        for item in joins:
            try:
                written[id(item)] = futures[id(item)].result()
            except joining.NotCopyable:
                written[id(item)] = _rewritten(*job, item.parts)
    return [written.get(id(item), item) for item in planned]


def _rewritten(directory: str, indexname: str, index_schema: Any, group: list[Any]) -> Any:
    """Returns `rewrite` of `group`, done here when it has fewer than FLOOR_DOCUMENTS live
    documents, else in a process of its own: this process keeps none of a rewrite's memory
    (a rewrite holds up to LARGEST_MERGED documents' postings, about what the two batch
    writers hold together; merges run after the batches are written)."""
    if sum(segment.doc_count() for segment in group) < FLOOR_DOCUMENTS:
        return rewrite(directory, indexname, index_schema, group)
    context = multiprocessing.get_context("spawn")  # as segments.write_segments does
    with ProcessPoolExecutor(1, mp_context=context, initializer=segments.start_worker) as pool:
        return pool.submit(rewrite, directory, indexname, index_schema, group).result()


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
