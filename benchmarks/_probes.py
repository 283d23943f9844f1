"""What the hostile-input probes share: `python -m newssearch` run from a chosen `src/`, one
line per command, the probe's command line, and Reuters articles written as JSON Lines."""

from __future__ import annotations

import argparse
import itertools
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from _common import DEFAULT_CORPUS, REPO_ROOT
from _corpora import read_articles

LAST_LINE = 150  # characters of the last stderr line that a report line shows


@dataclass(frozen=True)
class Run:
    """One command's outcome: its exit status ("timeout" past the limit) and its stderr."""

    status: int | str
    stdout: str
    stderr: str

    @property
    def traceback(self) -> bool:
        return "Traceback (most recent call last)" in self.stderr

    @property
    def last_line(self) -> str:
        lines = [line for line in self.stderr.splitlines() if line.strip()]
        return lines[-1][:LAST_LINE] if lines else ""


class Newssearch:
    """Runs `python -m newssearch ARGS...` with `src` first on PYTHONPATH, in a folder."""

    def __init__(self, src: Path) -> None:
        self.src = src.resolve()
        if not (self.src / "newssearch" / "__main__.py").is_file():
            raise SystemExit(f"no newssearch package under {self.src} (expected a checkout's src/)")
        self.env = {**os.environ, "PYTHONPATH": str(self.src)}

    def python(self, code: str, cwd: Path, timeout: float = 120) -> Run:
        """Returns the outcome of `python -c CODE` with this code importable."""
        return self._run([sys.executable, "-c", code], cwd, timeout)

    def __call__(self, *args: str, cwd: Path, timeout: float = 60, user: str = "") -> Run:
        """Returns the outcome of one command; `user`: run it as that user (needs root)."""
        command = [sys.executable, "-m", "newssearch", *args]
        if user:
            command = ["setpriv", f"--reuid={user}", "--regid=nogroup", "--clear-groups", *command]
        return self._run(command, cwd, timeout)

    def where(self) -> str:
        """Returns the path of the newssearch package that the commands import."""
        done = self.python("import newssearch; print(newssearch.__file__)", Path.cwd())
        return done.stdout.strip() or done.stderr.strip()

    def committed(self, index: str, cwd: Path) -> int | str:
        """Returns how many documents the index holds, or "no index" when stats fails."""
        done = self("stats", "--json", "--index", index, cwd=cwd)
        if done.status != 0:
            return "no index"
        return int(json.loads(done.stdout)["documents"])

    def _run(self, command: list[str], cwd: Path, timeout: float) -> Run:
        try:
            done = subprocess.run(
                command, cwd=cwd, env=self.env, capture_output=True, timeout=timeout
            )
        except subprocess.TimeoutExpired:
            return Run(f"timeout({timeout:g}s)", "", "")
        decode = lambda data: data.decode(errors="replace")  # noqa: E731
        return Run(done.returncode, decode(done.stdout), decode(done.stderr))


def report(case: str, command: str, run: Run, committed: int | str | None = None) -> str:
    """Returns the report line of one command: case, command, exit, traceback, last stderr."""
    shown = f" committed={committed!s:<8}" if committed is not None else ""
    tb = "yes" if run.traceback else "no"
    return f"{case:34} {command:40} exit={run.status!s:<3} tb={tb:3}{shown} | {run.last_line}"


def arguments(description: str) -> argparse.ArgumentParser:
    """Returns a parser with the options every probe takes (`--src`, `--only`)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--src",
        type=Path,
        default=REPO_ROOT / "src",
        help="the src/ folder of the checkout to probe (default: this checkout's)",
    )
    parser.add_argument("--only", nargs="*", default=[], help="run only cases naming these")
    return parser


def write_reuters(path: Path, start: int, count: int, corpus: Path = DEFAULT_CORPUS) -> Path:
    """Writes articles start..start+count-1 of the corpus (in its order) as JSON Lines."""
    if not corpus.exists():
        raise SystemExit(f"no corpus at {corpus}; use --corpus PATH")
    with path.open("w", encoding="utf-8") as out:
        for article in itertools.islice(read_articles(corpus), start, start + count):
            record = {"id": article.id, "title": article.title, "body": article.body}
            if article.date:
                record["date"] = article.date
            out.write(json.dumps(record) + "\n")
    return path
