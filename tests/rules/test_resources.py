"""AC2xx beyond the rule examples: resource spellings, escapes, paths, positions, config."""

from __future__ import annotations

import textwrap

import pytest

from asynccheck.lint.api import lint_source


def codes_at(
    source: str, select: str = "AC2", config: dict | None = None
) -> list[tuple[str, int, int]]:
    findings = lint_source(textwrap.dedent(source), select=[select], config=config)
    return [(f.code, f.location.row, f.location.column) for f in findings]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import aiohttp\nasync def f():\n    s = aiohttp.ClientSession()\n", [("AC201", 3, 9)]),
        # a pasted snippet without its import
        ("async def f():\n    s = aiohttp.ClientSession()\n", [("AC201", 2, 9)]),
        (
            "from aiohttp import ClientSession as CS\nasync def f():\n    s = CS()\n",
            [("AC201", 3, 9)],
        ),
        (
            "import aiofiles\nasync def f(p):\n    fh = await aiofiles.open(p)\n    return await fh.read()\n",
            [("AC201", 3, 16)],
        ),
        (
            "import redis.asyncio as redis\nasync def f():\n    r = redis.from_url('u')\n    await r.ping()\n",
            [("AC201", 3, 9)],
        ),
        (
            "import aiosqlite\nasync def f():\n    db = await aiosqlite.connect('x')\n",
            [("AC201", 3, 16)],
        ),
        (
            "import websockets\nasync def f(u):\n    ws = await websockets.connect(u)\n    await ws.send('x')\n",
            [("AC201", 3, 16)],
        ),
        ("import asyncpg\nasync def f(d):\n    await asyncpg.connect(d)\n", [("AC201", 3, 11)]),
        (
            "from motor.motor_asyncio import AsyncIOMotorClient\ndef f():\n    c = AsyncIOMotorClient()\n    c.db.x.find()\n",
            [("AC201", 3, 9)],
        ),
    ],
)
def test_ac201_constructors(source: str, expected: list) -> None:
    assert codes_at(source, "AC201") == expected


@pytest.mark.parametrize(
    "source",
    [
        # module and class level: lives with the program
        "import aiohttp\nSESSION = aiohttp.ClientSession()\n",
        "import aiohttp\nclass A:\n    session = aiohttp.ClientSession()\n",
        # a global
        "import aiohttp\n_s = None\nasync def f():\n    global _s\n    _s = aiohttp.ClientSession()\n",
        # stored on self, in a dict, in hass.data
        "import aiohttp\nclass A:\n    async def start(self):\n        self.s = aiohttp.ClientSession()\n",
        "import aiohttp\nasync def f(hass):\n    s = aiohttp.ClientSession()\n    hass.data['x'] = s\n",
        # handed to a framework object that keeps it
        "import aiohttp\nasync def f(hass):\n    s = aiohttp.ClientSession()\n    api = MyApi(s)\n    await api.login()\n    return api\n",
        "import aiohttp\nasync def f():\n    c = aiohttp.TCPConnector()\n    return aiohttp.ClientSession(connector=c)\n",
        # closed through a callback registered on shutdown
        "import aiohttp\nasync def f(hass):\n    s = aiohttp.ClientSession()\n    hass.bus.async_listen_once('stop', lambda e: s.close())\n",
        # the writer of open_connection, closed in a finally
        "import asyncio\nasync def f():\n    r, w = await asyncio.open_connection('h', 1)\n    try:\n        await r.read()\n    finally:\n        w.close()\n        await w.wait_closed()\n",
        # the reader is not the resource
        "import asyncio\nasync def f():\n    r, w = await asyncio.open_connection('h', 1)\n    return w\n",
        # closed under an ownership flag
        "import aiohttp\nasync def f(session=None):\n    own = session is None\n    s = aiohttp.ClientSession()\n    try:\n        await s.get('u')\n    finally:\n        if own:\n            await s.close()\n",
        # a parameter named like the module is not the module
        "async def f(aiohttp):\n    s = aiohttp.ClientSession()\n",
        # a shadowing local class
        "class ClientSession:\n    pass\nasync def f():\n    s = ClientSession()\n",
    ],
)
def test_ac201_not_flagged(source: str) -> None:
    assert codes_at(source, "AC201") == []


def test_ac201_configured_resource_types() -> None:
    source = "import mylib\nasync def f():\n    c = mylib.Client()\n    await c.go()\n"
    assert codes_at(source, "AC201") == []
    config = {"resource-types": ["mylib.Client"]}
    assert codes_at(source, "AC201", config) == [("AC201", 3, 9)]


def test_ac202_and_ac204_positions() -> None:
    source = """
    import aiohttp
    async def f(urls):
        for u in urls:
            r = await aiohttp.ClientSession().get(u)
    """
    # the response of that get() is never released either
    assert codes_at(source) == [("AC202", 5, 19), ("AC203", 5, 19), ("AC204", 5, 19)]


