"""AC301: `except CancelledError` that does not re-raise on every path."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Optional

from asynccheck.lint.context import FixPlan, NodeEdit, RawFinding
from asynccheck.lint.cst import cst
from asynccheck.lint.finding import UNSAFE
from asynccheck.lint.flow import statements_of
from asynccheck.rules.base import Example, Rule
from asynccheck.rules.cancellation.handlers import CANCEL, HANDLER_TYPES, Handler, resolve
from asynccheck.rules.cancellation.swallows import swallows
from asynccheck.rules.catalog import CANCELLED_ERRORS

if TYPE_CHECKING:
    from asynccheck.lint.context import FileContext


class CancelledErrorSwallowed(Rule):
    """When a task is cancelled, `asyncio.CancelledError` is raised at its current `await`.
    A handler that catches it and carries on turns the cancellation into a no-op: the task
    keeps running, `task.cancel()` callers waiting for it never see it end as cancelled,
    `asyncio.timeout()` cannot convert it into `TimeoutError`, and `TaskGroup`/`asyncio.run`
    shutdown can hang. Clean up, then re-raise.

    Not flagged: sync code (a sync function is never the target of its task's cancellation);
    a `try` without an `await` (the task's cancellation cannot arrive there) or inside
    `anyio.CancelScope(shield=True)`; a handler that calls `.uncancel()` or asks
    `.cancelling()` (a deliberate decision), that re-raises when `isinstance(e,
    CancelledError)`, or that hands the exception on to be raised later; a swallow followed
    by an unconditional `raise`; a handler that hands the exception to a helper of the
    module which re-raises it when it is a cancellation; and waiting for a task this code
    cancelled (`t.cancel()`, then `try: await t` / `except CancelledError: pass`; also a
    `self.x` task a method of the class cancels, and tasks cancelled one by one in a loop
    over them or over the pending set of an `asyncio.wait([a, b])`). A handler that hands
    the exception to another library's re-raiser (`six.reraise`, `raise_...(exc)`) re-raises.

    Reported apart, as AC306 (opt-in): a swallow in a coroutine only ever started as a task
    (`create_task(self._run())`, `asyncio.run(main())`), after which the coroutine ends. The
    task stops anyway; judged by hand on real packages, 59 of 82 swallows were of this kind
    and harmless. The unsafe fix appends `raise`; on a handler that also catches other types
    it re-raises the cancellation only (`if isinstance(exc, CancelledError): raise`)."""

    code = "AC301"
    name = "cancelled-error-swallowed"
    message = "except CancelledError does not re-raise on every path; end the handler with `raise`"
    fix_safety = UNSAFE
    fix_title = "Re-raise the CancelledError at the end of the handler"
    site_types = HANDLER_TYPES
    references = (
        "https://docs.python.org/3/library/asyncio-task.html#task-cancellation",
        "https://docs.python.org/3/library/asyncio-exceptions.html#asyncio.CancelledError",
    )
    bad = (
        Example(
            """
            import asyncio

            async def worker(queue):
                try:
                    await queue.get()
                except asyncio.CancelledError:
                    log("stopped")
            """,
            fixed="""
            import asyncio

            async def worker(queue):
                try:
                    await queue.get()
                except asyncio.CancelledError:
                    log("stopped")
                    raise
            """,
            unsafe=True,
        ),
        Example(
            """
            from asyncio import CancelledError as Stop

            async def f():
                try:
                    await g()
                except Stop:
                    pass
            """,
            fixed="""
            from asyncio import CancelledError as Stop

            async def f():
                try:
                    await g()
                except Stop:
                    raise
            """,
            unsafe=True,
        ),
        Example(
            """
            import asyncio.exceptions

            async def f():
                try:
                    await g()
                except (ValueError, asyncio.exceptions.CancelledError):
                    return None
            """
        ),
        Example(
            """
            import asyncio

            async def f(stopping):
                while True:
                    try:
                        await tick()
                    except asyncio.CancelledError:
                        if stopping:
                            break
                        raise
            """
        ),
        Example(
            """
            import asyncio

            async def f():
                try:
                    await g()
                except* asyncio.CancelledError:
                    cleanup()
            """,
            fixed="""
            import asyncio

            async def f():
                try:
                    await g()
                except* asyncio.CancelledError:
                    cleanup()
                    raise
            """,
            unsafe=True,
        ),
    )
    good = (
        Example(
            """
            import asyncio

            async def worker(queue):
                try:
                    await queue.get()
                except asyncio.CancelledError:
                    log("stopped")
                    raise
            """
        ),
        Example(
            """
            import asyncio

            def sync(fut):
                try:
                    fut.result()
                except asyncio.CancelledError:
                    pass
            """
        ),
        Example(
            """
            import asyncio

            async def stop(task):
                task.cancel()
                try:
                    await task
                except asyncio.CancelledError:
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
                    if asyncio.current_task().uncancel() == 0:
                        return "timed out"
                    raise
            """
        ),
        Example(
            """
            import asyncio

            async def f():
                try:
                    await g()
                except asyncio.CancelledError as err:
                    raise RuntimeError("stopped") from err
            """
        ),
        Example(
            """
            import concurrent.futures

            async def f(fut):
                try:
                    await g()
                except concurrent.futures.CancelledError:
                    pass
            """
        ),
    )

    def check(self, ctx: FileContext) -> Iterable[RawFinding]:
        for swallow in swallows(ctx):
            handler = swallow.handler
            if handler.catches != CANCEL or swallow.at_task_exit:
                continue  # a task's exit is AC306's
            yield RawFinding(
                self.code, self.message, handler.node, handler.site.stmt, self._fix(ctx, handler)
            )

    def _fix(self, ctx: FileContext, handler: Handler) -> Optional[FixPlan]:
        """Append `raise` when falling off the end is the only way the handler swallows
        (a `return`/`break` path would still swallow after the fix). A handler that also
        catches other types (`except (CancelledError, TimeoutError)`) re-raises the
        cancellation only: `if isinstance(exc, CancelledError): raise`."""
        if handler.exits - {"raise"} != {"end"}:
            return None
        body = handler.node.body
        statements = statements_of(handler.node)
        reraise = _reraise_for(ctx, handler)
        if not statements or reraise is None:
            return None
        text, naming = reraise
        last = statements[-1]
        if isinstance(body, cst.SimpleStatementSuite):
            if text != "raise":
                return None  # an `if` cannot follow `;` on the handler's line
            edit = (
                NodeEdit(last, "raise")
                if isinstance(last, cst.Pass)
                else NodeEdit(last, "; raise", "after")
            )
        elif (
            isinstance(last, cst.SimpleStatementLine)
            and len(last.body) == 1
            and isinstance(last.body[0], cst.Pass)
        ):
            edit = NodeEdit(last.body[0], text)
        else:
            edit = NodeEdit(last, text, "line_after")
        return FixPlan(self.fix_safety or UNSAFE, self.fix_title or "", (*naming, edit))


# Names the fix may give an unnamed handler's exception, first free one wins.
_EXCEPTION_NAMES = ("exc", "err", "error", "cancel_exc")


def _reraise_for(ctx: FileContext, handler: Handler) -> Optional[tuple[str, tuple[NodeEdit, ...]]]:
    """The statement that re-raises the cancellation and nothing else, and the edits that
    name the exception for it; None when no such statement can be written."""
    node = handler.node
    parts = [e.value for e in node.type.elements] if isinstance(node.type, cst.Tuple) else []
    scope = handler.site.scope
    cancels = [part for part in parts if resolve(part, scope) in CANCELLED_ERRORS]
    if len(cancels) == len(parts):
        return "raise", ()  # only cancellations are caught (or not a tuple)
    if isinstance(node, cst.ExceptStarHandler):
        return None  # the name is bound to an ExceptionGroup there
    naming: tuple[NodeEdit, ...] = ()
    if node.name is not None and isinstance(node.name.name, cst.Name):
        caught = node.name.name.value
    else:
        taken = scope.bindings.keys() | scope.module().bindings.keys()
        caught = next((n for n in _EXCEPTION_NAMES if n not in taken), "")
        if not caught:
            return None
        closing = node.type.rpar[-1] if node.type.rpar else node.type  # after `)`, if any
        naming = (NodeEdit(closing, f" as {caught}", "after"),)
    types = ", ".join(ctx.code_for(part) for part in cancels)
    if len(cancels) > 1:
        types = f"({types})"
    return f"if isinstance({caught}, {types}): raise", naming
