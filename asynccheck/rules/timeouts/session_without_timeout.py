"""AC501: an HTTP client session without a bounded timeout."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from asynccheck.lint import names
from asynccheck.lint.context import RawFinding
from asynccheck.rules.asyncio_calls import asyncio_calls
from asynccheck.rules.base import Example, Rule
from asynccheck.rules.catalog import HTTP_CLIENTS_TIMEOUT
from asynccheck.rules.timeouts.arguments import is_none

if TYPE_CHECKING:
    from asynccheck.lint.context import FileContext


class SessionWithoutTimeout(Rule):
    """An HTTP client without a timeout lets one stuck server hold a request, and the task
    awaiting it, for minutes: aiohttp's default total timeout is 300 s, and
    `httpx.AsyncClient(timeout=None)` waits forever. Set a timeout that fits the service."""

    code = "AC501"
    name = "session-without-timeout"
    message = "{call}() has no bounded timeout; pass timeout= (aiohttp.ClientTimeout(total=...))"
    default = False
    needs_async = False  # `aiohttp.ClientSession()` at module level needs no `async` text
    references = ("https://docs.aiohttp.org/en/stable/client_quickstart.html#timeouts",)
    bad = (
        Example(
            "import aiohttp\nasync def f():\n    async with aiohttp.ClientSession() as s:\n"
            "        pass"
        ),
        Example("import httpx\nasync def f():\n    client = httpx.AsyncClient(timeout=None)"),
        Example("from aiohttp import ClientSession\nsession = ClientSession(timeout=None)"),
    )
    good = (
        Example(
            "import aiohttp\nasync def f():\n"
            "    timeout = aiohttp.ClientTimeout(total=10)\n"
            "    async with aiohttp.ClientSession(timeout=timeout) as s:\n        pass"
        ),
        Example("import httpx\nasync def f():\n    client = httpx.AsyncClient()"),
        Example("import httpx\nclient = httpx.AsyncClient(timeout=10.0)"),
        Example("import aiohttp\ndef make(**kw):\n    return aiohttp.ClientSession(**kw)"),
    )

    def check(self, ctx: FileContext) -> Iterable[RawFinding]:
        index = asyncio_calls(ctx)
        for key, missing_is_unbounded in sorted(HTTP_CLIENTS_TIMEOUT.items()):
            for site in index.get(key, ()):
                call = site.node
                if any(arg.star == "**" for arg in call.args):
                    continue
                value = next(
                    (
                        arg.value
                        for arg in call.args
                        if arg.keyword is not None and arg.keyword.value == "timeout"
                    ),
                    None,
                )
                if (value is None and missing_is_unbounded) or is_none(value):
                    text = self.message.format(call=names.display_name(key))
                    yield RawFinding(self.code, text, call, site.stmt)
