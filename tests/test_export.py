"""Export: every hit, in rank order, as JSON Lines or CSV, read a page at a time."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import ARTICLES, write_jsonl

from newssearch import Index, NewssearchError, load_documents
from newssearch import search as search_module
from newssearch.cli import main

ODD = {
    "id": "odd,1",
    "title": 'Grain "deal", signed',
    "date": "2021-02-03",
    "body": "Grain\nprices fell;\n  sharply, they said.",
    "url": "https://example.com/a?b=1,2",
    "source": "Wire, Inc.",
    "tags": ["grain", "Trade Talks"],
}


@pytest.fixture
def corpus_dir(tmp_path: Path) -> Path:
    source = write_jsonl(tmp_path / "articles.jsonl", [*ARTICLES, ODD])
    result = CliRunner().invoke(main, ["index", str(source), "--index", str(tmp_path / "ix")])
    assert result.exit_code == 0, result.output
    return tmp_path / "ix"


def export(corpus_dir: Path, *args: str) -> str:
    result = CliRunner().invoke(main, ["query", *args, "--index", str(corpus_dir)])
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    return result.stdout


def test_jsonl_is_every_hit_with_plain_fields(corpus_dir: Path) -> None:
    def record(*values: object) -> str:
        fields = ("id", "title", "date", "score", "url", "source", "tags", "snippet")
        return json.dumps(dict(zip(fields, values, strict=True)), ensure_ascii=False)

    assert export(corpus_dir, "defense OR grain", "--format", "jsonl").splitlines() == [
        record(
            "odd,1",
            'Grain "deal", signed',
            "2021-02-03",
            2.366610411,
            "https://example.com/a?b=1,2",
            "Wire, Inc.",
            ["grain", "Trade Talks"],
            "Grain prices fell; sharply, they said.",  # plain text, white space folded
        ),
        record(
            "a4",
            "Grain exports rise",
            "2019",
            2.144883183,
            "",
            "",
            ["grain", "wheat"],
            "Wheat and corn exports rose sharply in the autumn.",
        ),
        record(
            "a8",
            "Defence spending",
            "2018-12-31T10:00:00",
            1.624291264,
            "",
            "",
            [],
            "Defense budgets and defensive planning were debated by the ministry for defense.",
        ),
        record(
            "a3",
            "Ministry of Defense officials met.",
            "2019-10",
            1.517564655,
            "",
            "Report.az",
            [],
            "Ministry of Defense officials met. Defense of the ministry was absent.",
        ),
        record(
            "a7",
            "Undated note",
            None,
            1.090565545,
            "",
            "",
            [],
            "Defense cooperation between the two armies was discussed.",
        ),
    ]


def test_csv_has_a_header_and_quotes_what_needs_it(corpus_dir: Path) -> None:
    out = export(corpus_dir, "grain OR defense", "--format", "csv", "--limit", "3")
    assert out == (
        "id,title,date,score,url,source,tags,snippet\n"
        '"odd,1","Grain ""deal"", signed",2021-02-03,2.366610411,"https://example.com/a?b=1,2",'
        '"Wire, Inc.",grain;Trade Talks,"Grain prices fell; sharply, they said."\n'
        "a4,Grain exports rise,2019,2.144883183,,,grain;wheat,"
        "Wheat and corn exports rose sharply in the autumn.\n"
        "a8,Defence spending,2018-12-31T10:00:00,1.624291264,,,,"
        "Defense budgets and defensive planning were debated by the ministry for defense.\n"
    )
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["id"] for r in rows] == ["odd,1", "a4", "a8"]
    assert rows[0]["tags"].split(";") == ["grain", "Trade Talks"]
    assert rows[0]["title"] == 'Grain "deal", signed'


def test_no_snippets_and_undated(corpus_dir: Path) -> None:
    out = export(corpus_dir, "cooperation", "--format", "csv", "--no-snippets")
    assert out.splitlines() == [
        "id,title,date,score,url,source,tags,snippet",
        "a1,Cooperation plan signed,2019-10-31,1.718231166,,,defense,",
        "a7,Undated note,,1.090565545,,,,",
        "a2,Plans for the harbour,2019-11-01,0.928421989,,,ports;Economy,",
    ]
    lines = export(corpus_dir, "army", "--format", "jsonl", "--no-snippets").splitlines()
    assert [json.loads(line)["snippet"] for line in lines] == [None, None]
    assert [json.loads(line)["date"] for line in lines] == ["2019-10-31T23:30:00-02:00", None]


def test_every_hit_not_a_page_and_offset_and_limit(oracle_index_dir: Path) -> None:
    corpus_dir = oracle_index_dir
    everything = [
        json.loads(line)["id"]
        for line in export(corpus_dir, "NOT zebra", "--format", "jsonl").splitlines()
    ]
    assert len(everything) == 41  # every article, not the default 10
    with Index.open(corpus_dir) as index:
        assert everything == [h.id for h in index.search("NOT zebra", limit=100).hits]

    def ids(*args: str) -> list[str]:
        out = export(corpus_dir, "NOT zebra", "--format", "jsonl", *args)
        return [json.loads(line)["id"] for line in out.splitlines()]

    assert ids("--offset", "7") == everything[7:]
    assert ids("--limit", "3", "--offset", "2") == everything[2:5]
    assert ids("--limit", "10") == everything[:10]
    with Index.open(corpus_dir) as index:
        by_date = [h.id for h in index.search("NOT zebra", limit=100, sort="date").hits]
    assert ids("--sort", "date") == by_date


@pytest.mark.parametrize("page", [1, 2, 3, 500])
def test_pages_join_into_the_ranking(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, page: int
) -> None:
    monkeypatch.setattr(search_module, "EXPORT_PAGE", page)
    index = Index.create(tmp_path / "index")
    # Many exact ties: the pages must break them by id as one ranking does.
    index.add(
        load_documents(
            write_jsonl(
                tmp_path / "a.jsonl",
                [
                    {"id": f"d{i:02d}", "title": "", "body": "grain " * (1 + i % 3), "date": d}
                    for i, d in enumerate(["2019", "2019", "2020-01", None] * 6)
                ],
            )
        )
    )
    for sort in ("relevance", "date", "-date"):
        ranked = [h.id for h in index.search("grain", limit=100, sort=sort, snippets=False).hits]
        assert [h.id for h in index.iter_hits("grain", sort=sort, snippets=False)] == ranked
        assert [h.id for h in index.iter_hits("grain", sort=sort, offset=5, limit=7)] == ranked[
            5:12
        ]


def test_iter_hits_checks_its_arguments_at_once(corpus_index: Index) -> None:
    with pytest.raises(NewssearchError, match="limit must be at least 1"):
        corpus_index.iter_hits("defense", limit=0)
    with pytest.raises(NewssearchError, match="sort must be one of"):
        corpus_index.iter_hits("defense", sort="newest")
    assert list(corpus_index.iter_hits("zebra")) == []


def test_json_and_format_must_agree(corpus_dir: Path) -> None:
    result = CliRunner().invoke(
        main, ["query", "defense", "--index", str(corpus_dir), "--json", "--format", "jsonl"]
    )
    assert (result.exit_code, result.stdout) == (2, "")
    assert (
        result.stderr.splitlines()[-1] == "Error: --json and --format jsonl contradict each other"
    )
    result = CliRunner().invoke(
        main, ["query", "defense", "--index", str(corpus_dir), "--format", "xml"]
    )
    assert result.exit_code == 2
    assert "Invalid value for '--format'" in result.stderr


def test_the_stream_reads_the_commit_it_started_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(search_module, "EXPORT_PAGE", 2)
    index = Index.create(tmp_path / "index")
    index.add(load_documents(write_jsonl(tmp_path / "a.jsonl", ARTICLES)))
    before = [h.id for h in index.search("NOT zebra", limit=100).hits]
    stream = index.iter_hits("NOT zebra")
    first = next(stream)
    index.delete(["a1"])  # a new commit, and a search that replaces the index's searcher
    assert index.search("NOT zebra").total == len(before) - 1
    assert [first.id, *(h.id for h in stream)] == before
    stopped = index.iter_hits("NOT zebra")
    next(stopped)
    stopped.close()  # stopping early closes its searcher: nothing is left open


def test_the_export_follows_expand_like_the_page(oracle_index_dir: Path) -> None:
    out = export(oracle_index_dir, "plan", "--format", "jsonl", "--expand", "--no-snippets")
    with Index.open(oracle_index_dir) as index:
        page = index.search("plan", limit=100, expand=True, snippets=False).hits
    assert [json.loads(line)["id"] for line in out.splitlines()] == [h.id for h in page]
    assert [json.loads(line)["score"] for line in out.splitlines()] == [h.score for h in page]
