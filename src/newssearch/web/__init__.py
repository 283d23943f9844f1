"""The search page and JSON API that `newssearch serve` runs: `create_app(index)`.

Needs the `web` extra (`pip install "newssearch[web]"`): Starlette, uvicorn and Jinja2.
"""

from newssearch.web.app import create_app

__all__ = ["create_app"]
