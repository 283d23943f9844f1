"""Results as a library user meets them: the JSON form, counting, titles, reprs for notebooks."""

from __future__ import annotations

from pathlib import Path

import pytest

from newssearch import Document, Index, NewssearchError
from newssearch.query import parse
from newssearch.snippets import Snippet, make_snippet, mark_text


def test_hit_json_form_is_complete(corpus_index: Index) -> None:
    first, second = corpus_index.search("army").hits
    assert first.to_dict() == {
        "id": "a5",
        "title": "Briefly: army parade",
        "date": "2019-10-31T23:30:00-02:00",
        "score": first.score,
        # a5 has a title and no body: the title is its snippet.
        "snippet": "Briefly: <mark>army</mark> parade",
        "snippet_text": "Briefly: army parade",
        "snippet_highlights": [[9, 13]],
        "title_generated": False,
        "title_highlights": [[9, 13]],
        "tags": ["defense"],
        "source": "",
        "url": "",
    }
    assert first.score == pytest.approx(2.151311971)
    assert second.to_dict()["snippet_highlights"] == [[36, 42]]  # "armies"
    assert second.to_dict()["date"] is None


def test_made_up_title_is_marked_generated_and_highlighted_by_body_words(
    corpus_index: Index,
) -> None:
    untitled, titled = corpus_index.search("defense ministry").hits
    assert untitled.to_dict() | {"score": 0} == {
        "id": "a3",
        "title": "Ministry of Defense officials met.",
        "date": "2019-10",
        "score": 0,
        "snippet": "<mark>Ministry</mark> of <mark>Defense</mark> officials met. "
        "<mark>Defense</mark> of the <mark>ministry</mark> was absent.",
        "snippet_text": "Ministry of Defense officials met. Defense of the ministry was absent.",
        "snippet_highlights": [[0, 8], [12, 19], [35, 42], [50, 58]],
        "title_generated": True,
        "title_highlights": [[0, 8], [12, 19]],
        "tags": [],
        "source": "Report.az",
        "url": "",
    }
    assert (titled.id, titled.title_generated, titled.title_spans) == ("a8", False, ())
    # title: words mark real titles only; a made-up title is body text.
    a8, a3, _ = corpus_index.search("title:defence OR body:defense").hits
    assert [a8.title[s:e] for s, e in a8.title_spans] == ["Defence"]
    assert [a3.title[s:e] for s, e in a3.title_spans] == ["Defense"]


def test_no_snippets_means_no_marks_either(corpus_index: Index) -> None:
    hit = corpus_index.search("army", snippets=False).hits[0]
    assert (hit.snippet, hit.title_spans) == (None, ())
    assert hit.to_dict()["snippet"] is None
    assert hit.to_dict()["snippet_text"] is None
    assert hit.to_dict()["snippet_highlights"] == []


def test_results_json_form(corpus_index: Index) -> None:
    results = corpus_index.search("army", limit=1, offset=1)
    data = results.to_dict()
    assert list(data) == ["query", "total", "took_ms", "hits"]
    assert (data["query"], data["total"], data["took_ms"]) == ("army", 2, round(results.took_ms, 3))
    assert data["hits"] == [results.hits[0].to_dict()]


def test_limit_zero_counts_without_hits(corpus_index: Index) -> None:
    for query, total in [("plan", 3), ("NOT army", 6), ("defense date:2019", 1), ("zzz", 0)]:
        results = corpus_index.search(query, limit=0)
        assert (results.total, results.hits) == (total, ())
        assert results.total == corpus_index.search(query, limit=100).total
    assert corpus_index.search("plan", limit=0, sort="date", date_to="2019-10").total == 2
    counted = corpus_index.search("plan", limit=0, facets=["tag"], expand=True, recency="30d")
    assert (counted.total, counted.hits, counted.expansion) == (3, (), ())
    assert counted.facets == corpus_index.search("plan", facets=["tag"]).facets
    with pytest.raises(NewssearchError, match=r"^limit must be at least 0, not -1$"):
        corpus_index.search("plan", limit=-1)


