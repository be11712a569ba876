"""AC4xx beyond the rule examples: kept vs discarded tasks, loop receivers, local coroutines,
the await fix, and what counts as an independent loop or a busy wait."""

from __future__ import annotations

import textwrap

import libcst
import pytest

from asynccheck.lint.api import lint_source
from asynccheck.lint.fix import apply_fixes


def found(source: str, select: str) -> list[tuple[str, int, int]]:
    findings = lint_source(textwrap.dedent(source), select=[select])
    return [(f.code, f.location.row, f.location.column) for f in findings]


# --- AC401 -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "source",
    [
        "import asyncio\nasync def f(c):\n    asyncio.create_task(c)\n",
        "import asyncio\nasync def f(c):\n    asyncio.ensure_future(c)\n",
        "import asyncio\nasync def f(cs):\n    {asyncio.create_task(c) for c in cs}\n",
        "import asyncio\nasync def f(cs):\n    (asyncio.create_task(c) for c in cs)\n",
        "import asyncio\nasync def f(a, b):\n    asyncio.create_task(a), asyncio.create_task(b)\n",
        "import asyncio\nasync def f(c, ok):\n    ok and asyncio.create_task(c)\n",
        "import asyncio\nasync def f(c):\n    with asyncio.create_task(c):\n        pass\n",
        "import asyncio\nasync def f(c):\n    while asyncio.create_task(c):\n        break\n",
        "import asyncio\ndef cb(c):\n    asyncio.get_event_loop().create_task(c)\n",
        "import asyncio\nasync def f(c, loop: asyncio.AbstractEventLoop):\n    loop.create_task(c)\n",
        "import asyncio\nasync def f(c):\n    ev_loop = asyncio.get_running_loop()\n"
        "    ev_loop.create_task(c)\n",
        "class S:\n    def go(self, hass, c):\n        hass.loop.create_task(c)\n",
        "from asyncio import *\nasync def f(c):\n    ensure_future(c)\n",
        # only its truth or identity is used, wherever the expression stands
        "import asyncio\nasync def f(c):\n    x = 1 if asyncio.create_task(c) else 2\n",
        "import asyncio\nasync def f(c):\n    g = (i for i in c if asyncio.create_task(i))\n",
        "import asyncio\nasync def f(c):\n    ok = asyncio.create_task(c) is not None\n",
    ],
)
def test_dangling_task_flagged(source: str) -> None:
    assert {code for code, _, _ in found(source, "AC401")} == {"AC401"}


@pytest.mark.parametrize(
    "source",
    [
        "import asyncio\nasync def f(c):\n    t = asyncio.create_task(c)\n    return t\n",
        "import asyncio\nasync def f(c):\n    return asyncio.create_task(c)\n",
        "import asyncio\nasync def f(c):\n    yield asyncio.create_task(c)\n",
        "import asyncio\nasync def f(c, s):\n    s.add(asyncio.create_task(c))\n",
        "import asyncio\nasync def f(c, s):\n    s[c] = asyncio.create_task(c)\n",
        "import asyncio\nasync def f(c, s):\n    self.t = asyncio.create_task(c)\n",
        "import asyncio\nasync def f(cs):\n    ts = [asyncio.create_task(c) for c in cs]\n",
        "import asyncio\nasync def f(c):\n    if (t := asyncio.create_task(c)):\n        pass\n",
        "import asyncio\nasync def f(c):\n    with x(asyncio.create_task(c)):\n        pass\n",
        "import asyncio\nasync def f(c):\n    lambda: asyncio.create_task(c)\n",
        "import asyncio\nasync def f(c):\n    t = asyncio.create_task(c) if c else None\n",
        "import asyncio\nasync def f(cs):\n    ts = [asyncio.create_task(c) for c in cs if c]\n",
        # a TaskGroup, anyio's and Home Assistant's spawners are not asyncio's loop
        "import asyncio\nasync def f(c):\n    async with asyncio.TaskGroup() as tg:\n"
        "        tg.create_task(c)\n",
        "async def f(hass, c):\n    hass.async_create_task(c)\n",
        "async def f(self, c):\n    self.hass.async_create_background_task(c, 'n')\n",
        "async def f(self, c):\n    self._task_group.create_task(c)\n",
        "async def f(c):\n    create_task(c)\n",  # not asyncio's: nothing imports it
        "def create_task(c):\n    pass\nasync def f(c):\n    create_task(c)\n",
    ],
)
def test_dangling_task_not_flagged(source: str) -> None:
    assert found(source, "AC401") == []


