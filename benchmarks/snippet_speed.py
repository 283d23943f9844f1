"""Snippet speed of this checkout against another git revision, paired, and their sameness.

    python benchmarks/snippet_speed.py [--base main] [--corpus PATH] [--docs 2000] [--passes 15]
                                       [--out benchmarks/results]

What `search` does for each hit of a page, without the index: `make_snippet` of the body and
`mark_text` of the title, for the first --docs articles of the corpus and each of a few queries
(a rare word, a very common one, a phrase, an AND, a prefix). The base revision's `src/` is
exported (`git archive`) to OUT/snippet_speed/base; two long-lived processes, one per side, take
turns (base, this, this, base, …), each turn one pass over every article per query. Prints per
query the median µs per article of each side and the median of the paired ratios, and whether
both sides made the very same snippets and title marks (a digest of every text and span).
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import os
import subprocess
import sys
import time
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
from _corpora import read_articles
from ab import export

QUERIES = ("embargo", "said", '"oil prices"', "oil AND price", "export*")
LANGUAGE = "english"


def worker(corpus: Path, docs: int) -> None:
    """Prints the digest of every snippet per query, then answers each line on stdin with one
    timed pass: µs per article of each query, as JSON."""
    import newssearch
    from newssearch.query import parse
    from newssearch.snippets import make_snippet, mark_text

    articles = [(a.title, a.body) for a in itertools.islice(read_articles(corpus), docs)]
    trees = {text: parse(text) for text in QUERIES}
    digests = {}
    for text, tree in trees.items():
        outputs = [
            (snippet.text, snippet.spans, mark_text(title, tree, LANGUAGE, "title").spans)
            for title, body in articles
            for snippet in [make_snippet(body, tree, LANGUAGE)]
        ]
        digests[text] = hashlib.sha256(repr(outputs).encode()).hexdigest()
    made = {"package": newssearch.__file__, "articles": len(articles), "digests": digests}
    print(json.dumps(made), flush=True)
    for _ in sys.stdin:
        times = {}
        for text, tree in trees.items():
            started = time.perf_counter()
            for title, body in articles:
                make_snippet(body, tree, LANGUAGE)
                mark_text(title, tree, LANGUAGE, "title")
            times[text] = (time.perf_counter() - started) * 1e6 / len(articles)
        print(json.dumps(times), flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", default="main", help="git revision to compare with")
    parser.add_argument("--corpus", type=Path, help="JSON Lines file or folder (default: Reuters)")
    parser.add_argument("--docs", type=int, default=2000, help="articles (default: 2000)")
    parser.add_argument("--passes", type=int, default=15, help="turns per side (default: 15)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--worker", type=Path, metavar="CORPUS", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.docs)
        return 0
    corpus = corpus_or_exit(args.corpus, "snippet_speed.py").resolve()
    work = args.out.resolve() / "snippet_speed"
    commit = export(args.base, work / "base")
    sources = {f"base {commit}": work / "base" / "src", "this checkout": REPO_ROOT / "src"}
    log(f"snippet_speed: {' vs '.join(sources)}, load {load_average()}")
    procs, made = {}, {}
    for name, src in sources.items():
        procs[name] = subprocess.Popen(
            [sys.executable, __file__, "--worker", str(corpus), "--docs", str(args.docs)],
            env={**os.environ, "PYTHONPATH": str(src)},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert procs[name].stdout is not None
        made[name] = json.loads(procs[name].stdout.readline())  # one side at a time
        assert Path(made[name]["package"]).is_relative_to(src), made[name]
    load_before = load_average()
    times: dict[str, list[dict[str, float]]] = {name: [] for name in procs}
    for turn in range(args.passes):
        for name in list(procs) if turn % 2 == 0 else list(procs)[::-1]:
            stdin, stdout = procs[name].stdin, procs[name].stdout
            assert stdin is not None and stdout is not None
            stdin.write("\n")
            stdin.flush()
            times[name].append(json.loads(stdout.readline()))
    for proc in procs.values():
        assert proc.stdin is not None
        proc.stdin.close()
        proc.wait()
    base, this = sources
    rows = []
    for text in (*QUERIES, "all"):
        a, b = ([sum(p.values()) if text == "all" else p[text] for p in times[n]] for n in sources)
        paired = median([y / x for x, y in zip(a, b, strict=True)])
        same = all(
            made[base]["digests"][q] == made[this]["digests"][q]
            for q in (QUERIES if text == "all" else [text])
        )
        rows.append([text, f"{median(a):.1f}", f"{median(b):.1f}", f"{paired:.3f}", str(same)])
    print(
        table(["µs per article, median", base, this, "median paired ratio", "same"], rows)
        + f"\n\n{made[this]['articles']} articles of {corpus.name}, {args.passes} turns per "
        "side; `all` sums the queries. `same`: both sides made the very same snippets and "
        f"title marks.\nMachine: {machine()}. Load average (1 min): "
        f"{load_before} before the turns, {load_average()} at the end."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
