"""The document record: `Document` (one article, validated), `Rejected` (a record that is not
one, and why), the made-up headline of an untitled article, and `--keyword-field` specs.

The readers that stream documents from files are in `newssearch.readers`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from newssearch.dates import PartialDate
from newssearch.errors import DocumentError

_REASON_CHARS = 200  # a reason quotes the bad value, shortened past this
_SURROGATE = re.compile("[\ud800-\udfff]")
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
# Names a keyword field of `--keyword-field` may not take: the schema's and the query's own;
# and record keys already read for another purpose.
_RESERVED_NAMES = ("id", "title", "body", "tag", "source", "date", "date_start", "date_end",
                   "fingerprint", "meta", "url")  # fmt: skip
_RESERVED_KEYS = ("id", "title", "body", "text", "content", "date", "url", "source", "tags",
                  "topics")  # fmt: skip
_FIELD_NAME = re.compile(r"[a-z]+")  # what the query's `name:` accepts
_HEADLINE_CHARS = 100
# A full stop ends a sentence unless it ends an initial (`U.S.`, `Z. Hasanov`) or a title.
_SENTENCE_END = re.compile(
    r"(?<!\b[A-Z])(?<!\b(?:Mr|Ms|Dr|St|Jr|Sr|Co|No|Mt))(?<!\b(?:Mrs|Inc|Ltd|Gen|Col))"
    r"[.!?](?=\s)|\n\s*\n"
)


@dataclass(frozen=True)
class Document:
    """One article; `date` is a PartialDate (`PartialDate.parse("2019-10")`) or None."""

    id: str
    body: str = ""
    title: str = ""
    date: PartialDate | None = None
    url: str = ""
    source: str = ""
    tags: tuple[str, ...] = ()
    origin: str = field(default="", compare=False)
    # Values of the index's extra keyword fields, by field name (`{"place": ("usa",)}`).
    keywords: Mapping[str, tuple[str, ...]] = field(default_factory=dict, hash=False)
    warning: str = field(default="", compare=False)  # e.g. a date dropped by lenient reading

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not self.id.strip():
            raise DocumentError("missing id")
        object.__setattr__(self, "tags", tuple(self.tags))
        if self.keywords:
            object.__setattr__(
                self, "keywords", {name: tuple(v) for name, v in self.keywords.items() if v}
            )
        control = _CONTROL.search(self.id)
        if control:
            raise DocumentError(
                f"id {shown(self.id)} holds the control character {control.group()!r} "
                f"at character {control.start() + 1}"
            )
        named = [("id", self.id), ("title", self.title), ("body", self.body)]
        named += [("url", self.url), ("source", self.source), *(("tags", t) for t in self.tags)]
        named += [(name, v) for name, values in self.keywords.items() for v in values]
        # A lone surrogate is text that UTF-8 cannot encode, nor the index store. ASCII text,
        # the common case, is one fast scan.
        for name, value in named:
            surrogate = not value.isascii() and _SURROGATE.search(value)
            if surrogate:
                raise DocumentError(
                    f"{name} holds a lone surrogate {surrogate.group()!r} at character "
                    f"{surrogate.start() + 1} (not Unicode text: UTF-8 cannot encode it)"
                )
        if not self.title.strip() and not self.body.strip():
            raise DocumentError(f"document {self.id!r} has no text (neither title nor body)")

    @property
    def headline(self) -> str:
        """Returns the title, or for an untitled article its first sentence, shortened."""
        return self.title.strip() or headline(self.body)

    def fingerprint(self) -> str:
        """Returns a hash of everything indexed: equal hashes mean an unchanged document."""
        parts = [
            self.title,
            self.body,
            self.date.text if self.date else "",
            self.url,
            self.source,
            "\x1f".join(self.tags),
        ]
        # Only when present, so that documents without them keep their old fingerprints.
        parts += [f"{name}\x1f" + "\x1f".join(v) for name, v in sorted(self.keywords.items())]
        return hashlib.blake2b("\x1e".join(parts).encode(), digest_size=16).hexdigest()


@dataclass(frozen=True)
class Rejected:
    """A record that could not be read as a document, and why."""

    origin: str
    reason: str

    def __str__(self) -> str:
        return f"{self.origin}: {self.reason}"


def headline(body: str) -> str:
    """Returns the first sentence of `body`, cut at a word boundary near 100 characters with `…`."""
    text = body.strip()
    end = _SENTENCE_END.search(text)
    sentence = " ".join((text[: end.end()] if end else text).split())
    if len(sentence) <= _HEADLINE_CHARS:
        return sentence
    cut = sentence.rfind(" ", 0, _HEADLINE_CHARS)
    return sentence[: cut if cut > 0 else _HEADLINE_CHARS].rstrip(",;:") + "…"


def keyword_field(spec: str) -> tuple[str, str]:
    """Returns (field name, record key) for `place=places`, or for `places` alone: the key less
    one trailing "s" (as `tag:` reads `tags`). Raises ValueError for a name or key not allowed."""
    name, equals, key = spec.partition("=")
    if not equals:
        key, name = name, (name[:-1] if len(name) > 1 and name.endswith("s") else name)
    if not _FIELD_NAME.fullmatch(name):
        raise ValueError(f"keyword field {spec!r}: a field name is lower-case letters a-z")
    if name in _RESERVED_NAMES:
        raise ValueError(f"keyword field {spec!r}: {name!r} is a field of its own already")
    if not key or key in _RESERVED_KEYS:
        raise ValueError(f"keyword field {spec!r}: the record key {key!r} is read already")
    return name, key


def shown(value: object) -> str:
    """Returns repr(value), shortened for a one-line reason."""
    text = repr(value)
    return text if len(text) <= 60 else text[:59] + "…"


def shorten(reason: str) -> str:
    return reason if len(reason) <= _REASON_CHARS else reason[: _REASON_CHARS - 1] + "…"
