"""AC202: a resource used inline, which nothing can close."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from asynccheck.lint import names
from asynccheck.lint.context import RawFinding
from asynccheck.rules.base import Example, Rule
from asynccheck.rules.resources.sites import ARGUMENT, CHAINED, resource_sites

if TYPE_CHECKING:
    from asynccheck.lint.context import FileContext


class ResourceNotAsyncWith(Rule):
    """A resource constructed in the middle of an expression (`await
    aiohttp.ClientSession().get(url)`, `fetch(aiohttp.ClientSession())`) has no name, so
    nothing can ever close it: every call leaks a session and its connection pool. Create
    it with `async with` and use the bound name."""

    code = "AC202"
    name = "resource-not-async-with"
    message = "{call}() used inline can never be closed; create it with `async with` and reuse it"
    references = ("https://docs.aiohttp.org/en/stable/client_quickstart.html#make-a-request",)
    bad = (
        Example(
            """
            import aiohttp

            async def fetch(url):
                r = await aiohttp.ClientSession().get(url)
                return await r.text()
            """
        ),
        Example(
            """
            import httpx

            async def f(url):
                return await fetch(httpx.AsyncClient(), url)
            """
        ),
        Example(
            """
            from aiohttp import ClientSession

            async def f(url):
                async with ClientSession().get(url) as r:
                    return r.status
            """
        ),
    )
    good = (
        Example(
            """
            import aiohttp

            async def fetch(url):
                async with aiohttp.ClientSession() as s:
                    async with s.get(url) as r:
                        return await r.text()
            """
        ),
        Example(
            """
            import aiohttp, contextlib

            async def f(stack: contextlib.AsyncExitStack):
                return await stack.enter_async_context(aiohttp.ClientSession())
            """
        ),
        Example(
            """
            import aiohttp

            def make_client():
                return Client(session=aiohttp.ClientSession())
            """
        ),
        Example(
            """
            import aiohttp

            async def f(sessions):
                sessions.append(aiohttp.ClientSession())
            """
        ),
    )

    def check(self, ctx: FileContext) -> Iterable[RawFinding]:
        for resource in resource_sites(ctx):
            if resource.use in (CHAINED, ARGUMENT):
                site = resource.site
                message = self.message.format(call=names.display_name(resource.call))
                yield RawFinding(self.code, message, site.node, site.stmt)
