"""Snippets' quick paths against plain references, on Reuters bodies and on text in other
scripts: the marks (every token stemmed, one by one), the snap of a window to whole words (a
scan of every token) and the collapsing of whitespace (character by character)."""

from __future__ import annotations

import itertools
import random

import pytest
from conftest import REUTERS, need_corpus
from rapidfuzz.distance import OSA

from newssearch import Document, analysis, load_documents
from newssearch.analysis import spans, stemmer
from newssearch.query import Fuzzy, Node, Phrase, Prefix, Term, parse, positive_leaves
from newssearch.snippets import ELLIPSIS, _cut, _marks, _phrase_matches, _snap

QUERIES = [
    "said",
    "oil",
    '"oil prices"',
    '"oil prices"~2 oil',
    "oil AND price -crude",
    "export* title:oil",
    "happy* oil*",
    "pric~1 tonne",
    '"1 2 cup" cup',
    '"2 cup" 1',
    "cafe strasse 石油 москва",
    "naive~1 zur*",
    "x",
]
NON_ASCII = [
    "Café culture in Zürich: the CAFÉ was naïve, ẞtraße and Straße STRASSE strasse.",
    "Happiness (stem happi, as happy's) and happier Ölexporte, oil-exporting oilers.",
    "Cafe\u0301 नमस्ते दुनिया x — ½ cup of oil, ¾ oil prices ﬁnance oil\u0301 prices",
    "東京の石油価格 oil 価格 prices 北京 oil prices 石油",
    "Αθήνα, Москва́ и नमस्ते ёлка йогурт Ελλάδα oil prices",
    "  \u00a0 oil\u2003prices\u3000rose\n\n\tsaid  the   ministers ½ ½ 1 2 cup  ",
    "x\u0301\u0302 oil ‐ prices ① ② oil² prices³ Ⅻ oil",
    "Preise für Öl steigen, sagt der Minister: ½ — !!",
]
SPRINKLES = ["é", "\u0301", "½", "石油", "ß", " Straße", "①", "\u3000"]


@pytest.fixture(scope="module")
def texts() -> list[str]:
    """Reuters bodies, and some of them again with non-ASCII letters, marks and spaces."""
    read = load_documents(need_corpus(REUTERS))
    bodies = [d.body for d in itertools.islice(read, 300) if isinstance(d, Document)]
    pick = random.Random(3)
    mixed = []
    for body in bodies[:100]:
        words = body.split(" ")
        for _ in range(6):
            words[pick.randrange(len(words))] += pick.choice(SPRINKLES)
        mixed.append(" ".join(words))
    return NON_ASCII + mixed + bodies


def reference_marks(text: str, tree: Node, field: str) -> list[tuple[int, int, object]]:
    """Every token stemmed in turn: a phrase's occurrences first, then each other token for
    the first term with its stem, else the first prefix, else the first fuzzy term."""
    stem = stemmer("english").stem
    tokens = analysis._any_spans(text)
    stems = [stem(word) for _, _, word in tokens]
    leaves = [leaf for leaf in positive_leaves(tree) if leaf.field in (None, field)]
    places: dict[str, list[int]] = {}
    for i, token_stem in enumerate(stems):
        places.setdefault(token_stem, []).append(i)
    found: list[tuple[int, int, object]] = []
    taken: set[int] = set()
    for leaf in leaves:
        if isinstance(leaf, Phrase):
            wanted = [stem(w) for w in leaf.words]
            for first, last in _phrase_matches(places, wanted, leaf.slop):
                if taken.isdisjoint(range(first, last + 1)):
                    taken.update(range(first, last + 1))
                    found.append((tokens[first][0], tokens[last][1], leaf))

    def leaf_for(token_stem: str) -> object | None:
        terms = [t for t in leaves if isinstance(t, Term) and stem(t.word) == token_stem]
        prefixes = [
            p
            for p in leaves
            if isinstance(p, Prefix)
            and (token_stem.startswith(p.prefix) or token_stem == stem(p.prefix))
        ]
        fuzzies = [
            f
            for f in leaves
            if isinstance(f, Fuzzy) and OSA.distance(token_stem, stem(f.word)) <= f.distance
        ]
        return next(iter([*terms, *prefixes, *fuzzies]), None)

    for i, token_stem in enumerate(stems):
        hit = None if i in taken else leaf_for(token_stem)
        if hit is not None:
            found.append((tokens[i][0], tokens[i][1], hit))
    return sorted(found, key=lambda m: m[0])


def reference_snap(
    body: str, tokens: list[tuple[int, int, str]], start: int, end: int
) -> tuple[int, int]:
    text_end = len(body.rstrip())
    end = min(end, text_end)
    if start > 0:
        start = next((s for s, _, _ in tokens if s >= start), start)
    if end < text_end:
        ends = [e for _, e, _ in tokens if start < e <= end]
        end = ends[-1] if ends else end
    while start < end and body[start].isspace():
        start += 1
    return start, end


def reference_cut(
    body: str, start: int, end: int, marks: list[tuple[int, int, object]]
) -> tuple[str, tuple[tuple[int, int], ...]]:
    text = ELLIPSIS if start > 0 else ""
    at: dict[int, int] = {}
    for offset in range(start, end):
        at[offset] = len(text)
        if not body[offset].isspace():
            text += body[offset]
        elif offset == start or not body[offset - 1].isspace():
            text += " "
    at[end] = len(text)
    text += ELLIPSIS if end < len(body.rstrip()) else ""
    return text, tuple((at[s], at[e]) for s, e, _ in marks)


@pytest.mark.parametrize("query", QUERIES)
def test_marks_are_those_of_every_token_in_turn(texts: list[str], query: str) -> None:
    tree = parse(query)
    for text in texts:
        for field in ("body", "title"):
            assert _marks(spans(text), tree, "english", field) == reference_marks(text, tree, field)


def test_a_window_snaps_to_the_words_a_scan_finds(texts: list[str]) -> None:
    pick = random.Random(5)
    for text in texts:
        tokens = spans(text)
        starts = [pick.randrange(len(text) + 1) for _ in range(20)]
        windows = [(s, pick.randrange(s, len(text) + 50)) for s in starts]
        windows += [(e, e + 2) for _, e, _ in tokens[-3:]]  # just past the last words
        for start, end in windows:
            assert _snap(text, tokens, start, end) == reference_snap(text, tokens, start, end)


def test_whitespace_collapses_as_character_by_character(texts: list[str]) -> None:
    tree = parse("oil OR said OR prices OR 石油 OR cup OR the")
    pick = random.Random(7)
    for text in texts:
        tokens = spans(text)
        marks = _marks(tokens, tree, "english", "body")
        for _ in range(10):
            first = pick.randrange(len(text) + 1)
            start, end = _snap(text, tokens, first, first + pick.choice([40, 200, 10_000]))
            inside = [m for m in marks if start <= m[0] and m[1] <= end]
            cut = _cut(text, start, end, inside)
            assert (cut.text, cut.spans) == reference_cut(text, start, end, inside)
