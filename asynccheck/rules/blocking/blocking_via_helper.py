"""AC110: a blocking call reached through plain helpers, across the project."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from asynccheck.lint.context import RawFinding
from asynccheck.lint.project.candidates import CHAIN, question
from asynccheck.rules.base import Example, Rule
from asynccheck.rules.blocking.helper_chains import (
    advice_for,
    callee_text,
    helper_chains,
    project_calls,
)

if TYPE_CHECKING:
    from asynccheck.lint.context import FileContext


class BlockingViaHelper(Rule):
    """A blocking call does not become harmless by moving it into a plain function: when a
    coroutine calls `load_settings()`, and that calls `read_config()`, which calls `open()`,
    the loop still stops for the disk read, and no other task runs meanwhile. AC101-AC109
    only see calls written in the coroutine itself; this rule follows plain functions as
    deep as they go, across the modules of the project, and names the shortest chain that
    ends in a blocking call, with the module of each step from another file:
    `storage.save_order() -> storage._write() -> open()`.

    Followed: the module's own functions, methods called as `self.method()`, static and
    class methods called through the class, nested defs, `Class()` running its `__init__`;
    and in the rest of the project, a function imported in any form (`from .storage import
    save`, `import pkg.storage as st; st.save()`, a re-export through a package's
    `__init__.py`), a method of a class from another module called on `Class()`, on the
    class, on a name assigned `Class()` or annotated `Class` (`Optional[Class]`, `Class |
    None`, a parameter), on `self.repo` assigned `Repo()` or annotated in the class body,
    and a method a class inherits from a base in the project. Calls are followed from
    every place that runs on the loop: `async def` bodies, and the sync code the loop
    calls itself (the callbacks of `asyncio.Protocol` subclasses and their buffered,
    datagram and subprocess kinds, also through a base class in another module of the
    project, and functions handed to `loop.call_soon`/`call_later`/`call_at`/
    `call_soon_threadsafe`/`add_reader`/`add_writer`/`add_signal_handler` or
    `fut.add_done_callback`; nothing can be awaited there, so the advice is "hand it to a
    thread: loop.run_in_executor(None, helper)"). A sync def nested in a coroutine is
    followed only when the coroutine calls it; it is no loop callback unless it is handed
    to one of those.

    The project is the package tree around the linted files (found by walking up their
    `__init__.py`s, so `src/` layouts work, and from the folder of the configuration), so
    `asynccheck lint src/app/handlers.py`, as pre-commit runs it, reports the same chains as
    linting the whole tree: the modules it imports are read and summarised, not reported.
    A file's cached findings are reused only while the summaries of the modules its chains
    went through are unchanged.

    Not reported: a helper handed to `asyncio.to_thread`, `loop.run_in_executor`,
    `anyio.to_thread.run_sync` or Home Assistant's `hass.async_add_executor_job` (a
    reference, not a call); `async def` helpers (awaiting them is AC1xx's business inside
    them); helpers with a decorator that may move the call to a thread or make it a
    coroutine (only `functools.lru_cache`/`cache`/`wraps`, `staticmethod`, `classmethod`,
    `contextlib.contextmanager`, `abc.abstractmethod` and the like are seen through);
    generator functions that are called but not iterated there (in other modules:
    generators are not followed); a blocking call inside a helper whose line carries a
    `# noqa` (bare, with that call's code, or AC110): its author accepted it, so no chain
    goes through it; and calls AC101-AC109 already report (a nested def the coroutine calls
    runs on the loop: its own blocking calls are reported where they are made).

    Not followed (precision before recall): code outside the project (installed packages),
    a call through a name bound more than once or to a value of unknown type, `getattr`,
    callables kept in dicts or passed as arguments, a subclass's override of the method of
    the declared type, a method a class may inherit from a base outside the project (in
    the bases' order: a base from outside that comes first may define it; being a protocol
    is decided by any base, wherever it is), and in another module a `# noqa` placed
    inside a statement that spans lines (other than on its last line).

    Limits: in other modules a name is followed through at most 12 re-exports or base
    classes, and the modules a chain reaches are read in at most 64 rounds (one round a
    level of imports); within a module, base classes are followed 8 deep. The chain itself
    has no length limit: the shortest one is named. There is no fix; `--fix` reports and
    counts these findings like a plain run.

    Run the helper in a worker thread (`await asyncio.to_thread(load_settings)`), or make
    the chain async."""

    code = "AC110"
    name = "blocking-via-helper"
    message = "{call} blocks the event loop; {advice}"
    site_types = ("Yield",)
    references = ("https://docs.python.org/3/library/asyncio-dev.html#running-blocking-code",)
    bad = (
        Example(
            """
            import json

            def read_config(path):
                with open(path) as f:
                    return json.load(f)

            def load_settings():
                return read_config("settings.json")

            async def main():
                settings = load_settings()
            """
        ),
        Example(
            """
            import time

            class Poller:
                def _backoff(self):
                    time.sleep(1)

                async def run(self):
                    self._backoff()
            """
        ),
        Example(
            """
            import requests

            class Api:
                @staticmethod
                def fetch(url):
                    return requests.get(url, timeout=5)

                async def user(self):
                    return Api.fetch("/user")
            """
        ),
        Example(
            """
            import functools, subprocess

            @functools.lru_cache(maxsize=None)
            def git_version():
                return subprocess.check_output(["git", "describe"])

            async def handler():
                return git_version()
            """
        ),
        Example(
            """
            import os

            def walk(path, depth):
                if depth:
                    return walk(path, depth - 1)
                return os.listdir(path)

            async def scan(path):
                return walk(path, 3)
            """
        ),
    )
    good = (
        Example(
            """
            import asyncio, json

            def read_config(path):
                with open(path) as f:
                    return json.load(f)

            async def main():
                settings = await asyncio.to_thread(read_config, "settings.json")
            """
        ),
        Example(
            """
            def read_config(path):
                with open(path) as f:
                    return f.read()

            def main():
                return read_config("settings.json")
            """
        ),
        Example(
            """
            def read_config(path):
                return open(path).read()  # noqa: AC104 - a tiny file read once at start-up

            async def main():
                return read_config("settings.json")
            """
        ),
        Example(
            """
            import time

            async def main(hass):
                def work():
                    time.sleep(1)
                await hass.async_add_executor_job(work)
            """
        ),
        Example(
            """
            import time
            from somewhere import run_in_thread

            @run_in_thread
            def work():
                time.sleep(1)

            async def main():
                await work()
            """
        ),
        Example(
            """
            import time

            def lines(path):
                with open(path) as f:
                    yield from f

            async def main(path):
                return lines(path)
            """
        ),
    )

    def check(self, ctx: FileContext) -> Iterable[RawFinding]:
        reported = set()
        for found in helper_chains(ctx):
            site = found.site
            reported.add(id(site.node))
            message = self.message.format(
                call=" -> ".join(found.chain), advice=advice_for(site, found.helper)
            )
            yield RawFinding(self.code, message, site.node, site.stmt)
        if ctx.module_name is not None:
            for site, target in project_calls(ctx):
                if id(site.node) not in reported:
                    advice = advice_for(site, callee_text(ctx, site.node.func))
                    message = self.message.format(call=CHAIN, advice=advice)
                    yield RawFinding(self.code, question(target, message), site.node, site.stmt)

    @classmethod
    def summary(cls) -> str:
        return "<chain> blocks the event loop; use await asyncio.to_thread(<helper>)"
