"""The `newssearch` command: a thin click layer over the library, one command per library call.

`app` holds the group and what commands share; each other module adds its commands to it.
"""

from newssearch.cli import exploring, indexing, maintenance, querying, syntax  # noqa: F401  (they register their commands)
from newssearch.cli.app import main

__all__ = ["main"]
