"""`newssearch query`: searching an index, printed for a terminal or as JSON, with facets;
or every hit exported as JSON Lines or CSV."""

from __future__ import annotations

import csv
import json
import os
import shutil
import sys
from collections.abc import Iterable
from typing import Any

import click

from newssearch.cli.app import from_option, index_option, main, open_or_build, to_option
from newssearch.cli.syntax import QueryCommand
from newssearch.errors import NewssearchError
from newssearch.facets import NAMES, parse_facets
from newssearch.index import Index
from newssearch.recency import half_life
from newssearch.results import Hit, SearchResults
from newssearch.search import SORTS

FORMATS = ("text", "json", "jsonl", "csv")
EXPORT_FIELDS = ("id", "title", "date", "score", "url", "source", "tags", "snippet")
FACET_VALUES_SHOWN = 10  # per keyword facet in text; --json lists them all
BAR_WIDTH = 40


def _facet_names(value: str | None) -> list[str]:
    return [name.strip() for name in (value or "").split(",") if name.strip()]


def _check_facets(names: list[str], index: Index) -> None:
    """Refuses a facet the index cannot count (its own keyword fields are known only once it
    is open), as a usage error."""
    try:
        parse_facets(names, tuple(index.keyword_fields))
    except NewssearchError as e:
        raise click.BadParameter(str(e), param_hint="'--facets'") from None


