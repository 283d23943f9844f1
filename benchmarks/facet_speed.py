"""Facets' cost, and plain query speed before and after them, in one run.

    python benchmarks/facet_speed.py [--corpus PATH] [--reps 15] [--rounds 3]
                                     [--baseline main] [--out benchmarks/results]

Builds (once) a newssearch index of the corpus (a JSON Lines file, or those at the top of a
folder) with `load_documents`, so tags and sources are indexed, under OUT/indexes/facets/.
Then:

- facets: in this process, warm, the median of --reps runs of `search(q, limit=10,
  snippets=False)` with and without each facet, for a query matching every article and for a
  few smaller ones;
- before/after: the query list of `_queries.py`, top 10, no facets, timed in child processes
  that import newssearch from a copy of the --baseline commit's source (`git archive`) or from
  the working tree, for --rounds rounds of --reps passes each, the order alternating (baseline
  first, then current first, ...); medians per query type and over all, and their ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from _common import (
    DEFAULT_OUT,
    REPO_ROOT,
    corpus_or_exit,
    fmt,
    load_average,
    log,
    machine,
    median,
    table,
    write,
)
from _queries import QUERIES, TYPES

EVERY = "NOT id:no-such-id"  # matches every article
FACETS = (("tag",), ("source",), ("date",), ("tag", "source", "date"))
SMALLER = ("oil", "grain OR wheat", '"oil prices" AND date:[1987-03-01 TO 1987-03-31]')


def build(corpus: Path, directory: Path) -> None:
    """Indexes `corpus` into `directory` unless the record beside it says it already has."""
    from newssearch import Index, load_documents

    record = directory.with_suffix(".json")
    if (
        directory.is_dir()
        and record.is_file()
        and json.loads(record.read_text(encoding="utf-8")).get("corpus") == str(corpus.resolve())
    ):
        return
    shutil.rmtree(directory, ignore_errors=True)
    log(f"building a newssearch index of {corpus} in {directory}")
    # A folder: its JSON Lines files (Reuters' folder also holds the raw SGML and notes).
    paths = sorted(corpus.glob("*.jsonl*")) if corpus.is_dir() else [corpus]
    with Index.create(directory) as index:
        report = index.add(load_documents(*paths))
    log(f"  {report.summary()}")
    record.write_text(json.dumps({"corpus": str(corpus.resolve())}), encoding="utf-8")


def timed_ms(run: Any, reps: int) -> float:
    """Returns the median ms of `reps` calls of `run`, after one untimed call."""
    run()
    times = []
    for _ in range(reps):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000)
    return median(times)


def facet_costs(directory: Path, reps: int) -> list[dict[str, Any]]:
    """Returns, per query and facet set, the median ms without and with the facets."""
    from newssearch import Index

    rows = []
    with Index.open(directory) as index:
        for query in (EVERY, *SMALLER):
            total = index.search(query, limit=1, snippets=False).total
            plain = timed_ms(lambda q=query: index.search(q, snippets=False), reps)
            for facets in FACETS:
                with_facets = timed_ms(
                    lambda q=query, f=facets: index.search(q, snippets=False, facets=list(f)),
                    reps,
                )
                rows.append(
                    {
                        "query": query,
                        "total": total,
                        "facets": ",".join(facets),
                        "plain_ms": plain,
                        "facets_ms": with_facets,
                    }
                )
                log(f"  {query!r} {','.join(facets)}: {plain:.2f} -> {with_facets:.2f} ms")
    return rows


def child(directory: Path, reps: int) -> None:
    """Prints the ms of each query of QUERIES over `reps` warm passes (run with PYTHONPATH)."""
    import newssearch
    from newssearch import Index

    times: dict[str, list[float]] = {q.label: [] for q in QUERIES}
    with Index.open(directory) as index:
        for query in QUERIES:
            index.search(query.label, limit=10, snippets=False)
        for _ in range(reps):
            for query in QUERIES:
                started = time.perf_counter()
                index.search(query.label, limit=10, snippets=False)
                times[query.label].append((time.perf_counter() - started) * 1000)
    print(json.dumps({"package": newssearch.__file__, "times": times}))


def baseline_source(ref: str, out: Path) -> Path:
    """Returns a folder holding `ref`'s src/newssearch, extracted with git archive."""
    target = out / "baseline" / ref.replace("/", "_")
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "-C", str(REPO_ROOT), "archive", ref, "src/newssearch"],
        capture_output=True,
        check=True,
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return target / "src"


