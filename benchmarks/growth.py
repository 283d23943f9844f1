"""Growth: docs/s, index size, peak RSS and query p50 as the corpus grows, engines side by side.

    python benchmarks/growth.py [--corpus PATH] [--growth 0.125,0.25,0.5,1,2,4]
                                [--growth-engines newssearch,whoosh-mp,fts5,tantivy]
                                [--reps 3] [--out benchmarks/results]

At each scale every engine builds once, in its own process (a prefix of the corpus below 1x;
above, the corpus again as scale-corpus copies: ids `{id}~{k}`, dates k years on, 2% of words
swapped, see `_corpora.scaled_articles`), then answers the query list warm with
`--reps` timed passes; the index is then deleted. By default every engine runs, except plain
whoosh in one process beyond 1x (4x Reuters takes it several minutes) and whoosh procs=2
beyond 4x; naming engines with `--growth-engines` runs exactly those at every scale.
`--growth archive` is 1x, 4x and 16x (345,232 articles at 16x: tens of minutes in all).
Writes OUT/growth.md, growth.json and growth.png, including the memory check: newssearch's
peak RSS at 4x over 1x, at most 1.5.
"""

from __future__ import annotations

import argparse
import math
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
    fmt,
    log,
    machine,
    pin_newssearch,
    run_child,
    table,
    write,
)
from _corpora import count_articles
from index_speed import total_rss_kib
from query_speed import query_index, summarize

DEFAULT_SCALES = (0.125, 0.25, 0.5, 1.0, 2.0, 4.0)
ARCHIVE_SCALES = (1.0, 4.0, 16.0)  # `--growth archive`: tens of minutes with every engine
# Up to which scale an engine runs unless `--growth-engines` names it: plain whoosh in one
# process takes minutes at 4x, whoosh procs=2 some 20 minutes at 16x.
SLOW = {"whoosh": 1.0, "whoosh-mp": 4.0}
MEMORY_LIMIT = 1.5
# What the growth table and plot show per scale: key, title, decimals in the table.
METRICS = (
    ("docs_per_s", "indexing, docs/s", 0),
    ("index_mb", "index size, MB", 1),
    ("rss_mb", "peak RSS while indexing, MB (all processes)", 0),
    ("query_p50", "query p50, ms (all types, top 10, warm)", 2),
)
Point = dict[str, Any]


def scales_list(text: str) -> list[float]:
    """Returns the scales of `--growth`: numbers (`0.5,1,4`), or `archive` for 1, 4 and 16."""
    if text.strip() == "archive":
        return list(ARCHIVE_SCALES)
    try:
        scales = sorted({float(part) for part in text.split(",") if part.strip()})
    except ValueError:
        raise SystemExit(f"--growth wants numbers like 0.125,0.5,1,4, not {text!r}") from None
    if not scales or scales[0] <= 0:
        raise SystemExit("--growth wants positive scales")
    return scales


def engines_at(scale: float, engines: list[str], explicit: bool) -> list[str]:
    return [e for e in engines if explicit or scale <= SLOW.get(e, math.inf)]


def measure_point(
    engine: str, corpus: Path, docs: int, scale: float, reps: int, out: Path
) -> Point:
    """Returns one engine's figures at one scale: one build, then the query list."""
    directory = out / "indexes" / "growth" / engine
    try:
        built = run_child("build", engine, corpus, directory, "--docs", docs)
        if "unavailable" in built:
            return {"engine": engine, "scale": scale, "skipped": built["unavailable"]}
        answered = summarize(query_index(engine, directory, reps))
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
        "query_p50": answered["all"]["p50"],
        "query_p95": answered["all"]["p95"],
    }


def points_from(index_report: dict[str, Any], query_report: dict[str, Any]) -> list[Point]:
    """Returns growth points made of index_speed's medians and query_speed's latencies."""
    points = []
    for engine, row in index_report["engines"].items():
        if engine in query_report["engines"]:
            latency = query_report["engines"][engine]["all"]
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
                    "query_p50": latency["p50"],
                    "query_p95": latency["p95"],
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
) -> dict[str, Any]:
    """Returns every (engine, scale) point; those in `known` are taken as they are."""
    size = count_articles(corpus)
    have = {(p["engine"], p["scale"]): p for p in known}
    points: list[Point] = []
    skipped: dict[str, str] = {}
    for scale in scales:
        docs = round(size * scale)
        for engine in engines_at(scale, engines, explicit):
            if engine in skipped:
                continue
            if (engine, scale) in have:
                points.append(have[(engine, scale)])
                continue
            try:
                point = measure_point(engine, corpus, docs, scale, reps, out)
            except ChildFailedError as error:
                point = {"engine": engine, "scale": scale, "skipped": f"failed: {error}"}
            if "skipped" in point:
                skipped[engine] = f"{point['skipped']} (at {scale:g}×)"
                log(f"  {scale:g}× {engine}: skipped, {point['skipped']}")
                continue
            points.append(point)
            log(
                f"  {scale:g}× {engine}: {point['docs']:,} docs in {point['seconds']:.1f} s, "
                f"{point['index_mb']:.0f} MB, query p50 {point['query_p50']:.2f} ms"
            )
    return {
        "corpus": str(corpus),
        "articles": size,
        "scales": scales,
        "reps": reps,
        "explicit_engines": explicit,
        "points": points,
        "skipped": skipped,
        "memory": memory_check(points),
    }


def memory_check(points: list[Point]) -> dict[str, Any] | None:
    """Returns newssearch's peak RSS at its largest scale over 1x, or None without both."""
    mine = {p["scale"]: p for p in points if p["engine"] == "newssearch"}
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


