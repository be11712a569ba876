"""AC110 beyond the rule examples: chain depth, cycles, methods, nested defs, shadowing,
offloaded helpers, decorators, generators, suppression, positions and the exact message."""

from __future__ import annotations

import textwrap

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from asynccheck.lint.api import lint_source

TAIL = "blocks the event loop; use await asyncio.to_thread"
ITERATE = "blocks the event loop; iterate it in a thread: await asyncio.to_thread(list, lines(...))"


def findings(source: str, select: str = "AC110") -> list[tuple[int, int, str]]:
    found = lint_source(textwrap.dedent(source), select=[select])
    return [(f.location.row, f.location.column, f.message) for f in found if f.code == "AC110"]


def chains(source: str) -> list[str]:
    return [message.split(" blocks the event loop; ")[0] for _, _, message in findings(source)]


# --- depth ---------------------------------------------------------------------------------


def test_depth_one_exact_message_and_position() -> None:
    source = """
        import time

        def pause():
            time.sleep(1)

        async def main():
            x = 1 + pause()
        """
    assert findings(source) == [
        (8, 13, "pause() -> time.sleep() blocks the event loop; use await asyncio.to_thread(pause)")
    ]


def test_depth_two_names_the_chain_and_the_arguments() -> None:
    source = """
        import json

        def read_config(path):
            with open(path) as f:
                return json.load(f)

        def load_settings(name):
            return read_config(name + ".json")

        async def main():
            return load_settings("app")
        """
    assert findings(source) == [
        (
            12,
            12,
            "load_settings() -> read_config() -> open() blocks the event loop; "
            "use await asyncio.to_thread(load_settings, ...)",
        )
    ]


def test_depth_three_and_four() -> None:
    source = """
        import subprocess

        def d():
            return subprocess.run(["ls"])

        def c():
            return d()

        def b():
            return c()

        def a():
            return b()

        async def three():
            b()

        async def four():
            a()
        """
    assert chains(source) == [
        "b() -> c() -> d() -> subprocess.run()",
        "a() -> b() -> c() -> d() -> subprocess.run()",
    ]


def test_shortest_chain_wins_and_ties_go_to_the_first_call() -> None:
    source = """
        import os, time

        def deep():
            return middle()

        def middle():
            return os.listdir(".")

        def helper():
            deep()
            middle()
            time.sleep(1)

        def tie():
            deep()
            middle()

        async def main():
            helper()
            tie()
        """
    assert chains(source) == [
        "helper() -> time.sleep()",
        "tie() -> middle() -> os.listdir()",
    ]


# --- cycles --------------------------------------------------------------------------------


def test_cycles() -> None:
    source = """
        import os

        def ping(n):
            return pong(n - 1) if n else None

        def pong(n):
            if n > 10:
                os.remove("x")
            return ping(n)

        def spin(n):
            return spin(n - 1)

        def loop_a():
            return loop_b()

        def loop_b():
            return loop_a()

        async def main():
            ping(3)
            spin(3)
            loop_a()
        """
    assert chains(source) == ["ping() -> pong() -> os.remove()"]


# --- methods -------------------------------------------------------------------------------


def test_methods_self_cls_static_and_inherited() -> None:
    source = """
        import time

        class Base:
            def wait(self):
                time.sleep(1)

        class Worker(Base):
            @classmethod
            def make(cls):
                return cls.slow()

            @classmethod
            def slow(cls):
                time.sleep(1)

            @staticmethod
            def pause():
                time.sleep(1)

            async def run(self):
                self.wait()
                Worker.pause()
                self.make()
                Worker.slow()
        """
    assert chains(source) == [
        "self.wait() -> time.sleep()",
        "Worker.pause() -> time.sleep()",
        "self.make() -> cls.slow() -> time.sleep()",
        "Worker.slow() -> time.sleep()",
    ]


@pytest.mark.parametrize(
    "source",
    [
        # an instance attribute named like the method: the attribute wins
        """
        import time
        class A:
            def __init__(self, cb):
                self.wait = cb
            def wait(self):
                time.sleep(1)
            async def run(self):
                self.wait()
        """,
        # a base class from elsewhere may define the method
        """
        import time
        from lib import Base
        class A(Base):
            async def run(self):
                self.wait()
        def wait():
            time.sleep(1)
        """,
        # a staticmethod's first parameter is not self
        """
        import time
        class A:
            def wait(self):
                time.sleep(1)
            @staticmethod
            async def run(other):
                other.wait()
        """,
        # another object's method of the same name
        """
        import time
        class A:
            def wait(self):
                time.sleep(1)
        async def run(obj):
            obj.wait()
        """,
    ],
)
def test_methods_not_followed(source: str) -> None:
    assert findings(source) == []