@pytest.mark.parametrize(
    ("source", "flagged"),
    [
        ("import asyncio\ndef f(c):\n    task = asyncio.create_task(c)\n", True),
        ("import asyncio\nasync def f(c):\n    t: asyncio.Task = asyncio.create_task(c)\n", True),
        (
            "import asyncio\nasync def f(c, x):\n    if x:\n        t = asyncio.create_task(c)\n"
            "    else:\n        t = None\n",
            True,
        ),
        ("import asyncio\nasync def f(c):\n    t = asyncio.create_task(c)\n    await t\n", False),
        ("import asyncio\nasync def f(c):\n    t = asyncio.create_task(c)\n    del t\n", False),
        (
            "import asyncio\nasync def f(c, bg):\n    t = asyncio.create_task(c)\n"
            "    def keep():\n        bg.add(t)\n    keep()\n",
            False,
        ),
        ("import asyncio\nasync def f(c):\n    global T\n    T = asyncio.create_task(c)\n", False),
        (
            "import asyncio\nasync def f(c):\n    t = None\n    def g():\n        nonlocal t\n"
            "        t = asyncio.create_task(c)\n    g()\n",
            False,
        ),
        (
            "import asyncio\nasync def f(c):\n    t = asyncio.create_task(c)\n    return locals()\n",
            False,
        ),
        ("import asyncio\nT = asyncio.ensure_future(c)\n", False),  # a module global lives on
        ("import asyncio\nclass K:\n    t = asyncio.ensure_future(c)\n", False),
    ],
)
def test_task_bound_to_a_local_never_read(source: str, flagged: bool) -> None:
    """The reference dies with the frame: as good as dropped, unless something reads it."""
    findings = lint_source(source, select=["AC401"])
    assert bool(findings) is flagged
    if flagged:
        assert "bound to" in findings[0].message


def test_dangling_task_points_at_the_call() -> None:
    source = "import asyncio\nasync def f(cs):\n    [asyncio.create_task(c) for c in cs]\n"
    assert found(source, "AC401") == [("AC401", 3, 6)]


# --- AC402 -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "source",
    [
        "async def g():\n    pass\nasync def f():\n    g()\n",
        "async def g():\n    pass\ndef f():\n    g()\n",
        "class A:\n    async def g(self):\n        pass\n    async def f(self):\n        self.g()\n",
        "class A:\n    @staticmethod\n    async def g():\n        pass\n    def f(self):\n"
        "        self.g()\n",
        "import typing\n@typing.overload\nasync def g(x: int): ...\nasync def g(x): ...\n"
        "async def f():\n    g(1)\n",
        "import asyncio\ndef f():\n    asyncio.sleep(1)\n",
        "import asyncio\nasync def f(a):\n    asyncio.wait_for(a, 1)\n",
        "import asyncio\nasync def f():\n    asyncio.open_connection('h', 1)\n",
        "import asyncio\nasync def f():\n    asyncio.to_thread(print)\n",
    ],
)
def test_coroutine_not_awaited_flagged(source: str) -> None:
    assert [code for code, _, _ in found(source, "AC402")] == ["AC402"]


@pytest.mark.parametrize(
    "source",
    [
        "async def g():\n    pass\nasync def f():\n    await g()\n",
        "async def g():\n    pass\nasync def f():\n    return g()\n",
        "import asyncio\nasync def g():\n    pass\nasync def f():\n    asyncio.create_task(g())\n",
        "import asyncio\nasync def g():\n    pass\nasyncio.run(g())\n",
        "async def g():\n    yield 1\nasync def f():\n    g()\n",  # an async generator
        "import functools\n@functools.lru_cache\nasync def g():\n    pass\nasync def f():\n    g()\n",
        "async def g():\n    pass\ndef g():\n    pass\nasync def f():\n    g()\n",  # rebound
        "async def g():\n    pass\nasync def f(g):\n    g()\n",  # parameter shadows
        "class A:\n    async def g(self):\n        pass\n    def f(self, other):\n        other.g()\n",
        "class A:\n    def g(self):\n        pass\nclass B:\n    async def g(self):\n        pass\n"
        "    def f(self):\n        A().g()\n",
        "async def g():\n    pass\nasync def f():\n    def h():\n        return 1\n    h()\n",
        "from mylib import sleep\nasync def f():\n    sleep(1)\n",
    ],
)
def test_coroutine_not_awaited_not_flagged(source: str) -> None:
    assert found(source, "AC402") == []


