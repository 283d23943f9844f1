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
from bisect import bisect_right
from collections import Counter
from dataclasses import dataclass

from rapidfuzz.distance import OSA

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
    tokens = [(start, end, word) for start, end, word in spans(body)]
    marks = _marks(tokens, tree, language, field)
    start, end = _window(body, tokens, marks, width)
    return _cut(body, start, end, [m for m in marks if start <= m[0] and m[1] <= end])


def mark_text(text: str, tree: Node, language: str, field: str = "body") -> Snippet:
    """Returns the whole of `text`, unchanged, with every matched word marked as in snippets.

    `field` says whose words count: those of no field and those of `field:`.
    """
    tokens = list(spans(text))
    return Snippet(text, tuple((s, e) for s, e, _ in _marks(tokens, tree, language, field)))


def _marks(
    tokens: list[tuple[int, int, str]], tree: Node, language: str, field: str
) -> list[tuple[int, int, object]]:
    """Returns (start, end, leaf) for every match in the text, sorted, not overlapping."""
    stem = stemmer(language).stem
    stems = [stem(word) for _, _, word in tokens]
    leaves = [leaf for leaf in positive_leaves(tree) if leaf.field in (None, field)]
    found: list[tuple[int, int, object]] = []
    taken = [False] * len(tokens)
    places: dict[str, list[int]] = {}
    for i, token_stem in enumerate(stems):
        places.setdefault(token_stem, []).append(i)
    for leaf in leaves:
        if isinstance(leaf, Phrase):
            wanted = [stem(w) for w in leaf.words]
            for first, last in _phrase_matches(places, wanted, leaf.slop):
                if not any(taken[first : last + 1]):
                    taken[first : last + 1] = [True] * (last + 1 - first)
                    found.append((tokens[first][0], tokens[last][1], leaf))
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
    # The leaf each distinct stem of the text is marked for, found once per stem; prefix and
    # fuzzy tests only when the query has such leaves.
    leaf_of: dict[str, object | None] = {}
    for token_stem in places:
        hit = singles.get(token_stem)
        if hit is None and prefixes:
            hit = next(
                (p[2] for p in prefixes if token_stem.startswith(p[0]) or token_stem == p[1]), None
            )
        if hit is None and fuzzies:
            hit = next(
                (
                    f[2]
                    for f in fuzzies
                    if OSA.distance(token_stem, f[0], score_cutoff=f[1]) <= f[1]
                ),
                None,
            )
        leaf_of[token_stem] = hit
    for i, token_stem in enumerate(stems):
        hit = None if taken[i] else leaf_of[token_stem]
        if hit is not None:
            found.append((tokens[i][0], tokens[i][1], hit))
    return sorted(found, key=lambda m: m[0])


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
        start = next((s for s, _, _ in tokens if s >= start), start)
    if end < text_end:
        ends = [e for _, e, _ in tokens if start < e <= end]
        end = ends[-1] if ends else end
    while start < end and body[start].isspace():
        start += 1
    return start, end


def _cut(body: str, start: int, end: int, marks: list[tuple[int, int, object]]) -> Snippet:
    """Returns the snippet of body[start:end], whitespace runs collapsed, `…` where trimmed."""
    text: list[str] = [ELLIPSIS] if start > 0 else []
    length = len(text)
    remap: dict[int, int] = {}
    at = start
    for gap in [*_SPACE.finditer(body, start, end), None]:
        stop = gap.start() if gap else end
        for offset in range(at, stop + 1):
            remap[offset] = length + offset - at
        text.append(body[at:stop])
        length += stop - at
        if gap:
            text.append(" ")
            length += 1
            at = gap.end()
    if end < len(body.rstrip()):
        text.append(ELLIPSIS)
    return Snippet("".join(text), tuple((remap[s], remap[e]) for s, e, _ in marks))
