"""`asynccheck server` with one rule (AC401) that raises: the server must log it and still
publish the other rules' findings."""

from __future__ import annotations

from asynccheck.rules import REGISTRY
from asynccheck.server.protocol import start


def _explode(self, ctx):  # type: ignore[no-untyped-def]
    raise RuntimeError("planted failure in AC401")


REGISTRY["AC401"].check = _explode  # type: ignore[method-assign]

if __name__ == "__main__":
    start()
