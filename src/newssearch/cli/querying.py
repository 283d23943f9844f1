"""`newssearch query`: searching an index, printed for a terminal or as JSON."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from newssearch.cli.app import from_option, index_option, main, open_or_build, to_option
from newssearch.search import SORTS, SearchResults


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
    expand: bool,
    as_json: bool,
    no_snippets: bool,
) -> None:
    """Search the index. QUERY syntax: see the README (words, "phrases", OR, NOT, date:...)."""
    if expand and sort != "relevance":
        raise click.UsageError(f"--expand re-ranks by relevance: it cannot go with --sort {sort}")
    with open_or_build(index_dir) as index:
        results = index.search(
            query,
            limit=limit,
            offset=offset,
            date_from=date_from,
            date_to=date_to,
            sort=sort,
            match=match,
            snippets=not no_snippets,
            expand=expand,
        )
    if results.suggestion:
        click.echo(f'did you mean: "{results.suggestion}"', err=True)
    if as_json:
        found = results_json(results)
        if expand:
            found["expansion"] = [list(pair) for pair in results.expansion]
        click.echo(json.dumps(found, ensure_ascii=False))
        return
    echo_hits(results, offset)


def results_json(results: SearchResults) -> dict[str, Any]:
    """Returns the JSON object of `--json`: query, total, took_ms and the hits."""
    return {
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
    }


def echo_hits(results: SearchResults, offset: int) -> None:
    """Prints the count line, then each hit: rank, date, id, title, and its snippet."""
    style = "ansi" if sys.stdout.isatty() else "plain"
    shown = f"{offset + 1}-{offset + len(results.hits)} of " if results.hits else ""
    click.echo(f"{shown}{results.total} hits ({results.took_ms:.1f} ms)")
    if results.expansion:
        words = ", ".join(f"{word} {weight:.2f}" for word, weight in results.expansion)
        click.echo(f"re-ranked with the top hits' words: {words}")
    for rank, hit in enumerate(results.hits, start=offset + 1):
        click.echo(f"\n{rank}. {hit.date or 'undated'}  {hit.id}  {hit.title}")
        if hit.snippet and hit.snippet.text:
            click.echo(f"   {hit.snippet.render(style)}")
