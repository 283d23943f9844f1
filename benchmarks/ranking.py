"""Ranking quality on a test collection with relevance judgments, engines side by side.

    python benchmarks/ranking.py [--collection DIR] [--title-weight W] [--json FILE]

Each engine indexes title and body and answers every judged query as an OR of its
words, top 1000. Prints nDCG@10 (binary gains), MAP (over the top 1000) and recall@100
as a Markdown table. Engines that cannot run here (tantivy not installed, newssearch
not ready) are skipped with a note.
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
from dataclasses import dataclass
from pathlib import Path
from statistics import fmean

from _corpora import Collection
from _metrics import average_precision, ndcg_at_k, recall_at_k

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_COLLECTION = REPO_ROOT.parent / "shared" / "corpora" / "cacm"
DEPTH = 1000

Queries = dict[str, list[str]]  # query id -> the query's words, lowercased
Rankings = dict[str, list[str]]  # query id -> doc ids, best first


class EngineUnavailableError(Exception):
    """The engine cannot run here (not installed, or its API is not there yet)."""


@dataclass(frozen=True)
class Run:
    rankings: Rankings
    index_seconds: float
    settings: str


Engine = Callable[[Collection, Queries, float], Run]


def query_words(text: str) -> list[str]:
    """Returns the runs of letters and digits, lowercased so AND/OR/NOT stay words."""
    return re.findall(r"[^\W_]+", text.lower())


def run_whoosh(collection: Collection, queries: Queries, title_weight: float) -> Run:
    from whoosh import index
    from whoosh.analysis import StemmingAnalyzer
    from whoosh.fields import ID, TEXT, Schema
    from whoosh.qparser import MultifieldParser, OrGroup

    schema = Schema(
        id=ID(stored=True, unique=True),
        title=TEXT(analyzer=StemmingAnalyzer()),
        body=TEXT(analyzer=StemmingAnalyzer()),
    )
    parser = MultifieldParser(
        ["title", "body"], schema, fieldboosts={"title": title_weight}, group=OrGroup
    )
    with tempfile.TemporaryDirectory(prefix="ranking-whoosh-") as tmp:
        started = time.perf_counter()
        ix = index.create_in(tmp, schema)
        with ix.writer(limitmb=256) as writer:
            for doc in collection.docs():
                writer.add_document(id=doc.id, title=doc.title, body=doc.body)
        seconds = time.perf_counter() - started
        with ix.searcher() as searcher:
            rankings = {
                qid: [
                    hit["id"] for hit in searcher.search(parser.parse(" ".join(words)), limit=DEPTH)
                ]
                for qid, words in queries.items()
            }
        ix.close()
    return Run(rankings, seconds, f"StemmingAnalyzer, BM25F, title boost {title_weight:g}")


def run_fts5(collection: Collection, queries: Queries, title_weight: float) -> Run:
    db = sqlite3.connect(":memory:")
    started = time.perf_counter()
    try:
        db.execute("CREATE VIRTUAL TABLE t USING fts5(title, body, tokenize='porter unicode61')")
    except sqlite3.OperationalError as error:
        raise EngineUnavailableError(f"this sqlite3 has no FTS5 ({error})") from error
    ids: list[str] = []
    for doc in collection.docs():
        ids.append(doc.id)
        db.execute(
            "INSERT INTO t(rowid, title, body) VALUES (?, ?, ?)",
            (len(ids), doc.title, doc.body),
        )
    db.commit()
    seconds = time.perf_counter() - started
    sql = "SELECT rowid FROM t WHERE t MATCH ? ORDER BY bm25(t, ?, 1.0) LIMIT ?"
    rankings: Rankings = {}
    for qid, words in queries.items():
        # Quoted, every word is a plain string to FTS5, whatever its spelling.
        match = " OR ".join(f'"{word}"' for word in words)
        rows = db.execute(sql, (match, title_weight, DEPTH))
        rankings[qid] = [ids[rowid - 1] for (rowid,) in rows]
    db.close()
    return Run(rankings, seconds, f"porter unicode61, bm25(t, {title_weight:g}, 1)")


def run_bm25s(collection: Collection, queries: Queries, title_weight: float) -> Run:
    import bm25s
    import Stemmer

    stemmer = Stemmer.Stemmer("english")
    started = time.perf_counter()
    ids: list[str] = []
    texts: list[str] = []
    for doc in collection.docs():
        ids.append(doc.id)
        texts.append(f"{doc.title} {doc.body}")
    retriever = bm25s.BM25()
    retriever.index(
        bm25s.tokenize(texts, stopwords="en", stemmer=stemmer, show_progress=False),
        show_progress=False,
    )
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
    # bm25s always returns k docs: those scoring 0 contain no query word.
    rankings = {
        qid: [ids[d] for d, score in zip(docs[row], scores[row], strict=True) if score > 0]
        for row, qid in enumerate(qids)
    }
    settings = "title + body as one text, English stop words, PyStemmer english"
    return Run(rankings, seconds, settings)


def run_tantivy(collection: Collection, queries: Queries, title_weight: float) -> Run:
    try:
        import tantivy
    except ImportError as error:
        raise EngineUnavailableError("tantivy is not installed") from error

    builder = tantivy.SchemaBuilder()
    builder.add_text_field("id", stored=True, tokenizer_name="raw")
    builder.add_text_field("title", tokenizer_name="en_stem")
    builder.add_text_field("body", tokenizer_name="en_stem")
    index = tantivy.Index(builder.build())  # in memory
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
        query = index.parse_query(
            " ".join(words), ["title", "body"], field_boosts={"title": title_weight}
        )
        hits = searcher.search(query, DEPTH).hits
        rankings[qid] = [searcher.doc(address)["id"][0] for _, address in hits]
    return Run(rankings, seconds, f"en_stem, title boost {title_weight:g}")


def run_newssearch(collection: Collection, queries: Queries, title_weight: float) -> Run:
    try:
        from newssearch import Index, load_documents
    except ImportError as error:
        raise EngineUnavailableError(f"cannot import newssearch ({error})") from error

    with tempfile.TemporaryDirectory(prefix="ranking-newssearch-") as tmp:
        try:
            started = time.perf_counter()
            index = Index.create(Path(tmp) / "index", language="english")
            index.add(load_documents(collection.docs_path))
            seconds = time.perf_counter() - started
            rankings: Rankings = {}
            for qid, words in queries.items():
                results = index.search(" ".join(words), limit=DEPTH, match="any", snippets=False)
                rankings[qid] = [hit.id for hit in results.hits]
        except (ImportError, AttributeError, TypeError, NotImplementedError) as error:
            reason = f"API not ready ({type(error).__name__}: {error})"
            raise EngineUnavailableError(reason) from error
    return Run(rankings, seconds, 'match="any", its own title weight')


ENGINES: dict[str, Engine] = {
    "whoosh": run_whoosh,
    "sqlite fts5": run_fts5,
    "bm25s": run_bm25s,
    "tantivy": run_tantivy,
    "newssearch": run_newssearch,
}


def evaluate(rankings: Rankings, qrels: dict[str, set[str]]) -> dict[str, float]:
    """Returns each metric's mean over the judged queries; unanswered ones score 0."""
    per_query = [
        (
            ndcg_at_k(ranked, relevant, 10),
            average_precision(ranked[:DEPTH], relevant),
            recall_at_k(ranked, relevant, 100),
        )
        for qid, relevant in qrels.items()
        for ranked in [rankings.get(qid, [])]
    ]
    ndcg, ap, recall = zip(*per_query, strict=True)
    return {"ndcg@10": fmean(ndcg), "map": fmean(ap), "recall@100": fmean(recall)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Ranking quality (nDCG@10, MAP, recall@100) across engines."
    )
    parser.add_argument(
        "--collection",
        type=Path,
        default=DEFAULT_COLLECTION,
        metavar="DIR",
        help="holds docs.jsonl, queries.jsonl, qrels.tsv (default: %(default)s)",
    )
    parser.add_argument(
        "--title-weight",
        type=float,
        default=2.0,
        metavar="W",
        help="title vs body weight for whoosh, FTS5, tantivy (default: %(default)s)",
    )
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write JSON")
    args = parser.parse_args(argv)

    collection = Collection(args.collection)
    if not args.collection.is_dir():
        sys.exit(f"ranking.py: no collection at {args.collection} (use --collection DIR)")
    if missing := collection.missing_files():
        sys.exit(f"ranking.py: {args.collection} lacks {', '.join(missing)}")
    qrels = collection.qrels()
    texts = collection.queries()
    if unknown := sorted(set(qrels) - set(texts)):
        sys.exit(f"ranking.py: qrels.tsv judges unknown queries {', '.join(unknown)}")
    queries = {qid: query_words(texts[qid]) for qid in qrels}

    results: dict[str, tuple[Run, dict[str, float]]] = {}
    skipped: dict[str, str] = {}
    for name, engine in ENGINES.items():
        try:
            run = engine(collection, queries, args.title_weight)
        except EngineUnavailableError as error:
            skipped[name] = str(error)
            continue
        results[name] = (run, evaluate(run.rankings, qrels))

    print(
        f"Collection {args.collection}: {len(queries)} judged queries, "
        f"each an OR of its words, top {DEPTH}.\n"
    )
    print("| engine | nDCG@10 | MAP | recall@100 | index s |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, (run, scores) in results.items():
        cells = [f"{scores[metric]:.3f}" for metric in ("ndcg@10", "map", "recall@100")]
        print(f"| {name} | {' | '.join(cells)} | {run.index_seconds:.2f} |")
    print()
    for name, (run, _) in results.items():
        print(f"- {name}: {run.settings}")
    for name, reason in skipped.items():
        print(f"- {name}: skipped, {reason}")

    if args.json:
        report = {
            "collection": str(args.collection),
            "judged_queries": len(queries),
            "depth": DEPTH,
            "title_weight": args.title_weight,
            "engines": {
                name: scores | {"index_seconds": run.index_seconds}
                for name, (run, scores) in results.items()
            },
            "settings": {name: run.settings for name, (run, _) in results.items()},
            "skipped": skipped,
        }
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
