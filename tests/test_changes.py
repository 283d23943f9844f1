"""The tally of a change: the id table it keeps, duplicates in one run, changes across runs."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
from conftest import write_jsonl

from newssearch import Document, DocumentError, Index, load_documents
from newssearch.changes import IdTable

LOWEST, HIGHEST = -(2**63), 2**63 - 1


@pytest.fixture
def small_flush(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every third insertion merges the recent ones into the sorted arrays."""
    monkeypatch.setattr(IdTable, "FLUSH", 3)


def test_the_table_answers_as_a_dict_across_flushes(small_flush: None) -> None:
    table, oracle = IdTable(), {}
    draw = random.Random(9)
    space = [LOWEST, HIGHEST, -1, 0, 1, *draw.sample(range(-1000, 1000), 40)]
    for step in range(400):
        key, value = draw.choice(space), draw.randrange(LOWEST, HIGHEST)
        if step % 4:  # mostly new keys, some set again (in the recent dict or the arrays)
            table.put(key, value)
            oracle[key] = value
        for probe in (key, draw.choice(space)):
            assert table.get(probe) == oracle.get(probe), (step, probe)
    assert [table.get(k) for k in space] == [oracle.get(k) for k in space]


def test_absent_keys_below_between_and_above_the_sorted_ones(small_flush: None) -> None:
    table = IdTable()
    assert table.get(5) is None  # empty
    for key in (10, 30, 20):  # the third put flushes
        table.put(key, key * 2)
    table.put(25, 50)  # recent, not flushed
    assert [table.get(k) for k in (10, 20, 25, 30)] == [20, 40, 50, 60]
    assert [table.get(k) for k in (LOWEST, 9, 11, 21, 31, HIGHEST)] == [None] * 6


def test_load_sets_many_values_and_keeps_the_arrays_sorted() -> None:
    table = IdTable()
    table.load(np.array([7, -3, 5], np.int64), np.array([70, -30, 50], np.int64))
    table.load(np.array([5, 6, HIGHEST], np.int64), np.array([55, 60, 1], np.int64))
    assert [table.get(k) for k in (-3, 5, 6, 7, HIGHEST, 4)] == [-30, 55, 60, 70, 1, None]


def test_keys_are_64_bit_and_salted_per_table() -> None:
    one, other = IdTable(), IdTable()
    assert one.key("a1") == one.key("a1") == IdTable(one.salt).key("a1")
    assert LOWEST <= one.key("a1") <= HIGHEST
    assert one.key("a1") != other.key("a1")  # a collision in one run is not the next run's
    assert one.key("a\udcff") != one.key("a")  # a lone surrogate is hashed, not an error


def test_duplicates_across_files_name_the_first_origin(tmp_path: Path, small_flush: None) -> None:
    first = write_jsonl(
        tmp_path / "a:1.jsonl",  # a colon in the path: the line is what follows the last one
        [{"id": f"n{i}", "body": "alpha"} for i in range(5)],
    )
    second = write_jsonl(
        tmp_path / "b.jsonl",
        [
            {"id": "n3", "body": "beta"},
            {"id": "m", "body": "gamma"},
            {"id": "n0", "body": "delta"},
            {"id": "m", "body": "epsilon"},
        ],
    )
    report = Index.create(tmp_path / "ix").add(load_documents(first, second))
    assert (report.added, report.unchanged) == (6, 0)
    assert [str(r) for r in report.rejected] == [
        f"{second}:1: duplicate id 'n3' (first at {first}:4)",
        f"{second}:3: duplicate id 'n0' (first at {first}:1)",
        f"{second}:4: duplicate id 'm' (first at {second}:2)",
    ]


@pytest.mark.parametrize(
    "origin",
    [
        "",  # a Document made in Python: the id stands for it
        "mine",
        "f.jsonl:07",  # a leading zero would not print back
        "f.jsonl:0",
        "f.jsonl:",
        ":5",
        "f.jsonl:-1",
        "f.jsonl:1²",
        "f.jsonl:12345678901",
        "\udcff.jsonl:3",  # a file name that is not UTF-8
        "ü/f.jsonl:9:x",
    ],
)
def test_duplicates_of_documents_made_in_python_name_the_exact_origin(
    tmp_path: Path, small_flush: None, origin: str
) -> None:
    items = [
        Document(id="x", body="alpha", origin=origin),
        *(Document(id=f"other{i}", body="beta", origin=f"f.jsonl:{i}") for i in range(4)),
        Document(id="x", body="gamma", origin="later.jsonl:2"),
        Document(id="x", body="delta"),
    ]
    report = Index.create(tmp_path / "ix").add(items)
    first = origin or "x"
    assert [str(r) for r in report.rejected] == [
        f"later.jsonl:2: duplicate id 'x' (first at {first})",
        f"x: duplicate id 'x' (first at {first})",
    ]
    assert report.added == 5


def test_strict_stops_at_a_duplicate(tmp_path: Path) -> None:
    items = [Document(id="x", body="alpha", origin="f:1"), Document(id="x", body="b", origin="f:2")]
    with pytest.raises(DocumentError, match=r"^f:2: duplicate id 'x' \(first at f:1\)$"):
        Index.create(tmp_path / "ix").add(items, strict=True)


def test_updates_and_unchanged_across_runs_and_segments(tmp_path: Path, small_flush: None) -> None:
    index = Index.create(tmp_path / "ix")
    for run in range(3):  # three commits, three segments
        index.add(Document(id=f"r{run}d{i}", body=f"text {i}") for i in range(4))
    again = [Document(id=f"r{run}d{i}", body=f"text {i}") for run in range(3) for i in range(4)]
    again[1] = Document(id="r0d1", body="changed")
    again[10] = Document(id="r2d2", body="changed")
    again += [Document(id="new1", body="changed"), Document(id="new2", body="text")]
    report = Index.open(tmp_path / "ix").add(again)
    assert (report.added, report.updated, report.unchanged, report.rejected) == (2, 2, 10, ())
    hits = index.search("changed", limit=10, snippets=False).hits
    assert sorted(hit.id for hit in hits) == ["new1", "r0d1", "r2d2"]
    assert index.stats().documents == 14
    rebuilt = Index.create(tmp_path / "ix", overwrite=True).add(again)
    assert (rebuilt.added, rebuilt.updated, rebuilt.unchanged) == (14, 0, 0)
