"""Soak run of hostile queries: many hypothesis-drawn query strings against a real index, each
under a time limit; counts each outcome and shows the slowest queries.

    python benchmarks/soak_queries.py [--index DIR | --corpus PATH --docs 1000]
                                      [--examples 100000] [--timeout 5] [--seed 0]

The strings are those of tests/test_hostile_queries.py (`tests/hostile.py`): arbitrary text and
text shaped like the query language. A query may answer, or raise QuerySyntaxError (with its
subclass QueryLimitError past a limit): those are the documented outcomes. Anything else is
counted by exception class and where it was raised; a query still running after `--timeout`
seconds is stopped (SIGALRM) and counted as a timeout. The ten slowest are timed once more at
the end, each alone, to tell a slow query from a busy machine. Without `--index`, the first `--docs`
articles of the corpus are indexed into a temporary folder first. Runs against whichever
`newssearch` is importable, so the same command measures older code with PYTHONPATH set to
its `src/`.
"""

from __future__ import annotations

import argparse
import gc
import gzip
import itertools
import json
import signal
import sys
import tempfile
import time
import traceback
from collections import Counter
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from hostile import queries  # noqa: E402
from hypothesis import HealthCheck, Phase, given, seed, settings  # noqa: E402

from newssearch import Index, NewssearchError, QuerySyntaxError, load_documents  # noqa: E402

DEFAULT_CORPUS = HERE.parent.parent / "shared" / "corpora" / "reuters21578"


class _Timeout(Exception):
    pass


def _alarm(signum: int, frame: Any) -> None:
    raise _Timeout


def _outcome(index: Index, text: str) -> str:
    try:
        index.search(text, limit=10)
    except QuerySyntaxError as e:
        return type(e).__name__  # QuerySyntaxError or QueryLimitError
    except NewssearchError as e:
        return f"other NewssearchError: {type(e).__name__}"
    except _Timeout:
        return "timeout"
    except Exception as e:  # what the soak is looking for
        where = traceback.extract_tb(e.__traceback__)[-1]
        return f"{type(e).__name__} at {Path(where.filename).name}:{where.lineno}"
    return "answered"


def soak(index: Index, examples: int, timeout: float, seed_value: int) -> dict[str, Any]:
    """Returns the counts of each outcome, the time percentiles and the slowest queries."""
    counts: Counter[str] = Counter()
    first: dict[str, str] = {}
    times: list[tuple[float, str]] = []
    signal.signal(signal.SIGALRM, _alarm)

    @seed(seed_value)
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(text=queries)
    def run(text: str) -> None:
        gc.disable()  # a collection of hypothesis's garbage is not the query's time
        started = time.perf_counter()
        signal.setitimer(signal.ITIMER_REAL, timeout)
        try:
            outcome = _outcome(index, text)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            elapsed = time.perf_counter() - started
            gc.enable()
        times.append((elapsed, text))
        counts[outcome] += 1
        first.setdefault(outcome, text)

    run()
    seconds = sorted(t for t, _ in times)
    slowest = sorted(times, reverse=True)[:10]
    return {
        "examples": len(times),
        "outcomes": dict(counts.most_common()),
        "first_of_each": {k: _printable(v[:200]) for k, v in first.items()},
        "max_s": seconds[-1],
        "p99_s": seconds[int(0.99 * (len(seconds) - 1))],
        "p50_s": seconds[len(seconds) // 2],
        "slowest": [(round(t, 3), _printable(q[:120])) for t, q in slowest],
        # The same queries once more, each alone: what is left is the query's own cost, not
        # the load of the machine at that moment.
        "slowest_again_s": [round(_timed(index, q), 3) for _, q in slowest],
    }


def _timed(index: Index, text: str) -> float:
    started = time.perf_counter()
    _outcome(index, text)
    return time.perf_counter() - started


def _printable(text: str) -> str:
    """Returns `text` with lone surrogates escaped, so that it can be printed."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _build(corpus: Path, docs: int, folder: Path) -> Index:
    path = corpus if corpus.is_file() else next(corpus.glob("*.jsonl*"))
    opener = gzip.open if path.suffix == ".gz" else open
    part = folder / "articles.jsonl"
    with opener(path, "rt", encoding="utf-8") as source, part.open("w", encoding="utf-8") as out:
        out.writelines(itertools.islice(source, docs))
    index = Index.create(folder / "index")
    index.add(load_documents(part))
    return index


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", type=Path, help="an existing index (else one is built)")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--docs", type=int, default=1000, help="articles to index without --index")
    parser.add_argument("--examples", type=int, default=100_000)
    parser.add_argument("--timeout", type=float, default=5.0, help="seconds allowed per query")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="soak-") as scratch:
        index = (
            Index.open(args.index) if args.index else _build(args.corpus, args.docs, Path(scratch))
        )
        started = time.perf_counter()
        report = soak(index, args.examples, args.timeout, args.seed)
    report["wall_s"] = round(time.perf_counter() - started, 1)
    print(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