def _check_recency(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is not None:
        try:
            half_life(value)
        except NewssearchError as e:
            raise click.BadParameter(str(e)) from None
    return value


@main.command("query", cls=QueryCommand)
@click.argument("query_words", metavar="QUERY...", nargs=-1, required=True)
@index_option
@click.option(
    "--limit",
    default=10,
    show_default=True,
    type=click.IntRange(min=0),
    help="Hits to show; 0 prints only the total, as --count.",
)
@click.option(
    "--offset",
    default=0,
    show_default=True,
    type=click.IntRange(min=0),
    help="Hits to skip first (paging).",
)
@from_option
@to_option
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
@click.option(
    "--expand",
    is_flag=True,
    help="Re-rank by pseudo-relevance feedback (RM3): the top hits' words reorder the "
    "matches; the hits and their total stay the query's own. Needs --sort relevance.",
)
@click.option(
    "--facets",
    metavar="LIST",
    help=f"Count every match by these, comma-separated: {', '.join(NAMES)} and the index's "
    "own keyword fields (printed after the hits; date buckets are years, months or days "
    "chosen from the span unless given).",
)
@click.option(
    "--recency",
    metavar="HALF_LIFE",
    callback=_check_recency,
    help="Multiply relevance by 0.5 per HALF_LIFE of article age (30d, 2w, 6m, 1y); "
    "undated articles rank last.",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(FORMATS),
    default="text",
    show_default=True,
    help="text or json (one page, as --json), or jsonl / csv: every hit from --offset on "
    "(at most --limit, if given), with the snippet as plain text.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (--format json).")
@click.option("--no-snippets", is_flag=True, help="Leave out the snippets.")
@click.option("--count", is_flag=True, help="Print only the total (as --limit 0).")
@click.option(
    "--exit-code",
    is_flag=True,
    help="Exit as grep does: 0 with hits, 1 with none, 2 on any error.",
)
@click.option(
    "--color",
    type=click.Choice(["auto", "always", "never"]),
    default="auto",
    show_default=True,
    help="Colour ids, dates and matches; auto: on a terminal, unless $NO_COLOR is set.",
)
@click.pass_context
def query_command(
    ctx: click.Context,
    query_words: tuple[str, ...],
    index_dir: str,
    limit: int,
    offset: int,
    date_from: str | None,
    date_to: str | None,
    sort: str,
    match: str,
    expand: bool,
    facets: str | None,
    recency: str | None,
    output_format: str,
    as_json: bool,
    no_snippets: bool,
    count: bool,
    exit_code: bool,
    color: str,
) -> None:
    """Search the index for QUERY (its words are joined with spaces; syntax below).

    Prints the hits ranked, each with its date, id, title and a snippet; --json prints them
    as one object.
    """
    if exit_code:
        ctx.meta["newssearch.error_status"] = 2
    query = " ".join(query_words)
    limit = 0 if count else limit
    if expand and sort != "relevance":
        raise click.UsageError(f"--expand re-ranks by relevance: it cannot go with --sort {sort}")
    if as_json and output_format not in ("text", "json"):
        raise click.UsageError(f"--json and --format {output_format} contradict each other")
    output_format = "json" if as_json else output_format
    names = _facet_names(facets)
    if names and output_format in ("jsonl", "csv"):
        raise click.UsageError(
            f"--facets is printed with --format text or json, not {output_format}"
        )
    if limit == 0 and output_format in ("jsonl", "csv"):
        raise click.UsageError(f"--count prints a total, not an export (--format {output_format})")
    if recency is not None and sort != "relevance":
        raise click.UsageError(f"--recency ranks by relevance; it does not apply to --sort {sort}")
    options: dict[str, Any] = {
        "offset": offset,
        "date_from": date_from,
        "date_to": date_to,
        "sort": sort,
        "match": match,
        "snippets": not no_snippets,
        "expand": expand,
        "recency": recency,
    }
    with open_or_build(index_dir) as index:
        _check_facets(names, index)
        if output_format in ("jsonl", "csv"):
            given = ctx.get_parameter_source("limit") is not click.core.ParameterSource.DEFAULT
            _export(
                index.iter_hits(query, limit=limit if given else None, **options), output_format
            )
            return
        results = index.search(query, limit=limit, facets=names, **options)
    if results.suggestion:
        click.echo(f'did you mean: "{results.suggestion}"', err=True)
    if output_format == "json":
        click.echo(json.dumps(results.to_dict(expansion=expand), ensure_ascii=False))
    else:
        if limit == 0:
            click.echo(results.total)
        else:
            echo_hits(results, offset, use_color(color))
        _print_facets(results, sys.stdout.isatty())
    if exit_code and not results.total:
        sys.exit(1)


def use_color(choice: str) -> bool:
    """Returns whether to colour: `always`, `never`, or on a terminal without $NO_COLOR."""
    if choice != "auto":
        return choice == "always"
    return not os.environ.get("NO_COLOR") and sys.stdout.isatty()


def _width() -> int | None:
    """Returns the width to wrap snippets to: $COLUMNS, else the terminal's; None when piped."""
    if os.environ.get("COLUMNS", "").isdigit() or sys.stdout.isatty():
        return shutil.get_terminal_size().columns
    return None


def echo_hits(results: SearchResults, offset: int, color: bool | None = None) -> None:
    """Prints the count line, then each hit: rank, date, id, title, and its snippet, wrapped.

    `color` None: on a terminal unless $NO_COLOR is set (as `--color auto`).
    """
    color = use_color("auto") if color is None else color
    style = "ansi" if color else "plain"
    shown = f"{offset + 1}-{offset + len(results)} of " if results.hits else ""
    click.echo(f"{shown}{results.total} hits ({results.took_ms:.1f} ms)", color=color)
    if results.expansion:
        words = ", ".join(f"{word} {weight:.2f}" for word, weight in results.expansion)
        click.echo(f"re-ranked with the top hits' words: {words}")
    width = _width()
    for rank, hit in enumerate(results, start=offset + 1):
        click.echo(f"\n{rank}. {_heading(hit, style)}", color=color)
        if hit.snippet and hit.snippet.text:
            lines = hit.snippet.wrap(max(20, width - 3)) if width else [hit.snippet]
            for line in lines:
                click.echo(f"   {line.render(style)}", color=color)


def _heading(hit: Hit, style: str) -> str:
    """Returns `date  id  title`, the date green and the id magenta when coloured."""
    date, doc_id = hit.date or "undated", hit.id
    if style == "ansi":
        date, doc_id = click.style(date, fg="green"), click.style(doc_id, fg="magenta")
    return f"{date}  {doc_id}  {hit.marked_title.render(style)}"


def _print_facets(results: SearchResults, terminal: bool) -> None:
    """Prints each facet after the hits: values and counts; dates with bars on a terminal."""
    for name, counts in results.facets.items():
        click.echo(f"\n{name}:")
        if name == "date":
            undated = results.total - sum(n for _, n in counts)
            shown = [*counts, ("undated", undated)] if undated else counts
        else:
            shown = counts[:FACET_VALUES_SHOWN]
        width = max((len(value) for value, _ in shown), default=0)
        digits = max((len(str(n)) for _, n in shown), default=0)
        top = max((n for _, n in shown), default=1)
        for value, n in shown:
            bar = ""
            if terminal and name == "date":
                bar = "  " + "█" * max(1, round(BAR_WIDTH * n / top))
            click.echo(f"  {value:<{width}}  {n:>{digits}}{bar}")
        if len(counts) > len(shown):
            click.echo(f"  … {len(counts) - len(shown)} more (--format json lists them all)")


def _export(hits: Iterable[Hit], output_format: str) -> None:
    """Writes every hit as it comes: one JSON object a line, or CSV rows under a header."""
    out = sys.stdout
    if output_format == "jsonl":
        for hit in hits:
            out.write(json.dumps(hit.plain(), ensure_ascii=False) + "\n")
        return
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(EXPORT_FIELDS)
    for hit in hits:
        row = hit.plain()
        row["tags"] = ";".join(row["tags"])
        writer.writerow(["" if row[key] is None else row[key] for key in EXPORT_FIELDS])
