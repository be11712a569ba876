"""AC302: a bare `except:` or `except BaseException:` around an await that swallows the cancellation."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from asynccheck.lint.context import RawFinding
from asynccheck.rules.base import Example, Rule
from asynccheck.rules.cancellation.handlers import BROAD, HANDLER_TYPES
from asynccheck.rules.cancellation.swallows import swallows

if TYPE_CHECKING:
    from asynccheck.lint.context import FileContext


class BroadExceptSwallowsCancel(Rule):
    """Since Python 3.8 `CancelledError` derives from `BaseException`, so `except Exception`
    lets it through, but a bare `except:` or `except BaseException:` around an `await`
    catches it. If the handler does not re-raise, the task cannot be cancelled while it
    waits there: shutdown hangs and timeouts do not fire. Catch `Exception`, or re-raise.

    Not flagged, as for AC301: a handler that re-raises when the exception is a
    cancellation (`if not isinstance(e, Exception): raise`), that calls a helper which
    always raises (`self._convert_error(e)`) or re-raises a cancellation it is given, or
    that is followed by an unconditional `raise`; a `try` inside
    `anyio.CancelScope(shield=True)`; waiting for a task this code cancelled. A swallow in a
    task's entry coroutine that then ends is AC306's (opt-in), as for AC301."""

    code = "AC302"
    name = "broad-except-swallows-cancel"
    message = "{call} around an await swallows CancelledError; catch Exception or re-raise"
    site_types = HANDLER_TYPES
    references = ("https://docs.python.org/3/library/asyncio-exceptions.html",)
    bad = (
        Example(
            """
            async def f():
                try:
                    await g()
                except:
                    log("failed")
            """
        ),
        Example(
            """
            async def poll(client):
                while True:
                    try:
                        await client.fetch()
                    except BaseException:
                        continue
            """
        ),
        Example(
            """
            async def f(session, url):
                try:
                    async with session.get(url) as r:
                        return await r.json()
                except (ValueError, BaseException) as err:
                    return {"error": str(err)}
            """
        ),
    )
    good = (
        Example(
            """
            async def f():
                try:
                    await g()
                except Exception:
                    log("failed")
            """
        ),
        Example(
            """
            async def f():
                try:
                    await g()
                except BaseException:
                    cleanup()
                    raise
            """
        ),
        Example(
            """
            async def f():
                try:
                    compute()
                except:
                    pass
                await g()
            """
        ),
        Example(
            """
            def f():
                try:
                    g()
                except BaseException:
                    pass
            """
        ),
        Example(
            """
            import asyncio

            async def f():
                try:
                    await g()
                except asyncio.CancelledError:
                    raise
                except BaseException:
                    log("failed")
            """
        ),
    )

    def check(self, ctx: FileContext) -> Iterable[RawFinding]:
        for swallow in swallows(ctx):
            handler = swallow.handler
            if handler.catches != BROAD or swallow.at_task_exit:
                continue  # a task's exit is AC306's
            what = "bare `except:`" if handler.node.type is None else "`except BaseException`"
            yield RawFinding(
                self.code, self.message.format(call=what), handler.node, handler.site.stmt
            )
