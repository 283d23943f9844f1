"""The merge policy: which neighbouring segments a commit merges, given their document counts."""

from __future__ import annotations

import math

import pytest

from newssearch.engine import merging

FLOOR = merging.FLOOR_DOCUMENTS  # 5,000: what the writer's full batch holds


@pytest.fixture(autouse=True)
def eager(monkeypatch: pytest.MonkeyPatch) -> None:
    """A level merges once it holds 4 segments (the merge factor), not 8, unless a test says."""
    monkeypatch.setattr(merging, "LEVEL_SEGMENTS", 4)


def runs(*live: int, deleted: dict[int, int] | None = None) -> list[tuple[int, int]]:
    """Returns choose()'s runs as (first, last + 1) for segments of `live` documents."""
    gone = deleted or {}
    sizes = [(count, count + gone.get(i, 0)) for i, count in enumerate(live)]
    return [(run.start, run.stop) for run in merging.choose(sizes)]


def test_nothing_to_merge() -> None:
    assert runs() == []
    assert runs(FLOOR) == []
    assert runs(FLOOR, FLOOR, FLOOR) == []  # one short of the merge factor


def test_every_four_small_neighbours_are_merged() -> None:
    assert runs(FLOOR, FLOOR, FLOOR, FLOOR) == [(0, 4)]
    assert runs(*[FLOOR] * 10) == [(0, 4), (4, 8)]
    assert runs(10, 200, 3, 4_000) == [(0, 4)]  # below the floor, all count as 5,000


def test_merged_segments_stay_unless_their_level_fills() -> None:
    big = 4 * FLOOR
    assert runs(big, FLOOR, FLOOR, FLOOR) == []  # the small ones are only three
    assert runs(big, FLOOR, FLOOR, FLOOR, 100) == [(1, 5)]
    assert runs(big, big, big, big) == [(0, 4)]  # without deletions: joined at any size


def test_segments_with_deletions_are_rewritten_up_to_the_largest_merge() -> None:
    big = 4 * FLOOR
    assert runs(big, big, big, big, deleted={2: 1}) == []  # 80,000 > LARGEST_MERGED
    assert runs(FLOOR, FLOOR, FLOOR, FLOOR, deleted={2: 1}) == [(0, 4)]


def test_a_window_over_the_largest_merge_moves_on() -> None:
    # 19,000 + 3 x 5,000 > 20,000: the window starting at the large one is skipped.
    assert runs(19_000, FLOOR, FLOOR, FLOOR, FLOOR) == [(1, 5)]


def test_levels_group_from_the_start_of_the_index() -> None:
    # A segment of level 6.9 (14,000) groups with the 20,000s: the group is 7 segments, and
    # its first four are merged. With a deletion in the first, those are more than
    # LARGEST_MERGED to rewrite, and the window moves on to the next four, which have none.
    assert runs(20_000, 14_000, FLOOR, FLOOR, FLOOR, FLOOR, 20_000) == [(0, 4)]
    sizes = (20_000, 14_000, FLOOR, FLOOR, FLOOR, FLOOR, 20_000)
    assert runs(*sizes, deleted={0: 1}) == [(1, 5)]


def test_segments_that_lost_more_than_half_are_rewritten_or_dropped() -> None:
    assert runs(20_000, 9_000, deleted={1: 11_000}) == [(1, 2)]
    assert runs(20_000, 11_000, deleted={1: 9_000}) == []  # lost less than half
    assert runs(20_000, 0, 20_000, deleted={1: 5_000}) == [(1, 2)]  # nothing left: dropped
    # A segment in a merge is not also rewritten alone.
    assert runs(FLOOR, FLOOR, 10, FLOOR, deleted={2: 90}) == [(0, 4)]


@pytest.mark.parametrize("segments", [70, 200, 1_000])
def test_the_segment_count_is_logarithmic(segments: int) -> None:
    """Every batch merged in the commit it came in, again until nothing is picked: each level
    holds fewer than LEVEL_SEGMENTS segments (4 here)."""
    sizes: list[int] = []
    for _ in range(segments):
        sizes.append(FLOOR)
        while found := runs(*sizes):
            for first, end in reversed(found):
                sizes[first:end] = [sum(sizes[first:end])]
    assert sum(sizes) == segments * FLOOR
    levels = 1 + math.ceil(math.log(segments, merging.MERGE_FACTOR))
    assert len(sizes) <= 3 * levels
    assert len(sizes) == {70: 4, 200: 5, 1_000: 10}[segments]


def test_by_default_a_level_waits_for_eight_segments(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(merging, "LEVEL_SEGMENTS", 8)
    assert runs(*[FLOOR] * 7) == []  # Reuters-21578 is 6: indexed once, never merged
    assert runs(*[FLOOR] * 8) == [(0, 4), (4, 8)]
    assert runs(*[FLOOR] * 70) == [(n, n + 4) for n in range(0, 68, 4)]  # Reuters 16x
    big = merging.LARGEST_MERGED
    assert runs(big, big, *[FLOOR] * 7) == []
    assert runs(big, *[FLOOR] * 9) == [(1, 5), (5, 9)]
