"""What the speed benchmarks share: defaults, the child-process runner, statistics, tables."""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent
DEFAULT_CORPUS = REPO_ROOT.parent / "shared" / "corpora" / "reuters21578"
DEFAULT_OUT = HERE / "results"
ENGINE_LABELS = {  # engine name on the command line -> name in the tables, in table order
    "newssearch": "newssearch",
    "whoosh": "whoosh",
    "whoosh-mp": "whoosh procs=2",
    "fts5": "sqlite fts5",
    "tantivy": "tantivy",
}
ENGINE_ORDER = tuple(ENGINE_LABELS)
MB = 1_000_000
MIB_PER_KIB = 1 / 1024
SAMPLE_SECONDS = 0.1
PINNED_VARIABLE = "NEWSSEARCH_BENCH_PINNED"  # the pinned newssearch's version, as engines.py says
PAGE_KIB = os.sysconf("SC_PAGE_SIZE") // 1024 if hasattr(os, "sysconf") else 4

Result = dict[str, Any]


class ChildFailedError(Exception):
    """A child process exited with an error; the message ends with its stderr."""


def corpus_or_exit(path: Path | None, script: str) -> Path:
    """Returns the corpus to read: `path`, else Reuters-21578 when present; exits if neither."""
    if path is None:
        if not DEFAULT_CORPUS.is_dir():
            raise SystemExit(f"{script}: no corpus at {DEFAULT_CORPUS}; use --corpus PATH")
        return DEFAULT_CORPUS
    if not path.exists():
        raise SystemExit(f"{script}: no such corpus {path}")
    return path


def engine_list(text: str) -> list[str]:
    """Returns the engine names of a comma-separated list, checked, in the order given."""
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in ENGINE_ORDER]
    if unknown:
        raise SystemExit(
            f"unknown engine(s) {', '.join(unknown)}; known: {', '.join(ENGINE_ORDER)}"
        )
    return names


def run_child(*args: str | Path | float) -> Result:
    """Returns the JSON that `engine_child.py ARGS...` prints, run as its own process.

    While it runs, the RSS of the child and all its descendants is summed every 0.1 s;
    the largest sum is added to the result as `tree_rss_kib`.
    """
    command = [sys.executable, str(HERE / "engine_child.py"), *map(str, args)]
    with tempfile.TemporaryFile("w+") as stdout, tempfile.TemporaryFile("w+") as stderr:
        child = subprocess.Popen(command, stdout=stdout, stderr=stderr, text=True)
        peak = 0
        while child.poll() is None:
            peak = max(peak, tree_rss_kib(child.pid))
            time.sleep(SAMPLE_SECONDS)
        stdout.seek(0)
        stderr.seek(0)
        out, err = stdout.read(), stderr.read()
    for line in err.splitlines()[-20:]:
        print(f"    {line}", file=sys.stderr)
    if child.returncode != 0:
        tail = err.strip().splitlines()[-1:] or [f"exit status {child.returncode}"]
        raise ChildFailedError(tail[0])
    result: Result = json.loads(out.strip().splitlines()[-1])
    result["tree_rss_kib"] = peak
    return result


def tree_rss_kib(pid: int) -> int:
    """Returns the summed RSS of process `pid` and its descendants (Linux /proc; else 0)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    total = 0
    todo = [pid]
    while todo:
        current = todo.pop()
        todo += children.get(current, [])
        try:
            resident = int(Path(f"/proc/{current}/statm").read_text().split()[1])
        except (OSError, IndexError, ValueError):
            continue
        total += resident * PAGE_KIB
    return total


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def percentile(values: Sequence[float], share: float) -> float:
    """Returns the `share` (0..1) percentile, linearly interpolated between the closest ranks."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    position = (len(ordered) - 1) * share
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def median(values: Sequence[float]) -> float:
    return percentile(values, 0.5)


def table(header: Sequence[str], rows: Sequence[Sequence[str]], left: int = 1) -> str:
    """Returns a Markdown table; the first `left` columns are left-aligned, the rest right."""
    align = ["---" if i < left else "---:" for i in range(len(header))]
    lines = [header, align, *rows]
    return "\n".join("| " + " | ".join(line) + " |" for line in lines)


def fmt(value: float, digits: int = 1) -> str:
    """Returns `value` with `digits` decimals, or as a whole number with commas from 1,000."""
    if value != value:  # NaN
        return "–"
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.{digits}f}"


def machine() -> str:
    """Returns one line on the machine: cores, CPU model, memory, Python, OS."""
    model = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                model += f", {int(line.split()[1]) / 1024**2:.0f} GB RAM"
                break
    except OSError:
        pass
    return (
        f"{os.cpu_count()} cores, {model}; Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}"
    )


def source_digest(package: Path) -> str:
    """Returns a short digest of a package's Python files: equal digests, same code."""
    digest = hashlib.blake2b(digest_size=4)
    for path in sorted(package.rglob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def pin_newssearch(out: Path) -> str:
    """Returns what was pinned: newssearch's source as it is now, copied to OUT/snapshot/.

    The copy goes first on PYTHONPATH for every child process (and their own workers), so one
    run measures one version of newssearch even while its source is being edited.
    """
    spec = importlib.util.find_spec("newssearch")
    if spec is None or spec.origin is None:
        return "newssearch is not installed"
    package = Path(spec.origin).parent
    target = out.resolve() / "snapshot"
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(package, target / "newssearch", ignore=shutil.ignore_patterns("__pycache__"))
    os.environ[PINNED_VARIABLE] = f"source {source_digest(target / 'newssearch')}"
    paths = [str(target), os.environ.get("PYTHONPATH", "")]
    os.environ["PYTHONPATH"] = os.pathsep.join(path for path in paths if path)
    try:
        commit = subprocess.run(
            ["git", "-C", str(package), "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = "?"
    stamp = time.strftime("%Y-%m-%d %H:%M")
    return (
        f"newssearch source {source_digest(target / 'newssearch')} copied from {package} "
        f"at {stamp} (git {commit})"
    )


def load_average() -> str:
    """Returns the 1-minute load average (how busy the machine was), or "?"."""
    try:
        return Path("/proc/loadavg").read_text().split()[0]
    except (OSError, IndexError):
        return "?"


def write(out: Path, name: str, markdown: str, data: object) -> None:
    """Writes `name.md` and `name.json` under `out`."""
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{name}.md").write_text(markdown + "\n", encoding="utf-8")
    (out / f"{name}.json").write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")


def part_main(
    argv: list[str] | None, name: str, description: str, reps: int, measure: Any, markdown: Any
) -> int:
    """The command line of one benchmark part (index_speed, query_speed): parse, measure,
    write results/NAME.md and .json, print the Markdown."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--corpus", type=Path, help="JSON Lines file or folder (default: Reuters)")
    parser.add_argument("--reps", type=int, default=reps, help=f"repetitions (default: {reps})")
    parser.add_argument("--scale", type=float, default=1.0, help="corpus multiple (default: 1)")
    parser.add_argument("--engines", default=",".join(ENGINE_ORDER), help="comma-separated")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="results and indexes")
    args = parser.parse_args(argv)
    corpus = corpus_or_exit(args.corpus, f"{name}.py")
    pinned = pin_newssearch(args.out)
    report = measure(corpus, engine_list(args.engines), args.reps, args.out, args.scale)
    text = markdown(report) + f"\n\nMachine: {machine()}. Code: {pinned}."
    write(args.out, name, text, report)
    print(text)
    return 0
