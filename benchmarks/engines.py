"""One small adapter per engine: build an index, open it, answer the neutral queries.

Every engine indexes the same thing: stemmed title and body with positions, stored id, title
and body, and the date (newssearch its own way; the others as UTC seconds in an integer field).
Each answers the top 10 with or without snippets, the way its users would ask for them:
newssearch `search(q, limit=10)` (snippets on, its default), whoosh `Hit.highlights("body")`,
FTS5 `snippet()` of the body, tantivy `SnippetGenerator` on the body. `engine_child.py` runs
them in a process of their own.
"""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Callable, Iterable, Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

from _common import source_digest
from _corpora import Article, date_seconds
from _queries import Query

TITLE_WEIGHT = 2.0  # newssearch's own title weight, given to the engines that take one


def _fields(article: Article) -> dict[str, Any]:
    """Returns the id, title, body and (when dated) epoch-seconds date of an article."""
    fields: dict[str, Any] = {"id": article.id, "title": article.title, "body": article.body}
    seconds = date_seconds(article.date)
    if seconds is not None:
        fields["date"] = seconds
    return fields


class EngineUnavailableError(Exception):
    """The engine cannot run here (not installed)."""


class Engine:
    """Builds an index in a directory, opens it, and answers the neutral queries."""

    settings = ""

    def version(self) -> str:
        """Returns the engine's version, as shown in the results."""
        raise NotImplementedError

    def build(self, articles: Iterable[Article], directory: Path) -> int:
        """Returns the number of documents indexed and committed into `directory`."""
        raise NotImplementedError

    def open(self, directory: Path) -> None:
        raise NotImplementedError

    def top10(self, query: Query, snippets: bool) -> list[str]:
        """Returns the ids of the best 10 hits (for a date-only query: any 10 matches), with
        their snippets made when `snippets` is true."""
        raise NotImplementedError

    def total(self, query: Query) -> int:
        """Returns the exact number of matches (not timed)."""
        raise NotImplementedError


class Newssearch(Engine):
    settings = "`Index.create`, `index.add(Document...)`; `search(q, limit=10, snippets=...)`"

    def __init__(self) -> None:
        try:
            import newssearch
        except ImportError as error:
            raise EngineUnavailableError(f"cannot import newssearch ({error})") from error
        self.ns = newssearch
        self.index: Any = None

    def version(self) -> str:
        """Returns a digest of the package's files, as loaded: equal digests, same code."""
        return f"source {source_digest(Path(self.ns.__file__).parent)}"

    def build(self, articles: Iterable[Article], directory: Path) -> int:
        index = self.ns.Index.create(directory / "index", language="english")
        report = index.add(self._documents(articles))
        if report.rejected:
            print(
                f"newssearch rejected {len(report.rejected)}: {report.rejected[0]}", file=sys.stderr
            )
        index.close()
        return int(report.added + report.updated)

    def _documents(self, articles: Iterable[Article]) -> Iterator[Any]:
        parse = self.ns.PartialDate.parse
        for article in articles:
            try:
                date = parse(article.date) if article.date else None
            except self.ns.DateError:
                date = None
            yield self.ns.Document(id=article.id, title=article.title, body=article.body, date=date)

    def open(self, directory: Path) -> None:
        self.index = self.ns.Index.open(directory / "index")

    def top10(self, query: Query, snippets: bool) -> list[str]:
        return [hit.id for hit in self.index.search(query.label, limit=10, snippets=snippets).hits]

    def total(self, query: Query) -> int:
        return int(self.index.search(query.label, limit=1, snippets=False).total)


