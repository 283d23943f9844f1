"""Search over the hand-made corpus: exact ids in exact order, dates, sorting, paging, snippets."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newssearch import Document, Index, NewssearchError, QuerySyntaxError
from newssearch import search as search_module
from newssearch.query import parse
from newssearch.snippets import Snippet, make_snippet


def ids(index: Index, query: str, **options: object) -> list[str]:
    return [h.id for h in index.search(query, limit=100, snippets=False, **options).hits]  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("plan", ["a1", "a2", "a8"]),  # plans, planned, planning share the stem
        ("cooperation plan", ["a1", "a2"]),
        ('"cooperation plan"', ["a1"]),  # a2 has both words, not as a phrase
        ('"ministry of defense"', ["a3"]),  # stop words count in a phrase
        ('"ministry for defense"', ["a8"]),
        ('"defense cooperation"~3', ["a7"]),
        ('"cooperation defense"~3', []),  # in order only
        ("defense", ["a8", "a3", "a7"]),
        ("defen*", ["a8", "a3", "a7"]),
        ("cafe", ["a6"]),
        ("Café", ["a6"]),
        ("nagorno-karabakh", ["a6"]),
        ('"nagorno karabakh"', ["a6"]),
        ("azerbaijan", ["a6"]),
        ("army -defense", ["a5"]),
        ("army AND NOT defense", ["a5"]),
        ("army", ["a5", "a7"]),
        ("(harbour OR wheat) AND NOT corn", ["a2"]),
        ("harbour OR wheat AND corn", ["a4", "a2"]),  # AND binds tighter than OR
        ("harbour OR wheat AND NOT corn", ["a2"]),
        # `-x` and `+x` hold for their whole group; `AND NOT` binds as NOT does
        ("corn OR harbour -wheat", ["a2"]),
        ("corn OR harbour AND NOT wheat", ["a2", "a4"]),
        ("-wheat corn OR harbour", ["a2"]),
        ("(corn OR harbour -wheat) OR plan", ["a2", "a1", "a8"]),
        ("plan OR cooperation +defense", ["a8", "a7"]),
        ("plan OR cooperation AND defense", ["a1", "a2", "a8", "a7"]),
        ("+army", ["a5", "a7"]),
        # fuzzy terms: edits counted on stems (defnes -> defens), AUTO by the word's length
        ("defnese~1", ["a8", "a3", "a7"]),
        ("harbor~1", ["a2"]),
        ("armys~", ["a5", "a7"]),
        ("plan~0", ["a1", "a2", "a8"]),
        ("cooperatoin~2", []),  # `cooperation` stems to `cooper`: five edits away
        ("title:plan", ["a1", "a2"]),
        ("body:plan", ["a2", "a1", "a8"]),  # a2 and a1 tie: the newer first
        ("tag:defense", ["a5", "a1"]),
        ("tag:ECONOMY", ["a2"]),
        ("source:report.az", ["a6", "a3"]),
        ("id:a1", ["a1"]),
        ("NOT army", ["a6", "a2", "a1", "a3", "a4", "a8"]),
    ],
)
def test_query_finds_exactly(corpus_index: Index, query: str, expected: list[str]) -> None:
    assert ids(corpus_index, query) == expected
    assert corpus_index.search(query).total == len(expected)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # a5 is 2019-10-31T23:30:00-02:00, i.e. 2019-11-01T01:30Z: November.
        ("date:2019-10", ["a1", "a3", "a4"]),
        ("date:2019-11", ["a5", "a2", "a4"]),
        ("date:2019-10-31", ["a1", "a3", "a4"]),
        ("date:2019", ["a5", "a2", "a1", "a3", "a4"]),
        ("date:[2019-06 TO 2020-03]", ["a6", "a5", "a2", "a1", "a3", "a4"]),
        ("date:[2020 TO *]", ["a6"]),
        ("date:>=2019-11", ["a6", "a5", "a2", "a4"]),
        ("date:>2019-10", ["a6", "a5", "a2", "a4"]),
        ("date:<2019-11", ["a1", "a3", "a4", "a8"]),
        ("date:<=2018", ["a8"]),
        ("defense date:2019", ["a3"]),
    ],
)
def test_dates_overlap(corpus_index: Index, query: str, expected: list[str]) -> None:
    assert ids(corpus_index, query) == expected


def test_from_and_to_bound_like_a_date_range(corpus_index: Index) -> None:
    assert ids(corpus_index, "defense", date_from="2019-10-20") == ["a3"]
    assert ids(corpus_index, "defense", date_to="2019-09") == ["a8"]
    assert ids(corpus_index, "plan", date_from="2019-10", date_to="2019-10") == ["a1"]
    with pytest.raises(NewssearchError, match="bad --from/--to date"):
        corpus_index.search("plan", date_from="2019-13")


def test_sort_by_date_puts_undated_last(corpus_index: Index) -> None:
    assert ids(corpus_index, "defense", sort="date") == ["a8", "a3", "a7"]
    assert ids(corpus_index, "defense", sort="-date") == ["a3", "a8", "a7"]
    with pytest.raises(NewssearchError, match="sort must be one of"):
        corpus_index.search("plan", sort="newest")


def test_match_any_ors_bare_words_and_drops_stop_words(corpus_index: Index) -> None:
    assert ids(corpus_index, "the harbour wheat", match="any") == ["a2", "a4"]
    # a3 and a7 tie on score: the dated one first.
    assert ids(corpus_index, "the", match="any") == ["a2", "a1", "a3", "a7", "a4", "a8"]
    assert ids(corpus_index, "harbour wheat -corn", match="any") == ["a2"]


def test_paging_and_total(corpus_index: Index) -> None:
    everything = ids(corpus_index, "NOT army")
    page = corpus_index.search("NOT army", limit=2, offset=2, snippets=False)
    assert [h.id for h in page.hits] == everything[2:4]
    assert page.total == 6
    assert page.took_ms > 0
    assert corpus_index.search("NOT army", offset=10).hits == ()


def test_hit_fields(corpus_index: Index) -> None:
    (hit,) = corpus_index.search('"ministry of defense"').hits
    assert (hit.id, hit.title, hit.date) == ("a3", "Ministry of Defense officials met.", "2019-10")
    assert hit.source == "Report.az"
    (timed,) = corpus_index.search("parade").hits
    assert (timed.date, timed.tags) == ("2019-10-31T23:30:00-02:00", ("defense",))


@pytest.mark.parametrize(
    ("query", "position", "reason"),
    [
        ('"cooperation plan', 0, 'unbalanced quote: this " is never closed'),
        ("(belarus OR armenia", 0, "unbalanced parenthesis: this '(' is never closed"),
        ("belarus)", 7, "unbalanced parenthesis: this ')' has no '('"),
        ("belarus AND", 8, "'AND' needs something after it"),
        ("OR belarus", 0, "'OR' needs something before it"),
        ("belarus NOT", 8, "'NOT' needs something to exclude after it"),
        ("belarus -", 8, "'-' needs something to exclude right after it"),
        ("belarus +", 8, "'+' needs something to require right after it"),
        ("title:+belarus", 6, "put the '-', '+' or NOT before the field name"),
        ("title:-belarus", 6, "put the '-', '+' or NOT before the field name"),
        ("belarus NOT +", 12, "'+' needs something to require right after it"),
        (
            '"oil pr*"',
            7,
            "a prefix inside a phrase is not supported: write the whole word, or put it outside "
            "the quotes",
        ),
        (
            '"oil~ prices"',
            4,
            "a fuzzy word inside a phrase is not supported: write the whole word, or put it "
            "outside the quotes",
        ),
        ("tag:grain~", 9, "fuzzy terms are for words of title and body, not tag:"),
        ("oil~3", 3, "a fuzzy term allows at most 2 edits, not 3"),
        ("oil~~", 4, "'~' goes once at the end of a whole word: oil~, oil~1, oil~2"),
        ("oil*~1", 4, "'~' goes once at the end of a whole word: oil~, oil~1, oil~2"),
        ("~", 0, "'~' needs a word before it: '~'"),
        ("nagorno-karabakh~", 0, "a fuzzy term must be one word: 'nagorno-karabakh~'"),
        ("author:smith", 0, "unknown field 'author:' (known: title, body, tag, source, id, date)"),
        ("date:2019-13", 5, "impossible date: '2019-13' (month 13)"),
        (
            "date:yesterday",
            5,
            "not a date: 'yesterday' (expected YYYY, YYYY-MM, YYYY-MM-DD, an ISO timestamp, "
            "or now, now-30d, now-2w, now-6m or now-1y)",
        ),
        (
            "date:now-5x",
            5,
            "not a relative date: 'now-5x' (expected now, now-30d, now-2w, now-6m or now-1y)",
        ),
        (
            "plan date:>=now+",
            10,
            "not a relative date: 'now+' (expected now, now-30d, now-2w, now-6m or now-1y)",
        ),
        ("date:[now-1y TO now-", 5, "unbalanced bracket: a date range needs a closing ']'"),
        ("date:>=-7d", 5, "not a date: '-7d' (write now-7d in a query)"),
        ("date:[now TO now-1d]", 5, "the range [now TO now-1d] ends before it starts"),
        ("date:[2019 TO]", 5, "a date range is [FROM TO UNTIL], not '[2019 TO]'"),
        ("date:[2020 TO 2019]", 5, "the range [2020 TO 2019] ends before it starts"),
        ("", 0, "empty query"),
        ("   ", 0, "empty query"),
        ("()", 0, "empty parentheses"),
        ('""', 0, "empty phrase: no searchable word between the quotes"),
        ('"a b"~x', 5, "'~' after a phrase needs a number, as in ~3"),
        ("de*fense", 2, "'*' is only allowed at the end of a word"),
        ("title:", 6, "'title:' needs a value right after it"),
        ("&", 0, "no searchable word in '&': a word is a run of letters and digits"),
    ],
)
def test_malformed_queries_raise_with_position(
    corpus_index: Index, query: str, position: int, reason: str
) -> None:
    with pytest.raises(QuerySyntaxError) as caught:
        corpus_index.search(query)
    assert (caught.value.position, caught.value.reason) == (position, reason)
    assert str(caught.value) == f"{reason} (at position {position})"


@pytest.mark.parametrize(
    ("query", "printed"),
    [
        ("cooperation plan", "(cooperation AND plan)"),
        ("a OR b c", "(a OR (b AND c))"),
        ("NOT a b", "(NOT a AND b)"),
        ("defense -army", "(defense AND NOT army)"),
        ("grain OR wheat -corn", "((grain OR wheat) AND NOT corn)"),
        ("grain OR wheat AND NOT corn", "(grain OR (wheat AND NOT corn))"),
        ("grain -corn OR wheat +usda", "((grain OR wheat) AND NOT corn AND usda)"),
        ("(a OR -b) c", "((a AND NOT b) AND c)"),
        ("a OR NOT -b", "(a OR NOT NOT b)"),
        ("oil~ OR Café~2", "(oil~1 OR cafe~2)"),
        ("title:defence~", "title:defence~2"),
        ('title:(belarus OR "wide exchange"~2)', '(title:belarus OR title:"wide exchange"~2)'),
        ("Nagorno-Karabakh's", '"nagorno karabakh s"'),
        ("defen*", "defen*"),
        ("date:[2019 TO *]", "date:[2019 TO *]"),
    ],
)
def test_parse_tree_printed(query: str, printed: str) -> None:
    assert str(parse(query)) == printed
    assert str(parse(printed)) == printed


# ---- snippets ------------------------------------------------------------------------------


def marked(snippet: Snippet) -> list[str]:
    return [snippet.text[s:e] for s, e in snippet.spans]


def test_snippet_marks_stemmed_variants(corpus_index: Index) -> None:
    (hit,) = corpus_index.search("cooperate", limit=1).hits[:1]
    assert hit.snippet is not None
    assert marked(hit.snippet) == ["cooperation"]
    assert hit.snippet.render("html") == (
        "The ministers signed a <mark>cooperation</mark> plan for 2020. The plan covers training."
    )
    assert hit.snippet.render("ansi").count("\x1b[1m") == 1
    assert hit.snippet.render("plain") == str(hit.snippet)


def test_snippet_marks_the_words_a_fuzzy_term_reaches(corpus_index: Index) -> None:
    hit = corpus_index.search("defnese~1 budgetz~1", limit=1).hits[0]
    assert hit.id == "a8" and hit.snippet is not None
    assert marked(hit.snippet) == ["Defense", "budgets", "defensive", "defense"]


def test_snippet_marks_a_phrase_as_one_span_and_never_not_words() -> None:
    body = "The plan was drafted. Later the cooperation plan, and its plan B, was signed."
    snippet = make_snippet(body, parse('"cooperation plan" -drafted'), "english")
    assert marked(snippet) == ["cooperation plan"]
    both = make_snippet(body, parse('"cooperation plan" plan'), "english")
    assert marked(both) == ["plan", "cooperation plan", "plan"]


def test_snippet_picks_the_passage_deep_inside_and_trims_at_words() -> None:
    filler = " ".join(f"word{n}" for n in range(300))
    body = f"{filler} the treaty on grain was signed in Minsk today. {filler}"
    snippet = make_snippet(body, parse("treaty grain"), "english")
    assert snippet.text.startswith("…") and snippet.text.endswith("…")
    assert marked(snippet) == ["treaty", "grain"]
    inner = snippet.text[1:-1]
    assert len(inner) <= 200
    assert all(
        w.startswith("word") or w in "the treaty on grain was signed in Minsk today."
        for w in inner.split()
    )
    assert " word" in inner and "Minsk" in inner


def test_snippet_without_matches_is_the_lead_and_html_is_escaped() -> None:
    snippet = make_snippet(
        "Shares of <ORCL> & others rose.\n\n  Traders   said so.", parse("x"), "english"
    )
    assert snippet.text == "Shares of <ORCL> & others rose. Traders said so."
    assert snippet.render("html") == "Shares of &lt;ORCL&gt; &amp; others rose. Traders said so."


def test_untitled_document_shows_its_first_sentence(tmp_path: object) -> None:
    index = Index.create(f"{tmp_path}/ix")
    index.add([Document(id="u", body="Oil prices rose on Monday. Traders were surprised.")])
    (hit,) = index.search("oil").hits
    assert hit.title == "Oil prices rose on Monday."


@settings(max_examples=200, deadline=None)
@given(
    rows=st.lists(st.tuples(st.integers(0, 3), st.booleans(), st.integers(0, 4)), max_size=60),
    count=st.integers(1, 70),
)
def test_leading_keeps_the_first_count_and_their_ties_by_lexsort(
    rows: list[tuple[int, bool, int]], count: int
) -> None:
    # What `_page` sorts instead of every match: the first `count` in key order, and every
    # row tied on all keys with the last of them; nothing after that.
    keys = [np.array(column) for column in zip(*rows, strict=True)] if rows else [np.zeros(0)] * 3
    order = np.lexsort(keys[::-1]).tolist()
    chosen = sorted(search_module._leading(np.arange(len(rows)), keys, count).tolist())
    if len(rows) <= count:
        assert chosen == list(range(len(rows)))
    else:
        last = rows[order[count - 1]]
        assert chosen == sorted(order[:count] + [i for i in order[count:] if rows[i] == last])
