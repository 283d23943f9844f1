"""`newssearch check`: verifying an index end to end."""

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
