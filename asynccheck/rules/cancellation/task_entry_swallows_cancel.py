"""AC306: a task's entry coroutine swallows its cancellation and ends."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from asynccheck.lint.context import RawFinding
from asynccheck.rules.base import Example, Rule
from asynccheck.rules.cancellation.handlers import HANDLER_TYPES
from asynccheck.rules.cancellation.swallows import swallows

if TYPE_CHECKING:
    from asynccheck.lint.context import FileContext


class TaskEntrySwallowsCancel(Rule):
    """A coroutine that is only ever started as a task (`create_task(self._reader())`,
    `asyncio.run(main())`) catches its cancellation and then ends. The task does stop, so
    nothing hangs; but it finishes as if it had completed: `task.cancelled()` is False,
    `await task` after `task.cancel()` returns instead of raising `CancelledError`, and a
    supervisor cannot tell a stop from a normal end. Re-raise to end it as cancelled.

    Reported apart from AC301/AC302, and off by default: judged by hand on real packages,
    59 of the 82 swallowed cancellations were of this kind, and they were harmless. AC301
    and AC302 keep every handler after which the coroutine goes on running (a `continue`, a
    loop that goes round again, an `await` after the handler), and every coroutine that is
    awaited somewhere or never started in the module: only a coroutine the module starts as
    a task, and nothing else calls, is an entry. Started means handed to a task starter,
    directly or through a function of the module that hands its parameter on (`def
    start(coro): tasks.add(create_task(coro))`); a method called on a receiver the file
    cannot type (`create_task(sub._jsi.check())`) counts when it is the module's only
    async def of that name and every call of that name starts a task."""

    code = "AC306"
    name = "task-entry-swallows-cancel"
    message = (
        "the task's coroutine swallows CancelledError and ends, so the task ends as not "
        "cancelled; re-raise"
    )
    default = False
    site_types = HANDLER_TYPES
    references = ("https://docs.python.org/3/library/asyncio-task.html#task-cancellation",)
    bad = (
        Example(
            """
            import asyncio

            async def reader(queue):
                while True:
                    try:
                        item = await queue.get()
                    except asyncio.CancelledError:
                        break
                    handle(item)

            async def main(queue):
                task = asyncio.create_task(reader(queue))
                await stop_requested()
                task.cancel()
            """
        ),
        Example(
            """
            import asyncio

            async def main():
                try:
                    await serve_forever()
                except asyncio.CancelledError:
                    pass

            asyncio.run(main())
            """
        ),
        Example(
            """
            class Pinger:
                def start(self, loop):
                    self._task = loop.create_task(self._run())

                async def _run(self):
                    try:
                        await self.ping_forever()
                    except BaseException:
                        log("pinger stopped")
                    finally:
                        await self.close()
            """
        ),
    )
    good = (
        Example(
            """
            import asyncio

            async def reader(queue):
                try:
                    await queue.get()
                except asyncio.CancelledError:
                    log("stopped")
                    raise

            async def main(queue):
                task = asyncio.create_task(reader(queue))
            """
        ),
        Example(
            """
            import asyncio

            async def reader(queue):
                while True:
                    try:
                        await queue.get()
                    except asyncio.CancelledError:
                        continue

            async def main(queue):
                task = asyncio.create_task(reader(queue))
            """
        ),
        Example(
            """
            import asyncio

            async def fetch():
                try:
                    await get()
                except asyncio.CancelledError:
                    pass

            async def main():
                task = asyncio.create_task(fetch())
                return await fetch()
            """
        ),
        Example(
            """
            import asyncio

            async def reader(queue):
                try:
                    await queue.get()
                except asyncio.CancelledError:
                    pass
                await queue.put(None)

            async def main(queue):
                task = asyncio.create_task(reader(queue))
            """
        ),
    )

    def check(self, ctx: FileContext) -> Iterable[RawFinding]:
        for swallow in swallows(ctx):
            if swallow.at_task_exit:
                handler = swallow.handler
                yield RawFinding(self.code, self.message, handler.node, handler.site.stmt)
