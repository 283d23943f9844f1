"""Growth: docs/s, index size, peak RSS and query p95, warm and cold, as the corpus grows.

    python benchmarks/growth.py [--corpus PATH] [--growth 0.125,0.25,0.5,1,2,4 | archive]
                                [--growth-engines newssearch,whoosh-mp,fts5,tantivy]
                                [--scale-file OUT.jsonl.gz] [--reps 3] [--cold-reps 3]
                                [--out benchmarks/results]

At each scale every engine builds once, in its own process (a prefix of the corpus below 1x;
above, the corpus again as scale-corpus copies: ids `{id}~{k}`, dates k years on, 2% of words
swapped, see `_corpora.scaled_articles`; made while the engine reads them, or read from
`--scale-file`, a file `scale_corpus.py` wrote with as many copies or more, which holds the
same records and spares every build the copying), then answers the query list warm (`--reps` timed
passes, top 10 with snippets) and cold (`cold.py`, `--cold-reps` processes per query type);
the index is then deleted. By default every engine runs, except plain whoosh in one process
beyond 1x and whoosh procs=2 beyond 4x (`SLOW`: the output says where and why they stopped);
naming engines with `--growth-engines` runs exactly those at every scale. `--growth archive`
is 1x, 4x, 16x and 48x (1.04 M articles at 48x: hours with every engine on 2 cores).
Writes OUT/growth.md, growth.json and growth.png (`growth_report.py`), including the memory
check: newssearch's peak RSS at the largest scale over 1x, at most 1.2 (reported, never failed).
"""

from __future__ import annotations

import argparse
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from _common import (
    DEFAULT_OUT,
    ENGINE_ORDER,
    MB,
    MIB_PER_KIB,
    ChildFailedError,
    corpus_or_exit,
    engine_list,
    log,
    machine,
    pin_newssearch,
    run_child,
)
from _corpora import count_articles
from cold import COLD_REPS, measure_cold
from growth_report import save
from index_speed import total_rss_kib
from query_speed import query_index, summarize

DEFAULT_SCALES = (0.125, 0.25, 0.5, 1.0, 2.0, 4.0)
ARCHIVE_SCALES = (1.0, 4.0, 16.0, 48.0)  # `--growth archive`
# Up to which scale an engine runs unless `--growth-engines` names it, and why it stops there.
SLOW = {
    "whoosh": (1.0, "plain whoosh in one process takes minutes at 4×"),
    "whoosh-mp": (4.0, "whoosh procs=2 takes some 20 minutes at 16× and over an hour at 48×"),
}
MEMORY_LIMIT = 1.2  # issue 9: peak RSS at the largest scale at most 1.2x the 1x peak
Point = dict[str, Any]


def scales_list(text: str) -> list[float]:
    """Returns the scales of `--growth`: numbers (`0.5,1,4`), or `archive` for 1, 4, 16, 48."""
    if text.strip() == "archive":
        return list(ARCHIVE_SCALES)
    try:
        scales = sorted({float(part) for part in text.split(",") if part.strip()})
    except ValueError:
        raise SystemExit(f"--growth wants numbers like 0.125,0.5,1,4, not {text!r}") from None
    if not scales or scales[0] <= 0:
        raise SystemExit("--growth wants positive scales")
    return scales


def stopped(engine: str, scale: float, explicit: bool) -> str | None:
    """Returns why `engine` does not run at `scale` by default, or None when it runs."""
    if explicit or engine not in SLOW or scale <= SLOW[engine][0]:
        return None
    last, reason = SLOW[engine]
    return f"stopped after {last:g}×: {reason} (name it in --growth-engines to run it)"


def measure_point(
    engine: str, corpus: Path, docs: int, scale: float, reps: int, cold_reps: int, out: Path
) -> Point:
    """Returns one engine's figures at one scale: one build, the query list warm and cold."""
    directory = out / "indexes" / "growth" / engine
    try:
        built = run_child("build", engine, corpus, directory, "--docs", docs)
        if "unavailable" in built:
            return {"engine": engine, "scale": scale, "skipped": built["unavailable"]}
        if built["docs"] < docs:
            log(f"  {scale:g}× {engine}: {corpus} held only {built['docs']:,} of {docs:,}")
        answered = summarize(query_index(engine, directory, reps))
        cold = measure_cold({engine: directory}, cold_reps).get(engine) if cold_reps else None
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    return {
        "engine": engine,
        "label": built["label"],
        "scale": scale,
        "docs": built["docs"],
        "seconds": built["seconds"],
        "docs_per_s": built["docs"] / built["seconds"],
        "index_mb": built["index_bytes"] / MB,
        "rss_mb": total_rss_kib(built) * MIB_PER_KIB,
        "rss_main_mb": built["rss_kib"] * MIB_PER_KIB,
        "version": built["version"],
        **latency_fields(answered, cold),
    }


def latency_fields(answered: dict[str, Any], cold: dict[str, Any] | None) -> Point:
    """Returns a point's query figures: warm p50/p95 over all types and p95 per type (top 10
    with snippets), p95 without snippets, and the cold medians (None when not run)."""
    return {
        "query_p50": answered["all"]["p50"],
        "query_p95": answered["all"]["p95"],
        "query_p95_plain": answered["all_plain"]["p95"],
        "type_p95": {kind: stats["p95"] for kind, stats in answered["types"].items()},
        "cold_open": cold["open_p50"] if cold else None,
        "cold_first": cold["first_p50"] if cold else None,
        "cold_first_p95": cold["first_p95"] if cold else None,
    }


