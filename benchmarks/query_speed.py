"""Query latency, top 10 with snippets: p50/p95 per query type, warm and cold, engines side by side.

    python benchmarks/query_speed.py [--corpus PATH] [--reps 5] [--scale 1]
                                     [--engines newssearch,whoosh,whoosh-mp,fts5,tantivy]
                                     [--out benchmarks/results]

Queries the indexes that index_speed.py left under OUT/indexes/ (building any that is missing
or was built from another corpus). Warm: each engine runs in its own process
(`engine_child.py query`): it opens its index, runs every query of `_queries.QUERIES` once
untimed (and counts its exact matches, for the sanity table), then times `--reps` passes over
the list, each query top 10 with snippets and then without. Cold: `cold.py`, the first query
in a new process. Percentiles are over all executions of a type.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from _common import (
    PINNED_VARIABLE,
    ChildFailedError,
    Result,
    fmt,
    log,
    part_main,
    percentile,
    run_child,
    table,
)
from _corpora import count_articles
from _queries import DATE_TYPES, TYPES
from cold import COLD_REPS, cold_markdown, measure_cold
from index_speed import build, index_dir


def ensure_index(engine: str, corpus: Path, docs: int, directory: Path) -> str | None:
    """Returns None once `directory` holds `engine`'s index of `docs` articles of `corpus`.

    Builds it unless the record beside it says it already does (for newssearch: with the
    pinned code); returns why it cannot.
    """
    record = directory.with_suffix(".json")
    if directory.is_dir() and record.is_file():
        built = json.loads(record.read_text(encoding="utf-8"))
        same_code = engine != "newssearch" or built.get("version") == os.environ.get(
            PINNED_VARIABLE
        )
        if built.get("corpus") == str(corpus.resolve()) and built.get("docs") == docs and same_code:
            return None
    log(f"  {engine}: building its index of {docs:,} articles")
    result = build(engine, corpus, docs, directory)
    return result.get("unavailable")


def latency(executions: list[float]) -> dict[str, float]:
    return {"p50": percentile(executions, 0.5), "p95": percentile(executions, 0.95)}


def summarize(result: Result) -> dict[str, Any]:
    """Returns p50/p95 in ms per query type, over all types, and over the date types, with
    snippets; and over all types without (`all_plain`)."""
    queries = result["queries"]
    by_type = {
        kind: latency([ms for q in queries if q["type"] == kind for ms in q["ms"]])
        for kind in TYPES
    }
    return {
        "label": result["label"],
        "settings": result["settings"],
        "version": result["version"],
        "types": by_type,
        "all": latency([ms for q in queries for ms in q["ms"]]),
        "all_plain": latency([ms for q in queries for ms in q["ms_plain"]]),
        "date": latency([ms for q in queries if q["type"] in DATE_TYPES for ms in q["ms"]]),
        "queries": queries,
    }


def query_index(engine: str, directory: Path, reps: int) -> Result:
    return run_child("query", engine, directory, "--reps", reps)


def measure(
    corpus: Path,
    engines: list[str],
    reps: int,
    out: Path,
    scale: float = 1.0,
    cold_reps: int = COLD_REPS,
) -> dict[str, Any]:
    """Returns each engine's latency summary on `scale` x the corpus, warm and cold."""
    docs = round(count_articles(corpus) * scale)
    found: dict[str, Any] = {}
    skipped: dict[str, str] = {}
    for engine in engines:
        directory = index_dir(out, scale, engine)
        try:
            reason = ensure_index(engine, corpus, docs, directory)
            if reason is None:
                result = query_index(engine, directory, reps)
                reason = result.get("unavailable")
        except ChildFailedError as error:
            reason = f"failed: {error}"
        if reason is not None:
            skipped[engine] = reason
            log(f"  {engine}: skipped, {reason}")
            continue
        found[engine] = summarize(result)
        every = found[engine]["all"]
        log(f"  {engine}: p50 {every['p50']:.2f} ms, p95 {every['p95']:.2f} ms")
    directories = {engine: index_dir(out, scale, engine) for engine in found}
    return {
        "corpus": str(corpus),
        "scale": scale,
        "docs": docs,
        "reps": reps,
        "engines": found,
        "skipped": skipped,
        "cold": measure_cold(directories, cold_reps) if cold_reps else {},
        "cold_reps": cold_reps,
    }


# Where the engines' counts cannot agree exactly, by design rather than by error.
DISAGREEMENTS = (
    "Counts differ where the engines do: stems (Snowball for newssearch, whoosh's and FTS5's "
    "Porter, tantivy's Snowball: `mln`, `oil OR gas`); whoosh drops stop words and renumbers "
    "positions, so its proximity gaps skip them; FTS5's `NEAR(a b, N)` takes the words in any "
    'order, the others in order (`"a b"~N`: at most N words between, whoosh\'s slop N + 1); '
    "tantivy's slop admits a few more matches than newssearch's."
)


def cell(stats: dict[str, float]) -> str:
    return f"{fmt(stats['p50'], 2)} / {fmt(stats['p95'], 2)}"


def markdown(report: dict[str, Any]) -> str:
    engines = report["engines"]
    header = ["engine", *TYPES, "all types", "all types, no snippets"]
    rows = [
        [
            row["label"],
            *(cell(row["types"][kind]) for kind in TYPES),
            cell(row["all"]),
            cell(row["all_plain"]),
        ]
        for row in engines.values()
    ]
    count = len(next(iter(engines.values()))["queries"]) if engines else 0
    lines = [
        "## Query latency",
        "",
        f"{report['corpus']} × {report['scale']:g} ({report['docs']:,} articles): {count} "
        f"queries, top 10 with snippets (the last column without), warm; ms p50 / p95 over "
        f"{report['reps']} timed passes.",
        "",
        table(header, rows),
        "",
        *cold_markdown(report.get("cold", {}), report.get("cold_reps", 0)),
        *(f"- {engine}: skipped, {reason}" for engine, reason in report["skipped"].items()),
        "",
        "### Matches per query (exact counts; engines should roughly agree)",
        "",
        hits_table(report),
        "",
        DISAGREEMENTS,
    ]
    return "\n".join(lines)


def hits_table(report: dict[str, Any]) -> str:
    engines = list(report["engines"].values())
    if not engines:
        return "(no engine ran)"
    rows = []
    for number, first in enumerate(engines[0]["queries"]):
        totals = [row["queries"][number]["total"] for row in engines]
        query = first["query"].replace("|", "\\|")
        rows.append([f"`{query}`", first["type"], *(f"{total:,}" for total in totals)])
    return table(["query", "type", *(row["label"] for row in engines)], rows, left=2)


def main(argv: list[str] | None = None) -> int:
    return part_main(
        argv, "query_speed", "Query latency, engines side by side.", 5, measure, markdown
    )


if __name__ == "__main__":
    sys.exit(main())
