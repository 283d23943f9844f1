"""Facets over the hand-made corpus: exact counts and order, the date precision rule, the CLI."""

from __future__ import annotations

import itertools
import json
import os
import pty
import subprocess
import sys
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import REUTERS, need_corpus, write_jsonl

from newssearch import Document, Index, NewssearchError, PartialDate, load_documents
from newssearch.analysis import fold
from newssearch.cli import main
from newssearch.cli.querying import _print_facets
from newssearch.facets import Facet, parse_facets

EVERYTHING = "NOT zebra"  # matches all eight articles


def test_facets_count_every_match_not_the_page(corpus_index: Index) -> None:
    results = corpus_index.search(EVERYTHING, limit=1, facets=["tag", "source", "date"])
    assert results.total == 8 and len(results.hits) == 1
    assert results.facets == {
        # count first, then value; folded as indexed (`Economy` -> `economy`)
        "tag": [("defense", 2), ("economy", 1), ("grain", 1), ("ports", 1), ("wheat", 1)],
        "source": [("report.az", 2)],
        # 2018-12-31 .. 2020-01-15 is 14 months: months. a4 is dated `2019`, a year: its own
        # bucket, before 2019's months; a5 is 2019-11-01T01:30Z in UTC; a7 is undated.
        "date": [("2018-12", 1), ("2019", 1), ("2019-10", 2), ("2019-11", 2), ("2020-01", 1)],
    }


def test_only_the_facets_asked_for_in_their_order(corpus_index: Index) -> None:
    assert corpus_index.search(EVERYTHING).facets == {}
    found = corpus_index.search("defense", facets=["date", "tag"]).facets
    assert list(found) == ["date", "tag"]
    assert found == {"date": [("2018-12", 1), ("2019-10", 1)], "tag": []}


def test_facets_follow_the_query_and_filters(corpus_index: Index) -> None:
    found = corpus_index.search(
        "tag:defense OR source:report.az", facets=["tag", "source"], date_to="2019-12"
    )
    assert found.facets == {"tag": [("defense", 2)], "source": [("report.az", 1)]}
    assert corpus_index.search("zebra", facets=["tag", "source", "date"]).facets == {
        "tag": [],
        "source": [],
        "date": [],
    }


def test_days_for_a_span_of_a_month(corpus_index: Index) -> None:
    # a1 2019-10-31, a2 2019-11-01, a3 2019-10 (a month: its own bucket), a5 2019-11-01 UTC
    found = corpus_index.search("date:[2019-10-31 TO 2019-11-01] -tag:grain", facets=["date"])
    assert found.facets["date"] == [("2019-10", 1), ("2019-10-31", 1), ("2019-11-01", 2)]


@pytest.mark.parametrize(
    ("precision", "expected"),
    [
        ("year", [("2018", 1), ("2019", 5), ("2020", 1)]),
        (
            "day",
            [
                ("2018-12-31", 1),
                ("2019", 1),
                ("2019-10", 1),
                ("2019-10-31", 1),
                ("2019-11-01", 2),
                ("2020-01-15", 1),
            ],
        ),
    ],
)
def test_a_given_precision(corpus_index: Index, precision: str, expected: list[object]) -> None:
    assert corpus_index.search(EVERYTHING, facets=[f"date:{precision}"]).facets == {
        "date": expected
    }


def _dated_index(tmp_path: Path, *dates: str) -> Index:
    index = Index.create(tmp_path / "index")
    index.add(
        Document(id=f"d{i}", body="news", date=PartialDate.parse(d)) for i, d in enumerate(dates)
    )
    return index


@pytest.mark.parametrize(
    ("first", "last", "labels"),
    [
        ("2020-01-01", "2020-02-05", ("2020-01-01", "2020-02-05")),  # 36 days
        ("2020-01-01", "2020-02-06", ("2020-01", "2020-02")),  # 37 days
        ("2020-01", "2022-12", ("2020-01", "2022-12")),  # 36 months
        ("2020-01", "2023-01", ("2020", "2023")),  # 37 months
        ("0001-01-01T00:00:00Z", "9999-12-31", ("0001", "9999")),
    ],
)
def test_the_finest_precision_with_at_most_36_buckets(
    tmp_path: Path, first: str, last: str, labels: tuple[str, str]
) -> None:
    index = _dated_index(tmp_path, first, last)
    assert index.search("news", facets=["date"]).facets["date"] == [(labels[0], 1), (labels[1], 1)]


