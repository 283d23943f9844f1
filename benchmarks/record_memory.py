"""Peak memory of `newssearch index` on one huge JSON Lines record, against a small input.

Generates (in a temporary folder, deleted afterwards) a file holding a good record, one line of
`--mb` MB (an article body of words) and another good record (with `--json`, the three as
the elements of a JSON array), and indexes it with the installed
code and, with `--baseline-src DIR`, with the code of another checkout (e.g. /work/main/src) in
the same run; each case `--reps` times, the median of the peak resident set sizes (the child's
`ru_maxrss`) reported. The small input (the two good records alone) is the interpreter's floor.

    python benchmarks/record_memory.py [--mb 200] [--reps 3] [--baseline-src ../main/src] [--json]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RUN = "import sys; sys.path.insert(0, sys.argv.pop(1)) if sys.argv[1] else sys.argv.pop(1); " + (
    "from newssearch.cli import main; main()"
)


def index_once(src: str, path: Path, index: Path) -> tuple[float, float, int, str]:
    """Returns peak RSS in MB, seconds, exit status and the summary line of one index run."""
    started = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-c", RUN, src, "index", "--index", str(index), str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    assert child.stdout is not None and child.stderr is not None
    out = child.stdout.read().decode().strip() or child.stderr.read().decode().strip()[-200:]
    return usage.ru_maxrss / 1024, seconds, os.waitstatus_to_exitcode(status), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=int, default=200, help="size of the huge line in MB")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--baseline-src", default="", help="src/ of another checkout to compare")
    parser.add_argument("--json", action="store_true", help="a .json array instead of JSON Lines")
    args = parser.parse_args()
    suffix, start, between, end = (
        (".json", b"[", b",", b"]") if args.json else (".jsonl", b"", b"", b"")
    )
    with tempfile.TemporaryDirectory(prefix="record-memory-") as tmp:
        folder = Path(tmp)
        good = b'{"id": "good1", "body": "first"}\n{"id": "good2", "body": "last"}\n'
        first, last = good.splitlines(keepends=True)
        small = folder / f"small{suffix}"
        small.write_bytes(start + first + between + last + end)
        huge = folder / f"huge{suffix}"
        with huge.open("wb") as out:
            out.write(start + first + between + b'{"id": "huge", "body": "')
            words = b"word " * 200_000  # 1 MB
            for _ in range(args.mb):
                out.write(words)
            out.write(b'"}\n' + between + last + end)
        size = huge.stat().st_size
        print(f"huge line file: {size:,} bytes; {args.reps} runs each, medians\n")
        print("| code | input | peak RSS MB | seconds | exit | summary |")
        print("|---|---|---:|---:|---:|---|")
        for label, src in (("this checkout", ""), ("baseline", args.baseline_src)):
            if label == "baseline" and not src:
                continue
            for name, path in (("2 small records", small), (f"+ one {args.mb} MB line", huge)):
                runs = []
                for rep in range(args.reps):
                    runs.append(index_once(src, path, folder / f"ix-{label}-{name}-{rep}"))
                rss = statistics.median(r[0] for r in runs)
                secs = statistics.median(r[1] for r in runs)
                print(f"| {label} | {name} | {rss:,.0f} | {secs:.2f} | {runs[0][2]} | "
                      f"{runs[0][3].splitlines()[-1][:90]} |", flush=True)  # fmt: skip
    print(f"\nload: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")


if __name__ == "__main__":
    main()
