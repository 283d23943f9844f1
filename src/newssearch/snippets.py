"""Snippets: the best passage of a body with every matched word marked, as plain data.

A snippet is text plus the spans to highlight; `render` formats it last, as plain text,
ANSI bold red (through click.style) or `<mark>` HTML, and `wrap` splits it into lines. Stemmed
variants are marked (`cooperate` marks `cooperation`), a phrase is one span where it occurs as
a phrase, and words only under NOT are never marked. A title is marked by the same rules
(`mark_text`), with the words of `title:` and of no field.
"""

from __future__ import annotations

import html
import re
from bisect import bisect_left, bisect_right
from collections import Counter
from dataclasses import dataclass
from itertools import compress
from operator import itemgetter, methodcaller

from newssearch.analysis import spans, stemmer
from newssearch.query import Fuzzy, Node, Phrase, Prefix, Term, positive_leaves

WIDTH = 200
ELLIPSIS = "…"
_STYLES = ("plain", "ansi", "html")
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Snippet:
    """Text (with `…` where trimmed) and the (start, end) offsets in it to highlight."""

    text: str
    spans: tuple[tuple[int, int], ...] = ()

    def render(self, style: str = "plain") -> str:
        """Returns the text marked up: `plain`, `ansi` (bold red) or `html` (escaped, `<mark>`)."""
        if style not in _STYLES:
            raise ValueError(f"style must be one of {', '.join(_STYLES)}, not {style!r}")
        if style == "plain":
            return self.text
        out, at = [], 0
        for start, end in self.spans:
            out += [_escape(self.text[at:start], style), _mark(self.text[start:end], style)]
            at = end
        out.append(_escape(self.text[at:], style))
        return "".join(out)

    def wrap(self, width: int) -> list[Snippet]:
        """Returns the snippet as lines of at most `width` characters, broken at spaces.

        A word longer than `width` gets a line of its own; a span across a break is cut in two.
        """
        lines: list[Snippet] = []
        start = 0
        while start < len(self.text):
            end = len(self.text)
            if end - start > width:
                space = self.text.rfind(" ", start, start + width + 1)
                end = space if space > start else self.text.find(" ", start + width)
                end = len(self.text) if end < 0 else end
            spans = tuple(
                (max(s, start) - start, min(e, end) - start)
                for s, e in self.spans
                if s < end and e > start
            )
            lines.append(Snippet(self.text[start:end], spans))
            start = end + 1
        return lines

    def __str__(self) -> str:
        return self.text


def _escape(text: str, style: str) -> str:
    return html.escape(text, quote=False) if style == "html" else text


def _mark(text: str, style: str) -> str:
    if style == "html":
        return f"<mark>{html.escape(text, quote=False)}</mark>"
    import click  # on first use: the library itself never needs the command line's package

    return click.style(text, fg="red", bold=True)


def make_snippet(
    body: str, tree: Node, language: str, width: int = WIDTH, field: str = "body"
) -> Snippet:
    """Returns the passage of about `width` characters that shows the most matched words.

    `field` says whose words to mark: those of no field and of `field:`.
    """
    tokens = spans(body)
    marks = _marks(tokens, tree, language, field)
    start, end = _window(body, tokens, marks, width)
    return _cut(body, start, end, [m for m in marks if start <= m[0] and m[1] <= end])


def mark_text(text: str, tree: Node, language: str, field: str = "body") -> Snippet:
    """Returns the whole of `text`, unchanged, with every matched word marked as in snippets.

    `field` says whose words count: those of no field and those of `field:`.
    """
    marks = _marks(spans(text), tree, language, field)
    return Snippet(text, tuple((s, e) for s, e, _ in marks))


def _marks(
    tokens: list[tuple[int, int, str]], tree: Node, language: str, field: str
) -> list[tuple[int, int, object]]:
    """Returns (start, end, leaf) for every match in the text, sorted, not overlapping."""
    stem = stemmer(language).stem
    leaves = [leaf for leaf in positive_leaves(tree) if leaf.field in (None, field)]
    phrases = [(p, [stem(w) for w in p.words]) for p in leaves if isinstance(p, Phrase)]
    singles: dict[str, object] = {}
    prefixes: list[tuple[str, str, object]] = []
    fuzzies: list[tuple[str, int, object]] = []
    for leaf in leaves:
        if isinstance(leaf, Term):
            singles.setdefault(stem(leaf.word), leaf)
        elif isinstance(leaf, Prefix):
            prefixes.append((leaf.prefix, stem(leaf.prefix), leaf))
        elif isinstance(leaf, Fuzzy):
            fuzzies.append((stem(leaf.word), leaf.distance, leaf))
    # Each distinct word of the text is stemmed once; a stem is marked for its term, else for
    # the first prefix or fuzzy term it matches (tested only if the query has such leaves).
    # Then only the positions of the words needed, marked or in a phrase, are kept, in order.
    words = list(map(itemgetter(2), tokens))
    stem_of = {word: stem(word) for word in set(words)}
    leaf_of = {s: singles[s] for s in singles.keys() & stem_of.values()}
    if prefixes or fuzzies:
        untested = set(stem_of.values()).difference(leaf_of)
        if not fuzzies:  # then only a stem that starts with a prefix, or is its stem, matches
            starts = methodcaller("startswith", tuple(p[0] for p in prefixes))
            untested = {*filter(starts, untested), *untested.intersection(p[1] for p in prefixes)}
        for token_stem in untested:
            hit = _prefix_or_fuzzy_leaf(token_stem, prefixes, fuzzies)
            if hit is not None:
                leaf_of[token_stem] = hit
    needed_stems = leaf_of.keys() | {s for _, wanted in phrases for s in wanted}
    needed = set(compress(stem_of, map(needed_stems.__contains__, stem_of.values())))
    positions = list(compress(range(len(words)), map(needed.__contains__, words)))
    places: dict[str, list[int]] = {}
    for i in positions:
        places.setdefault(stem_of[words[i]], []).append(i)
    found: list[tuple[int, int, object]] = []
    taken = [False] * len(tokens)
    for phrase, wanted in phrases:
        for first, last in _phrase_matches(places, wanted, phrase.slop):
            if not any(taken[first : last + 1]):
                taken[first : last + 1] = [True] * (last + 1 - first)
                found.append((tokens[first][0], tokens[last][1], phrase))
    for i in positions:
        hit = None if taken[i] else leaf_of.get(stem_of[words[i]])
        if hit is not None:
            found.append((tokens[i][0], tokens[i][1], hit))
    return sorted(found, key=lambda m: m[0])