def points_from(index_report: dict[str, Any], query_report: dict[str, Any]) -> list[Point]:
    """Returns growth points made of index_speed's medians and query_speed's latencies."""
    points = []
    for engine, row in index_report["engines"].items():
        if engine in query_report["engines"]:
            answered = query_report["engines"][engine]
            cold = query_report.get("cold", {}).get(engine)
            points.append(
                {
                    "engine": engine,
                    "label": row["label"],
                    "scale": index_report["scale"],
                    "docs": row["docs"],
                    "seconds": row["seconds"],
                    "docs_per_s": row["docs_per_s"],
                    "index_mb": row["index_mb"],
                    "rss_mb": row["rss_mb"],
                    "rss_main_mb": row["rss_main_mb"],
                    "version": row["versions"][-1],
                    **latency_fields(answered, cold),
                    "reused": True,
                }
            )
    return points


def measure(
    corpus: Path,
    scales: list[float],
    engines: list[str],
    explicit: bool,
    reps: int,
    out: Path,
    known: Sequence[Point] = (),
    cold_reps: int = COLD_REPS,
    scale_file: Path | None = None,
) -> dict[str, Any]:
    """Returns every (engine, scale) point; those in `known` are taken as they are. Above 1x
    the articles come from `scale_file` when given (its first records are the same)."""
    size = count_articles(corpus)
    have = {(p["engine"], p["scale"]): p for p in known}
    points: list[Point] = []
    skipped: dict[str, str] = {}
    for scale in scales:
        docs = round(size * scale)
        source = scale_file if scale_file is not None and scale > 1 else corpus
        for engine in engines:
            if engine in skipped:
                continue
            reason = stopped(engine, scale, explicit)
            if reason is not None:
                skipped[engine] = reason
                continue
            if (engine, scale) in have:
                points.append(have[(engine, scale)])
                continue
            try:
                point = measure_point(engine, source, docs, scale, reps, cold_reps, out)
            except ChildFailedError as error:
                point = {"engine": engine, "scale": scale, "skipped": f"failed: {error}"}
            if "skipped" in point:
                skipped[engine] = f"{point['skipped']} (at {scale:g}×)"
                log(f"  {scale:g}× {engine}: skipped, {point['skipped']}")
                continue
            points.append(point)
            log(
                f"  {scale:g}× {engine}: {point['docs']:,} docs in {point['seconds']:.1f} s, "
                f"{point['index_mb']:.0f} MB, query p95 {point['query_p95']:.2f} ms"
            )
    return {
        "corpus": str(corpus),
        "articles": size,
        "scale_file": str(scale_file) if scale_file else None,
        "scales": scales,
        "reps": reps,
        "cold_reps": cold_reps,
        "explicit_engines": explicit,
        "points": points,
        "skipped": skipped,
        "memory": {engine: memory_check(points, engine) for engine in engines},
    }


def memory_check(points: list[Point], engine: str) -> dict[str, Any] | None:
    """Returns an engine's peak RSS at its largest scale over 1x, or None without both."""
    mine = {p["scale"]: p for p in points if p["engine"] == engine}
    if 1.0 not in mine or max(mine) <= 1.0:
        return None
    top, one = mine[max(mine)], mine[1.0]
    ratio = top["rss_mb"] / one["rss_mb"]
    return {
        "scale": top["scale"],
        "rss_mb": top["rss_mb"],
        "rss_1x_mb": one["rss_mb"],
        "ratio": ratio,
        "main_ratio": top["rss_main_mb"] / one["rss_main_mb"],
        "limit": MEMORY_LIMIT,
        "ok": ratio <= MEMORY_LIMIT,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Growth curve, engines side by side.")
    parser.add_argument("--corpus", type=Path, help="JSON Lines file or folder (default: Reuters)")
    parser.add_argument("--growth", default=",".join(f"{s:g}" for s in DEFAULT_SCALES))
    parser.add_argument("--growth-engines", help="comma-separated; run at every scale")
    parser.add_argument("--reps", type=int, default=3, help="timed query passes (default: 3)")
    parser.add_argument(
        "--cold-reps", type=int, default=COLD_REPS, help="cold processes per query type"
    )
    parser.add_argument(
        "--scale-file", type=Path, help="scale_corpus.py output to read copies from"
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="results and indexes")
    args = parser.parse_args(argv)
    corpus = corpus_or_exit(args.corpus, "growth.py")
    pinned = pin_newssearch(args.out)
    explicit = args.growth_engines is not None
    engines = engine_list(args.growth_engines) if explicit else list(ENGINE_ORDER)
    scales = scales_list(args.growth)
    report = measure(
        corpus,
        scales,
        engines,
        explicit,
        args.reps,
        args.out,
        cold_reps=args.cold_reps,
        scale_file=args.scale_file,
    )
    text = save(report, args.out)
    print(text + f"\n\nMachine: {machine()}. Code: {pinned}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
