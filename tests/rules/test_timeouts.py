"""AC5xx beyond the rule examples: positions, argument forms and AC504's target version."""

from __future__ import annotations

import textwrap

import pytest

from asynccheck.lint.api import lint_source


def found(source: str, select: str, **config: object) -> list[tuple[str, int, int]]:
    findings = lint_source(textwrap.dedent(source), select=[select], config=config or None)
    return [(f.code, f.location.row, f.location.column) for f in findings]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import aiohttp\ns = aiohttp.ClientSession()\n", 1),
        ("import aiohttp\ns = aiohttp.ClientSession(timeout=None)\n", 1),
        ("import aiohttp\ns = aiohttp.ClientSession(timeout=t)\n", 0),
        ("import aiohttp\ns = aiohttp.ClientSession(**options)\n", 0),
        ("import httpx\nc = httpx.AsyncClient()\n", 0),
        ("import httpx\nc = httpx.AsyncClient(timeout=None)\n", 1),
        ("import httpx as h\nc = h.AsyncClient(base_url='u', timeout=None)\n", 1),
        ("class ClientSession:\n    pass\ns = ClientSession()\n", 0),
    ],
)
def test_session_without_timeout(source: str, expected: int) -> None:
    assert len(found(source, "AC501")) == expected


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import asyncio\nasync def f(c):\n    await asyncio.wait_for(c, timeout=None)\n", 1),
        ("import asyncio\nasync def f(c):\n    await asyncio.wait_for(c, t)\n", 0),
        ("import asyncio\nasync def f(c):\n    await asyncio.wait_for(c)\n", 0),  # TypeError
        ("import asyncio\nasync def f(cs):\n    await asyncio.wait(cs, return_when=FIRST)\n", 1),
        ("import asyncio\nasync def f(cs):\n"
         "    await asyncio.wait(cs, return_when=asyncio.FIRST_EXCEPTION)\n", 1),
        ("from asyncio import FIRST_COMPLETED, wait\nasync def f(cs):\n"
         "    await wait(cs, return_when=FIRST_COMPLETED)\n", 0),
        ("import asyncio\nasync def f(cs):\n    await asyncio.wait(cs, timeout=None)\n", 1),
        ("import asyncio\nasync def f(cs):\n    await asyncio.wait(*cs)\n", 0),
        ("import asyncio\nasync def f(loop):\n    async with asyncio.timeout_at(None):\n"
         "        pass\n", 1),
        ("import asyncio\nasync def f(loop):\n    async with asyncio.timeout_at(loop.time() + 1):\n"
         "        pass\n", 0),
        ("import async_timeout\nasync def f():\n    async with async_timeout.timeout(None):\n"
         "        pass\n", 1),
    ],
)  # fmt: skip
def test_wait_without_timeout(source: str, expected: int) -> None:
    assert len(found(source, "AC502")) == expected


def test_wait_points_at_the_call() -> None:
    source = "import asyncio\nasync def f(c):\n    x = await asyncio.wait_for(c, None)\n"
    assert found(source, "AC502") == [("AC502", 3, 15)]


def test_timeout_parameter_points_at_the_parameter() -> None:
    source = """
    async def a(x, timeout=1):
        ...
    class C:
        async def b(self, *, timeout: float):
            ...
    async def c(*args, timeout_ms=3, **kw):
        ...
    def d(timeout):
        ...
    """
    assert found(source, "AC503") == [("AC503", 2, 16), ("AC503", 5, 26)]


MIXUP = """
import asyncio
import concurrent.futures
async def f(c):
    try:
        await asyncio.wait_for(c, 1)
    except ValueError:
        pass
    except concurrent.futures.TimeoutError:
        pass
"""


def test_mixup_points_at_the_except_keyword() -> None:
    assert found(MIXUP, "AC504") == [("AC504", 9, 5)]


@pytest.mark.parametrize("version", ["py311", "py312", "py314"])
def test_mixup_is_no_mixup_from_311(version: str) -> None:
    assert found(MIXUP, "AC504", **{"target-version": version}) == []
    assert found(MIXUP, "AC504", **{"target-version": "py310"}) == [("AC504", 9, 5)]


@pytest.mark.parametrize(
    "source",
    [
        # not around an asyncio timeout
        "import concurrent.futures\nasync def f(c):\n    try:\n        await c\n"
        "    except concurrent.futures.TimeoutError:\n        pass\n",
        # the wait_for is in a nested def, not this try's body
        "import asyncio, socket\nasync def f(c):\n    try:\n        def g():\n"
        "            return asyncio.wait_for(c, 1)\n        s.recv(1)\n"
        "    except socket.timeout:\n        pass\n",
        # the builtin TimeoutError: pyupgrade's spelling, fine on the versions that use it
        "import asyncio\nasync def f(c):\n    try:\n        await asyncio.wait_for(c, 1)\n"
        "    except TimeoutError:\n        pass\n",
        "import asyncio\nfrom asyncio import TimeoutError\nimport concurrent.futures as cf\n"
        "async def f(c):\n    try:\n        await asyncio.wait_for(c, 1)\n"
        "    except (TimeoutError, cf.TimeoutError):\n        pass\n",
    ],
)
def test_mixup_not_flagged(source: str) -> None:
    assert found(source, "AC504") == []


def test_mixup_in_except_star_and_sync_code() -> None:
    source = (
        "import asyncio, socket\ndef f(loop, c):\n    try:\n"
        "        loop.run_until_complete(asyncio.wait_for(c, 1))\n"
        "    except* socket.timeout:\n        pass\n"
    )
    assert found(source, "AC504") == [("AC504", 5, 5)]