def test_constructor_runs_init() -> None:
    source = """
        import json

        class Settings:
            def __init__(self, path):
                with open(path) as f:
                    self.data = json.load(f)

        class Plain:
            pass

        async def main():
            Settings("a.json")
            Plain()
        """
    assert chains(source) == ["Settings() -> open()"]


# --- nested defs ---------------------------------------------------------------------------


def test_nested_defs() -> None:
    source = """
        import time

        def outer():
            def inner():
                time.sleep(1)
            return inner()

        def slow():
            time.sleep(1)

        async def main():
            outer()

            def on_loop():
                time.sleep(1)
                slow()
            on_loop()

            def later():
                slow()
            return later
        """
    # `on_loop` runs on the loop: AC101 reports its own sleep, AC110 its helper call there.
    assert findings(source, select="AC1") == [
        (13, 5, "outer() -> inner() -> time.sleep() " + TAIL + "(outer)"),
        (17, 9, "slow() -> time.sleep() " + TAIL + "(slow)"),
    ]
    codes = [f.code for f in lint_source(textwrap.dedent(source), select=["AC1"])]
    assert codes == ["AC110", "AC101", "AC110"]


def test_nested_def_with_only_direct_blocking_is_ac101_only() -> None:
    source = """
        import time

        async def main():
            def wait():
                time.sleep(1)
            wait()
        """
    assert [f.code for f in lint_source(textwrap.dedent(source), select=["AC1"])] == ["AC101"]


# --- shadowing -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "source",
    [
        # a local rebinds the name
        "import time\ndef pause():\n    time.sleep(1)\n"
        "async def main(other):\n    pause = other\n    pause()\n",
        # a parameter
        "import time\ndef pause():\n    time.sleep(1)\nasync def main(pause):\n    pause()\n",
        # an import fallback: the name is bound twice
        "import time\ntry:\n    from fast import pause\nexcept ImportError:\n"
        "    def pause():\n        time.sleep(1)\nasync def main():\n    pause()\n",
        # two definitions
        "import sys, time\nif sys.platform == 'win32':\n    def pause():\n        time.sleep(1)\n"
        "else:\n    def pause():\n        pass\nasync def main():\n    pause()\n",
        # a helper that shadows the blocking call itself
        "def open(path):\n    return path\nasync def main():\n    open('x')\n",
    ],
)
def test_shadowing(source: str) -> None:
    assert findings(source) == []


def test_local_def_shadows_a_module_helper() -> None:
    source = """
        import time

        def pause():
            time.sleep(1)

        async def main():
            def pause():
                return None
            pause()
        """
    assert findings(source) == []


# --- offloaded helpers ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        "await asyncio.to_thread(read, 'a')",
        "await asyncio.get_running_loop().run_in_executor(None, read, 'a')",
        "await loop.run_in_executor(None, functools.partial(read, 'a'))",
        "await anyio.to_thread.run_sync(read, 'a')",
        "await hass.async_add_executor_job(read, 'a')",
        "await self.hass.async_add_executor_job(read, 'a')",
        "await loop.run_in_executor(None, lambda: read('a'))",
        "executor.submit(read, 'a')",
    ],
)
def test_helpers_handed_to_a_thread(call: str) -> None:
    source = (
        "import asyncio, anyio, functools\n"
        "def read(p):\n    with open(p) as f:\n        return f.read()\n"
        f"async def main(self, hass, loop, executor):\n    {call}\n"
    )
    assert findings(source) == []


def test_called_inside_the_to_thread_argument_is_still_a_call() -> None:
    source = """
        import asyncio

        def read(p):
            return open(p).read()

        async def main():
            await asyncio.to_thread(print, read("a"))
        """
    assert chains(source) == ["read() -> open(p).read()"]


def test_offloading_inside_the_helper() -> None:
    source = """
        import asyncio, time

        def slow():
            time.sleep(1)

        def schedule(loop):
            return loop.run_in_executor(None, slow)

        def in_thread():
            return asyncio.to_thread(time.sleep, 1)

        async def main(loop):
            await schedule(loop)
            await in_thread()
        """
    assert findings(source) == []


# --- decorators ----------------------------------------------------------------------------


def test_transparent_and_unknown_decorators() -> None:
    source = """
        import functools, time
        from contextlib import contextmanager
        from functools import cache
        from homeassistant.core import callback
        from somewhere import to_thread_decorator, register

        @functools.lru_cache(maxsize=None)
        def cached():
            time.sleep(1)

        @cache
        def cached2():
            time.sleep(1)

        @callback
        def ha_callback():
            time.sleep(1)

        @contextmanager
        def locked():
            time.sleep(1)
            yield

        @to_thread_decorator
        def moved():
            time.sleep(1)

        @register("x")
        def registered():
            time.sleep(1)

        class A:
            @property
            def value(self):
                time.sleep(1)

        async def main(a):
            cached()
            cached2()
            ha_callback()
            with locked():
                pass
            await moved()
            registered()
            a.value
        """
    assert chains(source) == [
        "cached() -> time.sleep()",
        "cached2() -> time.sleep()",
        "ha_callback() -> time.sleep()",
        "locked() -> time.sleep()",
    ]


