"""The on-disk index: add, update, unchanged, delete, format check, crashes, two writers."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from conftest import ARTICLES, SEED_ID, SEEDS, write_jsonl

from newssearch import (
    Document,
    DocumentError,
    IncompatibleIndexError,
    Index,
    IndexLockedError,
    IndexNotFoundError,
    NewssearchError,
    PartialDate,
    QuerySyntaxError,
    Rejected,
    load_documents,
)
from newssearch.engine import schema as ns_schema


def ids(index: Index, query: str) -> list[str]:
    return [hit.id for hit in index.search(query, limit=100, snippets=False).hits]


def test_add_then_readd_reports_unchanged(tmp_path: Path, corpus_file: Path) -> None:
    index = Index.create(tmp_path / "ix")
    first = index.add(load_documents(corpus_file))
    assert (first.added, first.updated, first.unchanged, first.rejected) == (8, 0, 0, ())
    again = Index.open(tmp_path / "ix").add(load_documents(corpus_file))
    assert (again.added, again.updated, again.unchanged, again.rejected) == (0, 0, 8, ())
    assert index.stats().documents == 8


def test_changed_document_replaces_the_old_one(tmp_path: Path, corpus_file: Path) -> None:
    index = Index.create(tmp_path / "ix")
    index.add(load_documents(corpus_file))
    changed = [dict(a) for a in ARTICLES]
    changed[3]["body"] = "Barley exports fell."
    report = index.add(load_documents(write_jsonl(tmp_path / "changed.jsonl", changed)))
    assert (report.added, report.updated, report.unchanged) == (0, 1, 7)
    assert ids(index, "barley") == ["a4"]
    assert ids(index, "wheat") == []  # the old body is gone, the title has no wheat
    assert index.stats().documents == 8


def test_delete(tmp_path: Path, corpus_file: Path) -> None:
    index = Index.create(tmp_path / "ix")
    index.add(load_documents(corpus_file))
    assert index.delete(["a1", "nope", "a1"]) == ["a1"]
    assert sorted(ids(index, "cooperation")) == ["a2", "a7"]
    assert index.stats().documents == 7
    assert Index.open(tmp_path / "ix").stats().documents == 7


def test_rejections_are_reported_and_the_rest_committed(tmp_path: Path) -> None:
    source = tmp_path / "mixed.jsonl"
    source.write_text(
        '{"id": "good1", "body": "alpha"}\n'
        "not json\n"
        '{"id": "bad-date", "body": "beta", "date": "2019-13"}\n'
        '{"id": "good2", "body": "gamma", "date": "2019-10"}\n'
        '{"id": "good1", "body": "duplicate"}\n',
        encoding="utf-8",
    )
    index = Index.create(tmp_path / "ix")
    report = index.add(load_documents(source))
    assert (report.added, report.unchanged) == (2, 0)
    assert [str(r) for r in report.rejected] == [
        f"{source}:2: not JSON: Expecting value at column 1",
        f"{source}:3: impossible date: '2019-13' (month 13)",
        f"{source}:5: duplicate id 'good1' (first at {source}:1)",
    ]
    assert ids(index, "alpha OR gamma") == ["good2", "good1"]


def test_strict_commits_nothing(tmp_path: Path) -> None:
    index = Index.create(tmp_path / "ix")
    items = [Document(id="x", body="alpha"), Rejected("f.jsonl:2", "not JSON")]
    with pytest.raises(DocumentError, match=r"^f.jsonl:2: not JSON$"):
        index.add(items, strict=True)
    assert index.stats().documents == 0


def test_rebuild_replaces_everything_in_one_commit(tmp_path: Path, corpus_file: Path) -> None:
    Index.create(tmp_path / "ix").add(load_documents(corpus_file))
    reader = Index.open(tmp_path / "ix")
    rebuilt = Index.create(tmp_path / "ix", "german", overwrite=True)
    assert reader.stats().documents == 8  # nothing changes before the rebuild commits
    report = rebuilt.add(load_documents(SEEDS))
    assert (report.added, report.unchanged) == (1, 0)
    reopened = Index.open(tmp_path / "ix")
    assert reopened.language == "german"
    assert reopened.stats().documents == 1
    assert ids(reopened, "kooperation OR cooperation") == [SEED_ID]


def test_create_refuses_to_overwrite_and_open_needs_an_index(tmp_path: Path) -> None:
    Index.create(tmp_path / "ix")
    with pytest.raises(NewssearchError, match="already exists"):
        Index.create(tmp_path / "ix")
    with pytest.raises(IndexNotFoundError, match="no index at"):
        Index.open(tmp_path / "missing")
    with pytest.raises(NewssearchError, match="unknown language 'klingon'"):
        Index.create(tmp_path / "other", "klingon")


def test_an_index_from_another_format_version_says_how_to_rebuild(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ns_schema, "FORMAT_VERSION", 0)
    Index.create(tmp_path / "ix").add([Document(id="x", body="alpha")])
    monkeypatch.undo()
    with pytest.raises(IncompatibleIndexError) as caught:
        Index.open(tmp_path / "ix")
    assert str(caught.value) == (
        f"the index at {tmp_path / 'ix'} is format 0; this newssearch reads format "
        f"{ns_schema.FORMAT_VERSION}: rebuild it with "
        f"`newssearch index --rebuild --index {tmp_path / 'ix'} PATH...`"
    )


def test_stats(tmp_path: Path, corpus_file: Path) -> None:
    index = Index.create(tmp_path / "ix")
    index.add(load_documents(corpus_file))
    stats = index.stats()
    assert (stats.documents, stats.date_min, stats.date_max) == (
        8,
        "2018-12-31T10:00:00",
        "2020-01-15",
    )
    assert (stats.language, stats.segments) == ("english", 1)
    assert stats.size_bytes == sum(f.stat().st_size for f in (tmp_path / "ix").iterdir())
    assert stats.distinct_terms > 50


def test_document_needs_text_and_id() -> None:
    with pytest.raises(DocumentError, match="no text"):
        Document(id="x", title=" ", body="")
    with pytest.raises(DocumentError, match="missing id"):
        Document(id="", body="text")
    assert Document(id="x", body="b", date=PartialDate.parse("2019")).date == PartialDate.parse(
        "2019"
    )


# ---- crashes and concurrency, with real processes ------------------------------------------

_SLOW_WRITER = textwrap.dedent(
    """
    import sys, time
    from newssearch import Document, Index

    def docs():
        for n in range(int(sys.argv[2])):
            if n == 5:
                print("writing", flush=True)
            time.sleep(float(sys.argv[3]))
            yield Document(id=f"{sys.argv[5]}-{n}", body=f"slow document number {n}")
        print("committing", flush=True)

    report = Index.open(sys.argv[1], lock_timeout=float(sys.argv[4])).add(docs())
    print(report.summary(), flush=True)
    """
)


def _start_writer(
    index_dir: Path, count: int, delay: float, prefix: str = "slow"
) -> subprocess.Popen[str]:
    args = [str(index_dir), str(count), str(delay), "10", prefix]
    process = subprocess.Popen(
        [sys.executable, "-c", _SLOW_WRITER, *args],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    assert process.stdout.readline() == "writing\n"
    return process


def _finish(process: subprocess.Popen[str]) -> str:
    """Returns what the process printed after "writing", once it has ended."""
    assert process.stdout is not None
    with process.stdout:
        output = process.stdout.read()
    process.wait(timeout=30)
    return output


def test_a_writer_killed_mid_run_leaves_the_last_commit_searchable(tmp_path: Path) -> None:
    index = Index.create(tmp_path / "ix")
    index.add(load_documents(SEEDS))
    documents = 1
    # Killed while adding, then at several moments of its commit.
    for run, (wait_for, after) in enumerate(
        [("writing", 0.2), ("committing", 0.0), ("committing", 0.05), ("committing", 0.15)]
    ):
        writer = _start_writer(tmp_path / "ix", 2_000, 0.0, prefix=f"run{run}")
        assert writer.stdout is not None
        if wait_for == "committing":
            assert writer.stdout.readline() == "committing\n"
        time.sleep(after)
        writer.send_signal(signal.SIGKILL)
        _finish(writer)
        reopened = Index.open(tmp_path / "ix")
        assert ids(reopened, "cooperation plan") == [SEED_ID]
        now = reopened.stats().documents
        assert now in (documents, documents + 2_000)  # the last commit, or the whole new one
        if now > documents:
            assert ids(reopened, f'"slow document number 1999" id:run{run}-1999') == [
                f"run{run}-1999"
            ]
        documents = now
    # The lock died with the writer: the next writer proceeds.
    report = Index.open(tmp_path / "ix").add([Document(id="after", body="after the crash")])
    assert report.added == 1


def test_a_second_writer_fails_clearly_or_waits_and_loses_nothing(tmp_path: Path) -> None:
    index = Index.create(tmp_path / "ix")
    index.add(load_documents(SEEDS))
    first = _start_writer(tmp_path / "ix", 40, 0.05)
    impatient = Index.open(tmp_path / "ix", lock_timeout=0.2)
    with pytest.raises(IndexLockedError) as caught:
        impatient.add([Document(id="second", body="second writer")])
    assert str(caught.value) == (
        f"the index at {tmp_path / 'ix'} is locked by another writer (waited 0.2 s); "
        "try again when it has finished"
    )
    patient = Index.open(tmp_path / "ix", lock_timeout=30)
    report = patient.add([Document(id="second", body="second writer")])
    assert report.added == 1
    assert _finish(first).startswith("committing\nadded 40, updated 0, unchanged 0, rejected 0 in ")
    assert first.returncode == 0
    final = Index.open(tmp_path / "ix")
    assert final.stats().documents == 1 + 40 + 1
    assert ids(final, "second writer") == ["second"]


# --- extra keyword fields (issue 13 item 7) ---------------------------------------------------

PLACES = [
    {"id": "p1", "body": "wheat", "places": ["usa", "Canada"]},
    {"id": "p2", "body": "wheat", "places": "USA"},
    {"id": "p3", "body": "wheat", "places": []},
    {"id": "p4", "body": "wheat"},
    {"id": "p5", "body": "wheat", "places": ["uk"], "orgs": ["Ec"]},
    {"id": "p6", "body": "wheat", "places": 5},
]


def test_keyword_fields_are_searchable_and_recorded(tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "places.jsonl", PLACES)  # type: ignore[arg-type]
    index = Index.create(tmp_path / "ix", keyword_fields=["places", "group=orgs"])
    assert index.keyword_fields == {"place": "places", "group": "orgs"}
    report = index.add(load_documents(source, keyword_fields=index.keyword_fields))
    assert report.added == 5
    assert [str(r) for r in report.rejected] == [
        f"{source}:6: places must be a string or a list of strings"
    ]
    assert ids(index, "place:usa") == ["p1", "p2"]
    assert ids(index, "place:CANADA") == ["p1"]
    assert ids(index, "place:u*") == ["p1", "p2", "p5"]
    assert ids(index, "wheat -place:usa") == ["p3", "p4", "p5"]
    assert ids(index, "group:ec") == ["p5"]
    reopened = Index.open(tmp_path / "ix")
    assert reopened.keyword_fields == {"place": "places", "group": "orgs"}
    assert ids(reopened, 'place:"usa"') == ["p1", "p2"]
    assert reopened.get("p1").keywords == {"place": ("usa", "Canada")}  # as written
    with pytest.raises(
        QuerySyntaxError, match=r"only selects: no score to boost \(at position 9\)"
    ):
        reopened.search("place:usa^2")  # a filter, as tag: is
    with pytest.raises(QuerySyntaxError, match=r"unknown field 'places:' \(known: title, body, "
                       r"tag, source, id, date, place, group\)"):  # fmt: skip
        reopened.search("places:usa")


def test_an_index_without_keyword_fields_does_not_know_their_names(
    tmp_path: Path, corpus_file: Path
) -> None:
    index = Index.create(tmp_path / "ix")
    index.add(load_documents(corpus_file))
    assert index.keyword_fields == {}
    with pytest.raises(QuerySyntaxError, match=r"unknown field 'place:'"):
        index.search("place:usa")


def test_changed_keyword_values_update_the_document(tmp_path: Path) -> None:
    index = Index.create(tmp_path / "ix", keyword_fields=["places"])
    first = Document(id="a", body="wheat", keywords={"place": ("usa",)})
    assert index.add([first]).added == 1
    assert index.add([first]).unchanged == 1
    moved = Document(id="a", body="wheat", keywords={"place": ("uk",)})
    assert index.add([moved]).updated == 1
    assert (ids(index, "place:usa"), ids(index, "place:uk")) == ([], ["a"])


def test_a_document_without_keywords_keeps_its_fingerprint() -> None:
    # Indexes built before keyword fields existed see their documents as unchanged.
    doc = Document(id="a", body="x", tags=("t",))
    assert doc.fingerprint() == Document(id="a", body="x", tags=("t",), keywords={}).fingerprint()
    assert doc.fingerprint() != Document(id="a", body="x", tags=("t",),
                                         keywords={"place": ("t",)}).fingerprint()  # fmt: skip


@pytest.mark.parametrize(
    ("spec", "reason"),
    [
        ("Places", "keyword field 'Places': a field name is lower-case letters a-z"),
        ("place_names", "keyword field 'place_names': a field name is lower-case letters a-z"),
        ("tags", "keyword field 'tags': 'tag' is a field of its own already"),
        ("dates", "keyword field 'dates': 'date' is a field of its own already"),
        ("where=source", "keyword field 'where=source': the record key 'source' is read already"),
        ("where=", "keyword field 'where=': the record key '' is read already"),
    ],
)
def test_keyword_field_names_that_are_refused(tmp_path: Path, spec: str, reason: str) -> None:
    with pytest.raises(NewssearchError) as caught:
        Index.create(tmp_path / "ix", keyword_fields=[spec])
    assert str(caught.value) == reason
    assert not (tmp_path / "ix").exists()


def test_the_postings_cache_keeps_to_its_byte_budget(tmp_path: Path) -> None:
    words = [f"w{n}" for n in range(60)]
    Index.create(tmp_path / "ix").add(
        Document(f"d{n}", body=" ".join(words[n % 7 :: 3])) for n in range(300)
    )
    sizes = {}
    for budget in (20_000, 10**9):
        index = Index.open(tmp_path / "ix", cache_bytes=budget)
        found = [index.search(word, snippets=False).total for word in words]
        assert all(found)
        sizes[budget] = index._postings.size
    assert 0 < sizes[20_000] <= 20_000 < sizes[10**9]
    assert Index.open(tmp_path / "ix", cache_bytes=0).search("w3", snippets=False).total == found[3]
    with pytest.raises(NewssearchError, match=r"cache_bytes must be a whole number >= 0, not -1"):
        Index.open(tmp_path / "ix", cache_bytes=-1)
