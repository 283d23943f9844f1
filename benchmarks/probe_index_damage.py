"""Index-damage probe: each case damages an index of Reuters articles on disk (or puts
something else where the index should be), then runs stats, query, index, delete and check.

    python benchmarks/probe_index_damage.py [--src CHECKOUT/src] [--only NAME...]
                                            [--corpus PATH]

The index is built from the first 300 articles of the corpus by the code under test:
`python -m newssearch` with `--src` first on PYTHONPATH, so the same command probes older code
(`git archive COMMIT src`). One line per case and command: exit status, whether a traceback
was printed, the last line of stderr (cut); then a summary. The "malicious table of contents"
case writes one whose pickled schema calls os.system (`touch MARKER`) and says whether it ran.
The disk-full case indexes 2,000 more articles into an index on a 5 MB tmpfs; it needs root
(`mount -t tmpfs`) and is skipped with a note otherwise; the tmpfs is always unmounted.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from _common import DEFAULT_CORPUS, REPO_ROOT
from _probes import Newssearch, Run, arguments, report, write_reuters

sys.path.insert(0, str(REPO_ROOT / "tests"))

from test_disk import DAMAGE
from test_trust import hostile_toc

TIMEOUT = 60  # seconds one command may take
TMPFS_SIZE = "5m"
FIRST = "reuters-1"  # the first article's id, which `delete` removes
AFTER = (  # what each case runs on the damaged index, as arguments of `newssearch`
    ("stats",),
    ("query", "oil"),
    ("index", "../more.jsonl"),
    ("delete", FIRST),
    ("check",),
)

Damage = Callable[[Path], object]  # damages the index at the path given (or replaces it)
CASES: dict[str, Damage] = {}


def case(name: str) -> Callable[[Damage], Damage]:
    def register(damage: Damage) -> Damage:
        CASES[name] = damage
        return damage

    return register


for _name, _damage in DAMAGE.items():  # the damage tests/test_disk.py inflicts
    CASES[_name] = _damage  # (what each returns, the message the tests expect, is unused)
CASES["missing table of contents"] = lambda ix: next(ix.glob("_MAIN_*.toc")).unlink()


@case("not an index")
def _not_an_index(ix: Path) -> None:
    shutil.rmtree(ix)
    ix.mkdir()
    (ix / "notes.txt").write_text("hello\n")


def marker(ix: Path) -> Path:
    return ix.parent / "PWNED"


@case("malicious table of contents")
def _malicious(ix: Path) -> None:
    """The table of contents of tests/test_trust.py, its schema a pickle that runs `touch`."""
    hostile_toc(ix, marker(ix), sealed=False)


@case("lock path is a directory")
def _lock_directory(ix: Path) -> None:
    lock = ix / "MAIN_WRITELOCK"
    if lock.exists():
        lock.unlink()
    lock.mkdir()


@case("index path is a file")
def _index_file(ix: Path) -> None:
    shutil.rmtree(ix)
    ix.write_text("hello\n")


NEWER_FORMAT = """
from newssearch.engine import schema
schema.FORMAT_VERSION = 99
from newssearch import Index, load_documents
Index.create("ix").add(load_documents("../articles.jsonl"))
"""


def run_case(newssearch: Newssearch, name: str, folder: Path) -> list[Run]:
    """Runs every command of AFTER on the damaged index in `folder`; prints a line each."""
    runs = []
    for args in AFTER:
        run = newssearch(*args, "--index", "ix", cwd=folder, timeout=TIMEOUT)
        print(report(name, " ".join(args), run), flush=True)
        runs.append(run)
    return runs


def _partial_files(ix: Path) -> str:
    """Returns the names of *.tmp entries and empty files (but the lock file) in `ix`."""
    partial = sorted(
        entry.name
        for entry in ix.iterdir()
        if entry.name.endswith(".tmp")
        or (entry.is_file() and entry.stat().st_size == 0 and entry.name != "MAIN_WRITELOCK")
    )
    return ", ".join(partial) or "no *.tmp entries, no empty files"


def disk_full(newssearch: Newssearch, base: Path) -> list[Run]:
    """Fills a 5 MB tmpfs during a commit; then queries, indexes a little, checks."""
    name = "disk full (5 MB tmpfs)"
    if os.geteuid() != 0:
        print(f"{name:34} skipped: mount -t tmpfs needs root", flush=True)
        return []
    mount = base / "tmpfs"
    mount.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={TMPFS_SIZE}", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        print(f"{name:34} skipped: mount failed: {mounted.stderr.strip()}", flush=True)
        return []
    runs = []
    try:
        first = newssearch("index", "../articles.jsonl", "--index", "ix", cwd=mount)
        print(report(name, "index ../articles.jsonl (first)", first), flush=True)
        for args in (
            ("index", "../many.jsonl"),
            ("query", "oil", "--limit", "1"),
            ("index", "../more.jsonl"),
            ("check",),
        ):
            run = newssearch(*args, "--index", "ix", cwd=mount, timeout=TIMEOUT)
            print(report(name, " ".join(args), run), flush=True)
            runs.append(run)
            if len(runs) == 1:  # what the commit that ran out of space left behind
                print(f"{name:34} left behind: {_partial_files(mount / 'ix')}", flush=True)
        committed = newssearch.committed("ix", mount)
        print(f"{name:34} documents committed at the end: {committed}", flush=True)
    finally:
        subprocess.run(["umount", str(mount)], check=False)
    return runs


def main() -> None:
    parser = arguments(__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="Reuters-21578")
    options = parser.parse_args()
    newssearch = Newssearch(options.src)
    print(f"# newssearch from {newssearch.where()}; {TIMEOUT} s per command", flush=True)
    base = Path(tempfile.mkdtemp(prefix="probe-damage-"))
    try:
        write_reuters(base / "articles.jsonl", 0, 300, options.corpus)
        write_reuters(base / "more.jsonl", 300, 10, options.corpus)
        write_reuters(base / "many.jsonl", 310, 2000, options.corpus)
        built = base / "built"
        built.mkdir()
        setup = newssearch("index", "../articles.jsonl", "--index", "ix", cwd=built, timeout=300)
        if setup.status != 0:
            raise SystemExit(f"could not build the index: {setup.last_line}")
        runs: list[Run] = []
        ran_code = "not probed"
        cases_run = 0
        cases = dict(CASES, **{"newer format": None})
        for name, damage in cases.items():
            if options.only and not any(part in name for part in options.only):
                continue
            cases_run += 1
            folder = base / f"case{cases_run}"
            folder.mkdir()
            if damage is None:  # the newer format is written by the code under test
                newssearch.python(NEWER_FORMAT, folder)
            else:
                shutil.copytree(built / "ix", folder / "ix")
                damage(folder / "ix")
            runs += run_case(newssearch, name, folder)
            if damage is _malicious:
                ran_code = "yes" if marker(folder / "ix").exists() else "no"
                print(f"{name:34} did the pickled os.system run? {ran_code}", flush=True)
            shutil.rmtree(folder)
        if not options.only or any(part in "disk full" for part in options.only):
            full = disk_full(newssearch, base)
            cases_run += bool(full)
            runs += full
    finally:
        shutil.rmtree(base, ignore_errors=True)
    statuses = Counter(str(run.status) for run in runs)
    shown = ", ".join(f"{status}: {count}" for status, count in sorted(statuses.items()))
    tracebacks = sum(run.traceback for run in runs)
    print(
        f"# summary: cases {cases_run}, commands {len(runs)}, tracebacks {tracebacks}, "
        f"exit statuses ({shown}), code from the index ran: {ran_code}"
    )


if __name__ == "__main__":
    main()
