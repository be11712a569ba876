"""AC102: a synchronous HTTP request on the loop."""

from __future__ import annotations

from asynccheck.rules.base import Example
from asynccheck.rules.blocking.base import ToThreadFix


class BlockingHttp(ToThreadFix):
    """A synchronous HTTP request holds the event loop for the whole round trip: DNS,
    connect, TLS, server time and transfer. Every other task waits, timeouts included.
    Use an async client (aiohttp, httpx.AsyncClient), or run the call in a thread."""

    code = "AC102"
    name = "blocking-http"
    message = "{call}() is a blocking HTTP call; use an async client (aiohttp, httpx.AsyncClient)"
    sync_message = (
        "{call}() is a blocking HTTP call on the loop; hand it to loop.run_in_executor() or "
        "make the request from a task with an async client"
    )
    references = ("https://docs.aiohttp.org/en/stable/client_quickstart.html",)
    bad = (
        Example(
            "import requests\nasync def fetch(url):\n    return requests.get(url, timeout=5)",
            fixed="import asyncio\nimport requests\nasync def fetch(url):\n"
            "    return await asyncio.to_thread(requests.get, url, timeout=5)",
            unsafe=True,
        ),
        Example(
            "import requests\nasync def fetch(url):\n"
            "    with requests.Session() as s:\n        return s.get(url).json()"
        ),
        Example("from urllib.request import urlopen\nasync def f(u):\n    urlopen(u).read()"),
        Example("import httpx\nasync def f(u):\n    r = httpx.post(u, json={})"),
        Example("import urllib3\nhttp = urllib3.PoolManager()\nasync def f(u):\n"
                "    return http.request('GET', u)"),
        Example(
            """
            import requests

            class Api:
                def __init__(self):
                    self.session = None
                    self.session = requests.Session()

                async def user(self, uid):
                    return self.session.get(f"/users/{uid}").json()
            """
        ),
    )  # fmt: skip
    good = (
        Example(
            "import aiohttp\nasync def fetch(session: aiohttp.ClientSession, url):\n"
            "    async with session.get(url) as r:\n        return await r.json()"
        ),
        Example(
            "import httpx\nasync def f(u):\n"
            "    async with httpx.AsyncClient() as c:\n        return await c.get(u)"
        ),
        Example(
            "import asyncio, requests\nasync def f(u):\n"
            "    return await asyncio.to_thread(requests.get, u)"
        ),
        Example("import requests\ndef f(u):\n    return requests.get(u)"),
        Example("async def f(requests):\n    return requests.get('x')"),
        Example(
            """
            import requests

            class Api:
                def __init__(self):
                    self.session = requests.Session()

                async def user(self, session):
                    return session.get("/users")
            """
        ),
    )