class Whoosh(Engine):
    """Plain whoosh: StemmingAnalyzer, BM25F, the default writer or `procs=2, multisegment`."""

    def __init__(self, procs: int = 1) -> None:
        try:
            from whoosh import analysis, fields, qparser
        except ImportError as error:
            raise EngineUnavailableError("whoosh is not installed") from error

        self.procs = procs
        writer = "default writer" if procs == 1 else f"writer(procs={procs}, multisegment=True)"
        self.settings = (
            f"StemmingAnalyzer, {writer}, MultifieldParser + NumericRange; `~N` as slop N + 1 "
            "(whoosh counts positions, not words between); snippets `Hit.highlights('body')`"
        )
        stem = analysis.StemmingAnalyzer()
        self.schema = fields.Schema(
            id=fields.ID(stored=True, unique=True),
            title=fields.TEXT(analyzer=stem, stored=True),
            body=fields.TEXT(analyzer=stem, stored=True),
            date=fields.NUMERIC(int, bits=64, stored=True, signed=True),
        )
        self.parser = qparser.MultifieldParser(
            ["title", "body"], self.schema, fieldboosts={"title": TITLE_WEIGHT}
        )
        self.searcher: Any = None

    def version(self) -> str:
        import whoosh

        return f"whoosh {whoosh.versionstring()}"

    def build(self, articles: Iterable[Article], directory: Path) -> int:
        from whoosh import index

        ix = index.create_in(str(directory), self.schema)
        options = {"procs": self.procs, "multisegment": True} if self.procs > 1 else {}
        writer = ix.writer(**options)
        count = 0
        for article in articles:
            writer.add_document(**_fields(article))
            count += 1
        writer.commit()
        ix.close()
        return count

    def open(self, directory: Path) -> None:
        from whoosh import index

        self.searcher = index.open_dir(str(directory)).searcher()

    def _query(self, query: Query) -> Any:
        from whoosh import query as wq

        parts = []
        if query.op == "near":  # whoosh's slop is the distance in positions: words between + 1
            parts.append(self.parser.parse(f'"{" ".join(query.words)}"~{query.slop + 1}'))
        elif query.words:
            parts.append(self.parser.parse(query.words_text))
        if query.dates:
            parts.append(wq.NumericRange("date", *query.seconds))
        return parts[0] if len(parts) == 1 else wq.And(parts)

    def top10(self, query: Query, snippets: bool) -> list[str]:
        hits = self.searcher.search(self._query(query), limit=10)
        if snippets:
            for hit in hits:
                hit.highlights("body")
        return [hit["id"] for hit in hits]

    def total(self, query: Query) -> int:
        # With a limit, len(results) can undercount (WHOOSH-NOTES.md); collecting all cannot.
        return int(self.searcher.search(self._query(query), limit=None).scored_length())


class Fts5(Engine):
    settings = (
        "fts5(title, body, tokenize='porter unicode61') + a table (id, date) with an index "
        "on date; bm25(fts, 2, 1); one transaction; `~N` as NEAR(..., N) (in any order); "
        "snippets `snippet(fts, 1, ...)` of the body"
    )

    def __init__(self) -> None:
        self.db: sqlite3.Connection | None = None

    def version(self) -> str:
        return f"SQLite {sqlite3.sqlite_version}"

    def build(self, articles: Iterable[Article], directory: Path) -> int:
        db = sqlite3.connect(directory / "fts5.sqlite")
        try:
            db.execute(
                "CREATE VIRTUAL TABLE fts USING fts5(title, body, tokenize='porter unicode61')"
            )
        except sqlite3.OperationalError as error:
            raise EngineUnavailableError(f"this sqlite3 has no FTS5 ({error})") from error
        db.execute("CREATE TABLE docs(rowid INTEGER PRIMARY KEY, id TEXT NOT NULL, date INTEGER)")
        count = 0
        with db:
            for count, article in enumerate(articles, start=1):
                db.execute(
                    "INSERT INTO docs(rowid, id, date) VALUES (?, ?, ?)",
                    (count, article.id, date_seconds(article.date)),
                )
                db.execute(
                    "INSERT INTO fts(rowid, title, body) VALUES (?, ?, ?)",
                    (count, article.title, article.body),
                )
            db.execute("CREATE INDEX docs_date ON docs(date)")
        db.close()
        return count

    def open(self, directory: Path) -> None:
        self.db = sqlite3.connect(directory / "fts5.sqlite")

    @staticmethod
    def _match(query: Query) -> str:
        # Quoted, every word is a plain string to FTS5 whatever its spelling.
        if query.op == "phrase":
            text = '"' + " ".join(query.words) + '"'
        elif query.op == "near":
            text = "NEAR(" + " ".join(f'"{word}"' for word in query.words) + f", {query.slop})"
        elif query.op == "prefix":
            text = f'"{query.words[0]}" *'
        else:
            text = f" {query.op.upper()} ".join(f'"{word}"' for word in query.words)
        return f'{text} NOT "{query.exclude}"' if query.exclude else text

    def _sql(
        self, query: Query, count: bool, snippets: bool = False
    ) -> tuple[str, tuple[Any, ...]]:
        if not query.words:
            what = "count(*)" if count else "id"
            return f"SELECT {what} FROM docs WHERE date BETWEEN ? AND ? LIMIT ?", (
                *query.seconds,
                -1 if count else 10,
            )
        where = "fts MATCH ?"
        params: tuple[Any, ...] = (self._match(query),)
        if query.dates:
            where, params = where + " AND d.date BETWEEN ? AND ?", (*params, *query.seconds)
        if count:
            return (
                f"SELECT count(*) FROM fts JOIN docs d ON d.rowid = fts.rowid WHERE {where}",
                params,
            )
        snippet = ", snippet(fts, 1, '<b>', '</b>', '…', 20)" if snippets else ""
        sql = (
            f"SELECT d.id{snippet} FROM fts JOIN docs d ON d.rowid = fts.rowid WHERE {where} "
            f"ORDER BY bm25(fts, {TITLE_WEIGHT}, 1.0) LIMIT 10"
        )
        return sql, params

    def top10(self, query: Query, snippets: bool) -> list[str]:
        assert self.db is not None
        rows = self.db.execute(*self._sql(query, count=False, snippets=snippets))
        return [row[0] for row in rows]

    def total(self, query: Query) -> int:
        assert self.db is not None
        return int(self.db.execute(*self._sql(query, count=True)).fetchone()[0])


