"""Cold queries: the first query after opening an index, in a new process, per engine and type.

A user's first query pays for opening the index and for everything its first search reads. Here
each (repetition, query type, engine) is its own process (`engine_child.py cold`): the
interpreter starts and imports the engine's library untimed, then the child times opening the
index and one query of that type (the repetition picks which), top 10 with snippets. The engines
alternate innermost, so load drifts evenly over them. The operating system's page cache is not
dropped (the machine is shared): the index files are as warm as the build or earlier runs left
them, so this measures the process's own cold start, not the disk's.
"""

from __future__ import annotations

import compileall
from pathlib import Path
from typing import Any

from _common import ENGINE_LABELS, ChildFailedError, fmt, log, median, percentile, run_child, table
from _queries import QUERIES, TYPES

import newssearch

COLD_REPS = 3  # processes per (query type, engine)


def numbers_of(kind: str) -> list[int]:
    return [number for number, query in enumerate(QUERIES) if query.type == kind]


def measure_cold(directories: dict[str, Path], reps: int) -> dict[str, Any]:
    """Returns per engine the medians of open and first-query ms, per type and over all.

    newssearch's bytecode is compiled first, as `pip install` compiles it: an editable
    checkout on a machine that sets PYTHONDONTWRITEBYTECODE (this one does) would otherwise
    compile the modules a first query imports in every child, some 15 ms of each."""
    compileall.compile_dir(str(Path(newssearch.__file__).parent), quiet=1)
    runs: dict[str, list[dict[str, Any]]] = {engine: [] for engine in directories}
    for rep in range(reps):
        for kind in TYPES:
            numbers = numbers_of(kind)
            number = numbers[rep % len(numbers)]
            for engine, directory in directories.items():
                try:
                    runs[engine].append(run_child("cold", engine, directory, number))
                except ChildFailedError as error:
                    log(f"  cold {engine} {QUERIES[number].label}: failed, {error}")
    found = {engine: summarize_cold(engine, done) for engine, done in runs.items() if done}
    for engine, row in found.items():
        log(
            f"  cold {engine}: open {row['open_p50']:.1f} ms, first query p50 "
            f"{row['first_p50']:.1f} ms, p95 {row['first_p95']:.1f} ms"
        )
    return found


def summarize_cold(engine: str, runs: list[dict[str, Any]]) -> dict[str, Any]:
    firsts = [run["first_ms"] for run in runs]
    return {
        "label": ENGINE_LABELS[engine],
        "processes": len(runs),
        "open_p50": median([run["open_ms"] for run in runs]),
        "first_p50": median(firsts),
        "first_p95": percentile(firsts, 0.95),
        "total_p50": median([run["open_ms"] + run["first_ms"] for run in runs]),
        "types": {
            kind: median([run["first_ms"] for run in runs if run["type"] == kind])
            for kind in TYPES
            if any(run["type"] == kind for run in runs)
        },
        "runs": runs,
    }


def cold_markdown(cold: dict[str, Any], reps: int) -> list[str]:
    """Returns the lines of the cold table (none when cold queries were not run)."""
    if not cold:
        return []
    header = ["engine", "open ms", *TYPES, "first query p50 / p95", "open + first p50"]
    rows = [
        [
            row["label"],
            fmt(row["open_p50"], 1),
            *(fmt(row["types"].get(kind, float("nan")), 1) for kind in TYPES),
            f"{fmt(row['first_p50'], 1)} / {fmt(row['first_p95'], 1)}",
            fmt(row["total_p50"], 1),
        ]
        for row in cold.values()
    ]
    return [
        "### Cold: the first query after opening, in a new process",
        "",
        f"One process per (query type, engine, repetition), {reps} repetitions, engines "
        "alternating; the library is imported untimed, then `open` and one query (top 10 with "
        "snippets) are timed apart. Medians in ms (per type over the repetitions); the page "
        "cache is not dropped.",
        "",
        table(header, rows),
        "",
    ]