def test_ac204_only_for_pooling_resources() -> None:
    source = """
    import asyncio, aiofiles
    async def f(paths):
        for p in paths:
            async with aiofiles.open(p) as fh:
                await fh.read()
            r, w = await asyncio.open_connection('h', 1)
            w.close()
    """
    assert codes_at(source, "AC204") == []


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        # a Home Assistant style session helper, and a self attribute set from it
        (
            """
            from homeassistant.helpers.aiohttp_client import async_get_clientsession
            async def f(hass, url):
                session = async_get_clientsession(hass)
                resp = await session.get(url)
                if resp.status != 200:
                    return None
                return await resp.json()
            """,
            [("AC203", 5, 18)],
        ),
        (
            """
            from aiohttp import ClientSession
            class Api:
                def __init__(self, session: ClientSession | None):
                    self._session = session
                async def ping(self):
                    resp = await self._session.get('/ping')
                    return resp.status
            """,
            [("AC203", 7, 22)],  # self._session is set from an annotated parameter
        ),
        # read in a branch, released in the other
        (
            """
            import aiohttp
            async def f(s: aiohttp.ClientSession, u):
                resp = await s.get(u)
                if resp.status == 200:
                    return await resp.text()
                resp.release()
                return None
            """,
            [],
        ),
        # handed to a parser that takes it
        (
            """
            import aiohttp
            async def f(s: aiohttp.ClientSession, u):
                resp = await s.get(u)
                return await parse(resp)
            """,
            [],
        ),
    ],
)
def test_ac203(source: str, expected: list) -> None:
    assert codes_at(source, "AC203") == expected


def test_ac205_points_at_the_item() -> None:
    source = """
    import asyncio
    lock = asyncio.Lock()
    async def f():
        with open('x') as fh, lock:
            pass
    """
    assert codes_at(source, "AC205") == [("AC205", 5, 27)]
    (finding,) = lint_source(textwrap.dedent(source), select=["AC205"])
    assert "lock (asyncio.Lock())" in finding.message


def test_ac204_not_for_a_loop_that_sleeps_between_rounds() -> None:
    source = """
    import asyncio, aiohttp
    async def poll(url):
        while True:
            async with aiohttp.ClientSession() as s:
                async with s.get(url) as r:
                    await r.read()
            await asyncio.sleep(60)
    """
    assert codes_at(source, "AC204") == []
    assert codes_at(source.replace("await asyncio.sleep(60)", "pass"), "AC204") == [
        ("AC204", 5, 20)
    ]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        # wait_for / shield hand back their argument's result: bound, then followed
        (
            "import asyncio\nasync def f(h, t):\n"
            "    r, w = await asyncio.wait_for(asyncio.open_connection(h, 1), t)\n"
            "    try:\n        return await r.read()\n    finally:\n        w.close()\n",
            [],
        ),
        (
            "import asyncio\nasync def f(h, t):\n"
            "    r, w = await asyncio.wait_for(asyncio.open_connection(h, 1), timeout=t)\n"
            "    return await r.read()\n",
            [("AC201", 3, 35)],
        ),
        (
            "import asyncio, aiohttp\nasync def f(u):\n"
            "    s = await asyncio.shield(aiohttp.ClientSession())\n",
            [("AC201", 3, 30)],
        ),
        # run_until_complete / asyncio.run hand back the connection: bound, then followed
        (
            "import asyncpg\ndef f(loop, d):\n"
            "    con = loop.run_until_complete(asyncpg.connect(d))\n"
            "    loop.run_until_complete(con.close())\n",
            [],
        ),
        (
            "import asyncpg\ndef f(loop, d):\n"
            "    con = loop.run_until_complete(asyncpg.connect(d))\n    return 1\n",
            [("AC201", 3, 35)],
        ),
        (
            "import asyncio, asyncpg\ndef f(d):\n    con = asyncio.run(asyncpg.connect(d))\n",
            [("AC201", 3, 23)],
        ),
        (
            "import asyncpg\ndef f(loop, d):\n"
            "    loop.run_until_complete(use(asyncpg.connect(d)))\n",
            [("AC202", 3, 33)],
        ),
        # a coroutine argument of something else is still inline
        (
            "import asyncio, aiohttp\nasync def f(u):\n"
            "    await asyncio.wait_for(fetch(aiohttp.ClientSession(), u), 1)\n",
            [("AC202", 3, 34)],
        ),
        # handed to the class's own constructor from a classmethod or method
        (
            "import aiohttp\nclass C:\n    @classmethod\n    def make(cls):\n"
            "        s = aiohttp.ClientSession()\n        return cls(session=s)\n",
            [],
        ),
        (
            "import aiohttp\nclass C:\n    def copy(self):\n"
            "        s = aiohttp.ClientSession()\n        return self.__class__(s)\n",
            [],
        ),
    ],
)
def test_resources_through_wrappers_and_own_class(source: str, expected: list) -> None:
    assert codes_at(source) == expected


def test_stop_closes_a_connection() -> None:
    source = (
        "import aiosqlite\nasync def f(p):\n    db = await aiosqlite.connect(p)\n"
        "    try:\n        await db.execute('select 1')\n    finally:\n        await db.stop()\n"
    )
    assert codes_at(source) == []
