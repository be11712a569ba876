"""AC601: `asyncio.run()` or `loop.run_until_complete()` inside a coroutine."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from asynccheck.lint import names
from asynccheck.lint.context import RawFinding
from asynccheck.rules.asyncio_calls import call_text, calls_named, in_coroutine
from asynccheck.rules.base import Example, Rule
from asynccheck.rules.catalog import NESTED_LOOP_CALLS, NESTED_LOOP_METHODS

if TYPE_CHECKING:
    from asynccheck.lint.context import FileContext


class NestedEventLoop(Rule):
    """A coroutine already runs on an event loop. `asyncio.run()` or
    `loop.run_until_complete()` there either fails ("This event loop is already running",
    "cannot be called from a running event loop") or starts a second loop in the same thread
    that blocks the first one until it finishes: every other task stops meanwhile. Await the
    coroutine, or schedule it with `asyncio.create_task()`."""

    code = "AC601"
    name = "nested-event-loop"
    message = "{call}() inside async def starts a nested event loop; await the coroutine instead"
    references = ("https://docs.python.org/3/library/asyncio-runner.html#asyncio.run",)
    bad = (
        Example("import asyncio\nasync def main():\n    asyncio.run(work())"),
        Example(
            "import asyncio\nasync def main():\n    loop = asyncio.get_event_loop()\n"
            "    return loop.run_until_complete(fetch())"
        ),
        Example("import asyncio\nasync def serve():\n    loop = asyncio.new_event_loop()"),
        Example("from asyncio import run as arun\nasync def main():\n    arun(job())"),
        Example("class S:\n    async def start(self):\n        self._loop.run_forever()"),
    )
    good = (
        Example("import asyncio\nasync def main():\n    await work()\n\nasyncio.run(main())"),
        Example(
            "import asyncio\ndef main():\n    loop = asyncio.new_event_loop()\n"
            "    loop.run_until_complete(work())"
        ),
        Example(
            "import asyncio\nasync def main():\n    def in_thread():\n"
            "        asyncio.run(work())\n    await asyncio.to_thread(in_thread)"
        ),
        Example("async def main(runner):\n    await runner.run()"),
        Example("async def main(ws_client):\n    await ws_client.run_forever()"),
        Example(
            "import asyncio, threading\nasync def main():\n"
            "    threading.Thread(target=lambda: asyncio.run(job())).start()"
        ),
    )

    def check(self, ctx: FileContext) -> Iterable[RawFinding]:
        for key, site in calls_named(
            ctx, (*NESTED_LOOP_CALLS, *(f".{m}" for m in NESTED_LOOP_METHODS))
        ):
            # `await client.run_forever()` is some library's coroutine, not a loop's
            if not in_coroutine(site) or (site.awaited and key[0] == "."):
                continue
            call = names.display_name(key) if key[0] != "." else call_text(ctx, site.node)
            yield RawFinding(self.code, self.message.format(call=call), site.node, site.stmt)
