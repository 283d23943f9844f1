"""`newssearch check` and `optimize`: verifying an index end to end, merging its segments."""

from __future__ import annotations

import click

from newssearch.cli.app import index_option, main
from newssearch.index import Index


@main.command("check")
@index_option
def check_command(index_dir: str) -> None:
    """Verify the index: every file against its checksum, every segment read whole.

    Prints what was checked and exits 0, or one line saying what is damaged and exits 1.
    """
    with Index.open(index_dir) as index:
        report = index.check()
    click.echo(f"{index_dir}: {report.summary()}")


@main.command("optimize")
@index_option
def optimize_command(index_dir: str) -> None:
    """Merge the index into one segment, dropping deleted documents, in one commit.

    Queries then search one segment; it takes about as long as indexing the live documents
    again, and holds them all in memory while it writes (see the README's limits).
    """
    with Index.open(index_dir) as index:
        report = index.optimize()
    click.echo(f"{index_dir}: {report.summary()}")
