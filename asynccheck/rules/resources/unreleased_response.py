"""AC203: an aiohttp response not released on every path."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from asynccheck.lint.context import RawFinding
from asynccheck.lint.cst import cst
from asynccheck.lint.flow import flow_view
from asynccheck.rules.base import Example, Rule
from asynccheck.rules.catalog import AIOHTTP_REQUESTS, RESPONSE_RELEASES
from asynccheck.rules.resources.sessions import is_aiohttp_session
from asynccheck.rules.resources.sites import BOUND, DISCARDED, FUNCTIONS, use_of

if TYPE_CHECKING:
    from asynccheck.lint.context import FileContext
    from asynccheck.lint.facts import Site


class UnreleasedResponse(Rule):
    """An aiohttp response holds its pooled connection until it is released: by `async
    with`, `resp.release()`/`close()`, or reading the body to the end (`await resp.text()`,
    `json()`, `read()`). A path that returns or raises before that keeps the connection out
    of the pool until the garbage collector finds the response; under load the pool runs
    dry and requests queue. Prefer `async with session.get(url) as resp:`."""

    code = "AC203"
    name = "unreleased-response"
    message = (
        "response of {call}() is not released on every path; use `async with {call}(...) as resp`"
    )
    references = (
        "https://docs.aiohttp.org/en/stable/client_reference.html#aiohttp.ClientResponse.release",
    )
    bad = (
        Example(
            """
            import aiohttp

            async def status(session: aiohttp.ClientSession, url):
                resp = await session.get(url)
                return resp.status
            """
        ),
        Example(
            """
            import aiohttp

            async def fetch(url):
                async with aiohttp.ClientSession() as session:
                    resp = await session.post(url, json={})
                    if resp.status != 200:
                        return None
                    return await resp.json()
            """
        ),
        Example(
            """
            import aiohttp

            class Api:
                def __init__(self):
                    self._session = aiohttp.ClientSession()

                async def ping(self, url):
                    await self._session.head(url)
            """
        ),
    )
    good = (
        Example(
            """
            import aiohttp

            async def status(session: aiohttp.ClientSession, url):
                async with session.get(url) as resp:
                    return resp.status
            """
        ),
        Example(
            """
            import aiohttp

            async def fetch(session: aiohttp.ClientSession, url):
                resp = await session.get(url)
                try:
                    return resp.status
                finally:
                    resp.release()
            """
        ),
        Example(
            """
            import aiohttp

            async def fetch(session: aiohttp.ClientSession, url):
                resp = await session.get(url)
                return await resp.json()
            """
        ),
        Example(
            """
            import httpx

            async def fetch(client: httpx.AsyncClient, url):
                resp = await client.get(url)
                return resp.status_code
            """
        ),
        Example(
            """
            import aiohttp

            async def fetch(session: aiohttp.ClientSession, url):
                resp = await session.get(url)
                return resp
            """
        ),
    )

    def check(self, ctx: FileContext) -> Iterable[RawFinding]:
        for site in _response_sites(ctx):
            call = f"{ctx.code_for(site.node.func.value)}.{site.node.func.attr.value}"
            if len(call) > 40 or "\n" in call:
                call = f"session.{site.node.func.attr.value}"
            use, target, binding = use_of(ctx, site, None)
            if use == DISCARDED:
                leaks = True
            elif use == BOUND and target is not None:
                view = flow_view(ctx, site.scope.node)
                # explicit paths only: a raise on the way is rare and the connection is
                # still released when the response is collected
                leaks = (
                    view.leak(binding, target, RESPONSE_RELEASES, implicit=False, handed=True)
                    is not None
                )
            else:
                leaks = False
            if leaks:
                yield RawFinding(self.code, self.message.format(call=call), site.node, site.stmt)


def _response_sites(ctx: FileContext) -> Iterator[Site]:
    for site in ctx.facts.calls:
        func = site.node.func
        if (
            site.awaited
            and isinstance(func, cst.Attribute)
            and func.attr.value in AIOHTTP_REQUESTS
            and site.scope.kind in FUNCTIONS
            and is_aiohttp_session(func.value, site.scope, ctx)
        ):
            yield site