def test_wraps_wrapper_is_followed() -> None:
    source = """
        import functools, time

        def retry(fn):
            @functools.wraps(fn)
            def wrapper(*args):
                time.sleep(1)
                return fn(*args)
            return wrapper

        async def main():
            def local():
                return 1
            retry(local)
        """
    # `retry(local)` only builds the wrapper: nothing blocks.
    assert findings(source) == []


# --- generators ----------------------------------------------------------------------------


def test_generators_block_only_when_iterated_there() -> None:
    source = """
        def lines(path):
            with open(path) as f:
                yield from f

        async def main(path):
            gen = lines(path)
            for line in lines(path):
                pass
            return [line for line in lines(path)]
        """
    assert findings(source) == [
        (8, 17, "lines() -> open() " + ITERATE),
        (10, 30, "lines() -> open() " + ITERATE),
    ]


# --- where nothing is flagged --------------------------------------------------------------


def test_sync_callers_module_level_and_class_bodies() -> None:
    source = """
        import time

        def pause():
            time.sleep(1)

        pause()

        class Config:
            value = pause()

        def sync_main():
            pause()

        async def main():
            return lambda: pause()
        """
    assert findings(source) == []


def test_async_helpers_are_not_ac110() -> None:
    source = """
        import time

        async def pause():
            time.sleep(1)

        async def main():
            await pause()
        """
    assert [f.code for f in lint_source(textwrap.dedent(source), select=["AC1"])] == ["AC101"]


# --- suppression ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("comment", "reported"),
    [
        ("# noqa", False),
        ("# noqa: AC101", False),
        ("# noqa: E501, AC101", False),
        ("# noqa: AC110", False),
        ("# asynccheck: ignore[AC101]", False),
        ("# noqa: E501", True),
        ("# noqa: AC104", True),
        ("# a comment", True),
    ],
)
def test_noqa_on_the_inner_blocking_call(comment: str, reported: bool) -> None:
    source = (
        f"import time\ndef pause():\n    time.sleep(1)  {comment}\nasync def main():\n    pause()\n"
    )
    assert bool(findings(source)) is reported


def test_noqa_on_the_first_line_of_a_multiline_statement() -> None:
    source = """
        import subprocess

        def run():
            return subprocess.run(  # noqa: AC103
                ["ls"],
                check=True,
            )

        async def main():
            run()
        """
    assert findings(source) == []


def test_a_suppressed_call_does_not_hide_another_path() -> None:
    source = """
        import os, time

        def helper():
            time.sleep(1)  # noqa: AC101
            other()

        def other():
            os.remove("x")

        async def main():
            helper()
        """
    assert chains(source) == ["helper() -> other() -> os.remove()"]


def test_noqa_ac110_on_a_helper_call_inside_a_helper_cuts_the_edge() -> None:
    source = """
        import time

        def outer():
            return inner()  # noqa: AC110

        def inner():
            time.sleep(1)

        async def main():
            outer()
            inner()
        """
    assert chains(source) == ["inner() -> time.sleep()"]


def test_noqa_on_the_call_in_the_coroutine() -> None:
    source = """
        import time

        def pause():
            time.sleep(1)

        async def main():
            pause()  # noqa: AC110
            pause()  # asynccheck: ignore[AC110]
            pause()
        """
    assert [row for row, _, _ in findings(source)] == [10]


# --- the catalogue in helpers --------------------------------------------------------------


def test_typed_receivers_and_configured_calls_in_helpers() -> None:
    source = """
        import requests
        import mysdk

        class Api:
            def __init__(self):
                self.session = requests.Session()

            def _get(self, url):
                return self.session.get(url)

            def _sdk(self):
                return mysdk.fetch_all()

            async def user(self):
                self._get("/u")
                self._sdk()
        """
    found = lint_source(
        textwrap.dedent(source), select=["AC110"], config={"blocking-calls": ["mysdk.fetch_all"]}
    )
    assert [f.message.split(f" {TAIL}")[0] for f in found] == [
        "self._get() -> self.session.get()",
        "self._sdk() -> mysdk.fetch_all()",
    ]


def test_one_finding_per_call_site() -> None:
    source = """
        import os, time

        def helper():
            time.sleep(1)
            os.remove("x")
            time.sleep(2)

        async def main():
            helper()
            helper()
        """
    assert [(row, col) for row, col, _ in findings(source)] == [(10, 5), (11, 5)]


