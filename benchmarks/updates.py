"""Archive scale: an index's segments and size, the first query after opening it, warm
queries with snippets, and adding, updating and deleting 1,000 articles in it.

    python benchmarks/updates.py INDEX_DIR [--corpus FILE] [--count 1000] [--reps 3]
    python benchmarks/updates.py INDEX_DIR --first-only [--reps 7] [--against SRC]

INDEX_DIR is an index built from a scale corpus (`scale_corpus.py`, then `newssearch index`),
and is changed: each repetition adds `--count` new articles (Reuters' first ones with ids
`{id}~new{rep}`), updates `--count` (Reuters' own, a sentence added to the body) and deletes
`--count` ids of copy 5 + rep, each one `Index.add` or `Index.delete` call in a freshly opened
index, timed from `Index.open` to its return. `Index.open` and the first query after it are
timed in a new process each time, after newssearch is imported. Medians of `--reps`.

With `--first-only`, only `Index.open` and the first query are timed (the index is not
changed), and with `--against SRC` (another version's `src/`, e.g. from `git archive`) runs of
this checkout and of SRC alternate, one new process each, so that both see the same load.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

from _common import DEFAULT_CORPUS, MB, fmt, load_average, log, median, table

from newssearch import Document, Index, load_documents

DEFAULT_FILE = DEFAULT_CORPUS / "reuters21578.jsonl.gz"
QUERIES = ("oil", "the", '"trade deficit"', '"oil prices"~3', "wheat AND NOT corn")
WARM_REPS = 7
_FIRST_QUERY = """
import json, sys, time
from newssearch import Index
started = time.perf_counter()
index = Index.open(sys.argv[1])
opened = time.perf_counter()
index.search(sys.argv[2], limit=10)
print(json.dumps([opened - started, time.perf_counter() - opened]))
"""


def shape(directory: Path) -> dict[str, float]:
    """Returns the index's document and segment counts and its size in MB."""
    with Index.open(directory) as index:
        stats = index.stats()
    return {"documents": stats.documents, "segments": stats.segments, "mb": stats.size_bytes / MB}


def first_query_ms(directory: Path, query: str, src: Path | None = None) -> tuple[float, float]:
    """Returns the ms of `Index.open` and of the first query after it, in a new process
    (newssearch imported before the clock starts; from `src` if given)."""
    run = [sys.executable, "-c", _FIRST_QUERY, str(directory), query]
    env = {**os.environ, "PYTHONPATH": str(src)} if src else None
    done = subprocess.run(run, capture_output=True, check=True, text=True, env=env)
    found = json.loads(done.stdout)
    return 1000 * found[0], 1000 * found[1]


def first_only(directory: Path, reps: int, against: Path | None) -> str:
    """Returns the medians of `Index.open` and the first query, of this checkout and (runs
    alternating) of the code in `against`."""
    sides: dict[str, list[tuple[float, float]]] = {"this checkout": []}
    if against:
        sides[str(against)] = []
    loads = [load_average()]
    for rep in range(reps):
        for name in sides if rep % 2 == 0 else reversed(sides):
            sides[name].append(
                first_query_ms(directory, "oil", None if name == "this checkout" else against)
            )
    loads.append(load_average())
    rows = [
        [
            name,
            fmt(median([o for o, _ in runs]), 0),
            fmt(median([q for _, q in runs]), 0),
            fmt(max(q for _, q in runs), 0),
        ]
        for name, runs in sides.items()
    ]
    header = ["code", f"`Index.open` ms, median of {reps}", "first query ms", "max"]
    return (
        f"{directory}: `oil`, top 10 with snippets, each run a new process. "
        f"Load {' -> '.join(loads)}.\n\n{table(header, rows)}"
    )


def warm_ms(directory: Path) -> dict[str, list[float]]:
    """Returns per query the ms of WARM_REPS runs, top 10 with snippets, after one untimed."""
    found = {}
    with Index.open(directory) as index:
        for query in QUERIES:
            index.search(query, limit=10)
            times = []
            for _ in range(WARM_REPS):
                started = time.perf_counter()
                index.search(query, limit=10)
                times.append(1000 * (time.perf_counter() - started))
            found[query] = times
    return found


def timed(directory: Path, change: str, docs: list[Document], ids: list[str]) -> float:
    """Returns the seconds one change took, from opening the index to its commit."""
    started = time.perf_counter()
    with Index.open(directory) as index:
        if change == "delete":
            assert len(index.delete(ids)) == len(ids), "ids to delete missing"
        else:
            report = index.add(docs)
            done = report.added if change == "add" else report.updated
            assert done == len(docs), report.summary()
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("index", type=Path, help="an index built from a scale corpus")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_FILE, help="Reuters JSON Lines")
    parser.add_argument("--count", type=int, default=1000, help="articles per change")
    parser.add_argument("--reps", type=int, default=3, help="repetitions (default: 3)")
    parser.add_argument(
        "--first-only", action="store_true", help="time only the first query after opening"
    )
    parser.add_argument("--against", type=Path, help="with --first-only: another src/ too")
    args = parser.parse_args(argv)
    if args.first_only:
        print(first_only(args.index, args.reps, args.against))
        return 0
    loads = [load_average()]
    before = shape(args.index)
    log(f"{before['documents']:,.0f} documents, {before['segments']:.0f} segments")
    first = [first_query_ms(args.index, "oil") for _ in range(args.reps)]
    warm = warm_ms(args.index)
    read = (d for d in load_documents(args.corpus) if isinstance(d, Document))
    originals = list(itertools.islice(read, args.count * args.reps))
    seconds: dict[str, list[float]] = {"add": [], "update": [], "delete": []}
    for rep in range(args.reps):
        mine = originals[rep * args.count : (rep + 1) * args.count]
        new = [replace(d, id=f"{d.id}~new{rep}") for d in mine]
        changed = [replace(d, body=f"{d.body}\nRevised, version {rep}.") for d in mine]
        gone = [f"{d.id}~{5 + rep}" for d in mine]
        for change, docs, ids in (("add", new, []), ("update", changed, []), ("delete", [], gone)):
            seconds[change].append(timed(args.index, change, docs, ids))
            log(f"  rep {rep + 1} {change}: {seconds[change][-1]:.1f} s")
    after = shape(args.index)
    loads.append(load_average())
    rows = [
        [f"{change} {args.count:,}", fmt(median(values), 2), fmt(max(values), 2)]
        for change, values in seconds.items()
    ]
    text = "\n\n".join(
        [
            f"{args.index}: {before['documents']:,.0f} documents, {before['segments']:.0f} "
            f"segments, {before['mb']:.0f} MB; after the changes {after['documents']:,.0f}, "
            f"{after['segments']:.0f} segments, {after['mb']:.0f} MB. Load {' -> '.join(loads)}.",
            table(["change", f"s, median of {args.reps}", "max"], rows),
            f"In a new process, median of {args.reps}: `Index.open` "
            f"{median([o for o, _ in first]):.0f} ms, then the first query (`oil`, top 10 with "
            f"snippets) {median([q for _, q in first]):.0f} ms "
            f"(max {max(q for _, q in first):.0f}).",
            table(
                ["query (top 10, snippets)", f"ms median of {WARM_REPS}", "max"],
                [[f"`{q}`", fmt(median(t), 1), fmt(max(t), 1)] for q, t in warm.items()],
            ),
        ]
    )
    print(text)
    print(json.dumps({"before": before, "after": after, "seconds": seconds, "first_ms": first}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