def test_deleted_articles_are_not_counted(tmp_path: Path) -> None:
    index = Index.create(tmp_path / "index")
    index.add(
        Document(id=str(i), body="news", tags=("a",) if i % 2 else ("a", "b")) for i in range(6)
    )
    index.delete(["0", "1"])
    assert index.search("news", facets=["tag"]).facets == {"tag": [("a", 4), ("b", 2)]}


def test_parse_facets() -> None:
    assert parse_facets(["tag", "date:month", "tag"]) == (Facet("tag"), Facet("date", "month"))
    assert parse_facets([]) == ()


@pytest.mark.parametrize(
    ("names", "reason"),
    [
        (
            ["tags"],
            "unknown facet 'tags' (known: tag, source, date, date:year, date:month, date:day)",
        ),
        (
            ["date:week"],
            "unknown facet 'date:week' (known: tag, source, date, date:year, date:month, date:day)",
        ),
        (["date", "date:day"], "one date facet at a time, not 'date' and 'date:day'"),
        ("tag", "facets is a list of names, such as ['tag'], not a string"),
    ],
)
def test_bad_facets_are_refused(corpus_index: Index, names: list[str], reason: str) -> None:
    with pytest.raises(NewssearchError) as caught:
        corpus_index.search("defense", facets=names)
    assert str(caught.value) == reason


# ---- the command line ----------------------------------------------------------------------


def test_facets_are_printed_after_the_hits(corpus_index_dir: Path) -> None:
    result = CliRunner().invoke(
        main,
        ["query", "plan OR army", "--index", str(corpus_index_dir), "--facets", "tag,source,date"],
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.split("\n\ntag:\n", 1)[1] == (
        "  defense  2\n"
        "  economy  1\n"
        "  ports    1\n"
        "\n"
        "source:\n"
        "\n"
        "date:\n"
        "  2018-12  1\n"
        "  2019-10  1\n"
        "  2019-11  2\n"
        "  undated  1\n"
    )


def test_facets_in_json(corpus_index_dir: Path) -> None:
    args = ["query", "defense", "--index", str(corpus_index_dir), "--no-snippets"]
    plain = json.loads(CliRunner().invoke(main, [*args, "--json"]).stdout)
    assert "facets" not in plain
    for form in (["--json"], ["--format", "json"]):
        data = json.loads(CliRunner().invoke(main, [*args, *form, "--facets", "date:year"]).stdout)
        assert data["facets"] == {"date": [["2018", 1], ["2019", 1]]}
        assert {k: v for k, v in data.items() if k not in ("facets", "took_ms")} == {
            k: v for k, v in plain.items() if k != "took_ms"
        }


def test_a_terminal_gets_bars_for_dates_and_the_first_ten_values(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    index = Index.create(tmp_path / "index")
    index.add(
        Document(id=str(i), body="news", tags=(f"t{i % 12:02d}",), date=PartialDate.parse(d))
        for i, d in enumerate(["2020-01"] * 8 + ["2020-02"] * 4 + ["2020-03"])
    )
    _print_facets(index.search("news", facets=["tag", "date"]), terminal=True)
    assert capsys.readouterr().out == (
        "\ntag:\n"
        + "".join(f"  {t}  2\n" for t in ("t00",))
        + "".join(f"  t{i:02d}  1\n" for i in range(1, 10))
        + "  … 2 more (--format json lists them all)\n"
        "\ndate:\n"
        "  2020-01  8  " + "█" * 40 + "\n"
        "  2020-02  4  " + "█" * 20 + "\n"
        "  2020-03  1  " + "█" * 5 + "\n"
    )


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (
            ["--facets", "tag,author"],
            "Error: Invalid value for '--facets': unknown facet 'author' (known: tag, source, "
            "date, date:year, date:month, date:day)",
        ),
        (
            ["--facets", "tag", "--format", "csv"],
            "Error: --facets is printed with --format text or json, not csv",
        ),
    ],
)
def test_bad_facet_options_are_usage_errors(
    corpus_index_dir: Path, args: list[str], error: str
) -> None:
    result = CliRunner().invoke(main, ["query", "defense", "--index", str(corpus_index_dir), *args])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.splitlines()[-1] == error