def _prefix_or_fuzzy_leaf(
    token_stem: str, prefixes: list[tuple[str, str, object]], fuzzies: list[tuple[str, int, object]]
) -> object | None:
    """Returns the first prefix leaf, else the first fuzzy leaf, that a stem of the text
    matches; None if none."""
    hit = next((p[2] for p in prefixes if token_stem.startswith(p[0]) or token_stem == p[1]), None)
    if hit is None and fuzzies:
        # Imported here: rapidfuzz takes some 25 ms to import, and most queries have no
        # fuzzy term (a first query would pay for it).
        from rapidfuzz.distance import OSA

        hit = next(
            (f[2] for f in fuzzies if OSA.distance(token_stem, f[0], score_cutoff=f[1]) <= f[1]),
            None,
        )
    return hit


def _phrase_matches(
    places: dict[str, list[int]], wanted: list[str], slop: int
) -> list[tuple[int, int]]:
    """Returns (first, last) token positions of each occurrence of the phrase, greedily: each
    next word at its first position after the last one, if within slop + 1. `places` holds
    the positions of each stem, in order."""
    found = []
    for first in places.get(wanted[0], ()):
        at = first
        for word in wanted[1:]:
            mine = places.get(word, [])
            k = bisect_right(mine, at)
            if k == len(mine) or mine[k] > at + slop + 1:
                break
            at = mine[k]
        else:
            found.append((first, at))
    return found


def _window(
    body: str, tokens: list[tuple[int, int, str]], marks: list[tuple[int, int, object]], width: int
) -> tuple[int, int]:
    """Returns body offsets of the window: most distinct leaves, then most marks, then first.

    Marks do not overlap, so the ones within `width` of mark i are marks[i:j], j only
    growing: one pass, counting the leaves inside."""
    if not marks:
        return _snap(body, tokens, 0, width)
    best, best_score = (marks[0][0], marks[0][1]), (-1, -1)
    inside: Counter[int] = Counter()  # leaf -> its marks among marks[i:j]
    j = 0
    for i, (start, end, leaf) in enumerate(marks):
        j = max(j, i)
        while j < len(marks) and marks[j][1] - start <= width:
            inside[id(marks[j][2])] += 1
            j += 1
        score = (len(inside), j - i)
        if score > best_score:
            best, best_score = (start, marks[j - 1][1] if j > i else end), score
        if j > i:
            inside[id(leaf)] -= 1
            if not inside[id(leaf)]:
                del inside[id(leaf)]
    first, last = best
    spare = max(0, width - (last - first))
    return _snap(body, tokens, max(0, first - spare // 3), max(last, first - spare // 3 + width))


def _snap(body: str, tokens: list[tuple[int, int, str]], start: int, end: int) -> tuple[int, int]:
    """Returns (start, end) moved inward to word boundaries, keeping whole words only."""
    text_end = len(body.rstrip())
    if end >= text_end:
        end = text_end
        start = max(0, min(start, end - (end - start)))
    if start > 0:
        # Tokens are in order of both their starts and their ends.
        k = bisect_left(tokens, start, key=itemgetter(0))
        start = tokens[k][0] if k < len(tokens) else start
    if end < text_end:
        k = bisect_right(tokens, end, key=itemgetter(1))
        end = tokens[k - 1][1] if k and tokens[k - 1][1] > start else end
    while start < end and body[start].isspace():
        start += 1
    return start, end


def _cut(body: str, start: int, end: int, marks: list[tuple[int, int, object]]) -> Snippet:
    """Returns the snippet of body[start:end], whitespace runs collapsed, `…` where trimmed."""
    head = ELLIPSIS if start > 0 else ""
    tail = ELLIPSIS if end < len(body.rstrip()) else ""

    def at(offset: int) -> int:
        # Marks begin and end at words, never inside a run of whitespace.
        return len(head) + len(_SPACE.sub(" ", body[start:offset]))

    text = head + _SPACE.sub(" ", body[start:end]) + tail
    return Snippet(text, tuple((at(s), at(e)) for s, e, _ in marks))
