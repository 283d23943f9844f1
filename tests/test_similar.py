"""Index.similar and `newssearch similar`: more like this on the oracle's fixture corpus."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from newssearch import Document, DocumentNotFoundError, Index, NewssearchError, similar
from newssearch.cli import main

COOP_PLAN_QUERY = (
    "((ministry OR defense OR 2020 OR signed OR azerbaijan OR plan OR belarus OR cooperation)"
    " AND NOT id:coop-plan)"
)


def test_distinctive_words_by_tf_idf(oracle_index: Index) -> None:
    # coop-plan: "The Ministry of Defense of Belarus and the Ministry of Defense of Azerbaijan
    # signed the bilateral cooperation plan for 2020. The plan provides for mutual visits."
    # Stop words are left out; words found in no other article (bilateral, mutual...) too.
    found = similar.distinctive_words(
        oracle_index._current_executor(), "", _body(oracle_index, "coop-plan")
    )
    chosen = [w for w, _, df, _ in found if df >= similar.MIN_DOC_FREQ]
    assert chosen == [
        "ministry",
        "defense",
        "2020",
        "signed",
        "azerbaijan",
        "plan",
        "belarus",
        "cooperation",
    ]
    assert {w for w, _, df, _ in found if df < similar.MIN_DOC_FREQ} == {
        "bilateral",
        "mutual",
        "provides",
        "visits",
    }
    weights = [weight for *_, weight in found]
    assert weights == sorted(weights, reverse=True)


def _body(oracle_index: Index, doc_id: str) -> str:
    return oracle_index.get(doc_id).body


def test_similar_ranks_by_the_distinctive_words_itself_excluded(oracle_index: Index) -> None:
    results = oracle_index.similar("coop-plan", limit=5)
    assert results.query == COOP_PLAN_QUERY
    assert [h.id for h in results.hits] == [
        "defense-plan-cooperation",
        "j-undated-talks",
        "m-armenia-plan",
        "j-army",
        "ministry-of-defense",
    ]
    assert results.total == 33
    everything = oracle_index.similar("coop-plan", limit=100)
    assert "coop-plan" not in {h.id for h in everything.hits}
    # The same as the query it prints, itself excluded.
    assert [h.id for h in everything.hits] == [
        h.id for h in oracle_index.search(results.query, limit=100).hits
    ]
    assert everything.hits[0].snippet is not None
    assert everything.hits[0].snippet.render("html").startswith("<mark>Defense</mark> <mark>plan")


def test_similar_with_dates_and_paging(oracle_index: Index) -> None:
    results = oracle_index.similar("j-wheat", limit=4, date_from="2019-06", date_to="2019")
    assert [(h.id, h.date) for h in results.hits] == [
        ("wheat-harvest", "2019-08-20"),
        ("j-title-only", "2019-10-05"),
        ("defense-plan-cooperation", "2019-10-31T00:00:00Z"),
        ("cafe-plain", "2019-10-31T12:00:00"),
    ]
    assert results.total == 15
    second = oracle_index.similar("j-wheat", limit=2, offset=2, date_from="2019-06", date_to="2019")
    assert [h.id for h in second.hits] == ["defense-plan-cooperation", "cafe-plain"]


def test_similar_errors_and_edge_cases(oracle_index: Index) -> None:
    with pytest.raises(DocumentNotFoundError):
        oracle_index.similar("no-such-id")
    # Every word of this article is a stop word: nothing to look for.
    nothing = oracle_index.similar("only-stop-words")
    assert (nothing.query, nothing.total, nothing.hits) == ("", 0, ())
    with pytest.raises(NewssearchError, match="at least 1"):
        similar.run(oracle_index._current_executor(), "coop-plan", max_query_terms=0)
    tight = similar.run(oracle_index._current_executor(), "coop-plan", min_doc_freq=10)
    assert tight.query == "((defense OR plan OR belarus OR cooperation) AND NOT id:coop-plan)"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_similar_command(oracle_index_dir: Path) -> None:
    code, out, err = run("similar", "coop-plan", "--limit", "2", "--index", str(oracle_index_dir))
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == f"like coop-plan: {COOP_PLAN_QUERY}"
    assert lines[1].startswith("1-2 of 33 hits (")
    assert lines[2:] == [
        "",
        "1. 2019-10-31T00:00:00Z  defense-plan-cooperation  Defense plan cooperation: the"
        " ministry planned defense cooperation with Belarus.",
        "   Defense plan cooperation: the ministry planned defense cooperation with Belarus.",
        "",
        "2. undated  j-undated-talks  Defense cooperation talks",
        "   Armenia and Belarus defense ministers planned cooperation talks.",
    ]
    code, out, _ = run(
        "similar", "j-wheat", "--json", "--limit", "2", "--index", str(oracle_index_dir)
    )
    data = json.loads(out)
    assert set(data) == {"id", "query", "total", "took_ms", "hits"}
    assert (data["id"], data["total"]) == ("j-wheat", 24)
    assert data["query"] == "((export OR wheat OR planned OR belarus) AND NOT id:j-wheat)"
    assert [h["id"] for h in data["hits"]] == ["grain-exports", "m-wheat-treaty"]
    assert data["hits"][0]["snippet"] == (
        "<mark>Wheat</mark> and grain <mark>exports</mark> from <mark>Belarus</mark> fell in 2018."
    )


def test_similar_command_errors(oracle_index_dir: Path) -> None:
    assert run("similar", "nope", "--index", str(oracle_index_dir)) == (
        1,
        "",
        "newssearch: no document with id 'nope' in the index\n",
    )
    for bad in (["--limit", "0"], ["--from", "2019-13"], ["--to", "soon"]):
        code, _, err = run("similar", "coop-plan", *bad, "--index", str(oracle_index_dir))
        assert code == 2, bad
        assert "Invalid value for" in err
    assert "most like article ID" in run("similar", "--help")[1]


def test_similar_to_an_article_whose_id_the_query_language_cannot_write(tmp_path: Path) -> None:
    index = Index.create(tmp_path / "index")
    index.add(
        [
            Document('say "cheese"', body="grain wheat export plans"),
            Document("b", body="grain wheat corn"),
            Document("c", body="grain export"),
        ]
    )
    assert [h.id for h in index.similar('say "cheese"').hits] == ["c", "b"]
