"""`newssearch serve`: the search page and JSON API of `newssearch.web`, over one index."""

from __future__ import annotations

import ipaddress
import socket

import click

from newssearch.cli.app import index_option, main
from newssearch.errors import NewssearchError
from newssearch.index import Index

# The names a browser on this machine reaches a loopback server by (the Host header it sends).
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1", "[::1]")


@main.command("serve")
@index_option
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on (127.0.0.1: this machine only).",
)
@click.option(
    "--port",
    default=8000,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port to listen on; 0 picks a free one.",
)
def serve_command(index_dir: str, host: str, port: int) -> None:
    """Serve a search page and a JSON API over the index, read-only, until Ctrl-C."""
    try:
        import uvicorn

        from newssearch.web import create_app
    except ImportError as e:
        raise NewssearchError(
            f"serve needs the web extra ({e.name} is missing): pip install 'newssearch[web]'"
        ) from None
    with Index.open(index_dir) as index:
        listening = _listen(host, port)
        bound_host, bound_port = listening.getsockname()[:2]
        shown = f"[{bound_host}]" if ":" in bound_host else bound_host
        click.echo(
            f"newssearch: serving {index_dir} at http://{shown}:{bound_port}/ "
            "(read-only; Ctrl-C stops)",
            err=True,
        )
        loopback = ipaddress.ip_address(bound_host).is_loopback
        hosts = (*LOOPBACK_NAMES, host) if loopback else ("*",)
        config = uvicorn.Config(create_app(index, hosts), log_level="warning", access_log=False)
        uvicorn.Server(config).run(sockets=[listening])


def _listen(host: str, port: int) -> socket.socket:
    """Returns a socket bound to host:port, or raises NewssearchError saying why it cannot."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        listening = socket.socket(family, kind, proto)
        listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listening.bind(address)
        listening.listen(128)
    except OSError as e:
        raise NewssearchError(f"cannot listen on {host}:{port}: {e.strerror or e}") from None
    return listening
