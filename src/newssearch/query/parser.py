"""Query tokens (from `lexer`) -> newssearch's own small query tree (`tree`).

`parse(text)` returns the tree: printable (the printed form parses back to the same tree), and
what `execute` evaluates and `snippets` marks. Anything malformed raises QuerySyntaxError with
the position and a one-line reason; nothing is silently reinterpreted. The syntax is
documented once, in the README.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import TypeVar

from whoosh.lang import has_stopwords, stopwords_for_language

from newssearch.analysis import fold_keyword, words
from newssearch.dates import DateRange, resolve
from newssearch.errors import DateError, InvalidArgumentError, QueryLimitError, QuerySyntaxError
from newssearch.query.lexer import Token, tokens
from newssearch.query.tree import (
    TEXT,
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
)

# Limits of a query besides those of the lexer (length, slop), documented in the README: past
# one, QueryLimitError at its position.
MAX_DEPTH = 32  # parentheses and NOT, -, + nested in one another
MAX_WORDS = 256  # words, phrase words, date filters, and the words prefixes and fuzzies reach
MAX_EDITS = 2  # of a fuzzy term, oil~2
MAX_FUZZY = 32  # fuzzy terms in a query

_KEYWORD_FIELDS = ("tag", "source", "id")
# A keyword prefix cannot be quoted: one of these would not read back.
_UNPRINTABLE_PREFIX = re.compile(r'[\s()"^]|^-')
_FUZZY = re.compile(r"(.*)~(\d*)")  # oil~, oil~1
_IN_PHRASE = re.compile(r"\w([*~])")  # "oil pr*", "oil~ prices": a word's prefix or fuzzy

_T = TypeVar("_T")
_STARTS = ("WORD", "PHRASE", "LPAREN", "NOT", "PLUS", "FIELD")


@dataclass(frozen=True)
class _Signed:
    """An item written `-x` (node is NOT x) or `+x` (node is x): it holds for its whole group."""

    node: Node


def _all_of(items: list[Node]) -> Node:
    return items[0] if len(items) == 1 else And(tuple(items))


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
        self.tokens = tokens(text, keyword_fields)
        self.keyword_fields = (*_KEYWORD_FIELDS, *keyword_fields)
        self.i = 0
        self.depth = 0  # of the parentheses and NOTs around the token being parsed
        self.any = match == "any"
        self.group_field: str | None = TEXT  # the field of the innermost `field:( ... )`
        self.stopwords = stop_words(language)

    def fail(self, pos: int, reason: str) -> QuerySyntaxError:
        return QuerySyntaxError(self.text, pos, reason)

    def peek(self) -> Token | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self) -> Token:
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

    def deeper(self, token: Token) -> None:
        """Counts one more level of nesting, refusing the query past MAX_DEPTH (before the
        parser recurses into it)."""
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise QueryLimitError(
                self.text,
                token.pos,
                f"nested too deep: at most {MAX_DEPTH} parentheses and NOT, -, + inside one "
                "another",
            )

    def _joined(
        self, operator: str, implicit: bool, parse_next: Callable[[], _T]
    ) -> tuple[list[_T], bool]:
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
        """Parses a group: its OR of AND chains, where a `-x` or `+x` item holds for the whole
        group, wherever it stands (`grain OR wheat -corn` excludes corn from both)."""
        chains, bare = self._joined("OR", self.any, self.parse_and)
        if len(chains) == 1:  # no OR: the signed items are ANDed in place, as they stand
            return _all_of([i.node if isinstance(i, _Signed) else i for i in chains[0]])
        signed: list[Node] = []
        branches: list[Node] = []
        for chain in chains:
            if bare and len(chain) == 1 and isinstance(chain[0], Not):
                signed.append(chain[0])  # match="any": `oil NOT gas` excludes gas, as `-gas`
                continue
            signed += [i.node for i in chain if isinstance(i, _Signed)]
            if rest := [i for i in chain if not isinstance(i, _Signed)]:
                branches.append(_all_of(rest))
        if bare:
            branches = self._content(branches)
        if not branches:
            return _all_of(signed)
        either = branches[0] if len(branches) == 1 else Or(tuple(branches))
        return And((either, *signed)) if signed else either

    def _content(self, items: list[Node]) -> list[Node]:
        # match="any": a stop word adds little but noise to an OR of bare words; it is dropped
        # unless nothing else is left (`the` alone works).
        return [
            n
            for n in items
            if not (isinstance(n, Term) and n.field is TEXT and n.word in self.stopwords)
        ] or items

    def parse_and(self) -> list[Node | _Signed]:
        items, _ = self._joined("AND", not self.any, self.parse_unary)
        return items

    def parse_unary(self, item: bool = True) -> Node | _Signed:
        """Parses NOT x, -x, +x or a primary; `-x` and `+x` as an `item` of an AND chain come
        back _Signed, for their group (as the operand of another NOT, -, +, they are local)."""
        token = self.peek()
        if token is not None and token.kind in ("NOT", "PLUS"):
            self.take()
            after = self.peek()
            if after is None or after.kind not in _STARTS:
                what = "require" if token.kind == "PLUS" else "exclude"
                raise self.fail(token.pos, f"'{token.text}' needs something to {what} after it")
            self.deeper(token)
            operand = self.parse_unary(item=False)
            assert not isinstance(operand, _Signed)
            self.depth -= 1
            if token.kind == "NOT" and isinstance(operand, Boost):
                raise self.fail(token.pos, "a boost under NOT or '-' has no effect: drop the ^")
            node = operand if token.kind == "PLUS" else Not(operand)
            return _Signed(node) if item and token.text in ("-", "+") else node
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
            if self.peek() is not None and self.peek().kind in ("NOT", "PLUS"):  # type: ignore[union-attr]
                raise self.fail(self.take().pos, "put the '-', '+' or NOT before the field name")
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

    def word(self, token: Token, field: str | None) -> Node:
        text = token.text
        if (fuzzy := _FUZZY.fullmatch(text)) is not None:
            return self.fuzzy(token, fuzzy, field)
        prefix = text.endswith("*")
        body = text[:-1] if prefix else text
        if "*" in body:
            raise self.fail(token.pos + body.index("*"), "'*' is only allowed at the end of a word")
        if field in self.keyword_fields:
            value = body if field == "id" else fold_keyword(body)
            if not value:
                reason = (
                    "'*' needs a prefix before it"
                    if prefix
                    else f"{text!r} folds to an empty value"
                )
                raise self.fail(token.pos, reason)
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

    def fuzzy(self, token: Token, found: re.Match[str], field: str | None) -> Node:
        body, digits = found.group(1), found.group(2)
        at = token.pos + found.start(2) - 1  # the '~'
        if field in self.keyword_fields:
            raise self.fail(at, f"fuzzy terms are for words of title and body, not {field}:")
        if "~" in body or "*" in body:
            raise self.fail(at, "'~' goes once at the end of a whole word: oil~, oil~1, oil~2")
        if len(digits.lstrip("0")) > 1 or (digits and int(digits) > MAX_EDITS):
            raise QueryLimitError(
                self.text, at, f"a fuzzy term allows at most {MAX_EDITS} edits, not {digits}"
            )
        folded = words(body)
        if len(folded) != 1:
            reason = "a fuzzy term must be one word" if folded else "'~' needs a word before it"
            raise self.fail(token.pos, f"{reason}: {token.text!r}")
        word = folded[0]
        # No digits: as Elasticsearch's AUTO, by the word's length.
        distance = int(digits) if digits else 0 if len(word) < 3 else 1 if len(word) < 6 else 2
        return Fuzzy(word, field, distance, token.pos)

    def phrase(self, token: Token, field: str | None) -> Node:
        if field in self.keyword_fields:
            value = token.text if field == "id" else fold_keyword(token.text)
            if not value:
                raise self.fail(token.pos, "empty phrase")
            return Term(value, field)
        if (inside := _IN_PHRASE.search(token.text)) is not None:
            what = "prefix" if inside.group(1) == "*" else "fuzzy word"
            raise self.fail(
                token.pos + 1 + inside.start(1),
                f"a {what} inside a phrase is not supported: write the whole word, or put it "
                "outside the quotes",
            )
        found = words(token.text)
        if not found:
            raise self.fail(token.pos, "empty phrase: no searchable word between the quotes")
        if len(found) == 1:
            return Term(found[0], field)
        return Phrase(tuple(found), field, token.slop)

    def date(self, token: Token) -> Node:
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
    """Refuses a tree of more than MAX_WORDS words (phrase words and date filters count), or
    of more than MAX_FUZZY fuzzy terms (each one is compared with a whole vocabulary)."""
    count = fuzzy = 0
    for leaf in leaves(tree):
        count += len(leaf.words) if isinstance(leaf, Phrase) else 1
        if count > MAX_WORDS:
            raise QueryLimitError(text, 0, f"too many words: a query may have {MAX_WORDS:,}")
        fuzzy += isinstance(leaf, Fuzzy)
        if fuzzy > MAX_FUZZY:
            assert isinstance(leaf, Fuzzy)
            raise QueryLimitError(
                text, leaf.at, f"too many fuzzy terms: a query may have {MAX_FUZZY}"
            )


def parse(
    text: str,
    match: str = "all",
    language: str = "english",
    keyword_fields: tuple[str, ...] = (),
    now: datetime | None = None,
) -> Node:
    """Returns the query tree of `text`; raises QuerySyntaxError with a position (its subclass
    QueryLimitError past a limit), or InvalidArgumentError for a bad `match`.

    `match="any"` joins bare words by OR instead of AND, and drops stop words from such an OR
    unless nothing else is left. `keyword_fields` are the index's extra keyword fields
    (`place:`), searched like `tag:`. Relative dates (`date:>=now-30d`) count back from `now`
    (default: the system clock).
    """
    if match not in ("all", "any"):
        raise InvalidArgumentError(f"match must be 'all' or 'any', not {match!r}")
    return _Parser(text, match, language, keyword_fields, now).parse()
