"""Indexing speed: docs/s, MB/s of text, index size and peak RSS, engines side by side.

    python benchmarks/index_speed.py [--corpus PATH] [--reps 3] [--scale 1]
                                     [--engines newssearch,whoosh,whoosh-mp,fts5,tantivy]
                                     [--out benchmarks/results]

Each build runs in its own process (`engines.py build`), which reports its own time and peak
RSS; repetitions interleave the engines (rep 1: A B C ..., rep 2: A B C ...) and the table
shows medians. The time is the whole build: reading the corpus (the same reader for every
engine), analysis, indexing and the final commit. The indexes of the last repetition stay
under OUT/indexes/ for query_speed.py.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from _common import (
    MB,
    MIB_PER_KIB,
    SAMPLE_SECONDS,
    ChildFailedError,
    Result,
    fmt,
    log,
    median,
    part_main,
    run_child,
    table,
)
from _corpora import count_articles


def index_dir(out: Path, scale: float, engine: str) -> Path:
    return out / "indexes" / f"x{scale:g}" / engine


def build(engine: str, corpus: Path, docs: int, directory: Path) -> Result:
    """Returns one build's result (or {"unavailable": reason}); records it beside the index."""
    result = run_child("build", engine, corpus, directory, "--docs", docs)
    if "unavailable" not in result:
        record = {"corpus": str(corpus.resolve()), **result}
        directory.with_suffix(".json").write_text(json.dumps(record) + "\n", encoding="utf-8")
    return result


def summarize(runs: list[Result]) -> dict[str, Any]:
    """Returns the medians over the runs of one engine (and the spread of its wall time)."""
    seconds = [run["seconds"] for run in runs]
    return {
        "label": runs[0]["label"],
        "settings": runs[0]["settings"],
        "docs": runs[0]["docs"],
        "text_mb": runs[0]["text_bytes"] / MB,
        "reps": len(runs),
        "seconds": median(seconds),
        "seconds_min": min(seconds),
        "seconds_max": max(seconds),
        "docs_per_s": median([run["docs"] / run["seconds"] for run in runs]),
        "mb_per_s": median([run["text_bytes"] / MB / run["seconds"] for run in runs]),
        "index_mb": median([run["index_bytes"] / MB for run in runs]),
        "rss_mb": median([total_rss_kib(run) * MIB_PER_KIB for run in runs]),
        "rss_main_mb": median([run["rss_kib"] * MIB_PER_KIB for run in runs]),
        "rss_worker_mb": median([run["rss_workers_kib"] * MIB_PER_KIB for run in runs]),
        "versions": sorted({run["version"] for run in runs}),
    }


def total_rss_kib(run: Result) -> int:
    """Returns the peak RSS of a build's processes together: the sampled sum, or at least the
    main process's own peak (a sample can miss a short peak)."""
    return max(int(run.get("tree_rss_kib", 0)), int(run["rss_kib"]))


def measure(
    corpus: Path, engines: list[str], reps: int, out: Path, scale: float = 1.0
) -> dict[str, Any]:
    """Returns each engine's runs and medians, building `scale` x the corpus `reps` times."""
    docs = round(count_articles(corpus) * scale)
    runs: dict[str, list[Result]] = {engine: [] for engine in engines}
    skipped: dict[str, str] = {}
    for rep in range(1, reps + 1):
        for engine in engines:
            if engine in skipped:
                continue
            try:
                result = build(engine, corpus, docs, index_dir(out, scale, engine))
            except ChildFailedError as error:
                skipped[engine] = f"build failed: {error}"
                log(f"  rep {rep}/{reps} {engine}: {skipped[engine]}")
                continue
            if "unavailable" in result:
                skipped[engine] = result["unavailable"]
                log(f"  {engine}: skipped, {skipped[engine]}")
                continue
            runs[engine].append(result)
            log(
                f"  rep {rep}/{reps} {engine}: {result['docs']:,} docs in "
                f"{result['seconds']:.1f} s, peak RSS {total_rss_kib(result) / 1024:.0f} MB"
            )
    return {
        "corpus": str(corpus),
        "scale": scale,
        "docs": docs,
        "reps": reps,
        "engines": {engine: summarize(found) for engine, found in runs.items() if found},
        "runs": {engine: found for engine, found in runs.items() if found},
        "skipped": skipped,
    }


def markdown(report: dict[str, Any]) -> str:
    rows = [
        [
            row["label"],
            f"{fmt(row['seconds'])} ({fmt(row['seconds_min'])}–{fmt(row['seconds_max'])})",
            fmt(row["docs_per_s"], 0),
            fmt(row["mb_per_s"], 2),
            fmt(row["index_mb"]),
            fmt(row["rss_mb"], 0),
            fmt(row["rss_main_mb"], 0),
            fmt(row["rss_worker_mb"], 0) if row["rss_worker_mb"] else "–",
        ]
        for row in report["engines"].values()
    ]
    header = [
        "engine",
        "wall s (min–max)",
        "docs/s",
        "MB/s",
        "index MB",
        "peak RSS MB, all processes",
        "main process",
        "largest worker",
    ]
    any_row = next(iter(report["engines"].values()), None)
    text_mb = f", {any_row['text_mb']:.1f} MB of text" if any_row else ""
    lines = [
        "## Indexing speed",
        "",
        f"{report['corpus']} × {report['scale']:g}: {report['docs']:,} articles{text_mb}; "
        f"median of {report['reps']} interleaved runs, each in its own process.",
        "",
        table(header, rows),
        "",
        *notes(report),
    ]
    return "\n".join(lines)


def notes(report: dict[str, Any]) -> list[str]:
    lines = []
    for row in report["engines"].values():
        versions = " / ".join(row["versions"])
        changed = " — CHANGED BETWEEN RUNS" if len(row["versions"]) > 1 else ""
        lines.append(f"- {row['label']} ({versions}{changed}): {row['settings']}")
    lines += [f"- {engine}: skipped, {reason}" for engine, reason in report["skipped"].items()]
    lines.append(
        "- Peak RSS, all processes: the largest sum of the RSS of the building process and its "
        f"workers, sampled every {SAMPLE_SECONDS:g} s (at least the main process's own peak). "
        "Main process and largest worker: their `ru_maxrss`. Interpreter and imports included."
    )
    return lines


def main(argv: list[str] | None = None) -> int:
    return part_main(
        argv, "index_speed", "Indexing speed, engines side by side.", 3, measure, markdown
    )


if __name__ == "__main__":
    sys.exit(main())
