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
the fast writer, which expunges the deleted ones, in pieces of a writer's segment size (a
piece's words are what a rewrite holds) then joined. A rewrite analyzes its documents again,
so a run with deletions is merged up to LARGEST_MERGED live documents (a segment rewritten
alone, at any size). Neighbours are merged in their order and the new segment takes
their place, so documents keep their order in the index. Merges happen inside a commit: until
it is written, readers and a killed writer see the previous commit.
"""

from __future__ import annotations

import math
import multiprocessing
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
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

    The segments with deletions of a run are rewritten as it is picked (in pieces); then each
    segment the plan ends with is joined once from the segments and pieces it holds (the 16
    small segments of a bulk load that two levels of merges make one are copied once, not
    twice)."""
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
    """Returns `current` with each of `runs` replaced by a _Join of its segments, those with
    deletions rewritten first (now, in pieces): nothing when no document is left, the one
    piece when it is all that is left."""
    group = [[s for item in current[run.start : run.stop] for s in _parts(item)] for run in runs]
    pieces = _rewritten(directory, indexname, index_schema, [s for g in group for s in g])
    result: list[Any] = []
    done = 0
    for run, segments_of_run in zip(runs, group, strict=True):
        result += current[done : run.start]
        parts = [p for s in segments_of_run for p in pieces.get(id(s), [s])]
        if len(parts) > 1:
            result.append(_Join(parts))
        else:
            result += parts
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
                written[id(item)] = _rewritten_whole(*job, item.parts)
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
                written[id(item)] = _rewritten_whole(*job, item.parts)
    return [written.get(id(item), item) for item in planned]


def _rewritten(
    directory: str, indexname: str, index_schema: Any, group: list[Any], every: bool = False
) -> dict[int, list[Any]]:
    """Returns the pieces `rewrite` makes of each segment of `group` that has deletions (or
    of every one, with `every`), by id(segment): here when they have fewer than
    FLOOR_DOCUMENTS live documents in all, else in a process of their own, which this process
    keeps none of the memory of (a rewrite holds a segment's words, as a writer does)."""
    chosen = [segment for segment in group if every or segment.has_deletions()]
    if not chosen:
        return {}
    job = (directory, indexname, index_schema)
    limits = (segments.SEGMENT_DOCUMENTS, segments.SEGMENT_BYTES)
    if sum(segment.doc_count() for segment in chosen) < FLOOR_DOCUMENTS:
        return {id(segment): rewrite(*job, segment, limits) for segment in chosen}
    context = multiprocessing.get_context("spawn")  # as segments.write_segments does
    with ProcessPoolExecutor(1, mp_context=context, initializer=segments.start_worker) as pool:
        futures = {id(segment): pool.submit(rewrite, *job, segment, limits) for segment in chosen}
        return {key: future.result() for key, future in futures.items()}


def _rewritten_whole(directory: str, indexname: str, index_schema: Any, group: list[Any]) -> Any:
    """Returns one segment of the live documents of `group` (some not laid out as the fast
    writer lays them out): every segment rewritten, the pieces joined (None if none is left)."""
    pieces = _rewritten(directory, indexname, index_schema, group, every=True)
    parts = [p for segment in group for p in pieces[id(segment)]]
    if len(parts) > 1:
        return joining.join(directory, indexname, index_schema, parts)
    return parts[0] if parts else None


def rewrite(
    directory: str, indexname: str, index_schema: Any, segment: Any, limits: tuple[int, int]
) -> list[Any]:
    """Returns new segments holding the live documents of `segment`, in order, read back one
    at a time and written again in pieces of up to `limits` (documents, characters of text: a
    piece's words are what a rewrite holds); none when none is left."""
    pieces = []
    writer = None
    for doc in _live(FileStorage(directory), index_schema, [segment]):
        if writer is None:
            writer = segments.SegmentWriter(directory, indexname, index_schema)
        writer.add([doc])
        if writer.full(limits):
            pieces.append(writer.finish())
            writer = None
    if writer is not None:
        pieces.append(writer.finish())
    return pieces


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
