"""Hostile query strings, as hypothesis strategies: arbitrary text, and text shaped like the
query language (operators, quotes, parentheses, fields, every date form, huge numbers, control
characters, mixed scripts, unbalanced things), for tests/test_hostile_queries.py and the soak
run in benchmarks/soak_queries.py.
"""

from __future__ import annotations

from hypothesis import strategies as st


def _listed(text: str) -> tuple[str, ...]:
    return tuple(text.split())


WORDS = _listed(
    """
    oil prices grain wheat corn said the of a and cooperation plan belarus reuters usda
    Café STRASSE straße naïve Ελλάδα Москва нефть 石油 価格 نفط हिन्दी தமிழ் 1987 2019 0
    AND OR NOT and or not TO to NEAR x y s
    """
)
OPERATORS = ("AND", "OR", "NOT", "-", "+", "&&", "||", "!")
FIELDS = ("title:", "body:", "tag:", "source:", "id:", "date:", "unknown:", "Title:", ":")
DATES = _listed(
    """
    1987 1987-03 1987-03-15 1987-03-15T10:00:00 1987-03-15T10:00:00Z 1987-03-15T10:00:00+05:30
    1987-03-15T10:00:00-0800 1987-03-15T10:00 1987-03-15 10:00:00 0000 0001 9999 99999
    1987-13 1987-02-29 1988-02-29 1987-00 1987-04-31 1987-03-15T24:00:00 1987-03-15T10:61
    1987-03-15T10:00:00+24:00 0001-01-01T00:00:00+01:00 9999-12-31T23:59:59-23:59
    ١٩٨٧ 1987-3 87 -1987 +1987 now now-30d
    """
)
RANGES = (
    "[1987 TO 1988]",
    "[1987-03 TO *]",
    "[* TO 1987-10]",
    "[* TO *]",
    "[1988 TO 1987]",
    "[1987 to 1988]",
    "[1987 TO]",
    "[1987",
    "[]",
    "[TO]",
    "[1987 TO 1988 TO 1989]",
    ">=1987-03",
    ">1987",
    "<=1987-10-20",
    "<1987",
    ">",
    "<=",
    ">=99999",
    "<0000",
)
HUGE = ("9" * 30, "1" + "0" * 400, "9" * 5000, str(2**63), str(2**64 + 1), "-1", "0", "1e9")
ODD = (
    "\x00",
    "\x1b[31m",
    "\u200b",
    "\ufeff",
    "\r\n",
    "\t",
    "\u00a0",
    "\u2028",
    "\ud800",
    "\udcff",
    "\U0001f600",
    "e\u0301",
    "\u0301",
    "½",
    "ﬁ",
    "İ",
    "*",
    "**",
    "~",
    "~1",
    "~2",
    "^2",
    "^",
    "\\",
    "'",
    '"',
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ":",
    "?",
    "/",
)
SEPARATORS = (" ", " ", " ", "", "\t", "  ", "\n")


def _quoted(inner: str) -> str:
    return f'"{inner}"'


word = st.one_of(
    st.sampled_from(WORDS),
    st.text(min_size=1, max_size=12),
    st.text(alphabet="abcdefghij0123456789", min_size=1, max_size=40),
)
atom = st.one_of(
    word,
    word.map(lambda w: w + "*"),
    word.map(lambda w: w + "~"),
    st.tuples(word, st.sampled_from(("~1", "~2", "~3", "^2", "^0.5", "*~"))).map("".join),
    st.lists(word, min_size=1, max_size=4).map(" ".join).map(_quoted),
    st.tuples(
        st.lists(word, min_size=2, max_size=4).map(" ".join).map(_quoted),
        st.sampled_from(("~", "~0", "~3", "~1000", "~1001", "~" + "9" * 25, "~-1", "^2")),
    ).map("".join),
    st.tuples(st.sampled_from(FIELDS), word).map("".join),
    st.tuples(st.just("date:"), st.sampled_from((*DATES, *RANGES))).map("".join),
    st.sampled_from(OPERATORS),
    st.sampled_from(HUGE),
    st.sampled_from(ODD),
)


@st.composite
def _grammar(draw: st.DrawFn) -> str:
    """Returns pieces of the query language joined by random separators, sometimes nested
    deep, parenthesized, prefixed by -/+ or grouped under a field."""
    pieces = draw(st.lists(atom, min_size=1, max_size=12))
    out = []
    for piece in pieces:
        wrap = draw(st.integers(0, 9))
        if wrap == 0:
            piece = f"({piece})"
        elif wrap == 1:
            piece = "-" + piece
        elif wrap == 2:
            piece = "+" + piece
        elif wrap == 3:
            piece = draw(st.sampled_from(FIELDS)) + f"({piece})"
        out.append(piece + draw(st.sampled_from(SEPARATORS)))
    text = "".join(out)
    shape = draw(st.integers(0, 19))
    if shape == 0:
        depth = draw(st.integers(1, 300))
        text = "(" * depth + text + ")" * draw(st.integers(0, depth + 1))
    elif shape == 1:
        text = "NOT " * draw(st.integers(1, 600)) + text
    elif shape == 2:
        text = "-" * draw(st.integers(1, 100)) + text
    elif shape == 3:
        text = " OR ".join([text] * draw(st.integers(2, 400)))
    elif shape == 4:
        text = text * draw(st.integers(2, 2000))
    return text


queries = st.one_of(st.text(max_size=200), _grammar(), _grammar(), _grammar())
