"""The `newssearch` command: a thin click layer over the library, one command per library call."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

from newssearch.analysis import languages
from newssearch.dates import PartialDate
from newssearch.documents import Document, Rejected, load_documents
from newssearch.errors import DateError, IndexNotFoundError, NewssearchError, QuerySyntaxError
from newssearch.index import Index, IndexReport
from newssearch.search import SORTS

DEFAULT_SEEDS = Path("seeds")


def _default_index() -> str:
    return os.environ.get("NEWSSEARCH_INDEX") or "index"


index_option = click.option(
    "--index",
    "index_dir",
    type=click.Path(file_okay=False),
    default=_default_index,
    show_default="$NEWSSEARCH_INDEX or ./index",
    help="Directory of the index.",
)


class _Group(click.Group):
    """Turns every NewssearchError into one line on stderr and a non-zero exit status."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except QuerySyntaxError as e:
            click.echo(f"newssearch: query error: {e}", err=True)
            sys.exit(2)
        except NewssearchError as e:
            click.echo(f"newssearch: {e}", err=True)
            sys.exit(1)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="newssearch")
def main() -> None:
    """Full-text search for news archives: index articles, then query them."""


@main.command("index")
@click.argument("paths", nargs=-1, type=click.Path())
@index_option
@click.option(
    "--language",
    default=None,
    metavar="NAME",
    help="Snowball stemming language of a new index (default english).",
)
@click.option("--rebuild", is_flag=True, help="Replace the whole index with PATHS, atomically.")
@click.option("--strict", is_flag=True, help="Stop at the first bad document; commit nothing.")
def index_command(
    paths: tuple[str, ...], index_dir: str, language: str | None, rebuild: bool, strict: bool
) -> None:
    """Index articles from PATHS (files or folders; default ./seeds).

    Reads seed text (*.txt), JSON Lines (*.jsonl, *.jsonl.gz). Adds new ids, replaces changed
    documents, skips unchanged ones. Exits 1 if any document was rejected.
    """
    if language is not None and language not in languages():
        raise click.BadParameter(
            f"{language!r}; choose one of: {', '.join(languages())}", param_hint="--language"
        )
    report = _index(index_dir, paths or (str(DEFAULT_SEEDS),), language, rebuild, strict)
    for rejected in report.rejected:
        click.echo(f"rejected {rejected}", err=True)
    click.echo(report.summary())
    if report.rejected:
        sys.exit(1)


def _index(
    index_dir: str, paths: tuple[str, ...], language: str | None, rebuild: bool, strict: bool
) -> IndexReport:
    try:
        index = Index.open(index_dir)
        if rebuild or (language and language != index.language):
            if not rebuild:
                raise NewssearchError(
                    f"the index at {index_dir} stems in {index.language}; "
                    f"use --rebuild to rebuild it in {language}"
                )
            index = Index.create(index_dir, language or index.language, overwrite=True)
    except IndexNotFoundError:
        index = Index.create(index_dir, language or "english")
    with index:
        return index.add(_with_progress(load_documents(*paths)), strict=strict)


def _with_progress(items: Iterator[Document | Rejected]) -> Iterator[Document | Rejected]:
    """Yields `items`, showing a running count on stderr when it is a terminal."""
    if not sys.stderr.isatty():
        yield from items
        return
    count = 0
    for count, item in enumerate(items, start=1):
        if count % 500 == 0:
            click.echo(f"\rindexing… {count:,} documents read", err=True, nl=False)
        yield item
    click.echo(f"\rindexing… {count:,} documents read, committing", err=True)