def pivot(report: dict[str, Any], key: str, digits: int) -> str:
    """Returns a table of one figure: a row per scale, a column per engine."""
    points = report["points"]
    engines = list(dict.fromkeys(p["engine"] for p in points))
    labels = {p["engine"]: p["label"] for p in points}
    found = {(p["engine"], p["scale"]): p[key] for p in points}
    docs = {p["scale"]: p["docs"] for p in points}
    rows = [
        [
            f"{scale:g}×",
            f"{docs.get(scale, round(report['articles'] * scale)):,}",
            *(fmt(found[(e, scale)], digits) if (e, scale) in found else "–" for e in engines),
        ]
        for scale in report["scales"]
    ]
    return table(["scale", "docs", *(labels[e] for e in engines)], rows, left=1)


def markdown(report: dict[str, Any]) -> str:
    policy = (
        "the engines named by --growth-engines at every scale"
        if report["explicit_engines"]
        else "every engine, but plain whoosh (one process) only up to 1× (4× takes it minutes), "
        "whoosh procs=2 up to 4×"
    )
    reused = any(p.get("reused") for p in report["points"])
    lines = [
        "## Growth",
        "",
        f"{report['corpus']} at {', '.join(f'{s:g}×' for s in report['scales'])} "
        f"({report['articles']:,} articles at 1×; copies get new ids): one build per point, "
        f"then the query list warm ({report['reps']} passes). Engines: {policy}."
        + (
            " The 1× points are index_speed's medians and query_speed's latencies."
            if reused
            else ""
        ),
        *(
            line
            for key, title, digits in METRICS
            for line in ("", f"### {title[0].upper()}{title[1:]}", "", pivot(report, key, digits))
        ),
        "",
        memory_line(report["memory"]),
        *(f"- {engine}: skipped, {reason}" for engine, reason in report["skipped"].items()),
    ]
    return "\n".join(lines)


def memory_line(memory: dict[str, Any] | None) -> str:
    if memory is None:
        return "Memory check: not run (needs newssearch at 1× and at a larger scale)."
    verdict = "ok" if memory["ok"] else "FAILS"
    return (
        f"Memory check: newssearch peak RSS (all processes) {memory['rss_mb']:.0f} MB at "
        f"{memory['scale']:g}× vs {memory['rss_1x_mb']:.0f} MB at 1× = {memory['ratio']:.2f}× "
        f"(limit {memory['limit']:g}×): {verdict}. Main process alone: "
        f"{memory['main_ratio']:.2f}×."
    )


def plot(report: dict[str, Any], path: Path) -> None:
    """Draws docs/s, index MB, peak RSS and query p50 against the scale into a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    figure, grid = plt.subplots(2, 2, figsize=(12, 8.5))
    points = report["points"]
    plain = FuncFormatter(lambda value, _: f"{value:g}")
    # Minor ticks (2, 3, ... 9 x a power of ten) labelled at 2 and 5 only, to stay legible.
    sparse = FuncFormatter(lambda value, _: f"{value:g}" if f"{value:.0e}"[0] in "25" else "")
    for axis, (key, title, _) in zip(grid.flat, METRICS, strict=True):
        for engine in dict.fromkeys(p["engine"] for p in points):
            mine = sorted((p for p in points if p["engine"] == engine), key=lambda p: p["scale"])
            label = mine[0]["label"]
            axis.plot([p["scale"] for p in mine], [p[key] for p in mine], marker="o", label=label)
        axis.set_xscale("log", base=2)
        axis.set_yscale("log")
        axis.set_xticks(report["scales"], [f"{s:g}×" for s in report["scales"]])
        axis.yaxis.set_major_formatter(plain)
        axis.yaxis.set_minor_formatter(sparse)
        axis.set_title(title, fontsize="medium")
        axis.set_xlabel(f"corpus size (1× = {report['articles']:,} articles)")
        axis.grid(True, which="both", alpha=0.3)
    handles, labels = grid.flat[0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="lower center", ncol=len(labels), frameon=False)
    figure.suptitle(f"Growth on {report['corpus']} (log scales)", fontsize="medium")
    figure.tight_layout(rect=(0, 0.04, 1, 1))
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    plt.close(figure)


def save(report: dict[str, Any], out: Path) -> str:
    """Writes growth.md/.json/.png under `out`; returns the Markdown."""
    text = markdown(report)
    write(out, "growth", text + f"\n\nMachine: {machine()}.", report)
    if report["points"]:
        plot(report, out / "growth.png")
        text += f"\n\nPlot: {out / 'growth.png'}"
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Growth curve, engines side by side.")
    parser.add_argument("--corpus", type=Path, help="JSON Lines file or folder (default: Reuters)")
    parser.add_argument("--growth", default=",".join(f"{s:g}" for s in DEFAULT_SCALES))
    parser.add_argument("--growth-engines", help="comma-separated; run at every scale")
    parser.add_argument("--reps", type=int, default=3, help="timed query passes (default: 3)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="results and indexes")
    args = parser.parse_args(argv)
    corpus = corpus_or_exit(args.corpus, "growth.py")
    pinned = pin_newssearch(args.out)
    explicit = args.growth_engines is not None
    engines = engine_list(args.growth_engines) if explicit else list(ENGINE_ORDER)
    report = measure(corpus, scales_list(args.growth), engines, explicit, args.reps, args.out)
    text = save(report, args.out)
    print(text + f"\n\nMachine: {machine()}. Code: {pinned}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