def test_await_fix_only_for_asyncio_in_async_def() -> None:
    source = textwrap.dedent(
        """
        import asyncio
        async def g():
            pass
        async def f():
            asyncio.sleep(0)  # yield to the loop
            g()
        def h():
            asyncio.sleep(1)
        """
    )
    findings = lint_source(source, select=["AC402"])
    assert [(f.location.row, f.fix is not None) for f in findings] == [
        (6, True),
        (7, False),
        (9, False),
    ]
    fixed, count = apply_fixes(source, findings)
    assert count == 1
    assert "    await asyncio.sleep(0)  # yield to the loop\n" in fixed
    libcst.parse_module(fixed)
    assert not [f for f in lint_source(fixed, select=["AC402"]) if f.fix is not None]


def test_await_fix_on_a_one_line_body() -> None:
    source = "import asyncio\nasync def f(): asyncio.sleep(1)\n"
    fixed, _ = apply_fixes(source, lint_source(source, select=["AC402"]))
    assert fixed == "import asyncio\nasync def f(): await asyncio.sleep(1)\n"


# --- AC403 -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "source",
    [
        "async def f(xs):\n    for x in xs:\n        await g(x)\n",
        "async def f(xs):\n    for i, x in enumerate(xs):\n        r = await g(x)\n        log(i, r)\n",
        "async def f(xs, s):\n    for x in xs:\n        await s.get(x.url)\n",
    ],
)
def test_await_in_loop_flagged(source: str) -> None:
    assert found(source, "AC403") == [("AC403", 2, 5)]


@pytest.mark.parametrize(
    "source",
    [
        "async def f(xs):\n    total = 0\n    for x in xs:\n        total += await g(x, total)\n",
        "async def f(xs):\n    for x in xs:\n        try:\n            await g(x)\n"
        "        except E:\n            raise\n",
        "async def f(xs):\n    for x in xs:\n        await g(x)\n        break\n",
        "async def f(xs, lock):\n    for x in xs:\n        async with lock:\n            await g(x)\n",
        "async def f(xs, ws):\n    for x in xs:\n        await ws.send(x)\n",
        "async def f(self, xs):\n    for x in xs:\n        await self._serial_port.query(x)\n",
        "async def f(xs, db_conn):\n    for x in xs:\n        await db_conn.run(x)\n",
        "async def f(xs):\n    for x in xs:\n        pass\n",
        # a filter or per-item error handling: more than one call per item
        "async def f(xs):\n    for x in xs:\n        if x:\n            await x.refresh()\n",
        "async def f(xs):\n    for x in xs:\n        try:\n            await g(x)\n"
        "        except E:\n            log(x)\n",
        "def f(xs):\n    for x in xs:\n        g(x)\n",
        "async def f(xs):\n    for x in xs:\n        def cb():\n            return g(x)\n",
        "async def f(xs):\n    prev = None\n    for x in xs:\n        await g(x, prev)\n"
        "        prev = x\n",
    ],
)
def test_await_in_loop_not_flagged(source: str) -> None:
    assert found(source, "AC403") == []


def test_await_in_loop_flags_the_inner_loop_only() -> None:
    source = "async def f(xss):\n    for xs in xss:\n        for x in xs:\n            await g(x)\n"
    assert found(source, "AC403") == [("AC403", 3, 9)]


# --- AC404 -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "source",
    [
        "import asyncio\nasync def f(s):\n    while s.busy:\n        await asyncio.sleep(1)\n",
        "import asyncio\nasync def f(s):\n    while s.state() != 'up':\n"
        "        await asyncio.sleep(1)\n",
        "import asyncio\nasync def f(s):\n    while ...:\n        await asyncio.sleep(1)\n",
        # anyio's sleep runs on the same asyncio loop
        "import anyio\nasync def f(proc):\n    while proc.returncode is None:\n"
        "        await anyio.sleep(1)\n",
        # a flag with a deadline is still a flag
        "import asyncio, time\nasync def f(ack, t0):\n"
        "    while ack.response is None and time.time() - t0 < 3:\n        await asyncio.sleep(1)\n",
        # an asyncio.Event, or an event of unknown kind, is a flag
        "import asyncio\nasync def f(ev: asyncio.Event):\n    while not ev.is_set():\n"
        "        await asyncio.sleep(1)\n",
    ],
)
def test_busy_wait_flagged(source: str) -> None:
    assert found(source, "AC404") == [("AC404", 3, 5)]