class Tantivy(Engine):
    settings = (
        "en_stem, integer fast field for the date + range_query; default writer "
        "(128 MB heap, threads chosen by tantivy); top 10 without count; prefix as "
        "`regex_query` `word.*` on title and body; snippets `SnippetGenerator` on the body"
    )

    def __init__(self) -> None:
        try:
            import tantivy
        except ImportError as error:
            raise EngineUnavailableError("tantivy is not installed") from error
        self.tantivy = tantivy
        builder = tantivy.SchemaBuilder()
        builder.add_text_field("id", stored=True, tokenizer_name="raw")
        builder.add_text_field("title", stored=True, tokenizer_name="en_stem")
        builder.add_text_field("body", stored=True, tokenizer_name="en_stem")
        builder.add_integer_field("date", stored=True, indexed=True, fast=True)
        self.schema = builder.build()
        self.index: Any = None
        self.searcher: Any = None

    def version(self) -> str:
        return f"tantivy-py {metadata.version('tantivy')}"

    def build(self, articles: Iterable[Article], directory: Path) -> int:
        index = self.tantivy.Index(self.schema, path=str(directory))
        writer = index.writer()
        count = 0
        for article in articles:
            writer.add_document(self.tantivy.Document(**_fields(article)))
            count += 1
        writer.commit()
        writer.wait_merging_threads()
        return count

    def open(self, directory: Path) -> None:
        self.index = self.tantivy.Index.open(str(directory))
        self.searcher = self.index.searcher()

    def _query(self, query: Query) -> Any:
        tantivy = self.tantivy
        parts = []
        if query.op == "prefix":
            parts.append(self._prefix(query.words[0]))
        elif query.words:
            if query.op in ("phrase", "near"):
                text = query.words_text
            elif query.op == "and" or query.exclude:
                text = " ".join(f"+{word}" for word in query.words)
            else:
                text = " OR ".join(query.words)
            if query.exclude:
                text += f" -{query.exclude}"  # its parser reads `AND NOT x` as something else
            boosts = {"title": TITLE_WEIGHT}
            parts.append(self.index.parse_query(text, ["title", "body"], field_boosts=boosts))
        if query.dates:
            integer = tantivy.FieldType.Integer
            parts.append(tantivy.Query.range_query(self.schema, "date", integer, *query.seconds))
        if len(parts) == 1:
            return parts[0]
        return tantivy.Query.boolean_query([(tantivy.Occur.Must, part) for part in parts])

    def _prefix(self, word: str) -> Any:
        tantivy = self.tantivy
        title = tantivy.Query.regex_query(self.schema, "title", f"{word}.*")
        body = tantivy.Query.regex_query(self.schema, "body", f"{word}.*")
        return tantivy.Query.boolean_query(
            [
                (tantivy.Occur.Should, tantivy.Query.boost_query(title, TITLE_WEIGHT)),
                (tantivy.Occur.Should, body),
            ]
        )

    def top10(self, query: Query, snippets: bool) -> list[str]:
        parsed = self._query(query)
        hits = self.searcher.search(parsed, 10, count=False).hits
        docs = [self.searcher.doc(address) for _, address in hits]
        if snippets:
            generator = self.tantivy.SnippetGenerator.create(
                self.searcher, parsed, self.schema, "body"
            )
            for doc in docs:
                generator.snippet_from_doc(doc).to_html()
        return [doc.get_first("id") for doc in docs]

    def total(self, query: Query) -> int:
        return int(self.searcher.search(self._query(query), 1, count=True).count)


ENGINES: dict[str, Callable[[], Engine]] = {
    "newssearch": Newssearch,
    "whoosh": Whoosh,
    "whoosh-mp": lambda: Whoosh(procs=2),
    "fts5": Fts5,
    "tantivy": Tantivy,
}


def make(name: str) -> Engine:
    """Returns the engine called `name`; raises EngineUnavailableError if it cannot run here."""
    try:
        factory = ENGINES[name]
    except KeyError:
        raise EngineUnavailableError(f"unknown engine {name!r}") from None
    return factory()
