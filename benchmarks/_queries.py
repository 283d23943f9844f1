"""The fixed query list of the speed benchmarks, in a neutral form each engine translates.

Words are chosen on Reuters-21578 (documents matching, out of 21,577): low 11-40,
medium 150-600, high > 6,000. High-frequency words are not stop words, because
whoosh's StemmingAnalyzer drops stop words (newssearch, FTS5 and tantivy keep them). Phrases
have no stop words for the same reason. Dates are inclusive days, UTC. Prefixes start with a
vowel or two consonants, which no invented word of the scale corpus does (`_corpora`), so their
expansions stay far below newssearch's 256-word limit at any scale.
"""

from __future__ import annotations

from dataclasses import dataclass

from _corpora import date_seconds

DAY = 86_400


@dataclass(frozen=True)
class Query:
    """One query: `words` joined by `op`, minus `exclude`, within `dates` when given.

    op is "term" (one word), "and", "or", "phrase" (words in a row), "near" (in order, at most
    `slop` other words between each two), "prefix" (words whose stem starts with the one word),
    or "none" (dates only).
    """

    type: str
    op: str
    words: tuple[str, ...] = ()
    exclude: str | None = None
    dates: tuple[str, str] | None = None  # first and last day, YYYY-MM-DD
    slop: int = 0  # of "near"

    @property
    def words_text(self) -> str:
        """Returns the words part (no dates) in newssearch syntax, which whoosh's parser shares."""
        if self.op in ("phrase", "near"):
            text = '"' + " ".join(self.words) + '"' + (f"~{self.slop}" if self.op == "near" else "")
        elif self.op == "prefix":
            text = f"{self.words[0]}*"
        else:
            text = f" {self.op.upper()} ".join(self.words)
        return f"{text} AND NOT {self.exclude}" if self.exclude else text

    @property
    def label(self) -> str:
        """Returns the query in newssearch syntax, which is also how tables show it."""
        text = self.words_text
        if self.dates:
            date = f"date:[{self.dates[0]} TO {self.dates[1]}]"
            text = f"{text} AND {date}" if text else date
        return text

    @property
    def seconds(self) -> tuple[int, int]:
        """Returns the date range as inclusive UTC seconds (start of first day, end of last)."""
        assert self.dates is not None
        first, last = (date_seconds(day) for day in self.dates)
        assert first is not None and last is not None
        return first, last + DAY - 1


def _terms(type_: str, *words: str) -> list[Query]:
    return [Query(type_, "term", (word,)) for word in words]


MARCH = ("1987-03-01", "1987-03-31")
APRIL = ("1987-04-01", "1987-04-30")

QUERIES: tuple[Query, ...] = (
    *_terms("rare term", "embargo", "jaguar", "bankrupt", "helicopter"),
    *_terms("common term", "coffee", "opec", "takeover", "reagan"),
    *_terms("very common term", "said", "mln", "pct", "year"),
    Query("AND", "and", ("oil", "price")),
    Query("AND", "and", ("wheat", "export")),
    Query("AND", "and", ("japan", "trade")),
    Query("AND", "and", ("company", "shares")),
    Query("AND", "and", ("gold", "mine")),
    Query("OR", "or", ("coffee", "cocoa")),
    Query("OR", "or", ("gold", "silver")),
    Query("OR", "or", ("wheat", "corn")),
    Query("OR", "or", ("oil", "gas")),
    Query("NOT", "term", ("oil",), exclude="opec"),
    Query("NOT", "term", ("bank",), exclude="rate"),
    Query("NOT", "term", ("trade",), exclude="japan"),
    Query("NOT", "term", ("coffee",), exclude="brazil"),
    Query("phrase", "phrase", ("oil", "prices")),
    Query("phrase", "phrase", ("interest", "rates")),
    Query("phrase", "phrase", ("trade", "deficit")),
    Query("phrase", "phrase", ("central", "bank")),
    Query("phrase", "phrase", ("federal", "reserve", "board")),
    Query("proximity", "near", ("oil", "prices"), slop=3),
    Query("proximity", "near", ("interest", "rates"), slop=2),
    Query("proximity", "near", ("trade", "deficit"), slop=5),
    Query("proximity", "near", ("central", "bank"), slop=1),
    Query("prefix", "prefix", ("export",)),
    Query("prefix", "prefix", ("oil",)),
    Query("prefix", "prefix", ("product",)),
    Query("prefix", "prefix", ("grain",)),
    Query("date range", "none", dates=MARCH),
    Query("date range", "none", dates=APRIL),
    Query("date range", "none", dates=("1987-03-17", "1987-03-17")),
    Query("date range", "none", dates=("1987-06-01", "1987-10-31")),
    Query("date + words", "term", ("oil",), dates=MARCH),
    Query("date + words", "term", ("wheat",), dates=APRIL),
    Query("date + words", "term", ("coffee",), dates=("1987-03-01", "1987-06-30")),
    Query("date + words", "and", ("bank", "rate"), dates=("1987-10-01", "1987-10-31")),
    Query("date + words", "phrase", ("trade", "deficit"), dates=MARCH),
)

TYPES: tuple[str, ...] = tuple(dict.fromkeys(query.type for query in QUERIES))
DATE_TYPES = ("date range", "date + words")
