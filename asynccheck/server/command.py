"""The `asynccheck server` command: check that the extra is installed, then serve."""

from __future__ import annotations

import sys

import click

INSTALL_HINT = (
    "asynccheck: error: the language server needs pygls and lsprotocol; install them with "
    "pip install 'asynccheck[server]' (from a checkout: pip install -e '.[server]')"
)


@click.command()
def server() -> None:
    """Run the language server over stdio (editors start this)."""
    try:
        import lsprotocol  # noqa: F401
        import pygls  # noqa: F401
    except ImportError:
        click.echo(INSTALL_HINT, err=True)
        sys.exit(2)
    from asynccheck.server.protocol import start

    start()