def test_results_iterate_over_the_page(corpus_index: Index) -> None:
    results = corpus_index.search("NOT army", limit=4)
    assert len(results) == 4 and results.total == 6
    assert [hit.id for hit in results] == [hit.id for hit in results.hits]
    assert len(corpus_index.search("zzz")) == 0


def test_reprs(corpus_index: Index) -> None:
    results = corpus_index.search("cooperation plan")
    assert repr(results) == (
        f"SearchResults(query='cooperation plan', total=2, hits=2, took_ms={results.took_ms:.1f})"
    )
    assert repr(results.hits[0]) == (
        f"Hit(id='a1', date='2019-10-31', score={results.hits[0].score:.3f}, "
        "title='Cooperation plan signed')"
    )
    assert repr(corpus_index) == (
        f"Index({str(corpus_index.path)!r}, language='english', documents=8)"
    )


def test_repr_html_escapes_everything(tmp_path: Path) -> None:
    index = Index.create(tmp_path / "a<b>&c")
    index.add([Document(id="x<1>", title="<b>Oil</b> & gas", body="Crude oil <i>rose</i> & fell.")])
    assert index._repr_html_() == (
        f"<p>newssearch index <code>{tmp_path}/a&lt;b&gt;&amp;c</code>: "
        "1 documents, stemmed in english</p>"
    )
    results = index.search("oil <b>")
    assert results._repr_html_() == (
        f"<p>oil &lt;b&gt;: 1 hits ({results.took_ms:.1f} ms)</p>"
        "<table><tr><th>id</th><th>date</th><th>title</th><th>snippet</th></tr>"
        "<tr><td>x&lt;1&gt;</td><td></td><td>&lt;<mark>b</mark>&gt;<mark>Oil</mark>&lt;/"
        "<mark>b</mark>&gt; &amp; gas</td>"
        "<td>Crude <mark>oil</mark> &lt;i&gt;rose&lt;/i&gt; &amp; fell.</td></tr></table>"
    )


def test_title_whitespace_is_collapsed_and_marked(tmp_path: Path) -> None:
    index = Index.create(tmp_path / "ix")
    index.add([Document(id="t", title="  Oil\n prices   rise ", body="Crude oil rose.")])
    (hit,) = index.search('"oil prices"')
    assert (hit.title, hit.title_spans) == ("Oil prices rise", ((0, 10),))
    assert mark_text("Oil prices", parse("body:oil"), "english", "title").spans == ()
    assert mark_text("Oil prices", parse("body:oil"), "english", "body").spans == ((0, 3),)


def test_snippet_ansi_is_bold_red_through_click() -> None:
    snippet = make_snippet("The plan was signed.", parse("plan"), "english")
    assert snippet.render("ansi") == "The \x1b[31m\x1b[1mplan\x1b[0m was signed."


@pytest.mark.parametrize(
    ("width", "lines"),
    [
        (100, [("the cooperation plan was signed in minsk", ((4, 20),))]),
        (20, [("the cooperation plan", ((4, 20),)), ("was signed in minsk", ())]),
        (15, [("the cooperation", ((4, 15),)), ("plan was signed", ((0, 4),)), ("in minsk", ())]),
        (3, [("the", ()), ("cooperation", ((0, 11),)), ("plan", ((0, 4),)), ("was", ())]),
    ],
)
def test_snippet_wraps_at_spaces_and_splits_spans(
    width: int, lines: list[tuple[str, tuple[tuple[int, int], ...]]]
) -> None:
    snippet = Snippet("the cooperation plan was signed in minsk", ((4, 20),))
    wrapped = snippet.wrap(width)
    assert [(line.text, line.spans) for line in wrapped][: len(lines)] == lines
    assert " ".join(line.text for line in wrapped) == snippet.text
