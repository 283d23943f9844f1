"""Recency: relevance times 0.5 per half-life of age, opt-in; without it, ranking as before."""

from __future__ import annotations

import calendar
from datetime import datetime, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from newssearch import Document, Index, NewssearchError, PartialDate
from newssearch.cli import main
from newssearch.recency import half_life

NOW = datetime(2020, 1, 1, tzinfo=timezone.utc)
DAY = 86_400

# Scores computed by the code before recency existed (main at 47d2c3a), on ARTICLES: the
# default ranking must not move by a bit.
BEFORE = [
    ("defense", "all", [("a8", 1.463407719), ("a3", 1.367121224), ("a7", 0.983359233)]),
    ("plan", "all", [("a1", 1.631075238), ("a2", 1.603403839), ("a8", 0.919573769)]),
    (
        "cooperation plan",
        "any",
        [("a1", 3.798100372), ("a2", 2.441439047), ("a7", 0.983359233), ("a8", 0.919573769)],
    ),
    (
        "defense cooperation army",
        "any",
        [
            ("a7", 3.693751228),
            ("a5", 2.151311971),
            ("a1", 1.547875096),
            ("a8", 1.463407719),
            ("a3", 1.367121224),
            ("a2", 0.838035208),
        ],
    ),
    ('"cooperation plan" OR harbour', "all", [("a1", 3.095750192), ("a2", 2.877598657)]),
    (
        "defen* OR tag:grain",
        "all",
        [("a8", 4.239671584), ("a3", 1.367121224), ("a7", 0.983359233), ("a4", 0.0)],
    ),
    (
        "NOT army",
        "all",
        [("a6", 0.0), ("a2", 0.0), ("a1", 0.0), ("a3", 0.0), ("a4", 0.0), ("a8", 0.0)],
    ),
]


def scored(index: Index, query: str, **options: object) -> list[tuple[str, float]]:
    found = index.search(query, limit=20, snippets=False, **options)  # type: ignore[arg-type]
    return [(h.id, h.score) for h in found.hits]


@pytest.mark.parametrize(("query", "match", "expected"), BEFORE)
def test_without_recency_scores_are_those_of_before(
    corpus_index: Index, query: str, match: str, expected: list[tuple[str, float]]
) -> None:
    assert scored(corpus_index, query, match=match) == expected
    assert scored(corpus_index, query, match=match, recency=None, now=NOW) == expected
    assert scored(corpus_index, query, match=match, facets=["tag", "date"]) == expected


def test_recency_multiplies_relevance_by_half_per_half_life(corpus_index: Index) -> None:
    # a8 is the instant 2018-12-31T10:00:00; a3 is 2019-10, as old as its last second.
    a8_age = calendar.timegm((2020, 1, 1, 0, 0, 0)) - calendar.timegm((2018, 12, 31, 10, 0, 0))
    a3_age = calendar.timegm((2020, 1, 1, 0, 0, 0)) - calendar.timegm((2019, 10, 31, 23, 59, 59))
    expected = [
        ("a3", 1.367121224 * 0.5 ** (a3_age / (30 * DAY))),
        ("a8", 1.463407719 * 0.5 ** (a8_age / (30 * DAY))),
        ("a7", 0.0),  # undated: last
    ]
    found = scored(corpus_index, "defense", recency="30d", now=NOW)
    assert [i for i, _ in found] == [i for i, _ in expected]
    for (_, score), (_, wanted) in zip(found, expected, strict=True):
        assert score == pytest.approx(wanted, rel=1e-12)
    # A half-life of ten years hardly moves them: the order of before.
    assert [i for i, _ in scored(corpus_index, "defense", recency="10y", now=NOW)] == [
        "a8",
        "a3",
        "a7",
    ]


def test_the_age_is_the_distance_to_the_date_interval(corpus_index: Index) -> None:
    # Inside 2019-10 (a3's month) a3 has age 0: its score is its relevance.
    inside = datetime(2019, 10, 15, tzinfo=timezone.utc)
    assert dict(scored(corpus_index, "defense", recency="1d", now=inside))["a3"] == 1.367121224
    # Before an article's date, the age counts up to its start: a8 one half-life ahead.
    before = datetime(2018, 12, 30, 10, 0, 0, tzinfo=timezone.utc)
    found = dict(scored(corpus_index, "defense", recency="1d", now=before))
    assert found["a8"] == pytest.approx(1.463407719 / 2, rel=1e-12)


