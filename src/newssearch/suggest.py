"""Did you mean: a corrected query when a query's words are missing from the index, or far rarer
than a close word.

Only a query with fewer than GOOD_HITS matches is looked at: one with good hits costs nothing.
Each word of it that is searched as text (not under NOT, not a prefix, not a tag, source or id),
of at least MIN_LENGTH letters and no digits, may be corrected. The index holds stems, so the
candidates come from its stem lexicon (title and body): the stems that start with the word's
first letter (as Lucene's DirectSpellChecker, which needs one letter of prefix), within
`max_edits` of the word or of its stem (by the stem's own length), and found in more than
RATIO times as many articles as the word's own stem. The words of a candidate stem are
recovered from the stored text of up to SAMPLE_DOCS articles that have it (spread evenly over
them), and the one within `max_edits(word)` edits of the query word on the unstemmed surface
forms (insertions, deletions, substitutions and transpositions of two letters) wins: fewest
edits, then the most articles (the stem's, times the share of the articles read that have the
word). The suggestion is the user's query with only those words replaced (in the case
typed), offered only when it finds more articles than the query did.
"""

from __future__ import annotations

import dataclasses
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterator
from typing import Any, cast

import numpy as np

from newssearch import query
from newssearch.analysis import spans, words
from newssearch.engine.execute import Executor, Segment
from newssearch.errors import QuerySyntaxError

GOOD_HITS = 5  # a query with at least this many matches gets no suggestion, at no cost
RATIO = 10  # a correction must be found in more than RATIO times the word's articles
MIN_LENGTH = 3  # shorter words are never corrected
SAMPLE_DOCS = 8  # articles read per candidate stem to recover its words
MAX_CANDIDATES = 8  # candidate stems whose words are recovered, per query word
_TEXT_FIELDS = ("title", "body")
# Stems by (segment, first letter), the most recently used kept: on Reuters' 6 segments a
# letter's stems are read in about 20 ms, and all of them take about 6 MB.
_STEMS_CACHED = 256
_STEMS: OrderedDict[tuple[str, str], tuple[str, ...]] = OrderedDict()


def max_edits(word: str) -> int:
    """Returns the edits allowed to correct `word`: 1 up to 5 letters, 2 from 6 (as
    Elasticsearch's fuzziness AUTO)."""
    return 1 if len(word) <= 5 else 2


def suggest(
    executor: Executor,
    text: str,
    tree: query.Node,
    match: str,
    total: int,
    count: Callable[[query.Node], int],
) -> str | None:
    """Returns a corrected query for `text` (parsed to `tree`, which found `total` articles),
    or None: when no word needs correcting, or when the correction would not find more
    articles. `count` returns how many articles a tree finds. The caller asks only for a
    query with fewer than GOOD_HITS matches."""
    corrections: dict[str, str] = {}
    for word in dict.fromkeys(_checked_words(tree)):
        found = correct(executor, word)
        if found is not None:
            corrections[word] = found
    if not corrections:
        return None
    corrected = _substitute(tree, corrections)
    if count(corrected) <= total:
        return None
    return _rewrite(text, corrected, corrections, match, executor.language)


def correct(executor: Executor, word: str) -> str | None:
    """Returns the folded word that should replace the folded `word`, or None."""
    # Imported here: a process whose queries all have good hits never loads it (~15 ms).
    from rapidfuzz import process
    from rapidfuzz.distance import OSA

    edits = max_edits(word)
    own = executor.stem(word)
    floor = RATIO * _doc_frequency(executor, own)
    stems = sorted(
        {stem for segment in executor.segments for stem in _stems(segment, word[0])} - {own}
    )
    if not stems:
        return None
    # Near the stem (by the stem's own allowance: `coper` of `coperation` gets 1) or the word.
    distances = [
        process.cdist([text], stems, scorer=OSA.distance, score_cutoff=allowed, dtype=np.int32)[0]
        for text, allowed in ((own, max_edits(own)), (word, edits))
    ]
    close = np.flatnonzero((distances[0] <= max_edits(own)) | (distances[1] <= edits))
    near = [
        (int(min(distances[0][i], distances[1][i])), -df, stems[i])
        for i in close.tolist()
        if (df := _doc_frequency(executor, stems[i])) > floor
    ]
    # The words themselves, each counted as the articles with its stem times the share of
    # those read that have the word: `oper` (Reuters' abbreviation) is far rarer than its stem.
    best: tuple[int, float, str] | None = None
    for _, minus_df, stem in sorted(near)[:MAX_CANDIDATES]:
        for surface, share in _surfaces(executor, stem).items():
            distance = OSA.distance(word, surface, score_cutoff=edits)
            if distance <= edits and surface != word:
                found = (distance, minus_df * share, surface)
                best = found if best is None else min(best, found)
    return best[2] if best else None


