"""Ranking quality on a test collection with relevance judgments, side by side across engines.

    python benchmarks/ranking.py [--collection DIR] [--json FILE]

Each engine indexes title and body and answers every judged query as an OR of its words, top
1000. Reports nDCG@10 (binary gains), MAP (over the top 1000) and recall@100, as a Markdown table.
Engines that are not installed (tantivy, newssearch not ready yet) are skipped with a note.
"""

from __future__ import annotations

import argparse
import json
import re
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from statistics import fmean

from _corpora import Collection
from _metrics import average_precision, ndcg_at_k, recall_at_k

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_COLLECTION = REPO_ROOT.parent / "shared" / "corpora" / "cacm"
DEPTH = 1000
TITLE_WEIGHT = 2.0  # title vs body, for the engines that take per-field weights

Queries = dict[str, list[str]]  # query id -> the query's words, lowercased
Rankings = dict[str, list[str]]  # query id -> doc ids, best first


class EngineUnavailable(Exception):
    """The engine cannot run here (not installed, or its API is not there yet)."""


@dataclass
class Run:
    rankings: Rankings
    index_seconds: float
    settings: str = ""


@dataclass
class Scores:
    ndcg10: float
    map: float
    recall100: float
    per_query: dict[str, dict[str, float]] = field(repr=False, default_factory=dict)


def query_words(text: str) -> list[str]:
    """Returns the runs of letters and digits, lowercased so `AND`/`OR`/`NOT` stay plain words."""
    return re.findall(r"[^\W_]+", text.lower())


def run_whoosh(collection: Collection, queries: Queries) -> Run:
    from whoosh import index
    from whoosh.analysis import StemmingAnalyzer
    from whoosh.fields import ID, TEXT, Schema
    from whoosh.qparser import MultifieldParser, OrGroup

    schema = Schema(
        id=ID(stored=True, unique=True),
        title=TEXT(analyzer=StemmingAnalyzer()),
        body=TEXT(analyzer=StemmingAnalyzer()),
    )
    with tempfile.TemporaryDirectory(prefix="ranking-whoosh-") as tmp:
        started = time.perf_counter()
        ix = index.create_in(tmp, schema)
        with ix.writer(limitmb=256) as writer:
            for doc in collection.docs():
                writer.add_document(id=doc.id, title=doc.title, body=doc.body)
        seconds = time.perf_counter() - started
        parser = MultifieldParser(
            ["title", "body"], schema, fieldboosts={"title": TITLE_WEIGHT}, group=OrGroup
        )
        rankings: Rankings = {}
        with ix.searcher() as searcher:
            for qid, words in queries.items():
                hits = searcher.search(parser.parse(" ".join(words)), limit=DEPTH)
                rankings[qid] = [hit["id"] for hit in hits]
        ix.close()
    return Run(rankings, seconds, f"StemmingAnalyzer, BM25F, title boost {TITLE_WEIGHT:g}")


def run_fts5(collection: Collection, queries: Queries) -> Run:
    db = sqlite3.connect(":memory:")
    started = time.perf_counter()
    try:
        db.execute("CREATE VIRTUAL TABLE t USING fts5(title, body, tokenize='porter unicode61')")
    except sqlite3.OperationalError as error:
        raise EngineUnavailable(f"this sqlite3 has no FTS5 ({error})") from error
    ids = []
    for doc in collection.docs():
        ids.append(doc.id)
        db.execute("INSERT INTO t(rowid, title, body) VALUES (?, ?, ?)", (len(ids), doc.title, doc.body))
    db.commit()
    seconds = time.perf_counter() - started
    sql = "SELECT rowid FROM t WHERE t MATCH ? ORDER BY bm25(t, ?, 1.0) LIMIT ?"
    rankings: Rankings = {}
    for qid, words in queries.items():
        match = " OR ".join(f'"{word}"' for word in words)
        rankings[qid] = [ids[rowid - 1] for (rowid,) in db.execute(sql, (match, TITLE_WEIGHT, DEPTH))]
    db.close()
    return Run(rankings, seconds, f"porter unicode61, bm25(t, {TITLE_WEIGHT:g}, 1.0)")


def run_bm25s(collection: Collection, queries: Queries) -> Run:
    import bm25s
    import Stemmer

    stemmer = Stemmer.Stemmer("english")
    started = time.perf_counter()
    ids, texts = [], []
    for doc in collection.docs():
        ids.append(doc.id)
        texts.append(f"{doc.title} {doc.body}")
    retriever = bm25s.BM25()
    corpus = bm25s.tokenize(texts, stopwords="en", stemmer=stemmer, show_progress=False)
    retriever.index(corpus, show_progress=False)
    seconds = time.perf_counter() - started
    qids = list(queries)
    tokens = bm25s.tokenize(
        [" ".join(queries[qid]) for qid in qids],
        stopwords="en",
        stemmer=stemmer,
        return_ids=False,
        show_progress=False,
    )
    docs, scores = retriever.retrieve(tokens, k=min(DEPTH, len(ids)), show_progress=False)
    # bm25s always returns k docs; those scoring 0 do not contain any query word.
    rankings = {
        qid: [ids[d] for d, s in zip(docs[row], scores[row]) if s > 0] for row, qid in enumerate(qids)
    }
    return Run(rankings, seconds, "title + body, English stop words, PyStemmer english, lucene BM25")