def _check_date(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """Refuses an option value that is not a partial date, as a usage error (exit 2)."""
    if value is not None:
        try:
            PartialDate.parse(value)
        except DateError as e:
            raise click.BadParameter(str(e)) from None
    return value


@main.command("query")
@click.argument("query")
@index_option
@click.option(
    "--limit", default=10, show_default=True, type=click.IntRange(min=1), help="Hits to show."
)
@click.option(
    "--offset",
    default=0,
    show_default=True,
    type=click.IntRange(min=0),
    help="Hits to skip first (paging).",
)
@click.option(
    "--from",
    "date_from",
    metavar="DATE",
    callback=_check_date,
    help="Only articles dated on or after DATE (inclusive at its precision).",
)
@click.option(
    "--to",
    "date_to",
    metavar="DATE",
    callback=_check_date,
    help="Only articles dated on or before DATE (inclusive at its precision).",
)
@click.option(
    "--sort",
    type=click.Choice(SORTS),
    default="relevance",
    show_default=True,
    help="Order of hits.",
)
@click.option(
    "--match",
    type=click.Choice(["all", "any"]),
    default="all",
    show_default=True,
    help="Whether bare words must all match, or any of them (ranked).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--no-snippets", is_flag=True, help="Leave out the snippets.")
def query_command(
    query: str,
    index_dir: str,
    limit: int,
    offset: int,
    date_from: str | None,
    date_to: str | None,
    sort: str,
    match: str,
    as_json: bool,
    no_snippets: bool,
) -> None:
    """Search the index. QUERY syntax: see the README (words, "phrases", OR, NOT, date:...)."""
    with _open_or_build(index_dir) as index:
        results = index.search(
            query,
            limit=limit,
            offset=offset,
            date_from=date_from,
            date_to=date_to,
            sort=sort,
            match=match,
            snippets=not no_snippets,
        )
    if as_json:
        click.echo(
            json.dumps(
                {
                    "query": results.query,
                    "total": results.total,
                    "took_ms": round(results.took_ms, 3),
                    "hits": [
                        {
                            "id": h.id,
                            "title": h.title,
                            "date": h.date,
                            "score": h.score,
                            "snippet": h.snippet.render("html") if h.snippet else None,
                        }
                        for h in results.hits
                    ],
                },
                ensure_ascii=False,
            )
        )
        return
    style = "ansi" if sys.stdout.isatty() else "plain"
    shown = f"{offset + 1}-{offset + len(results.hits)} of " if results.hits else ""
    click.echo(f"{shown}{results.total} hits ({results.took_ms:.1f} ms)")
    for rank, hit in enumerate(results.hits, start=offset + 1):
        click.echo(f"\n{rank}. {hit.date or 'undated'}  {hit.id}  {hit.title}")
        if hit.snippet and hit.snippet.text:
            click.echo(f"   {hit.snippet.render(style)}")


def _open_or_build(index_dir: str) -> Index:
    """Returns the index; on first use of the default index, builds it from ./seeds first."""
    try:
        return Index.open(index_dir)
    except IndexNotFoundError:
        if index_dir != _default_index() or not DEFAULT_SEEDS.is_dir():
            raise
    click.echo(
        f"newssearch: no index at {index_dir} yet; building it from {DEFAULT_SEEDS}/", err=True
    )
    report = _index(index_dir, (str(DEFAULT_SEEDS),), None, False, False)
    click.echo(f"newssearch: {report.summary()}", err=True)
    return Index.open(index_dir)


@main.command("stats")
@index_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def stats_command(index_dir: str, as_json: bool) -> None:
    """Show what the index holds: documents, date range, size, language, terms, segments."""
    with Index.open(index_dir) as index:
        stats = index.stats()
    if as_json:
        click.echo(
            json.dumps(
                {
                    "documents": stats.documents,
                    "date_min": stats.date_min,
                    "date_max": stats.date_max,
                    "size_bytes": stats.size_bytes,
                    "language": stats.language,
                    "distinct_terms": stats.distinct_terms,
                    "segments": stats.segments,
                }
            )
        )
        return
    click.echo(
        f"index:      {stats.path}\n"
        f"documents:  {stats.documents}\n"
        f"dates:      {stats.date_min or '-'} .. {stats.date_max or '-'}\n"
        f"size:       {stats.size_bytes / 1e6:.1f} MB ({stats.size_bytes} bytes)\n"
        f"language:   {stats.language}\n"
        f"terms:      {stats.distinct_terms}\n"
        f"segments:   {stats.segments}"
    )


@main.command("delete")
@click.argument("ids", nargs=-1, required=True)
@index_option
def delete_command(ids: tuple[str, ...], index_dir: str) -> None:
    """Delete documents by id. Exits 1 if any id was not in the index."""
    with Index.open(index_dir) as index:
        deleted = index.delete(list(ids))
    missing = [i for i in dict.fromkeys(ids) if i not in deleted]
    click.echo(f"deleted {len(deleted)} of {len(set(ids))}")
    if missing:
        click.echo(f"newssearch: not in the index: {', '.join(missing)}", err=True)
        sys.exit(1)
