"""AC204: a session, client or pool created on every loop iteration."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from asynccheck.lint import names
from asynccheck.lint.context import RawFinding
from asynccheck.rules.base import Example, Rule
from asynccheck.rules.resources.sites import resource_sites

if TYPE_CHECKING:
    from asynccheck.lint.context import FileContext


class ResourceInLoop(Rule):
    """A session, client or pool exists to reuse connections: keep-alive, TLS sessions,
    DNS cache. Creating one per loop iteration pays a new TCP and TLS handshake every time
    and can exhaust sockets. Create it once, before the loop, and reuse it."""

    code = "AC204"
    name = "resource-in-loop"
    message = "{call}() is created on every loop iteration; create it once before the loop"
    references = ("https://docs.aiohttp.org/en/stable/client_quickstart.html#make-a-request",)
    bad = (
        Example(
            """
            import aiohttp

            async def fetch_all(urls):
                for url in urls:
                    async with aiohttp.ClientSession() as session:
                        async with session.get(url) as r:
                            print(await r.text())
            """
        ),
        Example(
            """
            import httpx

            async def poll(url):
                while True:
                    async with httpx.AsyncClient() as client:
                        await client.get(url)
            """
        ),
        Example(
            """
            import asyncpg

            async def load(dsns):
                for dsn in dsns:
                    pool = await asyncpg.create_pool(dsn)
                    try:
                        await pool.execute("select 1")
                    finally:
                        await pool.close()
            """
        ),
    )
    good = (
        Example(
            """
            import aiohttp

            async def fetch_all(urls):
                async with aiohttp.ClientSession() as session:
                    for url in urls:
                        async with session.get(url) as r:
                            print(await r.text())
            """
        ),
        Example(
            """
            import aiofiles

            async def concat(paths):
                for p in paths:
                    async with aiofiles.open(p) as f:
                        print(await f.read())
            """
        ),
        Example(
            """
            import aiohttp

            async def fetch_all(urls):
                for url in urls:
                    def make():
                        return aiohttp.ClientSession()
                    register(make)
            """
        ),
    )

    def check(self, ctx: FileContext) -> Iterable[RawFinding]:
        for resource in resource_sites(ctx):
            if resource.in_loop:
                site = resource.site
                message = self.message.format(call=names.display_name(resource.call))
                yield RawFinding(self.code, message, site.node, site.stmt)
