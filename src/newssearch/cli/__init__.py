"""The `newssearch` command: a thin click layer over the library, one command per library call.

`app` holds the group and what commands share; each other module adds its commands to it.
"""

from newssearch.cli import (  # noqa: F401  (they register their commands)
    exploring,
    indexing,
    maintenance,
    querying,
    serving,
    syntax,
)
from newssearch.cli.app import main

__all__ = ["main"]
