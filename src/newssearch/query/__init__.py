"""The query language: text -> tokens (`lexer`) -> tree (`parser`, nodes in `tree`).

`parse(text)` returns the tree that `engine.execute` evaluates and `snippets` marks.
"""

from newssearch.query.parser import MAX_WORDS, parse, stop_words
from newssearch.query.tree import (
    And,
    Boost,
    Dates,
    Fuzzy,
    Node,
    Not,
    Or,
    Phrase,
    Prefix,
    Term,
    leaves,
    positive_leaves,
)

__all__ = [
    "MAX_WORDS",
    "And",
    "Boost",
    "Dates",
    "Fuzzy",
    "Node",
    "Not",
    "Or",
    "Phrase",
    "Prefix",
    "Term",
    "leaves",
    "parse",
    "positive_leaves",
    "stop_words",
]
