"""Query expansion by pseudo-relevance feedback (RM3): the top hits' words re-rank the matches.

The first evaluation of a query gives its best `docs` hits. Their stored title and body are
read and stemmed; each word's share of a document (title words counted as in ranking), weighted
by that document's share of the hits' scores and summed, is the relevance model p(w|R). Its
`terms` most likely words (stop words, numbers and one-letter words left out) form the
feedback query: an OR of those words, each boosted by its probability times the number of the
query's own words, so that the two parts weigh alike. One more evaluation scores it, and
every match of the query gets `original_weight` x its own score + (1 - `original_weight`) x
its feedback score.

The matches, and so `total`, are the query's own: expansion only reorders them (the feedback
words never bring in an article that the query does not match), and snippets still mark only
the query's words. Parameters are chosen in `benchmarks/ranking.py` (README, "Ranking").
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from newssearch.analysis import words
from newssearch.engine.execute import TITLE_WEIGHT, Executor, Mask, Scores, Segment
from newssearch.errors import NewssearchError
from newssearch.query import Boost, Node, Or, Term, positive_leaves, stop_words

Runs = list[tuple[Segment, Mask, Scores | None]]


@dataclass(frozen=True)
class Expansion:
    """RM3's settings: feedback documents, feedback words, the original query's weight."""

    docs: int = 10
    terms: int = 20
    original_weight: float = 0.5

    def __post_init__(self) -> None:
        if self.docs < 1 or self.terms < 1:
            raise NewssearchError("expansion needs at least 1 feedback document and 1 word")
        if not 0.0 <= self.original_weight <= 1.0:
            raise NewssearchError(
                f"the original query's weight is between 0 and 1, not {self.original_weight}"
            )


def feedback_words(
    executor: Executor, docnums: Sequence[int], scores: Sequence[float], settings: Expansion
) -> tuple[tuple[str, float], ...]:
    """Returns the relevance model's most likely words with their probabilities (summing to
    1), best first, from the stored text of the documents `docnums` and their `scores`."""
    total = float(sum(scores))
    if not docnums or total <= 0:
        return ()
    stem = executor.stem
    skip = stop_words(executor.language)
    model: defaultdict[str, float] = defaultdict(float)
    shown: dict[str, Counter[str]] = {}  # stem -> the words found for it
    for docnum, score in zip(docnums, scores, strict=True):
        stored = executor.stored_fields(int(docnum))
        counts: defaultdict[str, float] = defaultdict(float)
        length = 0.0
        for text, weight in ((stored.get("title") or "", TITLE_WEIGHT), (stored.get("body"), 1.0)):
            found = words(text or "")
            length += weight * len(found)
            for word in found:
                if word in skip or word.isdigit() or len(word) < 2:
                    continue
                key = stem(word)
                counts[key] += weight
                shown.setdefault(key, Counter())[word] += 1
        for key, count in counts.items():
            model[key] += (score / total) * count / length
    # Most likely first, ties by stem: the same words whatever the order of the documents.
    best = sorted(model.items(), key=lambda item: (-item[1], item[0]))[: settings.terms]
    mass = sum(p for _, p in best)
    return tuple((shown[key].most_common(1)[0][0], p / mass) for key, p in best)


def feedback_tree(tree: Node, found: tuple[tuple[str, float], ...]) -> Node | None:
    """Returns the OR of the feedback words, each boosted by its probability times the number
    of the query's own words; None without words."""
    if not found:
        return None
    own = max(1, sum(1 for _ in positive_leaves(tree)))
    parts: list[Node] = [Boost(Term(word), own * p) for word, p in found]
    return parts[0] if len(parts) == 1 else Or(tuple(parts))


def rerank(executor: Executor, runs: Runs, feedback: Node, settings: Expansion) -> Runs:
    """Returns `runs` (the query's masks and scores per segment) with every match's score
    interpolated with its score for the feedback query: one more evaluation."""
    weight = settings.original_weight
    extra = executor.run(feedback, scored=True)
    out: Runs = []
    for (segment, mask, scores), (_, _, more) in zip(runs, extra, strict=True):
        own = scores if scores is not None else np.zeros(segment.size)
        added = more if more is not None else np.zeros(segment.size)
        out.append((segment, mask, weight * own + (1 - weight) * added))
    return out
