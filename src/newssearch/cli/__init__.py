"""The `newssearch` command: a thin click layer over the library, one command per library call.

`app` holds the group and what commands share; each other module adds its commands to it,
imported when one of them is run (see `app.COMMANDS`).
"""

from newssearch.cli.app import main

__all__ = ["main"]
