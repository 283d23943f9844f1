"""Query text -> tokens -> newssearch's own small query tree.

`parse(text)` returns the tree: printable (the printed form parses back to the same tree), and
what `execute` evaluates and `snippets` marks. Anything malformed raises QuerySyntaxError with
the position and a one-line reason; nothing is silently reinterpreted. The syntax is
documented once, in the README.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import cache
from typing import Any

from whoosh.lang import has_stopwords, stopwords_for_language

from newssearch.analysis import fold, words
from newssearch.dates import DateRange, resolve
from newssearch.errors import DateError, InvalidArgumentError, QueryLimitError, QuerySyntaxError

# The limits of a query, documented in the README: past one, QueryLimitError at its position.
MAX_LENGTH = 10_000  # characters
MAX_DEPTH = 32  # parentheses and NOT (or -) nested in one another
MAX_SLOP = 1_000  # of a proximity, "a b"~N
MAX_WORDS = 256  # words, phrase words, date filters, and the words each prefix expands to

TEXT = None  # the field of a word without `field:`: title and body together
FIELDS = {
    "title": "title",
    "body": "body",
    "tag": "tag",
    "source": "source",
    "id": "id",
    "date": "date",
}
_KEYWORD_FIELDS = ("tag", "source", "id")
# A keyword value that would not read back as one bare word is printed quoted.
_NEEDS_QUOTES = re.compile(r'[\s()"^]|^-|\*$|^(?:AND|OR|NOT)$')
MAX_BOOST = 1000.0  # `word^N`: 0 < N <= MAX_BOOST
# A keyword prefix cannot be quoted: one of these would not read back.
_UNPRINTABLE_PREFIX = re.compile(r'[\s()"^]|^-')


# ---- the tree ------------------------------------------------------------------------------


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


Node = Term | Phrase | Prefix | Dates | And | Or | Not | Boost


def leaves(node: Node) -> Iterator[Term | Phrase | Prefix | Dates]:
    """Yields every leaf of the tree, NOT or not, in order."""
    if isinstance(node, (And, Or)):
        for child in node.children:
            yield from leaves(child)
    elif isinstance(node, (Not, Boost)):
        yield from leaves(node.child)
    else:
        yield node


def positive_leaves(node: Node) -> Iterator[Term | Phrase | Prefix]:
    """Yields the word leaves that are not under a NOT: the ones a hit is marked for."""
    if isinstance(node, (And, Or)):
        for child in node.children:
            yield from positive_leaves(child)
    elif isinstance(node, Boost):
        yield from positive_leaves(node.child)
    elif isinstance(node, (Term, Phrase, Prefix)):
        yield node


# ---- text -> tokens ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Token:
    kind: str  # WORD PHRASE LPAREN RPAREN AND OR NOT FIELD DATE BOOST
    text: str
    pos: int
    slop: int = 0


_FIELD = re.compile(r"([A-Za-z]+):")
_SLOP = re.compile(r"~(\d+)")
_BARE_END = re.compile(r'[\s()"^]')
_BOOST = re.compile(r"\^(\d+(?:\.\d+)?|\.\d+)")
_DATE_VALUE = re.compile(r"\[[^\]]*\]?|[^\s()]+")


def _tokens(text: str, keyword_fields: tuple[str, ...] = ()) -> list[_Token]:
    tokens: list[_Token] = []
    pos, n = 0, len(text)
    while pos < n:
        char = text[pos]
        if char.isspace():
            pos += 1
        elif char in "()":
            tokens.append(_Token("LPAREN" if char == "(" else "RPAREN", char, pos))
            pos += 1
        elif char == '"':
            close = text.find('"', pos + 1)
            if close < 0:
                raise QuerySyntaxError(text, pos, 'unbalanced quote: this " is never closed')
            slop = _SLOP.match(text, close + 1)
            end = slop.end() if slop else close + 1
            if not slop and text.startswith("~", end):
                raise QuerySyntaxError(text, end, "'~' after a phrase needs a number, as in ~3")
            tokens.append(
                _Token("PHRASE", text[pos + 1 : close], pos, _slop(text, slop) if slop else 0)
            )
            pos = end
        elif char == "^":
            tokens.append(_boost(text, pos))
            pos += len(tokens[-1].text) + 1
        elif char == "-":
            if pos + 1 >= n or text[pos + 1].isspace():
                raise QuerySyntaxError(text, pos, "'-' needs something to exclude right after it")
            tokens.append(_Token("NOT", "-", pos))
            pos += 1
        elif field := _FIELD.match(text, pos):
            name = field.group(1)
            if name not in FIELDS and name not in keyword_fields:
                known = ", ".join((*FIELDS, *keyword_fields))
                raise QuerySyntaxError(text, pos, f"unknown field '{name}:' (known: {known})")
            tokens.append(_Token("FIELD", name, pos))
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
                tokens.append(_Token("DATE", value.group(), pos))
                pos = value.end()
        else:
            boundary = _BARE_END.search(text, pos)
            stop = boundary.start() if boundary else n
            word = text[pos:stop]
            kind = word if word in ("AND", "OR", "NOT") else "WORD"
            tokens.append(_Token(kind, word, pos))
            pos = stop
    return tokens


def _boost(text: str, pos: int) -> _Token:
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
    return _Token("BOOST", found.group(1), pos)


def _slop(text: str, found: re.Match[str]) -> int:
    digits = found.group(1)
    # Compared as text first: int() of thousands of digits is refused by Python itself.
    if len(digits.lstrip("0")) > len(str(MAX_SLOP)) or int(digits) > MAX_SLOP:
        raise QueryLimitError(
            text, found.start(), f"a proximity's slop can be at most {MAX_SLOP:,}, not {digits}"
        )
    return int(digits)


# ---- tokens -> tree ------------------------------------------------------------------------

_STARTS = ("WORD", "PHRASE", "LPAREN", "NOT", "FIELD")


class _Parser:
    def __init__(
        self,
        text: str,
        match: str,
        language: str,
        keyword_fields: tuple[str, ...] = (),
        now: datetime | None = None,
    ) -> None:
        self.text = text
        self.now = now  # the clock relative dates count back from
        self.tokens = _tokens(text, keyword_fields)
        self.keyword_fields = (*_KEYWORD_FIELDS, *keyword_fields)
        self.i = 0
        self.depth = 0  # of the parentheses and NOTs around the token being parsed
        self.any = match == "any"
        self.group_field: str | None = TEXT  # the field of the innermost `field:( ... )`
        self.stopwords = stop_words(language)

    def fail(self, pos: int, reason: str) -> QuerySyntaxError:
        return QuerySyntaxError(self.text, pos, reason)

    def peek(self) -> _Token | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self) -> _Token:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def parse(self) -> Node:
        if not self.tokens:
            raise self.fail(0, "empty query")
        node = self.parse_or()
        extra = self.peek()
        if extra is not None:
            assert extra.kind == "RPAREN"
            raise self.fail(extra.pos, "unbalanced parenthesis: this ')' has no '('")
        _check_words(self.text, node)
        return node

    def deeper(self, token: _Token) -> None:
        """Counts one more level of nesting, refusing the query past MAX_DEPTH (before the
        parser recurses into it)."""
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise QueryLimitError(
                self.text,
                token.pos,
                f"nested too deep: at most {MAX_DEPTH} parentheses and NOTs inside one another",
            )

    def _joined(self, operator: str, implicit: bool, parse_next: Any) -> tuple[list[Node], bool]:
        """Returns the items joined by `operator` (or by juxtaposition when `implicit`), and
        whether juxtaposition alone joined them."""
        items = [parse_next()]
        only_implicit = True
        while (token := self.peek()) is not None:
            if token.kind == operator:
                self.take()
                after = self.peek()
                if after is None or after.kind not in _STARTS:
                    raise self.fail(token.pos, f"'{operator}' needs something after it")
                only_implicit = False
            elif not (implicit and token.kind in _STARTS):
                break
            items.append(parse_next())
        return items, only_implicit and len(items) > 1

    def parse_or(self) -> Node:
        items, bare = self._joined("OR", self.any, self.parse_and)
        if bare:
            return self._any_of(items)
        return items[0] if len(items) == 1 else Or(tuple(items))

    def _any_of(self, items: list[Node]) -> Node:
        # match="any": bare words are ORed, but `-word` still excludes. A stop word adds little
        # but noise to such an OR; it is dropped unless nothing else is left (`the` alone works).
        excluded = [n for n in items if isinstance(n, Not)]
        wanted = [n for n in items if not isinstance(n, Not)]
        content = [
            n
            for n in wanted
            if not (isinstance(n, Term) and n.field is TEXT and n.word in self.stopwords)
        ] or wanted
        if not content:
            return And(tuple(excluded)) if len(excluded) > 1 else excluded[0]
        either = content[0] if len(content) == 1 else Or(tuple(content))
        return And((either, *excluded)) if excluded else either

    def parse_and(self) -> Node:
        items, _ = self._joined("AND", not self.any, self.parse_unary)
        return items[0] if len(items) == 1 else And(tuple(items))

    def parse_unary(self) -> Node:
        token = self.peek()
        if token is not None and token.kind == "NOT":
            self.take()
            after = self.peek()
            if after is None or after.kind not in _STARTS:
                raise self.fail(token.pos, f"'{token.text}' needs something to exclude after it")
            self.deeper(token)
            child = self.parse_unary()
            self.depth -= 1
            if isinstance(child, Boost):
                raise self.fail(token.pos, "a boost under NOT or '-' has no effect: drop the ^")
            return Not(child)
        return self.boosted(self.parse_primary(self.group_field))

    def boosted(self, node: Node) -> Node:
        """Returns `node`, wrapped in a Boost when a `^N` follows it."""
        token = self.peek()
        if token is None or token.kind != "BOOST":
            return node
        self.take()
        if isinstance(node, Dates) or (
            isinstance(node, (Term, Prefix)) and node.field in self.keyword_fields
        ):
            raise self.fail(
                token.pos, "a filter (tag:, source:, id:, date:) only selects: no score to boost"
            )
        return Boost(node, float(token.text))

    def parse_primary(self, field: str | None) -> Node:
        token = self.peek()
        if token is None:
            raise self.fail(len(self.text), "the query ends where a word was expected")
        if token.kind in ("AND", "OR"):
            raise self.fail(token.pos, f"'{token.kind}' needs something before it")
        if token.kind == "RPAREN":
            raise self.fail(token.pos, "unbalanced parenthesis: this ')' has no '('")
        if token.kind == "BOOST":
            raise self.fail(token.pos, "'^' needs a word, phrase or group right before it")
        self.take()
        if token.kind == "LPAREN":
            if (close := self.peek()) is not None and close.kind == "RPAREN":
                raise self.fail(token.pos, "empty parentheses")
            self.deeper(token)
            node = self.parse_group(field)
            if (close := self.peek()) is None or close.kind != "RPAREN":
                raise self.fail(token.pos, "unbalanced parenthesis: this '(' is never closed")
            self.take()
            self.depth -= 1
            return node
        if token.kind == "FIELD":
            if field is not TEXT:
                raise self.fail(token.pos, f"'{token.text}:' inside '{field}:' is not allowed")
            if self.peek() is not None and self.peek().kind == "NOT":  # type: ignore[union-attr]
                raise self.fail(self.take().pos, "put the '-' or NOT before the field name")
            if token.text == "date":
                return self.date(self.take())
            return self.parse_primary(token.text)
        if token.kind == "PHRASE":
            return self.phrase(token, field)
        return self.word(token, field)

    def parse_group(self, field: str | None) -> Node:
        saved, self.group_field = self.group_field, field
        try:
            return self.parse_or()
        finally:
            self.group_field = saved

    def word(self, token: _Token, field: str | None) -> Node:
        text = token.text
        prefix = text.endswith("*")
        body = text[:-1] if prefix else text
        if "*" in body:
            raise self.fail(token.pos + body.index("*"), "'*' is only allowed at the end of a word")
        if field in self.keyword_fields:
            value = body if field == "id" else fold(body)
            if not value:
                raise self.fail(token.pos, "'*' needs a prefix before it")
            if prefix and _UNPRINTABLE_PREFIX.search(value):  # folding made a space, a '-'...
                raise self.fail(
                    token.pos,
                    f"a {field}: prefix cannot start with '-' or hold spaces, quotes or "
                    f"parentheses: {value!r}",
                )
            return Prefix(value, field, token.pos) if prefix else Term(value, field)
        found = words(body)
        if not found:
            reason = (
                "'*' needs a prefix before it"
                if prefix and not body
                else (f"no searchable word in {text!r}: a word is a run of letters and digits")
            )
            raise self.fail(token.pos, reason)
        if prefix:
            if len(found) > 1:
                raise self.fail(token.pos, f"a prefix must be one word: {text!r}")
            return Prefix(found[0], field, token.pos)
        # A bare word that splits, such as `Nagorno-Karabakh`, means those words in a row.
        return Term(found[0], field) if len(found) == 1 else Phrase(tuple(found), field)

    def phrase(self, token: _Token, field: str | None) -> Node:
        if field in self.keyword_fields:
            value = token.text if field == "id" else fold(token.text.strip())
            if not value:
                raise self.fail(token.pos, "empty phrase")
            return Term(value, field)
        found = words(token.text)
        if not found:
            raise self.fail(token.pos, "empty phrase: no searchable word between the quotes")
        if len(found) == 1:
            return Term(found[0], field)
        return Phrase(tuple(found), field, token.slop)

    def date(self, token: _Token) -> Node:
        try:
            return Dates(_date_range(token.text, self.now), token.text)
        except DateError as e:
            raise self.fail(token.pos, str(e)) from None
        except ValueError as e:
            raise self.fail(token.pos, str(e)) from None


def _date_range(text: str, now: datetime | None) -> DateRange:
    if text.startswith("["):
        if not text.endswith("]"):
            raise ValueError("unbalanced bracket: a date range needs a closing ']'")
        parts = text[1:-1].split()
        if len(parts) != 3 or parts[1].upper() != "TO":
            raise ValueError(f"a date range is [FROM TO UNTIL], not {text!r}")
        first, last = (None if p == "*" else p for p in (parts[0], parts[2]))
        found = DateRange.between(first, last, now)
        if found.low is not None and found.high is not None and found.low > found.high:
            raise ValueError(f"the range {text} ends before it starts")
        return found
    for op in (">=", "<=", ">", "<"):
        if text.startswith(op):
            date = resolve(text[len(op) :], now)
            return {
                ">=": DateRange(date.start, None),
                ">": DateRange(date.end + 1, None),
                "<=": DateRange(None, date.end),
                "<": DateRange(None, date.start - 1),
            }[op]
    date = resolve(text, now)
    return DateRange(date.start, date.end)


@cache
def stop_words(language: str) -> frozenset[str]:
    """Returns the stop words of `language` (whoosh's lists; none for a language it lacks)."""
    return frozenset(stopwords_for_language(language)) if has_stopwords(language) else frozenset()


def _check_words(text: str, tree: Node) -> None:
    """Refuses a tree of more than MAX_WORDS words (phrase words and date filters count)."""
    count = 0
    for leaf in leaves(tree):
        count += len(leaf.words) if isinstance(leaf, Phrase) else 1
        if count > MAX_WORDS:
            raise QueryLimitError(text, 0, f"too many words: a query may have {MAX_WORDS:,}")


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


def parse(
    text: str,
    match: str = "all",
    language: str = "english",
    keyword_fields: tuple[str, ...] = (),
    now: datetime | None = None,
) -> Node:
    """Returns the query tree of `text`; raises QuerySyntaxError with a position.

    `match="any"` joins bare words by OR instead of AND, and drops stop words from such an OR
    unless nothing else is left. `keyword_fields` are the index's extra keyword fields
    (`place:`), searched like `tag:`. Relative dates (`date:>=now-30d`) count back from `now`
    (default: the system clock).
    """
    if match not in ("all", "any"):
        raise InvalidArgumentError(f"match must be 'all' or 'any', not {match!r}")
    _check_text(text)
    return _Parser(text, match, language, keyword_fields, now).parse()
