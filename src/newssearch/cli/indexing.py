"""`newssearch index`, `stats` and `delete`: building and maintaining an index."""

from __future__ import annotations

import json
import sys

import click

from newssearch.analysis import languages
from newssearch.cli.app import DEFAULT_SEEDS, index_option, main, run_index
from newssearch.documents import keyword_field
from newssearch.index import Index


def check_keyword_fields(
    ctx: click.Context, param: click.Parameter, value: tuple[str, ...]
) -> tuple[str, ...]:
    """Refuses a --keyword-field that names no allowed field, as a usage error (exit 2)."""
    try:
        names = [keyword_field(spec)[0] for spec in value]
    except ValueError as e:
        raise click.BadParameter(str(e)) from None
    if len(set(names)) < len(names):
        raise click.BadParameter("two keyword fields have the same name")
    return value


@main.command("index")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, allow_dash=True))
@index_option
@click.option(
    "--language",
    default=None,
    metavar="NAME",
    help="Snowball stemming language of a new index (default english).",
)
@click.option("--rebuild", is_flag=True, help="Replace the whole index with PATHS, atomically.")
@click.option("--strict", is_flag=True, help="Stop at the first bad document; commit nothing.")
@click.option(
    "--keyword-field",
    "keyword_fields",
    multiple=True,
    metavar="[NAME=]KEY",
    callback=check_keyword_fields,
    help="A keyword field NAME of a new or rebuilt index, holding each record's KEY (a string "
    "or a list): `places` is `place:` (the key less one trailing s), `region=regions` is "
    "`region:`. Repeatable; recorded in the index.",
)
@click.option(
    "--lenient-dates",
    is_flag=True,
    help="Index a document whose date does not parse undated, with a warning (not rejected).",
)
def index_command(
    paths: tuple[str, ...],
    index_dir: str,
    language: str | None,
    rebuild: bool,
    strict: bool,
    keyword_fields: tuple[str, ...],
    lenient_dates: bool,
) -> None:
    """Index articles from PATHS (files or folders; default ./seeds; - is standard input).

    Reads seed text (*.txt), JSON Lines (*.jsonl, *.jsonl.gz, and standard input), JSON
    arrays (*.json). Adds new ids, replaces changed documents, skips unchanged ones. Exits 1
    if any document was rejected, 2 if a PATH does not exist (nothing is written then).
    """
    if language is not None and language not in languages():
        raise click.BadParameter(
            f"{language!r}; choose one of: {', '.join(languages())}", param_hint="--language"
        )
    if not paths and not DEFAULT_SEEDS.is_dir():
        raise click.UsageError(
            f"no PATH given, and no ./{DEFAULT_SEEDS} folder here to index by default; name the "
            "files or folders to index (- for standard input)"
        )
    report = run_index(
        index_dir,
        paths or (str(DEFAULT_SEEDS),),
        language,
        rebuild,
        strict,
        lenient_dates,
        keyword_fields,
    )
    for rejected in report.rejected:
        click.echo(f"rejected {rejected}", err=True)
    for warning in report.warnings:
        click.echo(f"warning {warning}", err=True)
    click.echo(report.summary())
    if report.rejected:
        sys.exit(1)


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
