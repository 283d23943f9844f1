"""The vectorized evaluator against whoosh's own BM25F scorer: the same scores, term by term."""

from __future__ import annotations

from math import log
from typing import Any

import pytest
from conftest import ARTICLES, write_jsonl
from whoosh import query as wq
from whoosh import scoring

from newssearch import Index, load_documents
from newssearch.analysis import stemmer
from newssearch.execute import TITLE_BOOST


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
    with index._ix.searcher(weighting=LuceneBM25F()) as searcher:
        found = searcher.search(wq.Term(field, stem), limit=None)
        boost = TITLE_BOOST if field == "title" else 1.0
        theirs = {hit["id"]: hit.score * boost for hit in found}
    assert ours.keys() == theirs.keys() and ours
    for doc_id, score in ours.items():
        assert score == pytest.approx(theirs[doc_id], abs=1e-6), doc_id


def test_a_word_in_both_fields_sums_both(index: Index) -> None:
    both = {h.id: h.score for h in index.search("plan", limit=100, snippets=False).hits}
    title = {h.id: h.score for h in index.search("title:plan", limit=100, snippets=False).hits}
    body = {h.id: h.score for h in index.search("body:plan", limit=100, snippets=False).hits}
    for doc_id, score in both.items():
        assert score == pytest.approx(title.get(doc_id, 0) + body.get(doc_id, 0), abs=1e-8)
