"""The query tree: its nodes (Term, Phrase, Prefix, Fuzzy, Dates, And, Or, Not, Boost), each
printed as query text that parses back to the same node, and the walks over its leaves.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from newssearch.dates import DateRange

TEXT = None  # the field of a word without `field:`: title and body together
# A keyword value that would not read back as one bare word is printed quoted.
_NEEDS_QUOTES = re.compile(r'[\s()"^]|^-|\*$|^(?:AND|OR|NOT)$')


@dataclass(frozen=True)
class Term:
    """A folded word (or a keyword value for tag/source/id) in `field`, None = title and body."""

    word: str
    field: str | None = TEXT

    def __str__(self) -> str:
        if not self.field:
            return self.word
        if self.field not in ("title", "body") and _NEEDS_QUOTES.search(self.word):
            return f'{self.field}:"{self.word}"'
        return f"{self.field}:{self.word}"


@dataclass(frozen=True)
class Phrase:
    """Folded words in order; `slop` other words may stand between each consecutive two."""

    words: tuple[str, ...]
    field: str | None = TEXT
    slop: int = 0

    def __str__(self) -> str:
        text = '"' + " ".join(self.words) + '"' + (f"~{self.slop}" if self.slop else "")
        return f"{self.field}:{text}" if self.field else text


@dataclass(frozen=True)
class Prefix:
    """Words whose stem starts with `prefix`, or equals the prefix's own stem. `at` is its
    position in the query text (for the error when it expands to too many words)."""

    prefix: str
    field: str | None = TEXT
    at: int = dataclasses.field(default=0, compare=False, repr=False)

    def __str__(self) -> str:
        return f"{self.field}:{self.prefix}*" if self.field else f"{self.prefix}*"


@dataclass(frozen=True)
class Fuzzy:
    """Words whose stem is at most `distance` edits from the word's stem: inserts, deletes,
    substitutions and swaps of two neighbours (Lucene's and Elasticsearch's fuzzy terms).
    `at` is its position in the query text."""

    word: str
    field: str | None = TEXT
    distance: int = 2
    at: int = dataclasses.field(default=0, compare=False, repr=False)

    def __str__(self) -> str:
        text = f"{self.word}~{self.distance}"
        return f"{self.field}:{text}" if self.field else text


@dataclass(frozen=True)
class Dates:
    """Documents whose date interval overlaps `range` (inclusive seconds)."""

    range: DateRange
    text: str

    def __str__(self) -> str:
        return f"date:{self.text}"


@dataclass(frozen=True)
class And:
    children: tuple[Node, ...]

    def __str__(self) -> str:
        return "(" + " AND ".join(map(str, self.children)) + ")"


@dataclass(frozen=True)
class Or:
    children: tuple[Node, ...]

    def __str__(self) -> str:
        return "(" + " OR ".join(map(str, self.children)) + ")"


@dataclass(frozen=True)
class Not:
    child: Node

    def __str__(self) -> str:
        return f"NOT {self.child}"


@dataclass(frozen=True)
class Boost:
    """`child` with its scores multiplied by `factor` (> 0); what it matches is unchanged."""

    child: Node
    factor: float

    def __str__(self) -> str:
        child = f"({self.child})" if isinstance(self.child, Boost) else str(self.child)
        # The shortest text that reads back as the same float, without an exponent.
        number = format(Decimal(repr(float(self.factor))), "f").removesuffix(".0")
        return f"{child}^{number}"


Node = Term | Phrase | Prefix | Fuzzy | Dates | And | Or | Not | Boost
Leaf = Term | Phrase | Prefix | Fuzzy | Dates


def leaves(node: Node) -> Iterator[Leaf]:
    """Yields every leaf of the tree, NOT or not, in order."""
    if isinstance(node, (And, Or)):
        for child in node.children:
            yield from leaves(child)
    elif isinstance(node, (Not, Boost)):
        yield from leaves(node.child)
    else:
        yield node


def positive_leaves(node: Node) -> Iterator[Term | Phrase | Prefix | Fuzzy]:
    """Yields the word leaves that are not under a NOT: the ones a hit is marked for."""
    if isinstance(node, (And, Or)):
        for child in node.children:
            yield from positive_leaves(child)
    elif isinstance(node, Boost):
        yield from positive_leaves(node.child)
    elif isinstance(node, (Term, Phrase, Prefix, Fuzzy)):
        yield node
