"""`newssearch syntax`, and the query syntax in `query --help`: both are the README's section.

The README's "Query syntax" section is the one text of the language. An installed package
reads it from its own metadata (the README is the package's long description); a source
checkout reads the README beside it, so the text is never stale.
"""

from __future__ import annotations

import re
from pathlib import Path

import click

from newssearch.cli.app import main

SECTION = "## Query syntax"
_CHECKOUT = Path(__file__).resolve().parents[3]


def readme() -> str:
    """Returns the README: the checkout's when running from one, else the installed copy's."""
    if (_CHECKOUT / "pyproject.toml").is_file() and (_CHECKOUT / "README.md").is_file():
        return (_CHECKOUT / "README.md").read_text(encoding="utf-8")
    from importlib import metadata  # on first use: it costs every command tens of ms to load

    try:
        description = metadata.metadata("newssearch").json.get("description", "")
    except metadata.PackageNotFoundError:
        return ""
    return description if isinstance(description, str) else ""


def syntax_text(text: str | None = None) -> str:
    """Returns the query syntax section of `text` (default: the README), heading included."""
    text = readme() if text is None else text
    if SECTION not in text:
        return "The query syntax is documented in the README of newssearch."
    section = text.split(SECTION, 1)[1]
    return SECTION + re.split(r"^## ", section, maxsplit=1, flags=re.M)[0].rstrip() + "\n"


def syntax_table() -> list[tuple[str, str]]:
    """Returns the rows (query, what it finds) of the section's table, without backticks."""
    rows = [line for line in syntax_text().splitlines() if line.startswith("|")][2:]
    cells = [[c.strip().replace("`", "") for c in row.strip("|").split(" | ")] for row in rows]
    return [(cell[0], cell[-1]) for cell in cells]


class QueryCommand(click.Command):
    """`query`, whose help ends with the syntax table and whose unknown options say `--`."""

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Query syntax"):
            formatter.write_dl(syntax_table())
        formatter.write_paragraph()
        formatter.write_text(
            "The whole language: `newssearch syntax`. A query that starts with '-' goes "
            "after '--': newssearch query -- -corn wheat"
        )

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        given = list(args)  # click's parser consumes `args`
        try:
            return super().parse_args(ctx, args)
        except click.NoSuchOption as e:
            word = next((a for a in given if a.startswith(e.option_name)), e.option_name)
            inside = f" (in {word!r})" if word != e.option_name else ""
            raise click.NoSuchOption(
                e.option_name,
                f"No such option: {e.option_name}{inside}. A query that starts with '-' goes "
                f"after '--': newssearch query [OPTIONS] -- {word} ...",
                e.possibilities,
                ctx,
            ) from None


@main.command("syntax")
def syntax_command() -> None:
    """Print the whole query language: words, phrases, operators, fields, dates, ranking."""
    click.echo(syntax_text(), nl=False)