@pytest.mark.parametrize(
    "source",
    [
        "import asyncio\nasync def f():\n    while 1:\n        await asyncio.sleep(1)\n",
        "import asyncio\nasync def f(s):\n    while s.busy:\n        s.poll()\n"
        "        await asyncio.sleep(1)\n",
        "import asyncio\nasync def f(s, loop, end):\n    while loop.time() < end:\n"
        "        await asyncio.sleep(1)\n",
        "import asyncio\nasync def f(s):\n    while s.busy:\n        if s.x:\n"
        "            await asyncio.sleep(1)\n",
        "async def f(s, sleep):\n    while s.busy:\n        await sleep(1)\n",
        "import trio\nasync def f(s):\n    while s.busy:\n        await trio.sleep(1)\n",
        # more than the sleep in the body (flake8-async's reading of ASYNC110)
        "import asyncio\nasync def f(s):\n    while not s.ready:\n"
        "        await asyncio.sleep(1)\n        await asyncio.sleep(0)\n",
        "import asyncio\nasync def f(s):\n    while not s.ready:\n        ...\n"
        "        await asyncio.sleep(1)\n",
        # the disk, another thread or process, a clock: no asyncio.Event is set by those
        "import asyncio, os\nasync def f(p):\n    while not os.path.exists(p):\n"
        "        await asyncio.sleep(1)\n",
        "import asyncio, threading\nasync def f(stop: threading.Event):\n"
        "    while not stop.is_set():\n        await asyncio.sleep(1)\n",
        "import asyncio\nasync def f(t):\n    while t.is_alive():\n        await asyncio.sleep(1)\n",
        "import asyncio\nasync def f(proc):\n    while proc.poll() is None:\n"
        "        await asyncio.sleep(1)\n",
        "import asyncio\nasync def f(self, due):\n    while due - self._pump_clock() > 0:\n"
        "        await asyncio.sleep(0.01)\n",
    ],
)
def test_busy_wait_not_flagged(source: str) -> None:
    assert found(source, "AC404") == []


# --- AC405 -------------------------------------------------------------------------------------
def test_gather_points_at_the_call_and_skips_return_exceptions() -> None:
    source = (
        "import asyncio\nasync def f(a, b):\n    x = await asyncio.gather(a, b)\n"
        "    y = await asyncio.gather(a, b, return_exceptions=False)\n"
    )
    findings = lint_source(source, select=["AC405"], config={"target-version": "py311"})
    assert [(f.code, f.location.row, f.location.column) for f in findings] == [("AC405", 3, 15)]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import asyncio\nclass C:\n    _ev: asyncio.Event\n    async def f(self):\n"
         "        self._ev.wait()\n", 1),
        ("import asyncio\nev = asyncio.Event()\ndef f():\n    ev.wait()\n", 1),
        ("from asyncio import Condition\nasync def f():\n    c = Condition()\n    c.wait_for(p)\n", 1),
        ("import asyncio\nasync def f():\n    s = asyncio.Semaphore(2)\n    s.release()\n", 0),
        ("import asyncio, queue\nclass C:\n    def __init__(self, fast):\n"
         "        self.q = asyncio.Queue()\n        if fast:\n            self.q = queue.Queue()\n"
         "    async def f(self):\n        self.q.put(1)\n", 0),
        ("import asyncio\nasync def f(ev):\n    ev.wait()\n", 0),
    ],
)  # fmt: skip
def test_coroutine_methods_of_asyncio_objects(source: str, expected: int) -> None:
    assert len(found(source, "AC402")) == expected


def test_a_loop_annotated_final_is_known_by_its_value() -> None:
    source = (
        "import asyncio\nfrom typing import Final\ndef on_error(coro):\n"
        "    loop: Final = asyncio.get_running_loop()\n    loop.create_task(coro)\n"
    )
    assert found(source, "AC401") == [("AC401", 5, 5)]


@pytest.mark.parametrize(
    ("source", "named"),
    [
        ("import asyncio\nasync def f(s):\n    while s.busy:\n        await asyncio.sleep(1)\n",
         "polls with asyncio.sleep(); wait on an asyncio.Event"),
        ("import anyio\nasync def f(s):\n    while s.busy:\n        await anyio.sleep(1)\n",
         "polls with anyio.sleep(); wait on an anyio.Event"),
        ("from asyncio.tasks import sleep\nasync def f(s):\n    while s.busy:\n"
         "        await sleep(1)\n",
         "polls with asyncio.sleep(); wait on an asyncio.Event"),
    ],
)  # fmt: skip
def test_busy_wait_names_the_sleep_the_code_uses(source: str, named: str) -> None:
    (finding,) = lint_source(source, select=["AC404"])
    assert named in finding.message