def test_the_installed_command_draws_bars_on_a_terminal_and_not_in_a_pipe(
    corpus_index_dir: Path,
) -> None:
    script = Path(sys.executable).parent / "newssearch"
    args = [str(script), "query", "NOT zebra", "--index", str(corpus_index_dir), "--no-snippets"]
    args += ["--facets", "date:year", "--limit", "1"]
    piped = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    assert piped.endswith("\ndate:\n  2018     1\n  2019     5\n  2020     1\n  undated  1\n")
    leader, follower = pty.openpty()
    with subprocess.Popen(args, stdout=follower, stderr=subprocess.DEVNULL) as child:
        os.close(follower)
        out = b""
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # the terminal closed with the child
                break
            if not chunk:
                break
            out += chunk
    os.close(leader)
    assert child.returncode == 0
    text = out.decode().replace("\r\n", "\n")
    assert text.endswith(
        "\ndate:\n"
        f"  2018     1  {'█' * 8}\n"
        f"  2019     5  {'█' * 40}\n"
        f"  2020     1  {'█' * 8}\n"
        f"  undated  1  {'█' * 8}\n"
    )


# ---- checked on Reuters ----------------------------------------------------------------------

REUTERS_COUNT = 6_000  # more than one segment of 5,000


@pytest.fixture(scope="module")
def reuters(tmp_path_factory: pytest.TempPathFactory) -> tuple[Index, dict[str, Document]]:
    docs = itertools.islice(
        (d for d in load_documents(need_corpus(REUTERS)) if isinstance(d, Document)),
        REUTERS_COUNT,
    )
    by_id = {d.id: d for d in docs}
    index = Index.create(tmp_path_factory.mktemp("reuters") / "index")
    index.add(by_id.values())
    gone = sorted(by_id)[::97]
    assert index.delete(gone) == gone
    for doc_id in gone:
        del by_id[doc_id]
    return index, by_id


def _month(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m")


@pytest.mark.parametrize(
    "query", ["NOT id:none", "grain OR wheat", "oil AND date:1987-03", "tag:earn", "said -mln"]
)
def test_reuters_facets_equal_counts_from_the_documents(
    reuters: tuple[Index, dict[str, Document]], query: str
) -> None:
    index, by_id = reuters
    results = index.search(query, limit=1, facets=["tag", "date:month"])
    matched = [by_id[h.id] for h in index.iter_hits(query, snippets=False)]
    assert results.total == len(matched) > 10
    # An article counts once per value: reuters-5467 lists `corn` twice.
    tags = Counter(t for d in matched for t in {fold(t) for t in d.tags})
    assert results.facets["tag"] == sorted(tags.items(), key=lambda item: (-item[1], item[0]))
    months = Counter(_month(d.date.start) for d in matched if d.date is not None)
    assert results.facets["date"] == sorted(months.items())


def test_an_index_s_own_keyword_fields_are_facets_too(tmp_path: Path) -> None:
    records = [
        {"id": "p1", "body": "grain", "places": ["USA", "Canada"], "date": "2020-01-02"},
        {"id": "p2", "body": "grain", "places": "usa"},
        {"id": "p3", "body": "grain oil", "places": []},
    ]
    source = write_jsonl(tmp_path / "places.jsonl", records)
    folder = str(tmp_path / "index")
    result = CliRunner().invoke(
        main, ["index", str(source), "--index", folder, "--keyword-field", "places"]
    )
    assert result.exit_code == 0, result.output
    with Index.open(folder) as index:
        assert index.search("grain", facets=["place", "tag"]).facets == {
            "place": [("usa", 2), ("canada", 1)],
            "tag": [],
        }
    result = CliRunner().invoke(
        main, ["query", "grain", "--index", folder, "--facets", "place", "--json"]
    )
    assert json.loads(result.stdout)["facets"] == {"place": [["usa", 2], ["canada", 1]]}
    result = CliRunner().invoke(main, ["query", "grain", "--index", folder, "--facets", "org"])
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr.splitlines()[-1] == (
        "Error: Invalid value for '--facets': unknown facet 'org' (known: tag, source, place, "
        "date, date:year, date:month, date:day)"
    )
