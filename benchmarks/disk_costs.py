"""What durability, checksums and the allow-list unpickler cost: this code beside a baseline.

    python benchmarks/disk_costs.py --baseline SRC [--corpus PATH] [--reps 3]

SRC is the `src/` folder of the code to compare with (e.g. main, unpacked with
`git archive main | tar -x -C /tmp/main`). Each variant runs in child processes with its
`src/` first on sys.path: building an index of the corpus (commit included: checksums and
fsyncs), then, in a new process each time, opening it and answering a first query (where the
first-open checksum pass falls), then warm and cold (fresh Index, empty postings cache) query
latencies, and the decoding of every posting block and position list of seven common words,
where the unpickler sits. Variants alternate run by run; medians of `--reps` runs (query
latencies: of the medians over 20 executions of each query).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from _common import corpus_or_exit, load_average, log, table

QUERIES = ["oil", "said", '"oil prices"', "wheat AND corn", "grain OR wheat", "oil -crude"]

_CHILD = r"""
import inspect, json, shutil, sys, time
from pathlib import Path
job, corpus, folder = sys.argv[1], sys.argv[2], Path(sys.argv[3])
queries = json.loads(sys.argv[4])
t0 = time.perf_counter()
from newssearch import Index, load_documents
if job == "build":
    shutil.rmtree(folder, ignore_errors=True)
    Index.create(folder).add(load_documents(corpus))
    print(json.dumps(time.perf_counter() - t0))
elif job == "first":
    index = Index.open(folder)
    index.search("oil", snippets=False)
    print(json.dumps(time.perf_counter() - t0))
else:
    def timed(index, q):
        start = time.perf_counter()
        index.search(q, snippets=False)
        return time.perf_counter() - start
    try:
        from newssearch.engine.postings_cache import read_postings as read
    except ImportError:  # a commit from before engine/postings_cache.py
        from newssearch.engine import execute
        read = getattr(execute, "read_postings", None) or getattr(execute, "_read_postings")
    # Since positions became optional, they are asked for.
    positions = [True] if "positions" in inspect.signature(read).parameters else []
    searcher = Index.open(folder)._current_searcher()
    leaves = [sub.reader() for sub, _ in searcher.leaf_searchers()]
    decode = []
    for _ in range(5):  # every posting block and position list of these terms, decoded
        start = time.perf_counter()
        for term in (b"oil", b"said", b"price", b"wheat", b"corn", b"grain", b"crude"):
            for reader in leaves:
                read(reader, "body", term, *positions).flat
        decode.append(time.perf_counter() - start)
    out = {"decode": sorted(decode)[2] * 1e3}
    warm = Index.open(folder)
    for q in queries:
        warm.search(q, snippets=False)
        times, cold = [], []
        for _ in range(20):
            times.append(timed(warm, q))
            with Index.open(folder) as fresh:
                cold.append(timed(fresh, q))
        out[q] = [sorted(times)[10] * 1e3, sorted(cold)[10] * 1e3]
    print(json.dumps(out))
"""


def child(src: Path, job: str, corpus: Path, folder: Path) -> object:
    env = {**os.environ, "PYTHONPATH": str(src)}
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, job, str(corpus), str(folder), json.dumps(QUERIES)],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    return json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--baseline", type=Path, required=True, help="src/ of the baseline")
    parser.add_argument("--corpus", type=Path, default=None)
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    corpus = corpus_or_exit(args.corpus, "disk_costs.py")
    variants = {"baseline": args.baseline.resolve(), "this": Path(__file__).parent.parent / "src"}
    runs: dict[str, dict[str, list[object]]] = {n: {} for n in variants}
    with tempfile.TemporaryDirectory() as scratch:
        # Interleaved, variant after variant, so that a change in the machine's load hits both.
        for job, reps in (("build", args.reps), ("first", args.reps * 3), ("queries", args.reps)):
            log(f"{job} x{reps} each")
            for _ in range(reps):
                for name, src in variants.items():
                    found = child(src, job, corpus, Path(scratch) / name)
                    runs[name].setdefault(job, []).append(found)
        results: dict[str, dict[str, object]] = {}
        for name, found in runs.items():
            queries = found["queries"]
            results[name] = {
                "build_s": statistics.median(found["build"]),  # type: ignore[type-var]
                "first_query_s": statistics.median(found["first"]),  # type: ignore[type-var]
                "queries_ms": {
                    key: [statistics.median(q[key][i] for q in queries) for i in (0, 1)]  # type: ignore[index]
                    for key in QUERIES
                },
                "decode_ms": statistics.median(q["decode"] for q in queries),  # type: ignore[index]
                "bytes": sum(f.stat().st_size for f in (Path(scratch) / name).iterdir()),
            }
    base, this = results["baseline"], results["this"]
    rows = [
        ["build (s)", f"{base['build_s']:.2f}", f"{this['build_s']:.2f}"],
        [
            "open + first query, new process (s)",
            f"{base['first_query_s']:.3f}",
            f"{this['first_query_s']:.3f}",
        ],
        ["index size (bytes)", f"{base['bytes']:,}", f"{this['bytes']:,}"],
        [
            "decode 7 terms' postings and positions (ms)",
            f"{base['decode_ms']:.1f}",
            f"{this['decode_ms']:.1f}",
        ],
    ]
    for q in QUERIES:
        (bw, bc), (tw, tc) = base["queries_ms"][q], this["queries_ms"][q]  # type: ignore[index]
        rows.append([f"{q} warm / cold (ms)", f"{bw:.2f} / {bc:.2f}", f"{tw:.2f} / {tc:.2f}"])
    print(table(["", "baseline", "this"], rows))
    print(f"\nload average: {load_average()}")


if __name__ == "__main__":
    main()
