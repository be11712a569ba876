"""AC201: a resource that is not closed on every path."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from asynccheck.lint import names
from asynccheck.lint.context import RawFinding
from asynccheck.lint.flow import flow_view
from asynccheck.rules.base import Example, Rule
from asynccheck.rules.resources.sites import BOUND, DISCARDED, resource_sites

if TYPE_CHECKING:
    from asynccheck.lint.context import FileContext


class UnclosedResource(Rule):
    """An `aiohttp.ClientSession`, a database connection or pool, an `aiofiles` file or a
    stream writer holds sockets and buffers until it is closed. Left to the garbage
    collector it leaks connections, prints `Unclosed client session` and can hold the
    server's resources for minutes. `async with` closes it on every path; otherwise close it
    in a `finally`. A close at the end of the happy path is not enough: an exception before
    it leaks the resource.

    Not flagged when the object escapes to an owner: returned, yielded, stored on `self` or
    in a container or global, handed to an exit stack, to a constructor that keeps it
    (`Client(session)`), to a helper of the module that closes it, or to a task."""

    code = "AC201"
    name = "unclosed-resource"
    message = "{call}() is not closed on every path; use `async with` or close it in `finally`"
    references = (
        "https://docs.aiohttp.org/en/stable/client_advanced.html#graceful-shutdown",
        "https://docs.python.org/3/library/contextlib.html#contextlib.AsyncExitStack",
    )
    bad = (
        Example(
            """
            import aiohttp

            async def fetch(url):
                session = aiohttp.ClientSession()
                async with session.get(url) as r:
                    return await r.text()
            """
        ),
        Example(
            """
            import asyncpg

            async def count(dsn):
                conn = await asyncpg.connect(dsn)
                n = await conn.fetchval("select count(*) from t")
                await conn.close()
                return n
            """
        ),
        Example(
            """
            import asyncio

            async def ping(host):
                reader, writer = await asyncio.open_connection(host, 80)
                writer.write(b"PING\\r\\n")
                return await reader.readline()
            """
        ),
        Example(
            """
            import aiohttp

            async def start():
                aiohttp.ClientSession()
            """
        ),
        Example(
            """
            import httpx

            async def f(url, quick):
                client = httpx.AsyncClient()
                if quick:
                    return None
                try:
                    return await client.get(url)
                finally:
                    await client.aclose()
            """
        ),
    )
    good = (
        Example(
            """
            import aiohttp

            async def fetch(url):
                async with aiohttp.ClientSession() as session:
                    async with session.get(url) as r:
                        return await r.text()
            """
        ),
        Example(
            """
            import asyncpg

            async def count(dsn):
                conn = await asyncpg.connect(dsn)
                try:
                    return await conn.fetchval("select count(*) from t")
                finally:
                    await conn.close()
            """
        ),
        Example(
            """
            import aiohttp

            class Api:
                async def start(self):
                    self.session = aiohttp.ClientSession()

                async def stop(self):
                    await self.session.close()
            """
        ),
        Example(
            """
            import aiohttp

            async def make_client(token):
                session = aiohttp.ClientSession(headers={"token": token})
                await session.get("/login")
                return session
            """
        ),
        Example(
            """
            import aiohttp

            async def main(stack):
                session = aiohttp.ClientSession()
                await stack.enter_async_context(session)
                return Client(session)
            """
        ),
        Example(
            """
            import aiohttp

            @pytest.fixture
            async def session():
                s = aiohttp.ClientSession()
                yield s
                await s.close()
            """
        ),
        Example(
            """
            import aiohttp

            async def setup(entry):
                session = aiohttp.ClientSession()
                entry.async_on_unload(session.close)
                return True
            """
        ),
    )

    def check(self, ctx: FileContext) -> Iterable[RawFinding]:
        for resource in resource_sites(ctx):
            site = resource.site
            if resource.use == DISCARDED:
                leaks = True
            elif resource.use == BOUND and resource.target is not None:
                view = flow_view(ctx, site.scope.node)
                leaks = view.leak(resource.binding, resource.target) is not None
            else:
                leaks = False
            if leaks:
                message = self.message.format(call=names.display_name(resource.call))
                yield RawFinding(self.code, message, site.node, site.stmt)
