"""Query expansion by pseudo-relevance feedback (RM3) on a real index: the feedback words
worked out by hand, the scores as the interpolation of two real queries, the matches and
snippets unchanged, one extra evaluation, and the CLI's --expand."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import write_jsonl

from newssearch import Index, NewssearchError, load_documents
from newssearch.cli import main
from newssearch.engine.execute import Executor
from newssearch.expand import Expansion, feedback_tree
from newssearch.query import parse

ARTICLES: list[dict[str, object]] = [
    {"id": "c1", "title": "Cocoa", "date": "1987-03", "body": "Buffer stock."},
    {"id": "c2", "title": "", "date": "1987-03", "body": "Cocoa, cocoa and more cocoa in 1987."},
    {"id": "c3", "title": "", "date": "1987-04", "body": "Buffer stock rules agreed for cocoa"},
    {"id": "s1", "title": "", "date": "1987-04", "body": "Sugar buffer stock talks."},
    {"id": "s2", "title": "", "date": "1987-04", "body": "Sugar and coffee prices fell."},
    {"id": "k1", "title": "", "date": "1987-05", "body": "Coffee quotas talks."},
]


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Index:
    folder = tmp_path_factory.mktemp("expand")
    built = Index.create(folder / "ix")
    built.add(load_documents(write_jsonl(folder / "a.jsonl", ARTICLES)))
    return built


def scores(index: Index, text: str, **options: Any) -> dict[str, float]:
    hits = index.search(text, limit=100, snippets=False, **options).hits
    return {h.id: h.score for h in hits}


def test_the_feedback_words_are_the_relevance_model_of_the_top_hits(index: Index) -> None:
    plain = index.search("cocoa", snippets=False)
    assert [h.id for h in plain.hits] == ["c1", "c2", "c3"]
    top = {h.id: h.score for h in plain.hits[:2]}
    share = {doc_id: score / sum(top.values()) for doc_id, score in top.items()}
    # c1: the title word `cocoa` counts 3 times, so 5 words: cocoa 3/5, buffer 1/5, stock 1/5.
    # c2: 7 words (`and`, `in` and `1987` count in the length, but stop words and numbers are
    # never feedback words): cocoa 3/7.
    model = {
        "cocoa": share["c1"] * 3 / 5 + share["c2"] * 3 / 7,
        "buffer": share["c1"] / 5,
        "stock": share["c1"] / 5,
    }
    expanded = index.search("cocoa", snippets=False, expand=Expansion(docs=2, terms=2))
    # `buffer` and `stock` tie: the smaller stem goes first.
    assert [word for word, _ in expanded.expansion] == ["cocoa", "buffer"]
    mass = model["cocoa"] + model["buffer"]
    for word, weight in expanded.expansion:
        assert weight == pytest.approx(model[word] / mass, abs=1e-12), word
    three = index.search("cocoa", snippets=False, expand=Expansion(docs=2, terms=10))
    assert [word for word, _ in three.expansion] == ["cocoa", "buffer", "stock"]
    assert sum(weight for _, weight in three.expansion) == pytest.approx(1.0)


@pytest.mark.parametrize("text", ["cocoa", "cocoa stock", "buffer -sugar", '"buffer stock"'])
@pytest.mark.parametrize("match", ["any", "all"])
def test_scores_interpolate_the_query_and_the_printed_feedback_query(
    index: Index, text: str, match: str
) -> None:
    settings = Expansion(docs=2, terms=3, original_weight=0.3)
    expanded = index.search(text, limit=100, match=match, snippets=False, expand=settings)
    assert expanded.expansion
    # The feedback query is a tree of boosted words: printed, it is a query of its own.
    feedback = str(feedback_tree(parse(text, match), expanded.expansion))
    assert "^" in feedback
    plain, more = scores(index, text, match=match), scores(index, feedback)
    ours = {h.id: h.score for h in expanded.hits}
    assert ours.keys() == plain.keys()  # the matches stay the query's own
    assert expanded.total == index.search(text, match=match).total
    for doc_id, score in ours.items():
        expected = 0.3 * plain[doc_id] + 0.7 * more.get(doc_id, 0.0)
        assert score == pytest.approx(expected, abs=1e-8), doc_id


def test_expansion_reorders_the_matches(index: Index) -> None:
    # `buffer stock` is what c1, the best hit, says beside `cocoa`: c3 has it and passes c2.
    assert list(scores(index, "cocoa")) == ["c1", "c2", "c3"]
    heavier = Expansion(docs=3, original_weight=0.2)
    assert list(scores(index, "cocoa", expand=heavier)) == ["c1", "c3", "c2"]


def test_original_weight_1_is_the_plain_ranking(index: Index) -> None:
    plain = scores(index, "sugar coffee", match="any")
    same = scores(index, "sugar coffee", match="any", expand=Expansion(original_weight=1.0))
    assert list(same) == list(plain)
    assert same == pytest.approx(plain, abs=1e-9)


def test_a_query_of_filters_alone_has_nothing_to_feed_back(index: Index) -> None:
    found = index.search("date:1987-04", expand=True)
    assert (found.expansion, [h.id for h in found.hits]) == ((), ["c3", "s1", "s2"])
    nothing = index.search("zebra", expand=True)
    assert (nothing.total, nothing.hits, nothing.expansion) == (0, (), ())


def test_snippets_mark_only_the_users_words(index: Index) -> None:
    found = index.search("cocoa", expand=Expansion(docs=3))
    assert {word for word, _ in found.expansion} >= {"buffer", "stock"}
    marked = {
        hit.id: [hit.snippet.text[a:b] for a, b in hit.snippet.spans]
        for hit in found.hits
        if hit.snippet
    }
    # c1's body says `Buffer stock.`: feedback words, never marked.
    assert marked == {"c1": [], "c2": ["Cocoa", "cocoa", "cocoa"], "c3": ["cocoa"]}


def test_expansion_costs_one_more_evaluation(index: Index, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real_run = Executor.run

    def counted(self: Executor, tree: Any, scored: bool) -> Any:
        calls.append(str(tree))
        return real_run(self, tree, scored)

    monkeypatch.setattr(Executor, "run", counted)
    index.search("cocoa stock", match="any")
    assert calls == ["(cocoa OR stock)"]
    calls.clear()
    found = index.search("cocoa stock", match="any", expand=Expansion(terms=2))
    feedback = feedback_tree(parse("cocoa stock", "any"), found.expansion)
    assert calls == ["(cocoa OR stock)", str(feedback)]


def test_bad_expansion_settings_are_refused(index: Index) -> None:
    with pytest.raises(NewssearchError, match="cannot go with sort='date'"):
        index.search("cocoa", sort="date", expand=True)
    with pytest.raises(NewssearchError, match="at least 1 feedback document and 1 word"):
        Expansion(docs=0)
    with pytest.raises(NewssearchError, match=r"between 0 and 1, not 1\.5"):
        Expansion(original_weight=1.5)


def test_cli_expand(index: Index) -> None:
    runner = CliRunner()
    found = runner.invoke(
        main, ["query", "cocoa", "--index", str(index.path), "--expand", "--no-snippets"]
    )
    assert found.exit_code == 0, found.output
    lines = found.output.splitlines()
    assert lines[1] == (
        "re-ranked with the top hits' words: cocoa 0.58, buffer 0.16, stock 0.16, agreed 0.05, "
        "rules 0.05"
    )
    assert [line.split()[2] for line in lines[2:] if line] == ["c1", "c2", "c3"]
    as_json = runner.invoke(
        main, ["query", "cocoa", "--index", str(index.path), "--expand", "--json"]
    )
    record = json.loads(as_json.output)
    assert [h["id"] for h in record["hits"]] == ["c1", "c2", "c3"]
    assert [word for word, _ in record["expansion"]] == [
        "cocoa",
        "buffer",
        "stock",
        "agreed",
        "rules",
    ]
    plain = json.loads(
        runner.invoke(main, ["query", "cocoa", "--index", str(index.path), "--json"]).output
    )
    assert "expansion" not in plain
    refused = runner.invoke(
        main, ["query", "cocoa", "--index", str(index.path), "--expand", "--sort", "date"]
    )
    assert refused.exit_code == 2
    assert refused.output.endswith(
        "Error: --expand re-ranks by relevance: it cannot go with --sort date\n"
    )


def test_expand_help_is_shown() -> None:
    found = CliRunner().invoke(main, ["query", "--help"])
    assert "--expand" in found.output and "pseudo-relevance feedback" in found.output


def test_the_installed_entry_point_expands(index: Index, tmp_path: Path) -> None:
    import subprocess
    import sys

    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "newssearch",
            "query",
            "cocoa",
            "--index",
            str(index.path),
            "--expand",
            "--json",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert [h["id"] for h in json.loads(done.stdout)["hits"]] == ["c1", "c2", "c3"]
