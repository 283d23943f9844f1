"""The whoosh schema newssearch writes, and the analyzer it pickles into every index.

whoosh stores the schema (analyzer included) inside the index, so the analyzer records the
index's language and format version, and is what `Index.open` checks before trusting an index.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from typing import Any

from whoosh import analysis, columns, fields

from newssearch import analysis as text_analysis
from newssearch.dates import PartialDate
from newssearch.documents import Document, keyword_field

# Bump when the schema or the analysis changes in a way that old indexes would answer wrongly,
# or the files change. 2: every commit ends with a checksum footer (engine/checksums.py).
FORMAT_VERSION = 2

# Column value of documents without a date; never within any range, sorted last.
UNDATED = -(2**63)

TEXT_FIELDS = ("title", "body")


class NewsAnalyzer(analysis.Composable):  # type: ignore[misc]
    """whoosh analyzer: words per newssearch.analysis, stemmed in `language`, with positions."""

    # (field name, record key) of each extra keyword field; a class default for indexes
    # pickled before there were any.
    keyword_fields: tuple[tuple[str, str], ...] = ()

    def __init__(
        self,
        language: str = "english",
        format_version: int = FORMAT_VERSION,
        keyword_fields: tuple[tuple[str, str], ...] = (),
    ) -> None:
        self.language = language
        self.format_version = format_version
        if keyword_fields:
            self.keyword_fields = keyword_fields

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, NewsAnalyzer)
            and self.language == other.language
            and self.format_version == other.format_version
        )

    def __hash__(self) -> int:
        return hash((self.language, self.format_version))

    def __call__(
        self,
        value: str,
        positions: bool = False,
        chars: bool = False,
        keeporiginal: bool = False,
        removestops: bool = True,
        start_pos: int = 0,
        start_char: int = 0,
        tokenize: bool = True,
        mode: str = "",
        **kwargs: Any,
    ) -> Iterator[analysis.Token]:
        stem = text_analysis.stemmer(self.language).stem
        token = analysis.Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        for pos, (start, end, word) in enumerate(text_analysis.spans(value)):
            token.text = stem(word)
            token.boost = 1.0
            token.stopped = False
            if keeporiginal:
                token.original = word
            if positions:
                token.pos = start_pos + pos
            if chars:
                token.startchar = start_char + start
                token.endchar = start_char + end
            yield token


def make_schema(language: str, keyword_specs: Iterable[str] = ()) -> fields.Schema:
    """Returns the schema of an index whose text is stemmed in `language`, with an extra
    keyword field for each spec of `keyword_field`. Raises ValueError for a bad one."""
    text_analysis.stemmer(language)  # raises ValueError for an unknown language
    extra = tuple(dict(map(keyword_field, keyword_specs)).items())
    if len({key for _, key in extra}) < len(extra):
        raise ValueError("two keyword fields read the same record key")
    analyzer = NewsAnalyzer(language, FORMAT_VERSION, extra)
    keyword_schema = {name: fields.KEYWORD(commas=True, scorable=False) for name, _ in extra}
    return fields.Schema(
        **keyword_schema,
        id=fields.ID(stored=True, unique=True, sortable=True),
        title=fields.TEXT(analyzer=analyzer, stored=True, phrase=True),
        body=fields.TEXT(analyzer=analyzer, stored=True, phrase=True),
        tag=fields.KEYWORD(commas=True, scorable=False),
        source=fields.ID(),
        date=fields.STORED(),
        date_start=fields.COLUMN(columns.NumericColumn("q", default=UNDATED)),
        date_end=fields.COLUMN(columns.NumericColumn("q", default=UNDATED)),
        fingerprint=fields.COLUMN(columns.VarBytesColumn()),
        meta=fields.STORED(),
    )


def analyzer_of(schema: fields.Schema) -> NewsAnalyzer | None:
    """Returns the NewsAnalyzer an index was written with, or None if it has none."""
    if "body" not in schema:
        return None
    found = getattr(schema["body"], "analyzer", None)
    return found if isinstance(found, NewsAnalyzer) else None


def problem(found: fields.Schema) -> str | None:
    """Returns None if `found` is exactly the schema this newssearch writes (for its language),
    else what it is instead: `not a newssearch index`, `format 1`, `... another schema`."""
    analyzer = analyzer_of(found)
    if analyzer is None:
        return "not a newssearch index"
    if analyzer.format_version != FORMAT_VERSION:
        return f"format {analyzer.format_version}"
    try:
        specs = [f"{name}={key}" for name, key in analyzer.keyword_fields]
        expected = make_schema(analyzer.language, specs)
    except ValueError:
        return f"a newssearch index in a language this one lacks ({analyzer.language!r})"
    if _shape(found) != _shape(expected):
        return "a newssearch index with another schema"
    return None


def _shape(value: Any) -> Any:
    """Returns a comparable picture of a schema: classes and attributes, all the way down."""
    if isinstance(value, (str, bytes, int, float, bool, type(None))):
        return value
    if isinstance(value, (list, tuple)):
        return [_shape(v) for v in value]
    if isinstance(value, dict):
        return sorted((str(k), _shape(v)) for k, v in value.items())
    if isinstance(value, re.Pattern):
        return ("re", value.pattern, value.flags)
    state = value.__dict__ if hasattr(value, "__dict__") else {}
    return (type(value).__module__, type(value).__qualname__, _shape(state))


def document_fields(doc: Document, keyword_names: Iterable[str] = ()) -> dict[str, Any]:
    """Returns the whoosh field values that index `doc` (None: nothing to index), with those
    of the index's extra keyword fields `keyword_names`."""
    meta: dict[str, Any] = {"url": doc.url, "source": doc.source, "tags": list(doc.tags)}
    if doc.keywords:
        meta["keywords"] = {name: list(values) for name, values in doc.keywords.items()}
    return {
        "id": doc.id,
        "title": doc.title,
        "body": doc.body,
        "tag": _keywords(doc.tags),
        **{name: _keywords(doc.keywords.get(name, ())) for name in keyword_names},
        "source": text_analysis.fold_keyword(doc.source) or None,
        "date": doc.date.text if doc.date else None,
        "date_start": doc.date.start if doc.date else UNDATED,
        "date_end": doc.date.end if doc.date else UNDATED,
        "fingerprint": doc.fingerprint().encode(),
        "meta": json.dumps(meta),
    }


def stored_document(stored: dict[str, Any]) -> Document:
    """Returns the Document that whoosh's stored fields of an article hold: what
    `document_fields` stored, read back."""
    meta = json.loads(stored.get("meta") or "{}")
    date = stored.get("date")
    return Document(
        id=stored["id"],
        body=stored.get("body") or "",
        title=stored.get("title") or "",
        date=PartialDate.parse(date) if date else None,
        url=meta.get("url", ""),
        source=meta.get("source", ""),
        tags=tuple(meta.get("tags", ())),
        keywords=meta.get("keywords", {}),
    )


def _keywords(values: Iterable[str]) -> str | None:
    """Returns the folded values joined for a comma-separated whoosh KEYWORD field."""
    return ",".join(k for k in map(text_analysis.fold_keyword, values) if k) or None