def before_after(
    directory: Path, baseline: Path, reps: int, rounds: int
) -> dict[str, dict[str, list[float]]]:
    """Returns per version (baseline, current) the ms of each query over every round."""
    versions = {"baseline": baseline, "current": REPO_ROOT / "src"}
    found: dict[str, dict[str, list[float]]] = {v: {} for v in versions}
    for number in range(rounds):
        # ABBA: which version runs first alternates, so that neither gains from going first.
        order = list(versions.items())[:: 1 if number % 2 == 0 else -1]
        for version, source in order:
            env = {**os.environ, "PYTHONPATH": str(source)}
            out = subprocess.run(
                [sys.executable, __file__, "--child", str(directory), "--reps", str(reps)],
                capture_output=True,
                text=True,
                check=True,
                env=env,
            ).stdout
            result = json.loads(out)
            assert Path(result["package"]).resolve().is_relative_to(source.resolve()), result
            for label, times in result["times"].items():
                found[version].setdefault(label, []).extend(times)
            log(f"  round {number + 1} {version}: done")
    return found


def markdown(report: dict[str, Any]) -> str:
    costs = [
        [
            f"`{r['query']}`",
            f"{r['total']:,}",
            r["facets"],
            fmt(r["plain_ms"], 2),
            fmt(r["facets_ms"], 2),
            fmt(r["facets_ms"] - r["plain_ms"], 2),
        ]
        for r in report["facets"]
    ]
    types = {q.label: q.type for q in QUERIES}
    rows = []
    for kind in (*TYPES, "all"):
        medians = [
            median(
                [
                    ms
                    for label, times in report["before_after"][version].items()
                    if kind in ("all", types[label])
                    for ms in times
                ]
            )
            for version in ("baseline", "current")
        ]
        rows.append([kind, fmt(medians[0], 3), fmt(medians[1], 3), fmt(medians[1] / medians[0], 3)])
    return "\n".join(
        [
            "## Facets: cost",
            "",
            f"{report['corpus']}: `search(q, limit=10, snippets=False)`, warm, median ms of "
            f"{report['reps']} runs, without and with `facets=[...]`.",
            "",
            table(["query", "matches", "facets", "without", "with", "cost"], costs),
            "",
            "## Plain queries, before and after",
            "",
            f"The {len(QUERIES)} queries of `_queries.py`, top 10, no facets; median ms over "
            f"{report['rounds']} rounds (which version goes first alternates) of {report['reps']} "
            "passes per version; "
            f"baseline `{report['baseline']}`.",
            "",
            table(["type", "baseline", "current", "current / baseline"], rows),
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Facets' cost; plain queries before/after.")
    parser.add_argument("--corpus", type=Path, help="JSON Lines file or folder (default: Reuters)")
    parser.add_argument("--reps", type=int, default=15, help="timed runs (default: 15)")
    parser.add_argument("--rounds", type=int, default=3, help="before/after rounds (default: 3)")
    parser.add_argument("--baseline", default="main", help="git commit to compare with")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="results and indexes")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child, args.reps)
        return 0
    corpus = corpus_or_exit(args.corpus, "facet_speed.py")
    directory = args.out.resolve() / "indexes" / "facets"
    directory.parent.mkdir(parents=True, exist_ok=True)
    load_before = load_average()
    build(corpus, directory)
    log("facets:")
    costs = facet_costs(directory, args.reps)
    log(f"before/after (baseline {args.baseline}):")
    baseline = baseline_source(args.baseline, args.out.resolve())
    times = before_after(directory, baseline, args.reps, args.rounds)
    report = {
        "corpus": str(corpus),
        "reps": args.reps,
        "rounds": args.rounds,
        "baseline": args.baseline,
        "facets": costs,
        "before_after": times,
    }
    text = markdown(report) + (
        f"\n\nMachine: {machine()}. Load average {load_before} before, {load_average()} after."
    )
    write(args.out, "facet_speed", text, report)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
