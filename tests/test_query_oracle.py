"""The index against a brute-force oracle: random query trees must return exactly its ids.

The oracle scans every document of `fixtures/oracle/` with the same analyzer (words, then
Snowball stems) and evaluates a `newssearch.query` tree by set logic. Beside it: cheap
invariants (phrase within AND, OR within its parts, wider dates, ranking and paging order) and
hand-checked examples whose answers can be read off the fixture files.
"""

from __future__ import annotations

import calendar
import functools
import itertools
import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from newssearch import Document, Index, PartialDate, QuerySyntaxError, load_documents
from newssearch import search as search_module
from newssearch.analysis import fold, stemmer, words
from newssearch.dates import DateRange
from newssearch.query import And, Boost, Dates, Fuzzy, Node, Not, Or, Phrase, Prefix, Term, parse
from newssearch.query.lexer import MAX_SLOP
from newssearch.results import SearchResults

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "oracle"
LANGUAGE = "english"
STEM = stemmer(LANGUAGE).stem
TEXT_FIELDS = ("title", "body")
KEYWORD_FIELDS = ("tag", "source", "id")
# Surely stop words in any English list: match="any" drops them from an OR of bare words.
STOP_WORDS = ("the", "of", "for", "in", "and", "a")


# ---- the oracle ----------------------------------------------------------------------------


@dataclass(frozen=True)
class OracleDoc:
    id: str
    stems: dict[str, tuple[str, ...]]  # title/body -> the stem at each position
    tags: frozenset[str]
    source: str
    date: PartialDate | None


def _oracle_docs() -> tuple[OracleDoc, ...]:
    found = []
    for item in load_documents(FIXTURES):
        assert isinstance(item, Document), f"fixture rejected: {item}"
        found.append(
            OracleDoc(
                id=item.id,
                stems={f: tuple(STEM(w) for w in words(getattr(item, f))) for f in TEXT_FIELDS},
                tags=frozenset(fold(t.strip()) for t in item.tags if t.strip()),
                source=fold(item.source.strip()),
                date=item.date,
            )
        )
    return tuple(found)


DOCS = _oracle_docs()
ALL_IDS = frozenset(d.id for d in DOCS)


def _fields(field: str | None) -> tuple[str, ...]:
    return TEXT_FIELDS if field is None else (field,)


def _keyword_values(doc: OracleDoc, field: str) -> Iterable[str]:
    if field == "tag":
        return doc.tags
    if field == "source":
        return (doc.source,) if doc.source else ()
    return (doc.id,)


def _chain(stems: tuple[str, ...], wanted: list[str], slop: int) -> bool:
    """Returns whether positions p1 < p2 < ... hold `wanted`, each step 1..slop+1 apart."""
    reached = {p for p, s in enumerate(stems) if s == wanted[0]}
    for target in wanted[1:]:
        reached = {
            q
            for q, s in enumerate(stems)
            if s == target and any(1 <= q - p <= slop + 1 for p in reached)
        }
    return bool(reached)