def _stems(segment: Segment, letter: str) -> tuple[str, ...]:
    """Returns the stems of a segment's titles and bodies that start with `letter`, cached
    (segments never change once written)."""
    key = (segment.segment_id, letter)
    found = _STEMS.get(key)
    if found is None:
        found = tuple(
            term.decode() for name in _TEXT_FIELDS for term in segment.terms(name, letter.encode())
        )
        _STEMS[key] = found
        while len(_STEMS) > _STEMS_CACHED:
            _STEMS.popitem(last=False)
    else:
        _STEMS.move_to_end(key)
    return found


def _checked_words(tree: query.Node) -> Iterator[str]:
    """Yields the words of the query that may be corrected, in order."""
    for leaf in query.positive_leaves(tree):
        if leaf.field not in (None, *_TEXT_FIELDS):
            continue
        if isinstance(leaf, query.Term):
            found: tuple[str, ...] = (leaf.word,)
        elif isinstance(leaf, query.Phrase):
            found = leaf.words
        else:
            continue
        yield from (w for w in found if len(w) >= MIN_LENGTH and w.isalpha())


def _doc_frequency(executor: Executor, stem: str) -> int:
    """Returns how many articles have `stem` in the title or the body, at least (the larger of
    the two counts)."""
    key = stem.encode()
    return max(int(executor.searcher.doc_frequency(name, key)) for name in _TEXT_FIELDS)


def _surfaces(executor: Executor, stem: str) -> dict[str, float]:
    """Returns the words with stem `stem` and, for each, the share of the articles read that
    have it: up to SAMPLE_DOCS live articles with the stem, spread evenly over all of them."""
    parts = []
    for segment in executor.segments:
        for name in _TEXT_FIELDS:
            found = segment.postings(name, stem.encode())
            if found is not None:
                parts.append(found.docs[segment.live[found.docs]] + segment.offset)
    docnums = np.unique(np.concatenate(parts)) if parts else np.zeros(0, np.int64)
    if not docnums.size:
        return {}
    picked = docnums[np.unique(np.linspace(0, docnums.size - 1, SAMPLE_DOCS).astype(np.int64))]
    having: Counter[str] = Counter()
    for docnum in picked.tolist():
        stored = executor.stored_fields(docnum)
        text = f"{stored.get('title') or ''}\n{stored.get('body') or ''}"
        having.update({w for w in words(text) if executor.stem(w) == stem})
    return {w: n / picked.size for w, n in having.items()}


def _substitute(node: query.Node, corrections: dict[str, str]) -> query.Node:
    """Returns `node` with the corrected words replaced wherever they are searched as text
    outside a NOT."""
    if isinstance(node, query.Not):
        return node
    if isinstance(node, query.Term) and node.field in (None, *_TEXT_FIELDS):
        return dataclasses.replace(node, word=corrections.get(node.word, node.word))
    if isinstance(node, query.Phrase) and node.field in (None, *_TEXT_FIELDS):
        return dataclasses.replace(node, words=tuple(corrections.get(w, w) for w in node.words))
    changes: dict[str, Any] = {}
    for item in dataclasses.fields(node):
        value = getattr(node, item.name)
        if isinstance(value, tuple) and all(dataclasses.is_dataclass(v) for v in value):
            changes[item.name] = tuple(_substitute(v, corrections) for v in value)
        elif dataclasses.is_dataclass(value) and not isinstance(node, query.Dates):
            changes[item.name] = _substitute(cast(query.Node, value), corrections)
    return cast(query.Node, dataclasses.replace(cast(Any, node), **changes)) if changes else node


def _rewrite(
    text: str, corrected: query.Node, corrections: dict[str, str], match: str, language: str
) -> str:
    """Returns `text` with the corrected words replaced, cased as typed, if that reads back as
    the corrected query; else the corrected query printed (which always does)."""
    pieces, at = [], 0
    for start, end, word in spans(text):
        if word in corrections:
            pieces += [text[at:start], _cased(text[start:end], corrections[word])]
            at = end
    rewritten = "".join(pieces) + text[at:]
    try:
        if query.parse(rewritten, match, language) == corrected:
            return rewritten
    except QuerySyntaxError:
        pass
    return str(corrected)


def _cased(typed: str, word: str) -> str:
    """Returns `word` in the case of `typed`: `KARABAKH`, `Karabakh` or `karabakh`."""
    if typed.isupper() and len(typed) > 1:
        return word.upper()
    if typed[:1].isupper():
        return word[:1].upper() + word[1:]
    return word
