"""Query speed of this checkout against another git revision, paired, on a busy machine too.

    python benchmarks/ab.py [--base main] [--corpus PATH] [--passes 40] [--cli-runs 8]
                            [--out benchmarks/results]

The base revision's `src/` is exported (`git archive`) to OUT/ab/base; each side builds its own
index of the corpus with its own code. Then two long-lived processes, one per side, take turns
(base, this, this, base, …): each turn is one pass of the query list of `_queries.py`, top 10,
warm, with snippets and again without. Both sides see the same load, so the medians and the
median of the paired ratios compare the code, not the moment. Last, the command line: wall time
of `python -m newssearch query` (a new process each run, four queries), the sides alternating,
and its CPU time (user + system), which a loaded machine disturbs less.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tarfile
import time
from io import BytesIO
from pathlib import Path

from _common import (
    DEFAULT_OUT,
    REPO_ROOT,
    corpus_or_exit,
    load_average,
    log,
    machine,
    median,
    table,
)

CLI_QUERIES = ["oil prices", '"oil prices" AND date:1987-03', "grain OR wheat -corn", "expor*"]


def export(revision: str, target: Path) -> str:
    """Returns the commit of `revision`, whose src/ is now under `target`."""
    commit = subprocess.run(
        ["git", "-C", str(REPO_ROOT), "rev-parse", "--short", revision],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    archive = subprocess.run(
        ["git", "-C", str(REPO_ROOT), "archive", commit, "src"], capture_output=True, check=True
    ).stdout
    target.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(target, filter="data")
    return commit


def worker(index_dir: Path, corpus: Path) -> None:
    """Builds the index if needed, then answers each line on stdin with one timed pass:
    `snippets ms_per_query` for snippets on ("1") or off ("0")."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _queries import QUERIES

    from newssearch import Index, load_documents

    if not index_dir.is_dir():
        Index.create(index_dir).add(load_documents(corpus))
    index = Index.open(index_dir)
    labels = [query.label for query in QUERIES]
    for snippets in (True, False):
        for label in labels:
            index.search(label, limit=10, snippets=snippets)
    print("ready", flush=True)
    for line in sys.stdin:
        snippets = line.strip() == "1"
        started = time.perf_counter()
        for label in labels:
            index.search(label, limit=10, snippets=snippets)
        print((time.perf_counter() - started) * 1000 / len(labels), flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", default="main", help="git revision to compare with")
    parser.add_argument("--corpus", type=Path, help="JSON Lines file or folder (default: Reuters)")
    parser.add_argument("--passes", type=int, default=40, help="turns per side and mode")
    parser.add_argument("--cli-runs", type=int, default=8, help="command-line runs per query")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--worker", nargs=2, metavar=("INDEX", "CORPUS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(Path(args.worker[0]), Path(args.worker[1]))
        return 0
    corpus = corpus_or_exit(args.corpus, "ab.py").resolve()
    work = args.out.resolve() / "ab"
    commit = export(args.base, work / "base")
    sources = {f"base {commit}": work / "base" / "src", "this checkout": REPO_ROOT / "src"}
    log(f"ab: {' vs '.join(sources)}, load {load_average()}")
    procs = {}
    for side, (name, src) in enumerate(sources.items()):
        index_dir = work / f"index-{side}-{commit if side == 0 else 'this'}"
        procs[name] = subprocess.Popen(
            [sys.executable, __file__, "--worker", str(index_dir), str(corpus)],
            env={**os.environ, "PYTHONPATH": str(src)},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
    for proc in procs.values():
        assert proc.stdout is not None and proc.stdout.readline() == "ready\n"
    load_before = load_average()
    times: dict[tuple[str, str], list[float]] = {(n, m): [] for n in procs for m in "10"}
    for turn in range(args.passes):
        for mode in "10":
            order = list(procs) if turn % 2 == 0 else list(procs)[::-1]
            for name in order:
                stdin, stdout = procs[name].stdin, procs[name].stdout
                assert stdin is not None and stdout is not None
                stdin.write(mode + "\n")
                stdin.flush()
                times[(name, mode)].append(float(stdout.readline()))
    for proc in procs.values():
        assert proc.stdin is not None
        proc.stdin.close()
        proc.wait()
    cli: dict[str, list[float]] = {name: [] for name in sources}
    cpu: dict[str, list[float]] = {name: [] for name in sources}
    for run in range(args.cli_runs):
        for name in list(sources) if run % 2 == 0 else list(sources)[::-1]:
            env = {**os.environ, "PYTHONPATH": str(sources[name])}
            side = list(sources).index(name)
            index_dir = work / f"index-{side}-{commit if side == 0 else 'this'}"
            for query in CLI_QUERIES:
                started = time.perf_counter()
                before = resource.getrusage(resource.RUSAGE_CHILDREN)
                subprocess.run(
                    [sys.executable, "-m", "newssearch", "query", "--index", str(index_dir), query],
                    env=env,
                    stdout=subprocess.DEVNULL,
                    check=True,
                )
                cli[name].append((time.perf_counter() - started) * 1000)
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
                used = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
                cpu[name].append(used * 1000)
    base, this = sources
    rows = []
    for mode, label in (("1", "Index.search, snippets"), ("0", "Index.search, no snippets")):
        a, b = times[(base, mode)], times[(this, mode)]
        paired = median([y / x for x, y in zip(a, b, strict=True)])
        rows.append([label, f"{median(a):.3f}", f"{median(b):.3f}", f"{paired:.3f}"])
    a, b = cli[base], cli[this]
    rows.append(["newssearch query (process), wall", f"{median(a):.1f}", f"{median(b):.1f}", "–"])
    c, d = cpu[base], cpu[this]
    rows.append(["newssearch query (process), CPU", f"{median(c):.1f}", f"{median(d):.1f}", "–"])
    print(
        table(["ms, median", base, this, "median paired ratio"], rows)
        + f"\n\n{args.passes} turns per side and mode (ms per query, top 10, warm); "
        f"{len(a)} command-line runs per side. Ratio of medians, command line: "
        f"{median(b) / median(a):.3f} wall, {median(d) / median(c):.3f} CPU.\n"
        f"Machine: {machine()}. Load average (1 min): "
        f"{load_before} before the turns, {load_average()} at the end."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
