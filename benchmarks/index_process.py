"""Indexing as a user times it: the whole process, interpreter start to exit, engines side by side.

    python benchmarks/index_process.py [--corpus PATH] [--reps 3] [--docs 10000]
                                       [--engines newssearch,whoosh,fts5,tantivy]
                                       [--out benchmarks/results]

Writes the first `--docs` articles of the corpus, and all of them, as JSON Lines files under
OUT/process/ (id, title, body, date), then indexes each file into a fresh directory with one
process per run, timed from the outside like `/usr/bin/time`: wall from spawn to exit, and the
largest process's max RSS (`wait4`). newssearch is its installed entry point,
`newssearch index --index DIR --lenient-dates FILE`; the others are `engine_child.py build
ENGINE FILE DIR`, a script that imports the engine, builds with its default writer (whoosh
one process, FTS5 one transaction, tantivy its default writer) and commits. Runs alternate the
engines (rep 1: A B C ..., rep 2: A B C ...); the table shows medians and the docs/s ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import (
    DEFAULT_OUT,
    ENGINE_LABELS,
    HERE,
    MIB_PER_KIB,
    ChildFailedError,
    corpus_or_exit,
    engine_list,
    fmt,
    load_average,
    log,
    machine,
    median,
    pin_newssearch,
    table,
    write,
)
from _corpora import read_articles

DEFAULT_ENGINES = ("newssearch", "whoosh", "fts5", "tantivy")
SMALL_DOCS = 10_000
RATIOS = ("whoosh", "fts5", "tantivy")  # newssearch's docs/s over each of these


def write_inputs(corpus: Path, docs: int, folder: Path) -> list[tuple[Path, int]]:
    """Returns the JSON Lines files to index and their sizes: the first `docs` articles (when
    the corpus has more) and the whole corpus."""
    folder.mkdir(parents=True, exist_ok=True)
    articles = list(read_articles(corpus))
    sizes = sorted({min(docs, len(articles)), len(articles)})
    files = []
    for size in sizes:
        path = folder / f"first{size}.jsonl"
        with path.open("w", encoding="utf-8") as out:
            for article in articles[:size]:
                record = {"id": article.id, "title": article.title, "body": article.body}
                out.write(json.dumps({**record, "date": article.date}) + "\n")
        files.append((path, size))
    return files


def command(engine: str, path: Path, directory: Path) -> list[str]:
    """Returns the command line that indexes `path` into `directory` as a user would run it."""
    if engine == "newssearch":
        installed = Path(sys.executable).with_name("newssearch")
        program = str(installed) if installed.is_file() else shutil.which("newssearch")
        if program is None:
            raise SystemExit("index_process.py: no `newssearch` command (pip install -e .)")
        return [program, "index", "--index", str(directory), "--lenient-dates", str(path)]
    child = HERE / "engine_child.py"
    return [sys.executable, str(child), "build", engine, str(path), str(directory)]


def timed_run(argv: list[str], directory: Path) -> dict[str, float]:
    """Returns the wall seconds and the largest process's max RSS (MiB) of one run."""
    shutil.rmtree(directory, ignore_errors=True)
    with tempfile.TemporaryFile("w+") as stderr:
        started = time.perf_counter()
        child = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=stderr)
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode != 0:
            stderr.seek(0)
            tail = stderr.read().strip().splitlines()[-1:] or [f"exit {child.returncode}"]
            raise ChildFailedError(tail[0])
    shutil.rmtree(directory, ignore_errors=True)
    return {"seconds": seconds, "max_rss_mb": usage.ru_maxrss * MIB_PER_KIB}


def measure(
    corpus: Path, engines: list[str], reps: int, out: Path, docs: int = SMALL_DOCS
) -> dict[str, Any]:
    """Returns per input file each engine's runs, medians and newssearch's docs/s ratios."""
    folder = out / "process"
    inputs = write_inputs(corpus, docs, folder)
    sizes = []
    for path, size in inputs:
        runs: dict[str, list[dict[str, float]]] = {engine: [] for engine in engines}
        for rep in range(1, reps + 1):
            for engine in engines:
                try:
                    run = timed_run(command(engine, path, folder / engine), folder / engine)
                except ChildFailedError as error:
                    log(f"  {size:,} docs, rep {rep} {engine}: failed, {error}")
                    continue
                runs[engine].append(run)
                log(f"  {size:,} docs, rep {rep}/{reps} {engine}: {run['seconds']:.2f} s")
        rows = {engine: summarize(engine, size, done) for engine, done in runs.items() if done}
        mine = rows.get("newssearch")
        ratios = {
            other: mine["docs_per_s"] / rows[other]["docs_per_s"]
            for other in RATIOS
            if mine and other in rows
        }
        sizes.append({"file": str(path), "docs": size, "engines": rows, "ratios": ratios})
    return {"corpus": str(corpus), "reps": reps, "sizes": sizes}


def summarize(engine: str, docs: int, runs: list[dict[str, float]]) -> dict[str, Any]:
    seconds = [run["seconds"] for run in runs]
    return {
        "label": ENGINE_LABELS[engine],
        "runs": len(runs),
        "seconds": median(seconds),
        "seconds_min": min(seconds),
        "seconds_max": max(seconds),
        "docs_per_s": docs / median(seconds),
        "max_rss_mb": median([run["max_rss_mb"] for run in runs]),
    }


def ratio_line(size: dict[str, Any]) -> str:
    if not size["ratios"]:
        return "newssearch's docs/s over the others: not measured (newssearch did not run)."
    parts = [f"{ENGINE_LABELS[e]} {r:.2f}×" for e, r in size["ratios"].items()]
    return f"newssearch's docs/s over {', '.join(parts)}."


def markdown(report: dict[str, Any]) -> str:
    lines = [
        "## Indexing, the whole process",
        "",
        f"{report['corpus']}: each file indexed by a process of its own, interpreter start to "
        f"exit (newssearch: its `newssearch index` command), timed from outside; median of "
        f"{report['reps']} alternated runs. Max RSS: the largest process (`/usr/bin/time`'s).",
    ]
    for size in report["sizes"]:
        rows = [
            [
                row["label"],
                f"{fmt(row['seconds'], 2)} ({fmt(row['seconds_min'], 2)}–"
                f"{fmt(row['seconds_max'], 2)})",
                fmt(row["docs_per_s"], 0),
                fmt(row["max_rss_mb"], 0),
            ]
            for row in size["engines"].values()
        ]
        header = ["engine", "wall s (min–max)", "docs/s", "max RSS MB"]
        lines += ["", f"### {size['docs']:,} articles", "", table(header, rows), ""]
        lines.append(ratio_line(size))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Whole-process indexing, engines side by side.")
    parser.add_argument("--corpus", type=Path, help="JSON Lines file or folder (default: Reuters)")
    parser.add_argument("--reps", type=int, default=3, help="runs per engine (default: 3)")
    parser.add_argument("--docs", type=int, default=SMALL_DOCS, help="the smaller file's size")
    parser.add_argument("--engines", default=",".join(DEFAULT_ENGINES), help="comma-separated")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="results and indexes")
    args = parser.parse_args(argv)
    corpus = corpus_or_exit(args.corpus, "index_process.py")
    pinned = pin_newssearch(args.out)
    load = load_average()
    report = measure(corpus, engine_list(args.engines), args.reps, args.out, args.docs)
    text = markdown(report) + (
        f"\n\nMachine: {machine()}. Code: {pinned}. Load average (1 min) {load} at the start, "
        f"{load_average()} at the end."
    )
    write(args.out, "index_process", text, report)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
