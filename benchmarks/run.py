"""All the speed benchmarks in one run: indexing, queries, growth; prints the Markdown tables.

    python benchmarks/run.py [--corpus PATH] [--reps 3] [--query-reps 5] [--cold-reps 3]
                             [--process-reps 3] [--process-docs 10000]
                             [--growth 0.125,0.25,0.5,1,2,4 | archive] [--growth-engines LIST]
                             [--scale-file OUT.jsonl.gz]
                             [--engines newssearch,whoosh,whoosh-mp,fts5,tantivy]
                             [--out benchmarks/results]

Runs index_speed (medians of --reps interleaved builds), query_speed on the 1x indexes (warm,
and cold: --cold-reps processes per query type), index_process (the whole indexing process
of newssearch, plain whoosh, FTS5 and tantivy, --process-reps alternated runs) and growth (its
1x points are index_speed's and query_speed's); writes OUT/summary.md beside each part's
.md/.json and growth.png. `--growth ''` skips the growth curve, `--process-reps 0` the
whole-process runs, `--cold-reps 0` the cold queries.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import growth
import index_process
import index_speed
import query_speed
from _common import (
    DEFAULT_OUT,
    ENGINE_ORDER,
    corpus_or_exit,
    engine_list,
    fmt,
    load_average,
    log,
    machine,
    pin_newssearch,
    table,
    write,
)
from _queries import QUERIES


def summary(
    index_report: dict[str, Any],
    query_report: dict[str, Any],
    process_report: dict[str, Any] | None,
) -> str:
    """Returns the one table that puts the engines side by side, and the whole-process ratios."""
    header = [
        "engine",
        "wall s",
        "docs/s",
        "index MB",
        "peak RSS MB",
        "query p50 / p95 ms, all types, snippets",
        "no snippets",
        "date range p95 ms",
        "cold open + first query ms",
    ]
    rows = []
    for engine, row in index_report["engines"].items():
        latency = query_report["engines"].get(engine)
        cold = query_report.get("cold", {}).get(engine)
        rows.append(
            [
                row["label"],
                fmt(row["seconds"]),
                fmt(row["docs_per_s"], 0),
                fmt(row["index_mb"]),
                fmt(row["rss_mb"], 0),
                query_speed.cell(latency["all"]) if latency else "–",
                query_speed.cell(latency["all_plain"]) if latency else "–",
                fmt(latency["date"]["p95"], 2) if latency else "–",
                fmt(cold["total_p50"], 1) if cold else "–",
            ]
        )
    first = next(iter(index_report["engines"].values()), None)
    size = f", {first['text_mb']:.1f} MB of text" if first else ""
    return "\n".join(
        [
            "## Summary",
            "",
            f"{index_report['corpus']}: {index_report['docs']:,} articles{size}. Indexing: median "
            f"of {index_report['reps']} interleaved builds, each in its own process. Queries: "
            f"{len(QUERIES)} queries, top 10 with snippets (and without), warm, "
            f"{query_report['reps']} timed passes; date range = the date range and date + words "
            "queries; cold = median over query types of `open` + the first query in a new "
            "process.",
            "",
            table(header, rows),
            "",
            *(
                f"- Whole `index` process, {size['docs']:,} articles: "
                + index_process.ratio_line(size)
                for size in (process_report["sizes"] if process_report else [])
            ),
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Indexing, query and growth benchmarks.")
    parser.add_argument("--corpus", type=Path, help="JSON Lines file or folder (default: Reuters)")
    parser.add_argument("--reps", type=int, default=3, help="builds per engine (default: 3)")
    parser.add_argument("--query-reps", type=int, default=5, help="timed query passes")
    parser.add_argument("--cold-reps", type=int, default=3, help="cold processes per query type")
    parser.add_argument("--process-reps", type=int, default=3, help="whole-process runs")
    parser.add_argument(
        "--process-docs", type=int, default=index_process.SMALL_DOCS, help="smaller file's size"
    )
    parser.add_argument("--growth", default=",".join(f"{s:g}" for s in growth.DEFAULT_SCALES))
    parser.add_argument("--growth-engines", help="comma-separated; run at every scale")
    parser.add_argument("--growth-reps", type=int, default=3, help="timed query passes")
    parser.add_argument("--scale-file", type=Path, help="scale_corpus.py output for growth")
    parser.add_argument("--engines", default=",".join(ENGINE_ORDER), help="comma-separated")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="results and indexes")
    args = parser.parse_args(argv)
    corpus = corpus_or_exit(args.corpus, "run.py")
    engines = engine_list(args.engines)
    started = time.perf_counter()
    load_before = load_average()
    pinned = pin_newssearch(args.out)
    log(pinned)

    log(f"index_speed: {args.reps} interleaved builds per engine")
    index_report = index_speed.measure(corpus, engines, args.reps, args.out)
    log(f"query_speed: {args.query_reps} timed passes")
    query_report = query_speed.measure(
        corpus, engines, args.query_reps, args.out, cold_reps=args.cold_reps
    )
    process_report = None
    if args.process_reps:
        process_engines = [e for e in index_process.DEFAULT_ENGINES if e in engines]
        log(f"index_process: {args.process_reps} alternated runs of the whole process")
        process_report = index_process.measure(
            corpus, process_engines, args.process_reps, args.out, args.process_docs
        )
    parts = [
        summary(index_report, query_report, process_report),
        index_speed.markdown(index_report),
        query_speed.markdown(query_report),
    ]
    write(args.out, "index_speed", parts[1], index_report)
    write(args.out, "query_speed", parts[2], query_report)
    if process_report:
        parts.append(index_process.markdown(process_report))
        write(args.out, "index_process", parts[-1], process_report)

    versions = list(index_report["engines"].get("newssearch", {}).get("versions", []))
    versions += [row["version"] for e, row in query_report["engines"].items() if e == "newssearch"]
    if args.growth.strip():
        explicit = args.growth_engines is not None
        growth_engines = engine_list(args.growth_engines) if explicit else engines
        log("growth")
        known = growth.points_from(index_report, query_report)
        report = growth.measure(
            corpus,
            growth.scales_list(args.growth),
            growth_engines,
            explicit,
            args.growth_reps,
            args.out,
            known,
            cold_reps=args.cold_reps,
            scale_file=args.scale_file,
        )
        parts.append(growth.save(report, args.out))
        versions += [p["version"] for p in report["points"] if p["engine"] == "newssearch"]

    minutes = (time.perf_counter() - started) / 60
    if len(set(versions)) > 1:
        changed = ", ".join(dict.fromkeys(versions))
        parts.append(f"WARNING: newssearch's code changed during the run ({changed}).")
    parts.append(
        f"Machine: {machine()}. Code: {pinned}. Total run time {minutes:.1f} min; load "
        f"average (1 min) {load_before} at the start, {load_average()} at the end."
    )
    text = "\n\n".join(parts)
    (args.out / "summary.md").write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
