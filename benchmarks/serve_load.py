"""`newssearch serve` under a bounded local load: requests/s and latency of `/api/search`.

    python benchmarks/serve_load.py [--corpus PATH] [--requests 2000] [--clients 1,4]
                                    [--reps 3] [--out benchmarks/results]

Builds an index of the corpus (default Reuters-21578) under OUT/serve_index with the installed
`newssearch index`, starts the installed `newssearch serve --port 0` on loopback, and sends
exactly `--requests` GETs of `/api/search?q=…` (the queries of `_queries.QUERIES` in turn,
top 10 with snippets) from each number of client threads given, each thread on its own
keep-alive connection. Then it stops the server. Beside it, the baseline: the same queries
through `Index.search` in this process (the index opened afresh, as the server opens it), one
after another, which is what a request costs without HTTP. Figures are medians over `--reps`
repetitions; p50/p95 are over every request of a repetition.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from _common import DEFAULT_OUT, corpus_or_exit, fmt, log, machine, median, percentile, table
from _queries import QUERIES

from newssearch import Index

NEWSSEARCH = Path(sys.executable).parent / "newssearch"
PATHS = [f"/api/search?{urlencode({'q': query.label})}" for query in QUERIES]


def build(corpus: Path, directory: Path) -> Index:
    """Returns the index of `corpus`, built by the installed `newssearch index` and opened
    afresh here, as the server opens it (not the writer's own object and heap)."""
    log(f"indexing {corpus} into {directory}")
    shutil.rmtree(directory, ignore_errors=True)
    done = subprocess.run(
        [NEWSSEARCH, "index", str(corpus), "--index", str(directory)],
        capture_output=True,
        text=True,
    )
    if done.returncode not in (0, 1):  # 1: some records were rejected (Reuters has one)
        raise SystemExit(f"serve_load: indexing failed: {done.stderr.strip()}")
    log(done.stdout.strip())
    return Index.open(directory)


def baseline(index: Index, count: int) -> dict[str, float]:
    """Returns calls/s and latency percentiles (ms) of `count` in-process searches."""
    latencies = []
    started = time.perf_counter()
    for i in range(count):
        begun = time.perf_counter()
        index.search(QUERIES[i % len(QUERIES)].label)
        latencies.append((time.perf_counter() - begun) * 1000)
    return _figures(count, time.perf_counter() - started, latencies)


def load(url: str, count: int, clients: int) -> dict[str, float]:
    """Returns requests/s and latency percentiles (ms) of `count` GETs from `clients` threads."""
    address = urlsplit(url)
    shares = [count // clients + (1 if i < count % clients else 0) for i in range(clients)]

    def client(first: int, share: int) -> list[float]:
        connection = http.client.HTTPConnection(address.hostname, address.port, timeout=60)
        latencies = []
        try:
            for i in range(first, first + share):
                begun = time.perf_counter()
                connection.request("GET", PATHS[i % len(PATHS)])
                response = connection.getresponse()
                body = response.read()
                latencies.append((time.perf_counter() - begun) * 1000)
                if response.status != 200:
                    raise SystemExit(f"serve_load: status {response.status}: {body[:200]!r}")
        finally:
            connection.close()
        return latencies

    starts = [sum(shares[:i]) for i in range(clients)]
    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        parts = list(pool.map(client, starts, shares))
    wall = time.perf_counter() - started
    return _figures(count, wall, [ms for part in parts for ms in part])


def _figures(count: int, seconds: float, latencies: list[float]) -> dict[str, float]:
    return {
        "per_second": count / seconds,
        "p50_ms": percentile(latencies, 0.5),
        "p95_ms": percentile(latencies, 0.95),
        "p99_ms": percentile(latencies, 0.99),
    }


def serve(index_dir: Path, log_path: Path) -> tuple[subprocess.Popen[bytes], str]:
    """Returns the `newssearch serve` process on a free loopback port, and its address."""
    with log_path.open("w") as err:
        process = subprocess.Popen(
            [NEWSSEARCH, "serve", "--index", str(index_dir), "--port", "0"], stderr=err
        )
    deadline = time.monotonic() + 60
    while not (found := re.search(r"at (http://\S+/) ", log_path.read_text())):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise SystemExit(f"serve_load: the server did not start: {log_path.read_text()}")
        time.sleep(0.05)
    return process, found.group(1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, help="JSON Lines file or folder (default: Reuters)")
    parser.add_argument("--requests", type=int, default=2000, help="requests per run")
    parser.add_argument("--clients", default="1,4", help="client threads, comma-separated")
    parser.add_argument("--reps", type=int, default=3, help="repetitions of each run")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="results and the index")
    args = parser.parse_args(argv)
    corpus = corpus_or_exit(args.corpus, "serve_load")
    clients = [int(c) for c in args.clients.split(",")]
    args.out.mkdir(parents=True, exist_ok=True)
    load_before = os.getloadavg()[0]
    index_dir = args.out / "serve_index"
    index = build(corpus, index_dir)
    for query in QUERIES:  # warm the caches, as a server that has run a while
        index.search(query.label)
    runs: dict[str, list[dict[str, float]]] = {"library": []}
    process, url = serve(index_dir, args.out / "serve.log")
    try:
        load(url, len(PATHS) * 2, 1)  # warm the server the same way
        for rep in range(args.reps):
            log(f"repetition {rep + 1} of {args.reps}")
            runs["library"].append(baseline(index, args.requests))
            for count in clients:
                runs.setdefault(f"HTTP, {count} client{'s' if count > 1 else ''}", []).append(
                    load(url, args.requests, count)
                )
    finally:
        process.terminate()
        process.wait(timeout=30)
        index.close()
    medians = {
        name: {key: median([run[key] for run in reps]) for key in reps[0]}
        for name, reps in runs.items()
    }
    rows = [
        [
            name,
            fmt(m["per_second"], 0),
            fmt(m["p50_ms"], 2),
            fmt(m["p95_ms"], 2),
            fmt(m["p99_ms"], 2),
        ]
        for name, m in medians.items()
    ]
    print(f"`/api/search` under load: {args.requests} requests per run, medians of {args.reps}")
    print(f"runs; {len(QUERIES)} queries in turn, top 10 with snippets. {machine()}.")
    load_after = os.getloadavg()[0]
    print(f"Load average (1 min): {load_before:.2f} at the start, {load_after:.2f} at the end.\n")
    print(table(["", "requests/s", "p50 ms", "p95 ms", "p99 ms"], rows))
    result: dict[str, Any] = {"requests": args.requests, "reps": args.reps, "runs": runs}
    (args.out / "serve_load.json").write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
