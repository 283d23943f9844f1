"""Query text -> tokens: the lexer of the query language.

It refuses, with QuerySyntaxError at the position, what no parse could mend: an unbalanced
quote, an unknown field, a `-` with nothing after it, and text that is not text (a lone
surrogate); and, with QueryLimitError, a query past MAX_LENGTH or a slop past MAX_SLOP.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from newssearch.errors import InvalidArgumentError, QueryLimitError, QuerySyntaxError

# Limits of a query, documented in the README: past one, QueryLimitError at its position.
MAX_LENGTH = 10_000  # characters
MAX_SLOP = 1_000  # of a proximity, "a b"~N
MAX_BOOST = 1000.0  # `word^N`: 0 < N <= MAX_BOOST

FIELDS = ("title", "body", "tag", "source", "id", "date")


@dataclass(frozen=True)
class Token:
    """One token: its kind, its text (a phrase's without the quotes), where it starts."""

    kind: str  # WORD PHRASE LPAREN RPAREN AND OR NOT (also `-`) PLUS (`+`) FIELD DATE BOOST
    text: str
    pos: int
    slop: int = 0


_FIELD = re.compile(r"([A-Za-z]+):")
_SLOP = re.compile(r"~(\d+)")
_BARE_END = re.compile(r'[\s()"^]')
_BOOST = re.compile(r"\^(\d+(?:\.\d+)?|\.\d+)")
_DATE_VALUE = re.compile(r"\[[^\]]*\]?|[^\s()]+")


def tokens(text: str, keyword_fields: tuple[str, ...] = ()) -> list[Token]:
    """Returns the tokens of `text`, in order; raises QuerySyntaxError (QueryLimitError).
    `keyword_fields` are the index's extra keyword fields, known beside FIELDS."""
    _check_text(text)
    found: list[Token] = []
    pos, n = 0, len(text)
    while pos < n:
        char = text[pos]
        if char.isspace():
            pos += 1
        elif char in "()":
            found.append(Token("LPAREN" if char == "(" else "RPAREN", char, pos))
            pos += 1
        elif char == '"':
            close = text.find('"', pos + 1)
            if close < 0:
                raise QuerySyntaxError(text, pos, 'unbalanced quote: this " is never closed')
            slop = _SLOP.match(text, close + 1)
            end = slop.end() if slop else close + 1
            if not slop and text.startswith("~", end):
                raise QuerySyntaxError(text, end, "'~' after a phrase needs a number, as in ~3")
            found.append(
                Token("PHRASE", text[pos + 1 : close], pos, _slop(text, slop) if slop else 0)
            )
            pos = end
        elif char == "^":
            found.append(_boost(text, pos))
            pos += len(found[-1].text) + 1
        elif char in "-+":
            if pos + 1 >= n or text[pos + 1].isspace():
                what = "exclude" if char == "-" else "require"
                raise QuerySyntaxError(
                    text, pos, f"'{char}' needs something to {what} right after it"
                )
            found.append(Token("NOT" if char == "-" else "PLUS", char, pos))
            pos += 1
        elif field := _FIELD.match(text, pos):
            name = field.group(1)
            if name not in FIELDS and name not in keyword_fields:
                known = ", ".join((*FIELDS, *keyword_fields))
                raise QuerySyntaxError(text, pos, f"unknown field '{name}:' (known: {known})")
            found.append(Token("FIELD", name, pos))
            pos = field.end()
            if pos >= n or text[pos].isspace() or text[pos] == ")":
                raise QuerySyntaxError(text, pos, f"'{name}:' needs a value right after it")
            if name == "date":
                value = _DATE_VALUE.match(text, pos)
                if value is None:  # `date:(`: a date filter takes one date or range
                    raise QuerySyntaxError(
                        text,
                        pos,
                        "'date:' takes one date or [range], not a group: "
                        "write date:2019-10 OR date:2019-12",
                    )
                found.append(Token("DATE", value.group(), pos))
                pos = value.end()
        else:
            boundary = _BARE_END.search(text, pos)
            stop = boundary.start() if boundary else n
            word = text[pos:stop]
            kind = word if word in ("AND", "OR", "NOT") else "WORD"
            found.append(Token(kind, word, pos))
            pos = stop
    return found


def _boost(text: str, pos: int) -> Token:
    """Returns the BOOST token of the `^N` at `pos`: N is its text; refuses a bad one."""
    if pos == 0 or text[pos - 1].isspace() or text[pos - 1] == "(":
        raise QuerySyntaxError(text, pos, "'^' needs a word, phrase or group right before it")
    found = _BOOST.match(text, pos)
    if found is None:
        raise QuerySyntaxError(text, pos, "'^' needs a number right after it, as in ^2 or ^0.5")
    number = found[1] if len(found[1]) <= 20 else found[1][:20] + "…"
    if not 0 < float(found[1]) <= MAX_BOOST:
        raise QuerySyntaxError(
            text, pos, f"a boost must be more than 0 and at most {MAX_BOOST:g}, not {number}"
        )
    end = found.end()
    if end < len(text) and not (text[end].isspace() or text[end] == ")"):
        raise QuerySyntaxError(
            text, end, f"'^{number}' must end what it boosts: put a space after it"
        )
    return Token("BOOST", found.group(1), pos)


def _slop(text: str, found: re.Match[str]) -> int:
    digits = found.group(1)
    # Compared as text first: int() of thousands of digits is refused by Python itself.
    if len(digits.lstrip("0")) > len(str(MAX_SLOP)) or int(digits) > MAX_SLOP:
        raise QueryLimitError(
            text, found.start(), f"a proximity's slop can be at most {MAX_SLOP:,}, not {digits}"
        )
    return int(digits)


def _check_text(text: str) -> None:
    if not isinstance(text, str):
        raise InvalidArgumentError(f"a query is a str, not {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise QueryLimitError(
            text, MAX_LENGTH, f"the query is longer than {MAX_LENGTH:,} characters"
        )
    if (bad := _SURROGATE.search(text)) is not None:
        raise QuerySyntaxError(
            text, bad.start(), "not text: a lone surrogate (a byte that is not UTF-8?)"
        )


_SURROGATE = re.compile("[\ud800-\udfff]")
