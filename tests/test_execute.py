"""The vectorized evaluator against whoosh's own BM25 scorer, and BM25F worked out by hand."""

from __future__ import annotations

from math import log
from pathlib import Path
from typing import Any

import pytest
from conftest import ARTICLES, write_jsonl
from whoosh import query as wq
from whoosh import scoring

from newssearch import Index, load_documents
from newssearch.analysis import stemmer
from newssearch.engine.execute import K1, PROXIMITY_BONUS, TITLE_WEIGHT, B


class LuceneBM25F(scoring.BM25F):  # type: ignore[misc]
    """whoosh's BM25F with Lucene's idf: the reference newssearch's scores must equal."""

    def idf(self, searcher: Any, fieldname: str, text: bytes) -> float:
        parent = searcher.get_parent()
        n = parent.doc_frequency(fieldname, text)
        total = parent.doc_count_all()
        return log(1 + (total - n + 0.5) / (n + 0.5))


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Index:
    folder = tmp_path_factory.mktemp("execute")
    built = Index.create(folder / "ix")
    built.add(load_documents(write_jsonl(folder / "a.jsonl", ARTICLES)))
    built.add(load_documents("tests/fixtures/oracle"))
    built.delete(["a4", "grain-prices"])  # deleted documents still count in idf, as in whoosh
    return built


@pytest.mark.parametrize("field", ["title", "body"])
@pytest.mark.parametrize("word", ["plan", "the", "defense", "cafe", "wheat", "cooperation"])
def test_scores_equal_whoosh_bm25f(index: Index, field: str, word: str) -> None:
    ours = {h.id: h.score for h in index.search(f"{field}:{word}", limit=100, snippets=False).hits}
    stem = stemmer("english").stem(word)
    with index._ix.searcher(weighting=LuceneBM25F(B=B, K1=K1)) as searcher:
        found = searcher.search(wq.Term(field, stem), limit=None)
        theirs = {hit["id"]: hit.score for hit in found}
    assert ours.keys() == theirs.keys() and ours
    for doc_id, score in ours.items():
        assert score == pytest.approx(theirs[doc_id], abs=1e-6), doc_id


def test_words_in_title_and_body_are_scored_by_bm25f(tmp_path: Path) -> None:
    """A title word counts TITLE_WEIGHT times; frequencies and lengths are combined, then
    saturated once; idf counts the documents with the word in either field."""
    index = Index.create(tmp_path / "ix")
    index.add(load_documents(write_jsonl(tmp_path / "a.jsonl", ARTICLES)))
    index.add(load_documents("tests/fixtures/oracle"))
    stem = stemmer("english").stem("plan").encode()
    with index._ix.searcher() as searcher:
        total = searcher.doc_count_all()
        either: set[int] = set()
        freqs: dict[int, float] = {}
        for field, weight in (("title", TITLE_WEIGHT), ("body", 1.0)):
            postings = searcher.postings(field, stem)
            while postings.is_active():
                either.add(postings.id())
                freqs[postings.id()] = freqs.get(postings.id(), 0) + weight * postings.weight()
                postings.next()
        idf = log(1 + (total - len(either) + 0.5) / (len(either) + 0.5))
        average = sum(
            w * searcher.field_length(f) / total for f, w in (("title", TITLE_WEIGHT), ("body", 1))
        )
        expected = {}
        for docnum, tf in freqs.items():
            length = sum(
                w * (searcher.doc_field_length(docnum, f) or 0)
                for f, w in (("title", TITLE_WEIGHT), ("body", 1))
            )
            score = idf * tf * (K1 + 1) / (tf + K1 * (1 - B + B * length / average))
            expected[searcher.stored_fields(docnum)["id"]] = score
    ours = {h.id: h.score for h in index.search("plan", limit=100, snippets=False).hits}
    assert ours.keys() == expected.keys() and len(ours) > 5
    for doc_id, score in ours.items():
        assert score == pytest.approx(expected[doc_id], abs=1e-6), doc_id


def test_an_or_of_words_adds_a_bonus_for_two_found_side_by_side(index: Index) -> None:
    def scores(text: str, match: str = "all") -> dict[str, float]:
        hits = index.search(text, limit=100, match=match, snippets=False).hits
        return {h.id: h.score for h in hits}

    either = scores("cooperation plan", match="any")
    words = [scores("cooperation"), scores("plan")]
    phrase = scores('"cooperation plan"')
    assert phrase.keys() < either.keys()  # a1 has the phrase; a2 has both words, apart
    for doc_id, score in either.items():
        expected = sum(s.get(doc_id, 0) for s in words) + PROXIMITY_BONUS * phrase.get(doc_id, 0)
        assert score == pytest.approx(expected, abs=1e-8), doc_id
