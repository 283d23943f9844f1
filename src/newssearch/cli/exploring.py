"""`newssearch show` and `similar`: one article in full, and the articles most like it."""

from __future__ import annotations

import json

import click

from newssearch import articles
from newssearch.cli.app import from_option, index_option, main, open_or_build, to_option
from newssearch.cli.querying import echo_hits, use_color


@main.command("show")
@click.argument("doc_id", metavar="ID")
@index_option
@click.option(
    "--query",
    "query_text",
    metavar="Q",
    help="Mark the words of query Q in the title and body (the rules of snippets).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object, marks as <mark>.")
def show_command(doc_id: str, index_dir: str, query_text: str | None, as_json: bool) -> None:
    """Print the article ID in full: title, date, source, tags, url and body.

    Exits 1 if no article has that id, 2 if Q is malformed.
    """
    with open_or_build(index_dir) as index:
        document = index.get(doc_id)
        marked = articles.highlight(
            document, query_text, index.language, tuple(index.keyword_fields)
        )
    if as_json:
        click.echo(json.dumps(articles.to_dict(document, marked), ensure_ascii=False))
        return
    style = "ansi" if use_color("auto") else "plain"
    click.echo(
        f"id:      {document.id}\n"
        f"title:   {marked.title.render(style) or '-'}\n"
        f"date:    {document.date.text if document.date else 'undated'}\n"
        f"source:  {document.source or '-'}\n"
        f"tags:    {', '.join(document.tags) or '-'}\n"
        f"url:     {document.url or '-'}\n"
    )
    click.echo(marked.body.render(style))


@main.command("similar")
@click.argument("doc_id", metavar="ID")
@index_option
@click.option(
    "--limit", default=10, show_default=True, type=click.IntRange(min=1), help="Hits to show."
)
@from_option
@to_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def similar_command(
    doc_id: str,
    index_dir: str,
    limit: int,
    date_from: str | None,
    date_to: str | None,
    as_json: bool,
) -> None:
    """Show the articles most like article ID (more like this), ID itself left out.

    Ranks by the article's most distinctive words (tf·idf); the query used is printed first.
    Exits 1 if no article has that id.
    """
    with open_or_build(index_dir) as index:
        results = index.similar(doc_id, limit=limit, date_from=date_from, date_to=date_to)
    if as_json:
        click.echo(json.dumps({"id": doc_id, **results.to_dict()}, ensure_ascii=False))
        return
    click.echo(f"like {doc_id}: {results.query or '(no distinctive words)'}")
    echo_hits(results, 0)