def test_home_assistant_executor_jobs_and_callbacks() -> None:
    source = """
        import os
        from homeassistant.core import callback

        class Flow:
            def _normalize(self, path):
                return os.path.realpath(path)

            @callback
            def async_check(self, path):
                return self._normalize(path)

            def _start_worker(self):
                def work():
                    os.remove("x")
                return self.hass.async_add_executor_job(work)

            async def step_a(self, path):
                return await self.hass.async_add_executor_job(self._normalize, path)

            async def step_b(self, path):
                return self.async_check(path)

            async def step_c(self):
                await self._start_worker()
        """
    assert chains(source) == [
        "self.async_check() -> self._normalize() -> os.path.realpath()",
    ]


def test_super_and_other_receivers_are_not_followed() -> None:
    source = """
        import time

        class Base:
            def wait(self):
                time.sleep(1)

        class Child(Base):
            def wait(self):
                return None

            async def run(self, other: "Child"):
                super().wait()
                other.wait()
                Base.wait(self)
        """
    assert chains(source) == ["Base.wait() -> time.sleep()"]


# --- random call graphs: reported iff reachable, and the chain is a shortest one ----------


@st.composite
def call_graphs(draw: st.DrawFn) -> tuple[int, list[list[int]], list[bool], list[int]]:
    size = draw(st.integers(1, 7))
    calls = [draw(st.lists(st.integers(0, size - 1), max_size=3)) for _ in range(size)]
    blocks = [draw(st.booleans()) for _ in range(size)]
    called = draw(st.lists(st.integers(0, size - 1), min_size=1, max_size=4))
    return size, calls, blocks, called


def _shortest(calls: list[list[int]], blocks: list[bool], start: int) -> int | None:
    """Functions on a shortest chain from `start` to a blocking call (BFS), or None."""
    frontier, seen, depth = [start], {start}, 1
    while frontier:
        if any(blocks[f] for f in frontier):
            return depth
        nxt = []
        for f in frontier:
            for g in calls[f]:
                if g not in seen:
                    seen.add(g)
                    nxt.append(g)
        frontier, depth = nxt, depth + 1
    return None


@settings(max_examples=150, deadline=None, derandomize=True)
@given(call_graphs())
def test_random_call_graphs(graph: tuple[int, list[list[int]], list[bool], list[int]]) -> None:
    size, calls, blocks, called = graph
    lines = ["import time"]
    for f in range(size):
        lines.append(f"def f{f}():")
        lines += [f"    f{g}()" for g in calls[f]]
        lines.append("    time.sleep(1)" if blocks[f] else "    return None")
    lines.append("async def main():")
    lines += [f"    f{f}()" for f in called]
    found = {row: message for row, _, message in findings("\n".join(lines) + "\n")}
    first_row = len(lines) - len(called) + 1
    for offset, f in enumerate(called):
        expected = _shortest(calls, blocks, f)
        message = found.get(first_row + offset)
        if expected is None:
            assert message is None
            continue
        assert message is not None
        chain = message.split(f" {TAIL}")[0].split(" -> ")
        assert chain[0] == f"f{f}()" and chain[-1] == "time.sleep()"
        assert len(chain) - 1 == expected
        # every step is a real call of the previous function
        for a, b in zip(chain[:-2], chain[1:-1]):
            assert int(b[1:-2]) in calls[int(a[1:-2])]
        assert blocks[int(chain[-2][1:-2])]


def test_instances_of_module_classes() -> None:
    source = """
        import requests

        class Api:
            def fetch(self, url):
                return requests.get(url)

        api = Api()

        async def by_module_instance():
            api.fetch("/a")

        async def by_local_instance():
            client = Api()
            client.fetch("/b")

        async def by_annotation(client: Api, other: "Api", unknown):
            client.fetch("/c")
            other.fetch("/d")
            unknown.fetch("/e")
        """
    assert chains(source) == [
        "api.fetch() -> requests.get()",
        "client.fetch() -> requests.get()",
        "client.fetch() -> requests.get()",
        "other.fetch() -> requests.get()",
    ]


@pytest.mark.parametrize(
    ("use", "advice"),
    [
        ("helper()", "use await asyncio.to_thread(helper)"),
        ("with opened('p') as f:\n        pass",
         "make opened() an @asynccontextmanager that awaits asyncio.to_thread()"),
        ("for line in lines('p'):\n        pass",
         "iterate it in a thread: await asyncio.to_thread(list, lines(...))"),
    ],
)  # fmt: skip
def test_advice_fits_what_is_called(use: str, advice: str) -> None:
    source = f"""
import time
from contextlib import contextmanager

def helper():
    time.sleep(1)

@contextmanager
def opened(path):
    with open(path) as f:
        yield f

def lines(path):
    with open(path) as f:
        yield from f

async def main():
    {use}
"""
    (finding,) = lint_source(source, select=["AC110"])
    assert advice in finding.message