def _index(tmp_path: Path, docs: list[tuple[str, str, str | None]]) -> Index:
    index = Index.create(tmp_path / "index")
    index.add(
        Document(id=i, body=body, date=PartialDate.parse(d) if d else None) for i, body, d in docs
    )
    return index


def test_undated_hits_come_last_by_relevance_and_tiny_factors_still_rank(tmp_path: Path) -> None:
    index = _index(
        tmp_path,
        [
            ("z-new-strong", "grain grain grain", "1987-03-01"),
            ("a-new-weak", "grain and more words here", "1987-03-01"),
            ("b-old-strong", "grain grain grain", "1987-02-01"),
            ("y-undated-strong", "grain grain grain", None),
            ("c-undated-weak", "grain and more words here", None),
        ],
    )
    # 39 years with a half-life of a day: factors of 2**-14000 are 0 as floats, but the
    # ranking is still relevance × factor: newer first, then the stronger.
    found = scored(index, "grain", recency="1d", now=datetime(2026, 1, 1))
    assert [i for i, _ in found] == [
        "z-new-strong",
        "a-new-weak",
        "b-old-strong",
        "y-undated-strong",
        "c-undated-weak",
    ]
    assert {s for _, s in found} == {0.0}


def test_recency_is_reproducible_with_the_same_clock(corpus_index: Index) -> None:
    first = scored(corpus_index, "defense cooperation army", match="any", recency="2w", now=NOW)
    assert scored(corpus_index, "defense cooperation army", match="any", recency="2w", now=NOW) == (
        first
    )


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30d", 30 * DAY), ("2w", 14 * DAY), ("1y", 365.2425 * DAY), ("6m", 182.62125 * DAY)],
)
def test_half_lives(text: str, seconds: float) -> None:
    assert half_life(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["0d", "30", "d", "30x", "-30d", "1.5d", "1000000d", "30 d", ""])
def test_bad_half_lives(corpus_index: Index, text: str) -> None:
    with pytest.raises(NewssearchError) as caught:
        corpus_index.search("defense", recency=text)
    assert str(caught.value) == (
        "recency must be a half-life of 1 to 999999 days, weeks, months or years "
        f"(30d, 2w, 6m, 1y), not {text!r}"
    )


def test_recency_needs_relevance(corpus_index: Index) -> None:
    with pytest.raises(NewssearchError, match="does not apply to sort='date'"):
        corpus_index.search("defense", recency="30d", sort="date")


def test_cli_recency(corpus_index_dir: Path) -> None:
    def ids(*extra: str) -> list[str]:
        args = ["query", "defense", "--index", str(corpus_index_dir), "--format", "jsonl", *extra]
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 0, result.output
        return [line.split('"')[3] for line in result.stdout.splitlines()]

    assert ids() == ["a8", "a3", "a7"]
    # a3 (2019-10) is ten months newer than a8 (2018-12-31): a year's half-life is enough.
    assert ids("--recency", "1y") == ["a3", "a8", "a7"]


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (
            ["--recency", "30x"],
            "Error: Invalid value for '--recency': recency must be a half-life of 1 to 999999 "
            "days, weeks, months or years (30d, 2w, 6m, 1y), not '30x'",
        ),
        (
            ["--recency", "30d", "--sort", "-date"],
            "Error: --recency ranks by relevance; it does not apply to --sort -date",
        ),
    ],
)
def test_cli_bad_recency_is_a_usage_error(
    corpus_index_dir: Path, args: list[str], error: str
) -> None:
    result = CliRunner().invoke(main, ["query", "defense", "--index", str(corpus_index_dir), *args])
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr.splitlines()[-1] == error


def test_recency_multiplies_the_expanded_scores(oracle_index: Index) -> None:
    expanded = {h.id: h for h in oracle_index.search("plan", limit=100, expand=True).hits}
    found = oracle_index.search("plan", limit=100, expand=True, recency="1y", now=NOW)
    assert found.expansion == oracle_index.search("plan", expand=True).expansion
    assert {h.id for h in found.hits} == set(expanded)
    for hit in found.hits:
        if hit.date is None:
            assert hit.score == 0.0
            continue
        date = PartialDate.parse(hit.date)
        now = NOW.timestamp()
        age = max(now - date.end, date.start - now, 0)
        wanted = expanded[hit.id].score * 0.5 ** (age / (365.2425 * DAY))
        assert hit.score == pytest.approx(wanted, rel=1e-9, abs=1e-12)