@functools.cache
def _edits(a: str, b: str) -> int:
    """Returns the optimal string alignment distance: inserts, deletes, substitutions and
    swaps of two neighbours, each one edit (no substring edited twice)."""
    rows = [list(range(len(b) + 1))] + [[i] + [0] * len(b) for i in range(1, len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            rows[i][j] = min(
                rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + (a[i - 1] != b[j - 1])
            )
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                rows[i][j] = min(rows[i][j], rows[i - 2][j - 2] + 1)
    return rows[len(a)][len(b)]


def _matches(doc: OracleDoc, node: Term | Phrase | Prefix | Fuzzy | Dates) -> bool:
    if isinstance(node, Dates):
        low, high = node.range.low, node.range.high
        return (
            doc.date is not None
            and (high is None or doc.date.start <= high)
            and (low is None or doc.date.end >= low)
        )
    if isinstance(node, Term):
        if node.field in KEYWORD_FIELDS:
            return node.word in _keyword_values(doc, node.field)
        return any(STEM(node.word) in doc.stems[f] for f in _fields(node.field))
    if isinstance(node, Phrase):
        wanted = [STEM(w) for w in node.words]
        return any(_chain(doc.stems[f], wanted, node.slop) for f in _fields(node.field))
    if isinstance(node, Fuzzy):
        target = STEM(node.word)
        return any(
            _edits(s, target) <= node.distance for f in _fields(node.field) for s in doc.stems[f]
        )
    if node.field in KEYWORD_FIELDS:
        return any(v.startswith(node.prefix) for v in _keyword_values(doc, node.field))
    own = STEM(node.prefix)
    return any(
        s.startswith(node.prefix) or s == own for f in _fields(node.field) for s in doc.stems[f]
    )


def oracle(node: Node) -> frozenset[str]:
    """Returns the ids of the fixture documents that `node` matches, by scanning them all."""
    if isinstance(node, And):
        return frozenset.intersection(*(oracle(c) for c in node.children))
    if isinstance(node, Or):
        return frozenset.union(*(oracle(c) for c in node.children))
    if isinstance(node, Not):
        return ALL_IDS - oracle(node.child)
    if isinstance(node, Boost):  # a boost changes scores, never what matches
        return oracle(node.child)
    return frozenset(d.id for d in DOCS if _matches(d, node))


# ---- query text ----------------------------------------------------------------------------


_NEEDS_QUOTES = re.compile(r'[\s()"]')


def render(node: Node, *, dashes: bool = False, implicit: bool = False, in_or: bool = False) -> str:
    """Returns query text for `node`: its printed form, except where that does not re-parse.

    `dashes` writes NOT as `-`, `implicit` writes AND as juxtaposition: the same tree. (Not
    for a NOT right inside an OR: `(a OR -b)` would exclude b from the whole group.)
    """

    def again(child: Node, in_or: bool = False) -> str:
        return render(child, dashes=dashes, implicit=implicit, in_or=in_or)

    if isinstance(node, Term) and node.field in KEYWORD_FIELDS and _NEEDS_QUOTES.search(node.word):
        # str() prints `tag:crude oil`, which is a tag and a word: quote the value.
        return f'{node.field}:"{node.word}"'
    if isinstance(node, And):
        return "(" + (" " if implicit else " AND ").join(map(again, node.children)) + ")"
    if isinstance(node, Or):
        return "(" + " OR ".join(again(c, in_or=True) for c in node.children) + ")"
    if isinstance(node, Not):
        return ("-" if dashes and not in_or else "NOT ") + again(node.child)
    if isinstance(node, Boost):
        inner = again(node.child)
        factor = str(node).rsplit("^", 1)[1]
        return f"({inner})^{factor}" if isinstance(node.child, Boost) else f"{inner}^{factor}"
    return str(node)


def search(index: Index, text: str, limit: int = 1000, **options: Any) -> SearchResults:
    return index.search(text, limit=limit, snippets=False, **options)


def hit_ids(index: Index, text: str, **options: Any) -> list[str]:
    return [h.id for h in search(index, text, **options).hits]


def date_start(date: str | None) -> int | None:
    return None if date is None else PartialDate.parse(date).start


@pytest.fixture(scope="module")
def oracle_index(tmp_path_factory: pytest.TempPathFactory) -> Index:
    index = Index.create(tmp_path_factory.mktemp("oracle-index"), LANGUAGE)
    report = index.add(load_documents(FIXTURES))
    assert (report.added, report.rejected) == (len(DOCS), ())
    return index


# ---- random query trees --------------------------------------------------------------------


def _listed(text: str) -> tuple[str, ...]:
    return tuple(text.split())


VOCABULARY = _listed(
    """
    plan plans planned planning planners cooperate cooperation cooperative cooperating
    defense ministry ministries minister ministers belarus armenia azerbaijan treaty
    army military grain wheat export exports cafe nagorno karabakh talks signed
    meeting oil prices minsk s 2020 zebra not or the of for in and a
    """
)
PREFIXES = _listed(
    """
    plan plann planner coop cooper def defen minist ministr bel arm nag kara
    caf th gr treat trea mil wh ex pl 20 z
    """
)
TAGS = (*sorted({t for d in DOCS for t in d.tags}), "zebra")
SOURCES = (*sorted({d.source for d in DOCS if d.source}), "ap")
IDS = (*sorted(ALL_IDS), "no-such-id")
ID_PREFIXES = ("j-", "m-", "cafe", "plan", "d", "grain-p")
# Every precision, and instants on both sides of the October/November boundary in UTC.
DATES = _listed(
    """
    2017 2018 2019 2020 2019-06 2019-10 2019-11 2020-03 2018-12-31 2019-10-31 2019-11-01
    2020-01-01 2019-10-31T23:30:00Z 2019-10-31T23:30:00-02:00 2019-11-01T00:00:00Z
    2019-10-31T23:59:59 2019-11-01T00:30:00+02:00
    """
)
NGRAMS = tuple(
    sorted(
        {
            tuple(ws[i : i + n])
            for item in load_documents(FIXTURES)
            if isinstance(item, Document)
            for ws in (words(item.title), words(item.body))
            for n in (2, 3)
            for i in range(len(ws) - n + 1)
        }
    )
)

# Misspellings of fixture words, one or two edits away, for fuzzy terms.
TYPOS = _listed("plam paln cooperatoin wheta armi grian treatty minstry belaruss defnese xyz")

text_field = st.sampled_from((None, None, None, "title", "body"))
# By index: a sampled_from() of hundreds of n-grams would make a very long strategy repr.
ngrams = st.integers(0, len(NGRAMS) - 1).map(NGRAMS.__getitem__)

word_terms = st.builds(Term, st.sampled_from(VOCABULARY), text_field)
keyword_terms = st.one_of(
    st.builds(Term, st.sampled_from(TAGS), st.just("tag")),
    st.builds(Term, st.sampled_from(SOURCES), st.just("source")),
    st.builds(Term, st.sampled_from(IDS), st.just("id")),
)
phrase_words = st.one_of(
    st.lists(st.sampled_from(VOCABULARY), min_size=2, max_size=3).map(tuple),
    ngrams,
    ngrams.flatmap(lambda g: st.permutations(g).map(tuple)),  # out of order
)
slops = st.one_of(st.integers(0, 3), st.sampled_from((10, MAX_SLOP)))
phrases = st.builds(Phrase, phrase_words, text_field, slops)
prefixes = st.one_of(
    st.builds(Prefix, st.sampled_from(PREFIXES), text_field),
    st.builds(Prefix, st.sampled_from(("gr", "de", "cr", "c", "w")), st.just("tag")),
    st.builds(Prefix, st.sampled_from(ID_PREFIXES), st.just("id")),
    st.builds(Prefix, st.sampled_from(("re", "t")), st.just("source")),
)


@st.composite
def date_filters(draw: st.DrawFn) -> Dates:
    """Returns a Dates node; its range is computed here from the partial dates, not parsed."""
    first = draw(st.sampled_from(DATES))
    date = PartialDate.parse(first)
    form = draw(st.sampled_from(("=", ">=", ">", "<=", "<", "[]")))
    if form == "=":
        return Dates(DateRange(date.start, date.end), first)
    if form == ">=":
        return Dates(DateRange(date.start, None), ">=" + first)
    if form == ">":
        return Dates(DateRange(date.end + 1, None), ">" + first)
    if form == "<=":
        return Dates(DateRange(None, date.end), "<=" + first)
    if form == "<":
        return Dates(DateRange(None, date.start - 1), "<" + first)
    second = draw(st.sampled_from((*DATES, "*")))
    low_text = draw(st.sampled_from((first, "*")))
    low = PartialDate.parse(low_text) if low_text != "*" else None
    high = PartialDate.parse(second) if second != "*" else None
    assume(low is None or high is None or low.start <= high.end)
    return Dates(
        DateRange(low.start if low else None, high.end if high else None),
        f"[{low_text} TO {second}]",
    )


fuzzies = st.builds(Fuzzy, st.sampled_from((*VOCABULARY, *TYPOS)), text_field, st.integers(0, 2))
leaves = st.one_of(
    word_terms, word_terms, keyword_terms, phrases, prefixes, fuzzies, date_filters()
)
boosts = st.one_of(
    st.sampled_from((0.5, 1.0, 2.0, 3.0)), st.floats(min_value=1e-6, max_value=1000.0)
)


def _only_selects(node: Node) -> bool:
    """Returns whether `node` is a filter leaf or a NOT: what the parser refuses to boost."""
    return isinstance(node, (Not, Dates)) or (
        isinstance(node, (Term, Prefix)) and node.field in KEYWORD_FIELDS
    )


@st.composite
def trees_of(draw: st.DrawFn, depth: int) -> Node:
    """Returns a query tree nested up to `depth` operators deep."""
    kind = draw(st.sampled_from(("leaf", "and", "or", "not", "boost") if depth else ("leaf",)))
    if kind == "leaf":
        return draw(leaves)
    if kind == "not":
        child = draw(trees_of(depth - 1))
        while isinstance(child, Boost):  # refused directly under a NOT
            child = child.child
        return Not(child)
    if kind == "boost":
        child = draw(trees_of(depth - 1))
        return Boost(draw(word_terms) if _only_selects(child) else child, draw(boosts))
    children = tuple(draw(st.lists(trees_of(depth - 1), min_size=2, max_size=3)))
    return And(children) if kind == "and" else Or(children)


trees = trees_of(3)


@st.composite
def signed_groups(draw: st.DrawFn) -> tuple[str, Node]:
    """Returns the text of an OR group with `-x` and `+x` items written anywhere among its
    parts (joined to them by OR or by juxtaposition), and the tree it means: the OR of the
    parts, AND NOT each `-x`, AND each `+x`, in the order they are written."""
    parts = [render(c, in_or=True) for c in draw(st.lists(trees_of(1), min_size=2, max_size=3))]
    ored = Or(tuple(parse(p) for p in parts))
    items: list[tuple[str, Node | None]] = [(p, None) for p in parts]
    for sign, leaf in draw(
        st.lists(st.tuples(st.sampled_from("-+"), leaves), min_size=1, max_size=3)
    ):
        items.insert(
            draw(st.integers(0, len(items))),
            (sign + render(leaf), leaf if sign == "+" else Not(leaf)),
        )
    text = items[0][0]
    for written, signed in items[1:]:
        # A part is joined by OR: juxtaposed to a signed item that is juxtaposed to another
        # part, it would AND the two parts.
        joins = (" OR ", " ") if signed is not None else (" OR ",)
        text += draw(st.sampled_from(joins)) + written
    tree = And((ored, *(signed for _, signed in items if signed is not None)))
    return draw(st.sampled_from((text, f"({text})"))), tree


# ---- the oracle test -----------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(tree=trees, dashes=st.booleans(), implicit=st.booleans())
def test_random_trees_return_exactly_the_oracle_ids(
    oracle_index: Index, tree: Node, dashes: bool, implicit: bool
) -> None:
    text = render(tree, dashes=dashes, implicit=implicit)
    parsed = parse(text)
    expected = oracle(parsed)
    assert oracle(tree) == expected, f"{text!r} parsed as {parsed}"
    results = search(oracle_index, text)
    found = [h.id for h in results.hits]
    assert sorted(found) == sorted(expected), text
    assert results.total == len(expected), text


@settings(max_examples=150, deadline=None)
@given(group=signed_groups())
def test_a_signed_item_holds_for_its_whole_group(
    oracle_index: Index, group: tuple[str, Node]
) -> None:
    text, tree = group
    assert parse(text) == tree, text
    found = search(oracle_index, text)
    assert sorted(h.id for h in found.hits) == sorted(oracle(tree)), text


@settings(max_examples=200, deadline=None)
@given(tree=trees, dashes=st.booleans(), implicit=st.booleans())
def test_query_text_parses_to_the_tree_it_was_written_from(
    tree: Node, dashes: bool, implicit: bool
) -> None:
    assert parse(render(tree, dashes=dashes, implicit=implicit)) == tree


@settings(max_examples=200, deadline=None)
@given(tree=trees)
def test_the_printed_form_parses_back_to_the_same_tree(tree: Node) -> None:
    assert parse(str(tree)) == tree


def test_the_printed_form_of_a_tag_with_a_space_parses_back() -> None:
    tree = parse('tag:"crude oil"')
    assert tree == Term("crude oil", "tag")
    assert parse(str(tree)) == tree


# Words that are surely stop words, or surely not: `s`, `not` and `or` may be either.
CLEAR_WORDS = tuple(w for w in VOCABULARY if w not in ("s", "not", "or"))


@settings(max_examples=100, deadline=None)
@given(
    wanted=st.lists(st.sampled_from(CLEAR_WORDS), min_size=1, max_size=4),
    excluded=st.lists(st.sampled_from(CLEAR_WORDS), max_size=2),
)
def test_match_any_is_an_or_of_the_words_without_stop_words(
    oracle_index: Index, wanted: list[str], excluded: list[str]
) -> None:
    assume(not set(excluded) & set(STOP_WORDS))
    text = " ".join([*wanted, *(f"-{w}" for w in excluded)])
    content = [w for w in wanted if w not in STOP_WORDS] or wanted
    expected = frozenset.union(*(oracle(Term(w)) for w in content))
    for w in excluded:
        expected -= oracle(Term(w))
    results = search(oracle_index, text, match="any")
    assert sorted(h.id for h in results.hits) == sorted(expected), text
    assert results.total == len(expected)


# ---- facets and relative dates against the oracle -------------------------------------------

BY_ID = {d.id: d for d in DOCS}
LEVELS = ("year", "month", "day")


def _utc_day(seconds: int) -> date:
    return datetime.fromtimestamp(seconds, timezone.utc).date()


def _bucket(doc: OracleDoc, level: int) -> tuple[date, int, str]:
    """Returns (first day, level, label) of the finest bucket up to `level` holding the date."""
    assert doc.date is not None
    first, last = _utc_day(doc.date.start), _utc_day(doc.date.end)
    if level == 2 and first == last:
        return first, 2, first.isoformat()
    if level >= 1 and (first.year, first.month) == (last.year, last.month):
        return first.replace(day=1), 1, f"{first.year:04d}-{first.month:02d}"
    return first.replace(month=1, day=1), 0, f"{first.year:04d}"


def oracle_facets(ids: frozenset[str], precision: str | None) -> dict[str, list[tuple[str, int]]]:
    """Returns the facets of the documents `ids`, counted one by one."""
    docs = [BY_ID[i] for i in ids]
    tags = Counter(t for d in docs for t in d.tags)
    sources = Counter(d.source for d in docs if d.source)
    dated = [d for d in docs if d.date is not None]
    level = 2
    if precision is not None:
        level = LEVELS.index(precision)
    elif dated:
        low = min(_utc_day(d.date.start) for d in dated if d.date)
        high = max(_utc_day(d.date.end) for d in dated if d.date)
        months = (high.year - low.year) * 12 + high.month - low.month + 1
        level = 2 if (high - low).days + 1 <= 36 else 1 if months <= 36 else 0
    buckets = Counter(_bucket(d, level) for d in dated)

    def ranked(counts: Counter[str]) -> list[tuple[str, int]]:
        return sorted(counts.items(), key=lambda item: (-item[1], item[0]))

    return {
        "tag": ranked(tags),
        "source": ranked(sources),
        "date": [(label, n) for (_, _, label), n in sorted(buckets.items())],
    }


@settings(max_examples=300, deadline=None)
@given(tree=trees, precision=st.sampled_from((None, None, *LEVELS)))
def test_facets_count_exactly_what_the_oracle_counts(
    oracle_index: Index, tree: Node, precision: str | None
) -> None:
    text = render(tree)
    date_facet = f"date:{precision}" if precision else "date"
    results = oracle_index.search(text, limit=1, facets=["tag", "source", date_facet])
    assert results.facets == oracle_facets(oracle(parse(text)), precision), text
    assert sum(n for _, n in results.facets["date"]) == len(
        [i for i in oracle(parse(text)) if BY_ID[i].date is not None]
    )


def _days_back(today: date, count: int, unit: str) -> date:
    """Returns the day `count` units before `today`, by the calendar, written out plainly."""
    if unit == "d":
        return today - timedelta(days=count)
    if unit == "w":
        return today - timedelta(weeks=count)
    months = count * (12 if unit == "y" else 1)
    year, month = today.year, today.month - months
    while month < 1:
        year, month = year - 1, month + 12
    return date(year, month, min(today.day, calendar.monthrange(year, month)[1]))


# Days on which fixture dates start or end, and the days either side: where a day off matters.
EDGES = sorted(
    {
        _utc_day(second) + timedelta(days=shift)
        for d in DOCS
        if d.date is not None
        for second in (d.date.start, d.date.end)
        for shift in (-1, 0, 1)
    }
)
RELATIVE = st.one_of(
    st.just(("now", 0, "d")),
    st.tuples(st.integers(0, 30), st.sampled_from("dwmy")).map(
        lambda cu: (f"now-{cu[0]}{cu[1]}", cu[0], cu[1])
    ),
)


@st.composite
def clocks(draw: st.DrawFn, back: tuple[str, int, str]) -> datetime:
    """Returns a clock from which `back` counts back to about a fixture date's edge."""
    _, count, unit = back
    edge = draw(st.sampled_from(EDGES))
    ahead = {"d": count, "w": 7 * count, "m": 31 * count, "y": 366 * count}[unit]
    day = edge + timedelta(days=ahead - draw(st.integers(0, 3 if unit in "my" else 0)))
    moment = datetime(day.year, day.month, day.day, tzinfo=timezone.utc)
    return moment + timedelta(seconds=draw(st.integers(0, 86_399)))


@settings(max_examples=200, deadline=None)
@given(
    tree=trees_of(2),
    first=RELATIVE,
    last=RELATIVE,
    form=st.sampled_from(("=", ">=", ">", "<=", "<", "[]")),
    data=st.data(),
)
def test_relative_dates_are_the_days_they_count_back_to(
    oracle_index: Index,
    tree: Node,
    first: tuple[str, int, str],
    last: tuple[str, int, str],
    form: str,
    data: st.DataObject,
) -> None:
    clock = data.draw(clocks(first))
    text, day = first[0], _days_back(clock.date(), first[1], first[2])
    start = calendar.timegm(day.timetuple())
    end = start + 86_399
    if form == "[]":
        other = _days_back(clock.date(), last[1], last[2])
        assume(other >= day)
        query, wanted = (
            f"[{text} TO {last[0]}]",
            DateRange(start, calendar.timegm(other.timetuple()) + 86_399),
        )
    else:
        query = ("" if form == "=" else form) + text
        wanted = {
            "=": DateRange(start, end),
            ">=": DateRange(start, None),
            ">": DateRange(end + 1, None),
            "<=": DateRange(None, end),
            "<": DateRange(None, start - 1),
        }[form]
    words = render(tree)
    expected = oracle(And((parse(words), Dates(wanted, query))))
    found = hit_ids(oracle_index, f"({words}) AND date:{query}", now=clock)
    assert sorted(found) == sorted(expected), (query, clock)
    if form == "[]":
        by_options = hit_ids(
            oracle_index,
            words,
            date_from=text.replace("now", "", 1) or "now",
            date_to=last[0],
            now=clock,
        )
        assert sorted(by_options) == sorted(expected)


# ---- invariants ----------------------------------------------------------------------------


@settings(max_examples=100, deadline=None)
@given(phrase=phrases)
def test_phrase_hits_are_within_the_hits_of_its_words(oracle_index: Index, phrase: Phrase) -> None:
    within = set(hit_ids(oracle_index, str(phrase)))
    each = " AND ".join(str(Term(w, phrase.field)) for w in phrase.words)
    assert within <= set(hit_ids(oracle_index, each))
    looser = Phrase(phrase.words, phrase.field, min(phrase.slop + 2, MAX_SLOP))
    assert within <= set(hit_ids(oracle_index, str(looser)))


@settings(max_examples=100, deadline=None)
@given(a=trees_of(2), b=trees_of(2))
def test_or_contains_both_sides(oracle_index: Index, a: Node, b: Node) -> None:
    left, right = set(hit_ids(oracle_index, render(a))), set(hit_ids(oracle_index, render(b)))
    either = set(hit_ids(oracle_index, f"{render(a)} OR {render(b)}"))
    assert either >= left
    assert either >= right
    assert either == left | right


@settings(max_examples=100, deadline=None)
@given(
    tree=trees_of(2),
    dates=st.lists(st.sampled_from(DATES), min_size=4, max_size=4),
    open_ends=st.tuples(st.booleans(), st.booleans()),
)
def test_a_wider_date_range_never_loses_hits(
    oracle_index: Index, tree: Node, dates: list[str], open_ends: tuple[bool, bool]
) -> None:
    parsed = {d: PartialDate.parse(d) for d in dates}
    inner_low, outer_low = sorted(dates[:2], key=lambda d: -parsed[d].start)
    inner_high, outer_high = sorted(dates[2:], key=lambda d: parsed[d].end)
    assume(parsed[inner_low].start <= parsed[inner_high].end)
    outer = (None if open_ends[0] else outer_low, None if open_ends[1] else outer_high)
    text = render(tree)
    narrow = hit_ids(oracle_index, f"({text}) AND date:[{inner_low} TO {inner_high}]")
    wide = hit_ids(oracle_index, f"({text}) AND date:[{outer[0] or '*'} TO {outer[1] or '*'}]")
    assert set(narrow) <= set(wide)
    assert set(narrow) <= set(hit_ids(oracle_index, text))
    # --from/--to mean the same as date:[FROM TO UNTIL]; with neither, undated hits stay.
    by_options = hit_ids(oracle_index, text, date_from=outer[0], date_to=outer[1])
    assert sorted(by_options) == sorted(wide if any(outer) else hit_ids(oracle_index, text))


def _relevance_key(score: float, date: str | None, hit_id: str) -> tuple[object, ...]:
    start = date_start(date)
    return (-score, start is None, 0 if start is None else -start, hit_id)


def _assert_ranked(results: SearchResults) -> None:
    keys = [_relevance_key(h.score, h.date, h.id) for h in results.hits]
    for before, after in itertools.pairwise(keys):
        assert before <= after, (before, after)


NATURAL_QUERIES = (
    "cooperation plan",
    "belarus",
    "the",
    "defense OR army",
    '"ministry of defense"',
    "plan*",
    "date:2019-10",
    "grain OR wheat OR oil",
    "NOT zebra",
)


@pytest.mark.parametrize("text", NATURAL_QUERIES)
@pytest.mark.parametrize("match", ["all", "any"])
def test_relevance_scores_fall_and_ties_go_to_the_newer_then_the_smaller_id(
    oracle_index: Index, text: str, match: str
) -> None:
    results = search(oracle_index, text, match=match)
    assert results.hits
    _assert_ranked(results)


@settings(max_examples=100, deadline=None)
@given(tree=trees)
def test_random_trees_are_ranked_with_ties_by_date_then_id(oracle_index: Index, tree: Node) -> None:
    _assert_ranked(search(oracle_index, render(tree)))


sorts = st.sampled_from(("relevance", "date", "-date"))


@settings(max_examples=100, deadline=None)
@given(tree=trees_of(2), k=st.integers(1, 12), sort=sorts)
def test_a_smaller_limit_is_a_prefix(oracle_index: Index, tree: Node, k: int, sort: str) -> None:
    text = render(tree)
    few = search(oracle_index, text, limit=k, sort=sort)
    more = search(oracle_index, text, limit=k + 5, sort=sort)
    assert [h.id for h in few.hits] == [h.id for h in more.hits][:k]
    assert few.total == more.total


@settings(max_examples=100, deadline=None)
@given(tree=trees_of(2), size=st.integers(1, 7), sort=sorts)
def test_pages_concatenate_to_one_big_page(
    oracle_index: Index, tree: Node, size: int, sort: str
) -> None:
    text = render(tree)
    whole = hit_ids(oracle_index, text, sort=sort)
    paged: list[str] = []
    for offset in range(0, len(whole) + size, size):
        page = search(oracle_index, text, limit=size, offset=offset, sort=sort)
        assert page.total == len(whole)
        paged += [h.id for h in page.hits]
    assert paged == whole


@settings(max_examples=100, deadline=None)
@given(tree=trees_of(2))
def test_date_sorts_order_by_start_with_undated_last(oracle_index: Index, tree: Node) -> None:
    text = render(tree)
    for sort, sign in (("date", 1), ("-date", -1)):
        hits = search(oracle_index, text, sort=sort).hits
        assert sorted(h.id for h in hits) == sorted(oracle(tree))
        starts = [date_start(h.date) for h in hits]
        dated = [s for s in starts if s is not None]
        assert starts == dated + [None] * (len(starts) - len(dated)), "undated last"
        assert all(sign * a <= sign * b for a, b in itertools.pairwise(dated)), sort


@settings(max_examples=100, deadline=None)
@given(
    tree=trees_of(2),
    page=st.integers(1, 7),
    sort=sorts,
    offset=st.integers(0, 5),
    limit=st.one_of(st.none(), st.integers(1, 12)),
)
def test_the_stream_of_every_hit_is_the_ranking(
    oracle_index: Index, tree: Node, page: int, sort: str, offset: int, limit: int | None
) -> None:
    text = render(tree)
    whole = search(oracle_index, text, sort=sort).hits
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(search_module, "EXPORT_PAGE", page)
        streamed = list(
            oracle_index.iter_hits(text, sort=sort, offset=offset, limit=limit, snippets=False)
        )
    assert streamed == list(whole[offset : None if limit is None else offset + limit])


HALF_LIVES = {"1d": 86_400, "30d": 30 * 86_400, "2w": 14 * 86_400, "1y": 365.2425 * 86_400}


@settings(max_examples=150, deadline=None)
@given(
    tree=trees_of(2),
    half_life=st.sampled_from(sorted(HALF_LIVES)),
    clock=st.datetimes(datetime(2017, 1, 1), datetime(2022, 1, 1), timezones=st.just(timezone.utc)),
)
def test_recency_ranks_by_relevance_times_the_decay(
    oracle_index: Index, tree: Node, half_life: str, clock: datetime
) -> None:
    """The order is relevance × 0.5 ** (age / half-life), the undated after the dated by
    relevance, then newer, then id: computed here from the plain ranking's scores."""
    text = render(tree)
    plain = search(oracle_index, text).hits
    now = clock.timestamp()

    def key(hit: Any) -> tuple[object, ...]:
        start = date_start(hit.date)
        if start is None:
            return (1, -hit.score, 0, hit.id)
        end = PartialDate.parse(hit.date).end
        age = max(now - end, start - now, 0)
        decayed = (
            math.log(hit.score) - age * math.log(2) / HALF_LIVES[half_life]
            if hit.score
            else -math.inf
        )
        return (0, -decayed, -hit.score, -start, hit.id)

    expected = sorted(plain, key=key)
    found = search(oracle_index, text, recency=half_life, now=clock).hits
    assert [h.id for h in found] == [h.id for h in expected]


# ---- hand-checked examples -----------------------------------------------------------------


def test_the_fixture_holds_every_kind_of_document() -> None:
    assert len(DOCS) == 41
    undated = sorted(d.id for d in DOCS if d.date is None)
    assert undated == ["j-undated-cafe", "j-undated-plans", "j-undated-talks", "m-undated-minsk"]
    assert {d.id for d in DOCS if not d.stems["body"]} == {"j-title-only", "j-undated-plans"}


def test_a_phrase_needs_its_words_in_order(oracle_index: Index) -> None:
    in_order = ["cooperate-planning", "ministry-of-defense", "coop-plan", "j-army"]
    assert hit_ids(oracle_index, '"cooperation plan"', sort="-date") == in_order
    assert hit_ids(oracle_index, "cooperation plan", sort="-date") == [
        "cooperate-planning",  # 2019-11-01
        "m-armenia-plan",  # 2019-11-01T01:30:00+03:00, in October in UTC
        "defense-plan-cooperation",  # 2019-10-31T00:00:00Z, a tie with the day: id first
        "plan-of-cooperation",
        "ministry-of-defense",
        "coop-plan",
        "j-army",
        "m-year-2018",
        "j-undated-talks",
        "m-undated-minsk",
    ]
    # `cooperation: the ministry planned`, `Cooperation was not planned`, `Cooperating on the
    # plan`: three positions apart.
    assert hit_ids(oracle_index, '"cooperation plan"~2', sort="-date") == [
        "cooperate-planning",
        "defense-plan-cooperation",
        "plan-of-cooperation",
        "ministry-of-defense",
        "coop-plan",
        "j-army",
        "m-undated-minsk",
    ]
    assert hit_ids(oracle_index, '"plan cooperation"', sort="-date") == [
        "defense-plan-cooperation",
        "j-undated-talks",  # `planned cooperation talks`
    ]


def test_stop_words_count_in_a_phrase(oracle_index: Index) -> None:
    assert hit_ids(oracle_index, '"ministry of defense"', sort="-date") == [
        "m-armenia-plan",
        "ministry-of-defense",
        "coop-plan",
        "j-undated-cafe",
    ]
    assert hit_ids(oracle_index, '"ministry for defense"', sort="-date") == [
        "j-treaty",
        "ministry-for-defense",
    ]
    assert hit_ids(oracle_index, '"the of for in"') == ["only-stop-words"]


def test_a_hyphenated_word_is_a_phrase(oracle_index: Index) -> None:
    assert hit_ids(oracle_index, "Nagorno-Karabakh", sort="date") == ["j-nk", "nagorno-karabakh"]
    assert hit_ids(oracle_index, '"nagorno karabakh"', sort="date") == [
        "j-nk",
        "nagorno-karabakh",
    ]
    assert hit_ids(oracle_index, "nagorno karabakh", sort="date") == [
        "karabakh-nagorno",
        "j-nk",
        "nagorno-karabakh",
    ]
    assert hit_ids(oracle_index, '"azerbaijan\'s army"') == ["year-2019"]


def test_accents_and_case_fold(oracle_index: Index) -> None:
    cafes = ["cafe-accent", "cafe-plain", "j-cafe", "j-undated-cafe", "m-undated-minsk"]
    for text in ("cafe", "Café", "CAFE", "café*"):
        assert sorted(hit_ids(oracle_index, text)) == cafes, text
    assert hit_ids(oracle_index, "tag:CAFÉ") == ["j-cafe"]
    assert hit_ids(oracle_index, "title:café") == ["j-cafe"]


def test_fields(oracle_index: Index) -> None:
    assert sorted(hit_ids(oracle_index, "grain")) == [
        "belarus-armenia",
        "grain-exports",
        "grain-plan-2021",
        "grain-prices",
        "j-title-only",
        "m-wheat-treaty",
    ]
    assert hit_ids(oracle_index, "title:grain") == ["j-title-only"]
    assert sorted(hit_ids(oracle_index, "title:(grain OR wheat)")) == [
        "j-title-only",
        "j-wheat",
        "m-wheat-treaty",
    ]
    assert "j-title-only" not in hit_ids(oracle_index, "body:grain")
    assert sorted(hit_ids(oracle_index, "tag:grain")) == [
        "j-title-only",
        "j-wheat",
        "m-wheat-treaty",
    ]
    assert sorted(hit_ids(oracle_index, "tag:army")) == ["j-army", "m-year-2018"]
    assert hit_ids(oracle_index, 'tag:"crude oil"') == ["j-crude-oil"]
    assert sorted(hit_ids(oracle_index, "source:reuters")) == ["j-crude-oil", "j-wheat"]
    assert hit_ids(oracle_index, "source:Report.az") == ["j-undated-cafe"]
    assert hit_ids(oracle_index, "id:j-nk") == ["j-nk"]
    assert sorted(hit_ids(oracle_index, "id:j-undated*")) == [
        "j-undated-cafe",
        "j-undated-plans",
        "j-undated-talks",
    ]


def test_stems_and_prefixes(oracle_index: Index) -> None:
    plans = set(hit_ids(oracle_index, "plan"))
    assert plans == set(hit_ids(oracle_index, "planning")) == set(hit_ids(oracle_index, "plans"))
    assert "plans-plans" in plans
    assert set(hit_ids(oracle_index, "cooperate")) == set(hit_ids(oracle_index, "cooperation"))
    # `planners` stems to `planner`: a prefix finds it, the word `plan` does not.
    with_planners = hit_ids(oracle_index, "planners")
    assert with_planners == ["plans-plans"]
    assert set(hit_ids(oracle_index, "plan*")) == plans
    assert hit_ids(oracle_index, "planner*") == ["plans-plans"]
    assert hit_ids(oracle_index, "title:plan*", sort="date") == [
        "j-army",
        "j-wheat",
        "j-title-only",
        "m-armenia-plan",
        "j-undated-plans",
    ]


OCTOBER_2019 = [  # every score is 0: newest first, ties by id
    "j-treaty",  # 2019-10-31T23:59:59Z
    "karabakh-nagorno",  # 2019-10-31T23:30:00Z
    "cafe-accent",  # 2019-11-01T00:30:00+02:00 = 2019-10-31T22:30:00Z
    "m-armenia-plan",  # 2019-11-01T01:30:00+03:00 = 2019-10-31T22:30:00Z
    "cafe-plain",  # 2019-10-31T12:00:00 (UTC)
    "defense-plan-cooperation",  # 2019-10-31T00:00:00Z
    "plan-of-cooperation",  # 2019-10-31
    "ministry-of-defense",  # 2019-10-30
    "leading-space",  # 2019-10-20
    "ministers-meeting",  # 2019-10-15
    "j-title-only",  # 2019-10-05
    "military-technical",  # 2019-10-02
    "coop-plan",  # 2019-10
    "j-army",  # 2019
    "year-2019",  # 2019
]
NOVEMBER_2019 = [
    "plans-plans",  # 2019-11-30
    "nagorno-karabakh",  # 2019-10-31T23:30:00-02:00 = 2019-11-01T01:30:00Z
    "belarus-armenia",  # 2019-11
    "cooperate-planning",  # 2019-11-01
    "j-nk",  # 2019-10-31T22:00:00-02:00 = 2019-11-01T00:00:00Z
    "j-army",  # 2019
    "year-2019",  # 2019
]
BEFORE_2019 = ["grain-prices", "grain-exports", "m-year-2018", "only-stop-words"]
BEFORE_OCTOBER_2019 = [
    "stop-words",  # 2019-09
    "wheat-harvest",  # 2019-08-20
    "j-cafe",  # 2019-07
    "j-wheat",  # 2019-06-30
    "ministry-for-defense",  # 2019-06
    "defense-ministry",  # 2019-05-31
]


def test_dates_around_a_month_boundary(oracle_index: Index) -> None:
    assert hit_ids(oracle_index, "date:2019-10") == OCTOBER_2019
    assert hit_ids(oracle_index, "date:2019-11") == NOVEMBER_2019
    year = hit_ids(oracle_index, "date:2019")
    assert year[0] == "defense-budget"  # 2019-12
    assert sorted(year) == sorted(
        {*OCTOBER_2019, *NOVEMBER_2019, *BEFORE_OCTOBER_2019, "defense-budget"}
    )
    assert hit_ids(oracle_index, "date:<2019-11") == [
        *OCTOBER_2019[:-2],
        *BEFORE_OCTOBER_2019,
        "j-army",
        "year-2019",
        *BEFORE_2019,
    ]
    assert hit_ids(oracle_index, "date:<=2019-10") == hit_ids(oracle_index, "date:<2019-11")
    assert hit_ids(oracle_index, "date:>=2019-11") == hit_ids(oracle_index, "date:>2019-10")
    # the instant of midnight, written in another zone
    assert hit_ids(oracle_index, "date:2019-11-01T00:00:00Z") == [
        "belarus-armenia",
        "cooperate-planning",
        "j-nk",
        "j-army",
        "year-2019",
    ]
    assert hit_ids(oracle_index, "date:2019-10-31T22:00:00-02:00") == hit_ids(
        oracle_index, "date:2019-11-01T00:00:00Z"
    )


def test_date_ranges_are_inclusive_at_their_own_precision(oracle_index: Index) -> None:
    later = [
        "j-crude-oil",  # 2020-03-10T08:00:00+01:00
        "oil-prices",  # 2020-03-09
        "army-treaty",  # 2020-03
        "m-wheat-treaty",  # 2020: starts with 2020-01-01, and a smaller id
        "treaty-2020",  # 2020-01-01
        "defense-budget",  # 2019-12
    ]
    expected = [*later, *NOVEMBER_2019[:-2], *OCTOBER_2019[:-2], *BEFORE_OCTOBER_2019[:-1]]
    expected += ["j-army", "year-2019"]
    assert hit_ids(oracle_index, "date:[2019-06 TO 2020-03]") == expected
    assert hit_ids(oracle_index, "date:[2019-06 TO 2020-03]", date_from="2019-10-20") == [
        *later,
        *NOVEMBER_2019[:-2],
        *OCTOBER_2019[:9],
        "coop-plan",  # 2019-10 overlaps 2019-10-20
        "j-army",
        "year-2019",
    ]
    assert hit_ids(oracle_index, "cooperation", date_to="2018", sort="date") == ["m-year-2018"]
    assert hit_ids(oracle_index, "date:[2021 TO *]") == ["grain-plan-2021"]
    assert hit_ids(oracle_index, "date:[* TO 2017]") == ["only-stop-words"]
    assert len(hit_ids(oracle_index, "date:[* TO *]")) == len(DOCS) - 4  # not the undated


def test_match_any_ranks_a_natural_language_query(oracle_index: Index) -> None:
    found = search(oracle_index, "the belarus wheat", match="any")
    assert sorted(h.id for h in found.hits) == [
        "belarus-armenia",
        "cafe-plain",
        "coop-plan",
        "defense-plan-cooperation",
        "grain-exports",
        "j-title-only",
        "j-undated-talks",
        "j-wheat",
        "m-undated-minsk",
        "m-wheat-treaty",
        "military-technical",
        "plan-of-cooperation",
        "wheat-harvest",
    ]
    # `wheat` in the title and the body, and `belarus`: nothing else has as much.
    assert found.hits[0].id == "j-wheat"
    # `the` is dropped from the OR, but kept when it is all there is.
    assert [h.id for h in found.hits] == hit_ids(oracle_index, "belarus wheat", match="any")
    assert sorted(hit_ids(oracle_index, "the", match="any")) == sorted(oracle(Term("the")))
    assert len(oracle(Term("the"))) > 30


def test_an_or_of_three_or_more_filters_finds_every_match(oracle_index: Index) -> None:
    # Filters (tag, source, id, date, NOT) score 0; an OR of three or more must not drop them.
    assert sorted(hit_ids(oracle_index, "tag:grain OR tag:army OR tag:oil")) == [
        "j-army",
        "j-crude-oil",
        "j-title-only",
        "j-wheat",
        "m-wheat-treaty",
        "m-year-2018",
    ]
    assert hit_ids(oracle_index, "date:2018 OR date:2020 OR date:2017") == [
        "j-crude-oil",  # 2020-03-10T08:00:00+01:00
        "oil-prices",  # 2020-03-09
        "army-treaty",  # 2020-03
        "m-wheat-treaty",  # 2020
        "treaty-2020",  # 2020-01-01
        "grain-prices",  # 2018-12-31T23:59:59Z
        "grain-exports",  # 2018
        "m-year-2018",  # 2018
        "only-stop-words",  # 2017
    ]
    with_cafe = search(oracle_index, "plan OR tag:army OR source:report.az")
    assert "j-undated-cafe" in {h.id for h in with_cafe.hits}
    assert with_cafe.total == len(oracle(parse("plan OR tag:army OR source:report.az")))


# ---- boosts --------------------------------------------------------------------------------


@pytest.mark.parametrize("word", ["plan", "wheat", "the", "cooperation"])
@pytest.mark.parametrize("factor", ["2", "0.5", "1.5"])
def test_a_boost_on_a_single_term_multiplies_its_score(
    oracle_index: Index, word: str, factor: str
) -> None:
    plain = {h.id: h.score for h in search(oracle_index, word).hits}
    boosted = {h.id: h.score for h in search(oracle_index, f"{word}^{factor}").hits}
    assert boosted.keys() == plain.keys() and plain
    for doc_id, score in plain.items():
        assert boosted[doc_id] == pytest.approx(float(factor) * score, abs=2e-9), doc_id


@settings(max_examples=100, deadline=None)
@given(tree=trees, factor=boosts)
def test_a_boost_multiplies_scores_and_keeps_the_matches(
    oracle_index: Index, tree: Node, factor: float
) -> None:
    assume(not _only_selects(tree))
    plain = {h.id: h.score for h in search(oracle_index, str(tree)).hits}
    boosted = {h.id: h.score for h in search(oracle_index, str(Boost(tree, factor))).hits}
    assert boosted.keys() == plain.keys()
    for doc_id, score in plain.items():
        assert boosted[doc_id] == pytest.approx(factor * score, rel=1e-9, abs=1e-6), doc_id


def test_boosts_weigh_the_parts_of_a_query(oracle_index: Index) -> None:
    # `wheat` alone puts j-wheat first; `belarus^10` lifts the articles about Belarus above it.
    assert hit_ids(oracle_index, "belarus wheat", match="any")[0] == "j-wheat"
    first = hit_ids(oracle_index, "belarus^10 wheat", match="any")[0]
    assert first in oracle(Term("belarus")) and first not in oracle(Term("wheat"))
    assert sorted(hit_ids(oracle_index, "belarus^10 wheat", match="any")) == sorted(
        oracle(Or((Term("belarus"), Term("wheat"))))
    )


@pytest.mark.parametrize(
    ("text", "tree"),
    [
        ("oil^2 gas", And((Boost(Term("oil"), 2.0), Term("gas")))),
        ('"oil prices"^2', Boost(Phrase(("oil", "prices")), 2.0)),
        ('"oil prices"~3^0.5', Boost(Phrase(("oil", "prices"), slop=3), 0.5)),
        ("(oil OR gas)^1.5", Boost(Or((Term("oil"), Term("gas"))), 1.5)),
        ("title:oil^1.5", Boost(Term("oil", "title"), 1.5)),
        ("title:(oil gas)^3", Boost(And((Term("oil", "title"), Term("gas", "title"))), 3.0)),
        ("(oil^2)^3", Boost(Boost(Term("oil"), 2.0), 3.0)),
        ("plan*^2", Boost(Prefix("plan"), 2.0)),
        ("oil^1000", Boost(Term("oil"), 1000.0)),
        ("oil^.25", Boost(Term("oil"), 0.25)),
    ],
)
def test_boost_syntax(text: str, tree: Node) -> None:
    assert parse(text) == tree
    assert parse(str(tree)) == tree


@pytest.mark.parametrize(
    ("text", "position", "reason"),
    [
        ("oil^", 3, "'^' needs a number right after it, as in ^2 or ^0.5"),
        ("oil^x", 3, "'^' needs a number right after it, as in ^2 or ^0.5"),
        ("oil^-1", 3, "'^' needs a number right after it, as in ^2 or ^0.5"),
        ("oil^0", 3, "a boost must be more than 0 and at most 1000, not 0"),
        ("oil^0.0", 3, "a boost must be more than 0 and at most 1000, not 0.0"),
        ("oil^1000.5", 3, "a boost must be more than 0 and at most 1000, not 1000.5"),
        (
            "oil^1" + "0" * 400,
            3,
            "a boost must be more than 0 and at most 1000, not 1" + "0" * 19 + "…",
        ),
        ("oil^2gas", 5, "'^2' must end what it boosts: put a space after it"),
        ("oil^2^3", 5, "'^2' must end what it boosts: put a space after it"),
        ("oil^1e3", 5, "'^1' must end what it boosts: put a space after it"),
        ('"oil prices"^2~3', 14, "'^2' must end what it boosts: put a space after it"),
        ("oil ^2", 4, "'^' needs a word, phrase or group right before it"),
        ("^2 oil", 0, "'^' needs a word, phrase or group right before it"),
        ("(^2)", 1, "'^' needs a word, phrase or group right before it"),
        ("title:^2", 6, "'^' needs a word, phrase or group right before it"),
        ("gas -oil^2", 4, "a boost under NOT or '-' has no effect: drop the ^"),
        ("tag:grain^2", 9, "a filter (tag:, source:, id:, date:) only selects: no score to boost"),
        (
            "(date:2019)^2",
            11,
            "a filter (tag:, source:, id:, date:) only selects: no score to boost",
        ),
    ],
)
def test_bad_boosts_are_refused_at_their_position(text: str, position: int, reason: str) -> None:
    with pytest.raises(QuerySyntaxError) as caught:
        parse(text)
    assert (caught.value.position, caught.value.reason) == (position, reason)
