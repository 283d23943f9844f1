"""The `newssearch` command group, and what its commands share: the --index option, one-line
errors, and the first-run build of the default index from ./seeds."""

from __future__ import annotations

import functools
import importlib
import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from newssearch.dates import resolve
from newssearch.documents import Document, Rejected, keyword_field
from newssearch.errors import (
    DateError,
    IncompatibleIndexError,
    IndexCorruptError,
    IndexNotFoundError,
    NewssearchError,
    QuerySyntaxError,
)

if TYPE_CHECKING:
    from newssearch.changes import IndexReport
    from newssearch.index import Index

DEFAULT_SEEDS = Path("seeds")

# Each command and the module of `newssearch.cli` that defines it, imported when the command
# is run or listed (click's lazy subcommands): a command pays only for its own imports, and
# the writer's worker processes, which import the `newssearch` script again, pay for none.
COMMANDS = {
    "check": "maintenance",
    "delete": "indexing",
    "index": "indexing",
    "optimize": "maintenance",
    "query": "querying",
    "serve": "serving",
    "show": "exploring",
    "similar": "exploring",
    "stats": "indexing",
    "syntax": "syntax",
}


def default_index() -> str:
    return os.environ.get("NEWSSEARCH_INDEX") or "index"


index_option = click.option(
    "--index",
    "index_dir",
    type=click.Path(file_okay=False),
    default=default_index,
    show_default="$NEWSSEARCH_INDEX or ./index",
    help="Directory of the index.",
)


class _Group(click.Group):
    """Turns every NewssearchError into one line on stderr and a non-zero exit status; loads
    each command from its module (COMMANDS) when it is first asked for.

    The status is 2 for a malformed query, else 1 — or what a command put in
    `ctx.meta["newssearch.error_status"]` (`query --exit-code`: 2 for every error).
    """

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*COMMANDS, *self.commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in COMMANDS and cmd_name not in self.commands:
            importlib.import_module(f"newssearch.cli.{COMMANDS[cmd_name]}")  # registers it
        return super().get_command(ctx, cmd_name)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except QuerySyntaxError as e:
            click.echo(f"newssearch: query error: {e}", err=True)
            sys.exit(2)
        except NewssearchError as e:
            click.echo(f"newssearch: {e}", err=True)
            sys.exit(ctx.meta.get("newssearch.error_status", 1))


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="newssearch")
def main() -> None:
    """Full-text search for news archives: index articles, then query them."""


def run_index(
    index_dir: str,
    paths: tuple[str, ...],
    language: str | None,
    rebuild: bool,
    strict: bool,
    lenient_dates: bool = False,
    keyword_fields: tuple[str, ...] = (),
) -> IndexReport:
    from newssearch.index import Index
    from newssearch.readers import input_size, load_documents

    try:
        index = Index.open(index_dir)
        # Specs are compared as the fields they make: `places` and `place=places` are one.
        wanted = dict(map(keyword_field, keyword_fields))
        kept = tuple(f"{name}={key}" for name, key in index.keyword_fields.items())
        if wanted and wanted != index.keyword_fields and not rebuild:
            raise NewssearchError(
                f"the index at {index_dir} has the keyword fields {', '.join(kept) or '(none)'};"
                " use --rebuild to change them"
            )
        if rebuild or (language and language != index.language):
            if not rebuild:
                raise NewssearchError(
                    f"the index at {index_dir} stems in {index.language}; "
                    f"use --rebuild to rebuild it in {language}"
                )
            index = Index.create(
                index_dir,
                language or index.language,
                overwrite=True,
                keyword_fields=keyword_fields or kept,
            )
    except IndexNotFoundError:
        index = Index.create(index_dir, language or "english", keyword_fields=keyword_fields)
    except (IndexCorruptError, IncompatibleIndexError):
        if not rebuild:
            raise
        index = Index.create(
            index_dir, language or "english", overwrite=True, keyword_fields=keyword_fields
        )
    with index:
        load = functools.partial(
            load_documents, *paths, keyword_fields=index.keyword_fields, lenient_dates=lenient_dates
        )
        return index.add(_with_progress(load, input_size(*paths)), strict=strict)


def _with_progress(
    load: Callable[..., Iterator[Document | Rejected]], size: int
) -> Iterator[Document | Rejected]:
    """Yields `load()`; on a terminal, with a bar on stderr: percent of the `size` input bytes
    read, documents per second, time left. Nothing when stderr is not a terminal."""
    if not sys.stderr.isatty():
        yield from load()
        return
    if not size:  # standard input only: no size to measure against, a running count
        count = 0
        for count, item in enumerate(load(), start=1):
            if count % 500 == 0:
                click.echo(f"\rindexing… {count:,} documents read", err=True, nl=False)
            yield item
        click.echo(f"\rindexing… {count:,} documents read, committing", err=True)
        return
    read = [0]  # input bytes read so far, as load_documents reports them

    def reached(at: int) -> None:
        read[0] = at

    started = time.perf_counter()
    bar = click.progressbar(
        length=size,
        label="indexing",
        file=sys.stderr,
        width=24,
        show_eta=True,
        item_show_func=lambda info: info,
    )
    count = 0
    with bar:
        for count, item in enumerate(load(progress=reached), start=1):
            if count % 200 == 0:
                rate = count / max(time.perf_counter() - started, 1e-9)
                bar.update(read[0] - bar.pos, f"{count:,} documents, {rate:,.0f}/s")
            yield item
        bar.update(size - bar.pos, f"{count:,} documents")
    click.echo(
        f"indexing… {count:,} documents read; writing the last batches and committing", err=True
    )


def check_date(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """Refuses an option value that is not a partial or relative date (`-7d`), as a usage
    error (exit 2)."""
    if value is not None:
        try:
            resolve(value, shorthand=True)
        except DateError as e:
            raise click.BadParameter(str(e)) from None
    return value


from_option = click.option(
    "--from",
    "date_from",
    metavar="DATE",
    callback=check_date,
    help="Only articles dated on or after DATE (inclusive at its precision); "
    "relative: -7d, now-2w, now-6m, now-1y.",
)
to_option = click.option(
    "--to",
    "date_to",
    metavar="DATE",
    callback=check_date,
    help="Only articles dated on or before DATE (inclusive at its precision); "
    "relative: -7d, now-2w, now-6m, now-1y.",
)


def open_or_build(index_dir: str) -> Index:
    """Returns the index; on first use of the default index, builds it from ./seeds first."""
    from newssearch.index import Index

    try:
        return Index.open(index_dir)
    except IndexNotFoundError:
        if index_dir != default_index() or not DEFAULT_SEEDS.is_dir():
            raise
    click.echo(
        f"newssearch: no index at {index_dir} yet; building it from {DEFAULT_SEEDS}/", err=True
    )
    report = run_index(index_dir, (str(DEFAULT_SEEDS),), None, False, False)
    click.echo(f"newssearch: {report.summary()}", err=True)
    return Index.open(index_dir)
