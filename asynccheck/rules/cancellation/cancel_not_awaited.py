"""AC305: `task.cancel()` on a task the function never awaits afterwards."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from asynccheck.lint import names
from asynccheck.lint.context import RawFinding
from asynccheck.lint.cst import cst
from asynccheck.lint.flow import ESCAPED, flow_view
from asynccheck.lint.scopes import VALUE
from asynccheck.rules.base import Example, Rule
from asynccheck.rules.cancellation.handlers import CANCEL, resolve
from asynccheck.rules.catalog import TASK_SPAWNERS

if TYPE_CHECKING:
    from asynccheck.lint.context import FileContext
    from asynccheck.lint.facts import Site
    from asynccheck.lint.scopes import Scope


class CancelNotAwaited(Rule):
    """`task.cancel()` only requests cancellation: the task is still running when it
    returns, and its cleanup (its `finally` blocks, its `except CancelledError`) runs later,
    maybe after this function has closed what the task was using. Await the task (or
    `gather` it) after cancelling it, typically with
    `contextlib.suppress(asyncio.CancelledError)`."""

    code = "AC305"
    name = "cancel-not-awaited"
    message = "{call}() requests cancellation but the task is never awaited; await it afterwards"
    default = False
    references = ("https://docs.python.org/3/library/asyncio-task.html#asyncio.Task.cancel",)
    bad = (
        Example(
            """
            import asyncio

            async def f():
                task = asyncio.create_task(poll())
                await work()
                task.cancel()
            """
        ),
        Example(
            """
            import asyncio

            async def f(loop):
                t = loop.create_task(poll())
                try:
                    await work()
                finally:
                    t.cancel()
            """
        ),
        Example(
            """
            import asyncio

            async def f():
                t = asyncio.ensure_future(poll())
                await t
                t = asyncio.ensure_future(poll())
                t.cancel()
            """
        ),
    )
    good = (
        Example(
            """
            import asyncio, contextlib

            async def f():
                task = asyncio.create_task(poll())
                await work()
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            """
        ),
        Example(
            """
            import asyncio

            async def f():
                tasks = [asyncio.create_task(poll(i)) for i in range(3)]
                task = asyncio.create_task(poll(4))
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
            """
        ),
        Example(
            """
            import asyncio

            async def f(self):
                task = asyncio.create_task(poll())
                task.cancel()
                self._tasks.append(task)
            """
        ),
        Example(
            """
            async def f(handle):
                handle.cancel()
            """
        ),
        Example(
            """
            import asyncio

            def f():
                task = asyncio.create_task(poll())
                task.cancel()
            """
        ),
    )

    def check(self, ctx: FileContext) -> Iterable[RawFinding]:
        for site in ctx.facts.calls:
            func = site.node.func
            if not (
                isinstance(func, cst.Attribute)
                and func.attr.value == CANCEL
                and isinstance(func.value, cst.Name)
                and site.scope.is_async
            ):
                continue
            name = func.value.value
            if not _is_local_task(name, site.scope):
                continue
            if _awaited_after(ctx, site, name):
                continue
            yield RawFinding(
                self.code, self.message.format(call=f"{name}.cancel"), site.node, site.stmt
            )


def _is_local_task(name: str, scope: Scope) -> bool:
    bindings = scope.bindings.get(name)
    if not bindings or name in scope.global_names:
        return False
    for kind, payload in bindings:
        if kind != VALUE or not isinstance(payload, cst.Call):
            return False
        func = payload.func
        spawner = resolve(func, scope) in TASK_SPAWNERS or (
            isinstance(func, cst.Attribute)
            and func.attr.value == "create_task"
            and resolve(func, scope) is None
            and not _is_task_group(func.value, scope)
        )
        if not spawner:
            return False
    return True


def _is_task_group(expr: Any, scope: Scope) -> bool:
    """`tg.create_task(...)`: the group waits for its tasks."""
    if not isinstance(expr, cst.Name):
        return False
    _found, bindings = scope.lookup(expr.value)
    for kind, payload in bindings:
        if kind == "with" and isinstance(payload, cst.Call):
            text = names.resolve(payload.func, scope) or ""
            if text.endswith("TaskGroup") or text.endswith("create_task_group"):
                return True
    return False


def _awaited_after(ctx: FileContext, site: Site, name: str) -> bool:
    """The task is awaited (or handed away) after the `.cancel()`, in source order."""
    view = flow_view(ctx, site.scope.node)
    uses = view.uses(name)
    cancel_use = next((u for u in uses if any(a is site.node.func for a in u.ancestors())), None)
    if cancel_use is None:
        return True
    after = view.order.get(id(cancel_use.owner), 0)
    for use in uses:
        if use is cancel_use:
            continue
        if any(isinstance(a, cst.Await) for a in use.ancestors()):
            if view.order.get(id(use.owner), 0) >= after:
                return True
            continue
        if view.classify(use) == ESCAPED:
            return True
    return False
