"""The child process that builds one engine's index, or queries it warm, or once cold.

    python benchmarks/engine_child.py build ENGINE CORPUS INDEX_DIR [--docs N]
    python benchmarks/engine_child.py query ENGINE INDEX_DIR [--reps 5]
    python benchmarks/engine_child.py cold ENGINE INDEX_DIR QUERY_NUMBER

Each prints one JSON object on stdout. `build` indexes the first N articles of CORPUS (the
corpus repeated as scale copies when N is larger) and reports seconds, index size and this
process's peak RSS. `query` runs the fixed query list warm and reports each execution's time,
top 10 with snippets and without. `cold` is a user's first query: the engine's library is
imported first (the interpreter's start is not timed), then it times opening the index and
query QUERY_NUMBER of `_queries.QUERIES`, top 10 with snippets, each on its own.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from _common import ENGINE_LABELS
from _corpora import Article, read_articles, scaled_articles
from _queries import QUERIES
from engines import ENGINES, EngineUnavailableError, make


def directory_bytes(directory: Path) -> int:
    """Returns the size of every file under `directory`."""
    return sum(path.stat().st_size for path in directory.rglob("*") if path.is_file())


def peak_rss_kib() -> tuple[int, int]:
    """Returns the peak RSS of this process and of its largest finished child, in KiB."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return own, children


def build(name: str, corpus: Path, directory: Path, docs: int | None) -> dict[str, Any]:
    """Returns what building `docs` articles of `corpus` (None: all of it, once) took."""
    engine = make(name)
    version = engine.version()
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    counted = read_articles(corpus) if docs is None else scaled_articles(corpus, docs)
    text_bytes = 0

    def articles() -> Iterator[Article]:
        nonlocal text_bytes
        for article in counted:
            text_bytes += article.text_bytes
            yield article

    rss_before, _ = peak_rss_kib()
    started = time.perf_counter()
    indexed = engine.build(articles(), directory)
    seconds = time.perf_counter() - started
    rss, rss_children = peak_rss_kib()
    return {
        "engine": name,
        "label": ENGINE_LABELS[name],
        "settings": engine.settings,
        "docs": indexed,
        "text_bytes": text_bytes,
        "seconds": seconds,
        "index_bytes": directory_bytes(directory),
        "rss_kib": rss,
        "version": version,
        "rss_workers_kib": rss_children,
        "rss_before_kib": rss_before,
    }


def query(name: str, directory: Path, reps: int) -> dict[str, Any]:
    """Returns per query its total hits and the ms of each of `reps` warm executions, top 10
    with snippets (`ms`) and without (`ms_plain`), the two alternating query by query."""
    engine = make(name)
    version = engine.version()
    engine.open(directory)
    totals = []
    for item in QUERIES:  # warm-up: every query once each way, untimed; the exact count besides
        engine.top10(item, snippets=True)
        engine.top10(item, snippets=False)
        totals.append(engine.total(item))
    times: dict[bool, list[list[float]]] = {
        True: [[] for _ in QUERIES],
        False: [[] for _ in QUERIES],
    }
    for _ in range(reps):
        for number, item in enumerate(QUERIES):
            for snippets in (True, False):
                started = time.perf_counter()
                engine.top10(item, snippets=snippets)
                times[snippets][number].append((time.perf_counter() - started) * 1000)
    return {
        "engine": name,
        "label": ENGINE_LABELS[name],
        "settings": engine.settings,
        "version": version,
        "queries": [
            {"type": item.type, "query": item.label, "total": total, "ms": ms, "ms_plain": plain}
            for item, total, ms, plain in zip(
                QUERIES, totals, times[True], times[False], strict=True
            )
        ],
    }


def cold(name: str, directory: Path, number: int) -> dict[str, Any]:
    """Returns the ms of opening the index and of then answering query `number` once."""
    engine = make(name)  # imports the engine's library: not timed
    item = QUERIES[number]
    started = time.perf_counter()
    engine.open(directory)
    opened = time.perf_counter()
    engine.top10(item, snippets=True)
    answered = time.perf_counter()
    return {
        "engine": name,
        "version": engine.version(),
        "type": item.type,
        "query": item.label,
        "open_ms": (opened - started) * 1000,
        "first_ms": (answered - opened) * 1000,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build or query one engine's index (child).")
    commands = parser.add_subparsers(dest="command", required=True)
    build_parser = commands.add_parser("build", help="index a corpus, report time/size/RSS")
    build_parser.add_argument("engine", choices=sorted(ENGINES))
    build_parser.add_argument("corpus", type=Path)
    build_parser.add_argument("directory", type=Path)
    build_parser.add_argument(
        "--docs", type=int, help="articles to index (default: the corpus once)"
    )
    query_parser = commands.add_parser("query", help="run the query list warm, report times")
    query_parser.add_argument("engine", choices=sorted(ENGINES))
    query_parser.add_argument("directory", type=Path)
    query_parser.add_argument("--reps", type=int, default=5)
    cold_parser = commands.add_parser("cold", help="open the index, time one first query")
    cold_parser.add_argument("engine", choices=sorted(ENGINES))
    cold_parser.add_argument("directory", type=Path)
    cold_parser.add_argument("number", type=int, help="the query's number in _queries.QUERIES")
    args = parser.parse_args(argv)
    try:
        if args.command == "build":
            result = build(args.engine, args.corpus, args.directory, args.docs)
        elif args.command == "query":
            result = query(args.engine, args.directory, args.reps)
        else:
            result = cold(args.engine, args.directory, args.number)
    except EngineUnavailableError as error:
        print(json.dumps({"engine": args.engine, "unavailable": str(error)}))
        return 0
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
