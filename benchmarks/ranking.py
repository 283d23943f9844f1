"""Ranking quality on test collections with relevance judgments, engines side by side.

    python benchmarks/ranking.py [--collection DIR] [--news FILE|none] [--title-weight W]
                                 [--json FILE]

Two checks: CACM (`--collection`: docs.jsonl, queries.jsonl, qrels.tsv) and a Reuters
topic check (`--news`, see `_topics.py`: a topic's description as the query, its articles
as the relevant ones). Each engine indexes title and body and answers every judged query
as an OR of its words, top 1000. Prints, per check, nDCG@10 (binary gains), MAP (over the
top 1000) and recall@100 as a Markdown table, newssearch with and without query expansion;
the wins and losses of expansion per query and its worst ten queries; query time with and
without it; and, for both checks, the expansion parameters varied one at a time around the
default. Engines that cannot run here (tantivy not installed) are skipped with a note.
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
from statistics import fmean, median
from typing import Any

from _corpora import Collection
from _metrics import average_precision, ndcg_at_k, recall_at_k
from _topics import TopicCollection

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_COLLECTION = REPO_ROOT.parent / "shared" / "corpora" / "cacm"
DEFAULT_NEWS = REPO_ROOT.parent / "shared" / "corpora" / "reuters21578" / "reuters21578.jsonl.gz"
DEPTH = 1000
METRICS = ("ndcg@10", "map", "recall@100")

Queries = dict[str, list[str]]  # query id -> the query's words, lowercased
Rankings = dict[str, list[str]]  # query id -> doc ids, best first


class EngineUnavailableError(Exception):
    """The engine cannot run here (not installed, or its API is not there yet)."""


@dataclass(frozen=True)
class Run:
    rankings: Rankings
    index_seconds: float
    settings: str


Engine = Callable[[Any, Queries, float], Run]


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


def run_newssearch(
    collection: Collection | TopicCollection, queries: Queries, expansions: list[Any]
) -> tuple[dict[str, Run], dict[str, float]]:
    """Returns a Run per setting (None: plain BM25F, else an `Expansion`) from one index, and
    median ms per query, top 10 with snippets: plain, expanded, and the feedback words alone
    (reading and stemming the top hits' stored text)."""
    try:
        from newssearch import Index, load_documents
        from newssearch.expand import Expansion, feedback_words
    except ImportError as error:
        raise EngineUnavailableError(f"cannot import newssearch ({error})") from error

    runs: dict[str, Run] = {}
    default = Expansion()
    with tempfile.TemporaryDirectory(prefix="ranking-newssearch-") as tmp:
        started = time.perf_counter()
        index = Index.create(Path(tmp) / "index", language="english")
        index.add(load_documents(collection.docs_path))
        seconds = time.perf_counter() - started
        for setting in expansions:
            rankings: Rankings = {}
            for qid, words in queries.items():
                results = index.search(
                    " ".join(words),
                    limit=DEPTH,
                    match="any",
                    snippets=False,
                    expand=setting or False,
                )
                rankings[qid] = [hit.id for hit in results.hits]
            runs[label(setting)] = Run(rankings, seconds, 'match="any", its own title weight')
        timings: dict[str, list[float]] = {"plain": [], "expand": [], "feedback words": []}
        executor = index._current_executor()
        for words in queries.values():
            text = " ".join(words)
            for _ in range(3):
                for name, expand in (("plain", False), ("expand", True)):
                    begun = time.perf_counter()
                    found = index.search(text, match="any", expand=expand)
                    timings[name].append((time.perf_counter() - begun) * 1000)
                top = index.search(text, limit=default.docs, match="any", snippets=False)
                docnums = [executor.searcher.document_number(id=hit.id) for hit in top.hits]
                begun = time.perf_counter()
                feedback_words(executor, docnums, [h.score for h in top.hits], default)
                timings["feedback words"].append((time.perf_counter() - begun) * 1000)
        del found
        index.close()
    return runs, {name: median(values) for name, values in timings.items()}


def label(setting: Any) -> str:
    """Returns the row name of a newssearch setting: plain, or its expansion parameters."""
    if setting is None:
        return "newssearch"
    return (
        f"newssearch --expand (docs {setting.docs}, terms {setting.terms}, "
        f"original {setting.original_weight:g})"
    )


ENGINES: dict[str, Engine] = {
    "whoosh": run_whoosh,
    "sqlite fts5": run_fts5,
    "bm25s": run_bm25s,
    "tantivy": run_tantivy,
}


def per_query(
    rankings: Rankings, qrels: dict[str, set[str]]
) -> dict[str, tuple[float, float, float]]:
    """Returns (nDCG@10, AP, recall@100) of every judged query; unanswered ones score 0."""
    return {
        qid: (
            ndcg_at_k(ranked, relevant, 10),
            average_precision(ranked[:DEPTH], relevant),
            recall_at_k(ranked, relevant, 100),
        )
        for qid, relevant in qrels.items()
        for ranked in [rankings.get(qid, [])]
    }


def evaluate(rankings: Rankings, qrels: dict[str, set[str]]) -> dict[str, float]:
    """Returns each metric's mean over the judged queries."""
    ndcg, ap, recall = zip(*per_query(rankings, qrels).values(), strict=True)
    return {"ndcg@10": fmean(ndcg), "map": fmean(ap), "recall@100": fmean(recall)}


def sweep_settings(expansion: Any) -> list[Any]:
    """Returns the default, then each parameter varied alone around it."""
    default = expansion()
    found = [default]
    for docs in (3, 5, 10, 20, 30):
        found.append(expansion(docs, default.terms, default.original_weight))
    for terms in (5, 10, 20, 40, 80):
        found.append(expansion(default.docs, terms, default.original_weight))
    for weight in (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9):
        found.append(expansion(default.docs, default.terms, weight))
    return list(dict.fromkeys(found))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Ranking quality (nDCG@10, MAP, recall@100) across engines, with and "
        "without newssearch's query expansion."
    )
    parser.add_argument(
        "--collection",
        type=Path,
        default=DEFAULT_COLLECTION,
        metavar="DIR",
        help="holds docs.jsonl, queries.jsonl, qrels.tsv (default: %(default)s)",
    )
    parser.add_argument(
        "--news",
        type=Path,
        default=DEFAULT_NEWS,
        metavar="FILE",
        help="Reuters-21578 as JSON Lines, for the topic check; 'none' skips it "
        "(default: %(default)s)",
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

    from newssearch.expand import Expansion

    checks: list[tuple[str, Collection | TopicCollection]] = [("CACM", Collection(args.collection))]
    if str(args.news) != "none":
        checks.append(("Reuters topics", TopicCollection(args.news)))
    settings = [None, *sweep_settings(Expansion)]
    default = label(settings[1])
    report: dict[str, Any] = {"depth": DEPTH, "title_weight": args.title_weight, "checks": {}}
    sweeps: dict[str, dict[str, dict[str, float]]] = {}
    for name, collection in checks:
        if missing := collection.missing_files():
            sys.exit(f"ranking.py: {collection.path} lacks {', '.join(missing)}")
        qrels = {qid: found for qid, found in collection.qrels().items() if found}
        texts = collection.queries()
        if unknown := sorted(set(qrels) - set(texts)):
            sys.exit(f"ranking.py: qrels judge unknown queries {', '.join(unknown)}")
        queries = {qid: query_words(texts[qid]) for qid in qrels}

        results: dict[str, tuple[Run, dict[str, float]]] = {}
        skipped: dict[str, str] = {}
        for engine_name, engine in ENGINES.items():
            try:
                run = engine(collection, queries, args.title_weight)
            except EngineUnavailableError as error:
                skipped[engine_name] = str(error)
                continue
            results[engine_name] = (run, evaluate(run.rankings, qrels))
        ours, timings = run_newssearch(collection, queries, settings)
        for row, run in ours.items():
            results[row] = (run, evaluate(run.rankings, qrels))
        sweeps[name] = {row: scores for row, (_, scores) in results.items() if "--expand" in row}

        print(
            f"### {name}: {collection.path}\n\n{len(queries)} judged queries, each an OR of "
            f"its words, top {DEPTH}.\n"
        )
        print("| engine | nDCG@10 | MAP | recall@100 | index s |")
        print("| --- | ---: | ---: | ---: | ---: |")
        for row in [*ENGINES, "newssearch", default]:
            if row in results:
                run, scores = results[row]
                cells = [f"{scores[metric]:.3f}" for metric in METRICS]
                shown = "newssearch --expand" if row == default else row
                print(f"| {shown} | {' | '.join(cells)} | {run.index_seconds:.2f} |")
        print()
        for row in [*ENGINES, "newssearch"]:
            if row in results:
                print(f"- {row}: {results[row][0].settings}")
        print(f"- newssearch --expand: {default.removeprefix('newssearch --expand ')}")
        for engine_name, reason in skipped.items():
            print(f"- {engine_name}: skipped, {reason}")
        print(
            f"\nTime per query, top 10 with snippets, median of 3 x {len(queries)}: plain "
            f"{timings['plain']:.2f} ms, expanded {timings['expand']:.2f} ms, of which the "
            f"feedback words from the top hits' stored text {timings['feedback words']:.2f} ms.\n"
        )
        changes = compare(
            per_query(results["newssearch"][0].rankings, qrels),
            per_query(results[default][0].rankings, qrels),
            {qid: texts[qid] for qid in queries},
        )
        print(changes)
        report["checks"][name] = {
            "path": str(collection.path),
            "judged_queries": len(queries),
            "engines": {
                row: scores | {"index_seconds": run.index_seconds}
                for row, (run, scores) in results.items()
            },
            "timings_ms": timings,
            "skipped": skipped,
        }
    print(sweep_table(sweeps))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0


def compare(
    plain: dict[str, tuple[float, float, float]],
    expanded: dict[str, tuple[float, float, float]],
    texts: dict[str, str],
) -> str:
    """Returns, as Markdown, the wins and losses of expansion per query, and the worst ten."""
    lines = ["| metric | wins | losses | ties |", "| --- | ---: | ---: | ---: |"]
    for i, metric in enumerate(("nDCG@10", "AP", "recall@100")):
        deltas = [expanded[qid][i] - plain[qid][i] for qid in plain]
        wins = sum(d > 1e-9 for d in deltas)
        losses = sum(d < -1e-9 for d in deltas)
        lines.append(f"| {metric} | {wins} | {losses} | {len(deltas) - wins - losses} |")
    short = [qid for qid in plain if len(query_words(texts[qid])) <= 2]
    if short:
        means = [
            fmean(found[qid][i] for qid in short) for found in (plain, expanded) for i in (0, 1)
        ]
        lines += [
            "",
            f"Queries of one or two words ({len(short)}): nDCG@10 {means[0]:.3f} -> "
            f"{means[2]:.3f}, MAP {means[1]:.3f} -> {means[3]:.3f}.",
        ]
    worst = sorted(
        plain, key=lambda q: (expanded[q][0] - plain[q][0], expanded[q][1] - plain[q][1])
    )
    lines += [
        "",
        "Worst ten queries for expansion (by the change in nDCG@10, then AP):",
        "",
        "| query | words | nDCG@10 plain -> expanded | AP plain -> expanded |",
        "| --- | ---: | ---: | ---: |",
    ]
    for qid in worst[:10]:
        text = " ".join(texts[qid].split())
        shown = text if len(text) <= 50 else text[:49] + "…"
        lines.append(
            f"| {qid}: {shown} | {len(query_words(text))} | {plain[qid][0]:.3f} -> "
            f"{expanded[qid][0]:.3f} | {plain[qid][1]:.3f} -> {expanded[qid][1]:.3f} |"
        )
    return "\n".join(lines) + "\n"


def sweep_table(sweeps: dict[str, dict[str, dict[str, float]]]) -> str:
    """Returns the parameter sweep as one Markdown table: nDCG@10 / MAP per check."""
    names = list(sweeps)
    rows = list(dict.fromkeys(row for found in sweeps.values() for row in found))
    lines = [
        "### Expansion parameters, each varied alone around the default",
        "",
        "| fb docs | fb terms | original weight | "
        + " | ".join(f"{name} nDCG@10 / MAP / R@100" for name in names)
        + " |",
        "| ---: | ---: | ---: | " + " | ".join("---:" for _ in names) + " |",
    ]
    for row in rows:
        inside = row.split("(", 1)[1].rstrip(")")
        values = [part.split()[-1] for part in inside.split(", ")]
        cells = [
            " / ".join(f"{sweeps[name][row][metric]:.3f}" for metric in METRICS)
            if row in sweeps[name]
            else "–"
            for name in names
        ]
        lines.append(f"| {' | '.join(values)} | {' | '.join(cells)} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