def run_tantivy(collection: Collection, queries: Queries) -> Run:
    try:
        import tantivy
    except ImportError as error:
        raise EngineUnavailable("tantivy is not installed (pip install tantivy)") from error

    builder = tantivy.SchemaBuilder()
    builder.add_text_field("id", stored=True, tokenizer_name="raw")
    builder.add_text_field("title", tokenizer_name="en_stem")
    builder.add_text_field("body", tokenizer_name="en_stem")
    index = tantivy.Index(builder.build())
    started = time.perf_counter()
    writer = index.writer()
    for doc in collection.docs():
        writer.add_document(tantivy.Document(id=doc.id, title=doc.title, body=doc.body))
    writer.commit()
    writer.wait_merging_threads()
    index.reload()
    seconds = time.perf_counter() - started
    searcher = index.searcher()
    rankings: Rankings = {}
    for qid, words in queries.items():
        query = index.parse_query(" ".join(words), ["title", "body"], field_boosts={"title": TITLE_WEIGHT})
        hits = searcher.search(query, DEPTH).hits
        rankings[qid] = [searcher.doc(address)["id"][0] for _, address in hits]
    return Run(rankings, seconds, f"en_stem, title boost {TITLE_WEIGHT:g}")


def run_newssearch(collection: Collection, queries: Queries) -> Run:
    try:
        from newssearch import Index, load_documents
    except ImportError as error:
        raise EngineUnavailable(f"cannot import newssearch ({error})") from error

    with tempfile.TemporaryDirectory(prefix="ranking-newssearch-") as tmp:
        try:
            started = time.perf_counter()
            index = Index.create(Path(tmp) / "index", language="english")
            index.add(load_documents(collection.docs_path))
            seconds = time.perf_counter() - started
            rankings = {
                qid: [hit.id for hit in index.search(" ".join(words), limit=DEPTH, match="any", snippets=False).hits]
                for qid, words in queries.items()
            }
        except (AttributeError, TypeError, NotImplementedError) as error:
            raise EngineUnavailable(f"API not ready ({type(error).__name__}: {error})") from error
    return Run(rankings, seconds, 'match="any"')


ENGINES: dict[str, Callable[[Collection, Queries], Run]] = {
    "whoosh": run_whoosh,
    "sqlite fts5": run_fts5,
    "bm25s": run_bm25s,
    "tantivy": run_tantivy,
    "newssearch": run_newssearch,
}


def evaluate(rankings: Rankings, qrels: dict[str, set[str]]) -> Scores:
    """Returns the metrics averaged over the judged queries; an unanswered query scores 0."""
    per_query = {
        qid: {
            "ndcg@10": ndcg_at_k(rankings.get(qid, []), relevant, 10),
            "ap": average_precision(rankings.get(qid, [])[:DEPTH], relevant),
            "recall@100": recall_at_k(rankings.get(qid, []), relevant, 100),
        }
        for qid, relevant in qrels.items()
    }
    return Scores(
        ndcg10=fmean(q["ndcg@10"] for q in per_query.values()),
        map=fmean(q["ap"] for q in per_query.values()),
        recall100=fmean(q["recall@100"] for q in per_query.values()),
        per_query=per_query,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--collection", type=Path, default=DEFAULT_COLLECTION, help="default: %(default)s")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the figures as JSON")
    args = parser.parse_args(argv)

    collection = Collection(args.collection)
    if missing := collection.missing_files():
        sys.exit(f"ranking.py: {args.collection} is not a test collection (missing {', '.join(missing)})")
    qrels = collection.qrels()
    texts = collection.queries()
    queries = {qid: query_words(texts[qid]) for qid in qrels if qid in texts}
    if unknown := sorted(set(qrels) - set(texts)):
        sys.exit(f"ranking.py: qrels.tsv judges queries missing from queries.jsonl: {', '.join(unknown)}")

    rows, skipped, figures = [], [], {}
    for name, engine in ENGINES.items():
        try:
            run = engine(collection, queries)
        except EngineUnavailable as reason:
            skipped.append(f"{name} skipped: {reason}")
            print(f"note: {skipped[-1]}", file=sys.stderr)
            continue
        scores = evaluate(run.rankings, qrels)
        rows.append(
            f"| {name} | {scores.ndcg10:.3f} | {scores.map:.3f} | {scores.recall100:.3f} | {run.index_seconds:.2f} |"
        )
        figures[name] = {
            "ndcg@10": scores.ndcg10,
            "map": scores.map,
            "recall@100": scores.recall100,
            "index_seconds": run.index_seconds,
            "settings": run.settings,
            "per_query": scores.per_query,
        }

    print(f"Collection: {args.collection} · {len(queries)} judged queries · OR of the query words, top {DEPTH}\n")
    print("| engine | nDCG@10 | MAP | recall@100 | index s |")
    print("| --- | ---: | ---: | ---: | ---: |")
    print("\n".join(rows))
    print()
    for name, values in figures.items():
        print(f"- {name}: {values['settings']}")
    for line in skipped:
        print(f"- {line}")

    if args.json:
        report = {"collection": str(args.collection), "judged_queries": len(queries), "depth": DEPTH}
        report |= {"engines": figures, "skipped": skipped}
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
