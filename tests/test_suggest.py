"""Did you mean, on the oracle's fixture corpus: exact suggestions, and none where hits are good."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import write_jsonl

from newssearch import Index, load_documents, suggest
from newssearch.cli import main


@pytest.mark.parametrize(
    ("typed", "suggestion"),
    [
        ("Nagorno-Karabkh", "Nagorno-Karabakh"),  # a bare word that splits: a phrase
        ("coperation", "cooperation"),
        ("ministery of defence", "ministry of defense"),
        ('"ministery of defence"', '"ministry of defense"'),
        ("KARABKH", "KARABAKH"),  # the case as typed
        ("Coperation plan", "Cooperation plan"),
        ("coperation -army", "cooperation -army"),  # only the corrected word changes
        ("title:coperation", "title:cooperation"),
        ('body:"ministery of defence"', 'body:"ministry of defense"'),
        ("coperation OR zzzz", "cooperation OR zzzz"),  # a word with no close word stays
        ("grain teh", "grain the"),
        # The word also under NOT: replacing it in the text would change the NOT too, so the
        # corrected query comes printed.
        ("coperation -coperation", "(cooperation AND NOT coperation)"),
    ],
)
def test_suggestions(oracle_index: Index, typed: str, suggestion: str) -> None:
    results = oracle_index.search(typed)
    assert results.suggestion == suggestion
    assert oracle_index.search(suggestion).total > results.total


@pytest.mark.parametrize(
    "typed",
    [
        "cooperation",  # good hits
        "Karabakh",  # few hits, but every word is right
        "minsk cooperation",
        "belarus treaty",
        "coper*",  # prefixes, keyword values and words under NOT are never corrected
        "tag:grian",
        "grain -coperation",
        "zzzzzz",  # nothing close
        "Nagorno-Karabkh AND date:2020",  # the correction would find nothing more
        "2O19",  # words with digits are left alone
    ],
)
def test_no_suggestion(oracle_index: Index, typed: str) -> None:
    assert oracle_index.search(typed).suggestion is None


def test_a_query_with_good_hits_never_looks_for_corrections(
    oracle_index: Index, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: object) -> None:
        raise AssertionError("looked for a correction")

    monkeypatch.setattr(suggest, "suggest", refuse)
    assert oracle_index.search("cooperation").suggestion is None
    assert oracle_index.search("cafe").total == suggest.GOOD_HITS  # good: not looked at
    with pytest.raises(AssertionError):
        oracle_index.search("grain plan")  # 3 hits: looked at


@pytest.mark.parametrize(("others", "suggestion"), [(10, None), (11, "defense")])
def test_a_word_in_the_index_is_corrected_only_for_a_far_commoner_one(
    tmp_path: Path, others: int, suggestion: str | None
) -> None:
    articles = [{"id": "uk", "body": "The defence budget."}] + [
        {"id": f"us{n}", "body": f"The defense budget, part {n}."} for n in range(others)
    ]
    index = Index.create(tmp_path / "index")
    index.add(load_documents(write_jsonl(tmp_path / "a.jsonl", articles)))
    results = index.search("defence")
    assert results.total == 1
    assert results.suggestion == suggestion  # more than 10 times as many articles


def test_cli_says_did_you_mean_on_stderr(oracle_index_dir: Path) -> None:
    result = CliRunner().invoke(
        main, ["query", "ministery of defence", "--index", str(oracle_index_dir)]
    )
    assert result.exit_code == 0
    assert result.stderr == 'did you mean: "ministry of defense"\n'
    assert result.stdout.startswith("0 hits (")
    result = CliRunner().invoke(main, ["query", "cooperation", "--index", str(oracle_index_dir)])
    assert (result.exit_code, result.stderr) == (0, "")


def test_max_edits_grow_with_the_word() -> None:
    assert [suggest.max_edits(w) for w in ("tax", "plans", "defence")] == [1, 1, 2]


def test_a_candidates_words_are_read_from_articles_spread_over_all_that_have_it(
    tmp_path: Path,
) -> None:
    # The stem `dollar`: its first articles say only `dollars` (2 edits from `dollr`, too
    # many for 5 letters); `dollar` itself is in the last ones.
    articles = [{"id": f"p{n}", "body": f"Prices in dollars, part {n}."} for n in range(8)] + [
        {"id": f"s{n}", "body": f"The dollar fell, part {n}."} for n in range(3)
    ]
    index = Index.create(tmp_path / "index")
    index.add(load_documents(write_jsonl(tmp_path / "a.jsonl", articles)))
    assert index.search("dollr").suggestion == "dollar"
