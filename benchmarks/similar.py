"""Similar articles: precision@10 against tag overlap, more-like-this beside simple baselines.

    python benchmarks/similar.py [--corpus PATH] [--index DIR] [--articles 50] [--seed 10]

Picks `--articles` random tagged articles (a fixed seed) and, for each, asks every method for
ten other articles; a hit is relevant when it shares a tag with the article (hits without
tags never are). Methods, in one run over the same index:

- *similar*: `Index.similar(id)`, newssearch's more-like-this with its defaults;
- *similar, Lucene's thresholds*: the same with min_term_freq=2, min_doc_freq=5 (Lucene's
  MoreLikeThis defaults);
- *title, match any*: the article's title words as a `match="any"` query, itself left out;
- *random*: ten random other articles (what tag overlap alone gives).

Prints precision@10 (mean over the articles) and the median milliseconds per article, from a
second pass (the first warms the caches). Builds
the index in a temporary folder unless `--index` names one already built from the corpus.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from _common import DEFAULT_CORPUS, load_average, table

from newssearch import Document, Index, load_documents
from newssearch.analysis import words
from newssearch.similar import run as similar_run

Method = Callable[[Index, Document], list[str]]


def by_similar(**settings: int) -> Method:
    def method(index: Index, doc: Document) -> list[str]:
        executor = index._current_executor()
        results = similar_run(executor, doc.id, limit=10, snippets=False, **settings)
        return [hit.id for hit in results.hits]

    return method


def by_title(index: Index, doc: Document) -> list[str]:
    text = " ".join(words(doc.title))
    if not text:
        return []
    hits = index.search(text, limit=11, match="any", snippets=False).hits
    return [hit.id for hit in hits if hit.id != doc.id][:10]


def by_chance(ids: list[str], seed: int) -> Method:
    def method(index: Index, doc: Document) -> list[str]:
        picked = random.Random(f"{seed} {doc.id}").sample(ids, 11)
        return [i for i in picked if i != doc.id][:10]

    return method


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--index", type=Path, help="an index already built from the corpus")
    parser.add_argument("--articles", type=int, default=50)
    parser.add_argument("--seed", type=int, default=10)
    args = parser.parse_args()
    docs = [d for d in load_documents(args.corpus) if isinstance(d, Document)]
    tags = {d.id: set(d.tags) for d in docs}
    with tempfile.TemporaryDirectory() as scratch:
        if args.index is None:
            index = Index.create(Path(scratch) / "index")
            index.add(docs)
        else:
            index = Index.open(args.index)
        tagged = [d for d in docs if d.tags]
        chosen = random.Random(args.seed).sample(tagged, args.articles)
        methods: dict[str, Method] = {
            "similar": by_similar(),
            "similar, Lucene's thresholds (tf >= 2, df >= 5)": by_similar(
                min_term_freq=2, min_doc_freq=5
            ),
            "title, match any": by_title,
            "random": by_chance(list(tags), args.seed),
        }
        rows = []
        for name, method in methods.items():
            for doc in chosen:  # a first, untimed pass: every method runs on a warm cache
                method(index, doc)
            precisions, timings = [], []
            for doc in chosen:
                started = time.perf_counter()
                hits = method(index, doc)
                timings.append((time.perf_counter() - started) * 1000)
                relevant = sum(1 for hit in hits if tags.get(hit, set()) & tags[doc.id])
                precisions.append(relevant / 10)
            rows.append(
                [
                    name,
                    f"{statistics.fmean(precisions):.3f}",
                    f"{statistics.median(timings):.1f}",
                ]
            )
        index.close()
    print(f"{args.articles} tagged articles of {args.corpus} (seed {args.seed})")
    print(f"load average {load_average()}")
    print(table(["method", "precision@10", "median ms"], rows))


if __name__ == "__main__":
    sys.exit(main())
