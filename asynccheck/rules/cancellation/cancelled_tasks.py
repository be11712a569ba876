"""What a function cancels (`t.cancel()`, also through its class or its module), and
whether a handler only waits for a task it cancelled itself: `t.cancel()`, then
`try: await t` / `except CancelledError: pass` is how a task is stopped, not a swallow.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from asynccheck.lint.cst import cst
from asynccheck.lint.flow import statements_of
from asynccheck.lint.walk import descendants
from asynccheck.rules.cancellation.handlers import CANCEL, Handler, elements, is_timeout, resolve
from asynccheck.rules.catalog import SHIELDS, TASK_WAITS

if TYPE_CHECKING:
    from asynccheck.lint.context import FileContext
    from asynccheck.lint.scopes import Scope


# What a cancelled task is waited for through (`await asyncio.shield(task)` raises too).
_CANCELLED_WAITS = TASK_WAITS | SHIELDS


def _cancelled_receivers(ctx: FileContext, scope: Scope) -> set[str]:
    """The code of everything `.cancel()` is called on in this function; in a method, also
    the `self.x` tasks any method of the class cancels (`stop()` cancels the task that
    `run()` waits for; a `self._cancel_sync()` helper)."""
    per_scope: dict[int, dict[str, int]] = ctx.memo("cancelled-receivers", _index_cancels)
    found = set(per_scope.get(id(scope), ()))
    module = ctx.facts.module_scope
    globals_cancelled = {
        name
        for name in per_scope.get(id(module), ())
        if name not in scope.bindings or name in scope.global_names
    }
    if globals_cancelled:
        found = found | globals_cancelled
    owner = scope.parent
    if owner is None or owner.kind != "class":
        return found
    per_class: dict[int, set[str]] = ctx.memo("cancelled-attributes", _index_class_cancels)
    return found | per_class.get(id(owner), set())


def _index_class_cancels(ctx: FileContext) -> dict[int, set[str]]:
    per_scope: dict[int, dict[str, int]] = ctx.memo("cancelled-receivers", _index_cancels)
    found: dict[int, set[str]] = {}
    for scope in ctx.facts.scopes.values():
        owner = scope.parent
        if owner is not None and owner.kind == "class":
            attributes = {r for r in per_scope.get(id(scope), ()) if r.startswith("self.")}
            found.setdefault(id(owner), set()).update(attributes)
    return found


def _index_cancels(ctx: FileContext) -> dict[int, dict[str, int]]:
    """Per scope: what `.cancel()` is called on there, and how many times."""
    found: dict[int, dict[str, int]] = {}

    def count(scope: Scope, receiver: str) -> None:
        per_receiver = found.setdefault(id(scope), {})
        per_receiver[receiver] = per_receiver.get(receiver, 0) + 1

    for site in ctx.facts.calls:
        func = site.node.func
        if isinstance(func, cst.Attribute) and func.attr.value == CANCEL:
            receiver = ctx.code_for(func.value)
            for scope in _closure_owners(site.scope, func.value):
                count(scope, receiver)
            if isinstance(func.value, cst.Name) and func.value.value in site.scope.global_names:
                # `global _task` ... `_task.cancel()`: the module's task, for every function
                count(ctx.facts.module_scope, receiver)
    return found


def _closure_owners(scope: Scope, receiver: Any) -> Iterator[Scope]:
    """The scope of a `.cancel()` call, and the enclosing functions it cancels for: a
    nested `def on_signal(): task.cancel()` cancels the `task` of the function around it."""
    yield scope
    head = receiver
    while isinstance(head, cst.Attribute):
        head = head.value
    if not isinstance(head, cst.Name):
        return
    inner, outer = scope, scope.parent
    while (
        outer is not None
        and outer.kind in ("function", "async", "lambda")
        and head.value not in inner.bindings
    ):
        yield outer
        inner, outer = outer, outer.parent


def waits_for_cancelled_task(ctx: FileContext, handler: Handler) -> bool:
    """`t.cancel()` ... `try: await t` / `except CancelledError: pass`: every await in the
    try is on a task this function (or, for `self.x`, its class; for a global, its module)
    cancelled, maybe in the try itself; directly or through gather/wait/wait_for/shield.
    Statements without an await cannot receive the task's own cancellation."""
    body = statements_of(handler.site.parent)
    scope = handler.site.scope
    nodes = list(descendants(body))
    cancelled = _cancelled_receivers(ctx, scope) - _cancelled_only_in(ctx, handler)
    cancelled |= _cancelled_through_loops(ctx, scope)
    cancelled.update(ctx.code_for(n.func.value) for n in nodes if _is_cancel_call(n))
    awaits = 0
    for node in nodes:
        if isinstance(node, cst.Await):
            if not _waits_for(ctx, node.expression, scope, cancelled):
                return False
            awaits += 1
        elif isinstance(node, cst.For) and node.asynchronous is not None:
            return False
        elif (
            isinstance(node, cst.With)
            and node.asynchronous is not None
            and not all(is_timeout(item.item, scope) for item in node.items)
        ):
            return False  # `async with asyncio.timeout(1): await task` is fine
    return awaits > 0


def _cancelled_through_loops(ctx: FileContext, scope: Scope) -> set[str]:
    """The tasks a loop of the function cancels one by one: `for t in [a, b]: t.cancel()`,
    or over the pending set of a wait on listed tasks (`_, pending = await
    asyncio.wait([a, b])` ... `for p in pending: p.cancel()`): a and b."""
    per_scope: dict[int, set[str]] = ctx.memo("cancelled-through-loops", lambda _ctx: {})
    found = per_scope.get(id(scope))
    if found is not None:
        return found
    found = set()
    nodes = list(descendants(statements_of(scope.node))) if scope.kind != "module" else []
    waited: dict[str, list[Any]] = {}  # `pending` -> the tasks its wait was given
    for node in nodes:
        if isinstance(node, cst.Assign) and len(node.targets) == 1:
            tasks = _waited_tasks(node.value, scope)
            target = node.targets[0].target
            if tasks is not None and isinstance(target, cst.Tuple) and len(target.elements) == 2:
                pending = target.elements[1].value
                if isinstance(pending, cst.Name):
                    waited[pending.value] = tasks
    for node in nodes:
        if not isinstance(node, cst.For) or not isinstance(node.target, cst.Name):
            continue
        variable = node.target.value
        if not any(
            _is_cancel_call(n)
            and isinstance(n.func.value, cst.Name)
            and n.func.value.value == variable
            for n in descendants(statements_of(node))
        ):
            continue
        if isinstance(node.iter, (cst.List, cst.Tuple, cst.Set)):
            found.update(ctx.code_for(task) for task in elements(node.iter))
        elif isinstance(node.iter, cst.Name) and node.iter.value in waited:
            found.update(ctx.code_for(task) for task in waited[node.iter.value])
    per_scope[id(scope)] = found
    return found


def _waited_tasks(value: Any, scope: Scope) -> Any:
    """The listed tasks of `await asyncio.wait([a, b], ...)`, or None."""
    if isinstance(value, cst.Await):
        value = value.expression
    if not (
        isinstance(value, cst.Call)
        and value.args
        and value.args[0].keyword is None
        and resolve(value.func, scope) in ("asyncio.wait", "asyncio.tasks.wait")
        and isinstance(value.args[0].value, (cst.List, cst.Tuple, cst.Set))
    ):
        return None
    return elements(value.args[0].value)


def _cancelled_only_in(ctx: FileContext, handler: Handler) -> set[str]:
    """Tasks cancelled in the handler itself and nowhere else in the function: that cancel
    comes after the exception was caught, so it cannot be what raised it."""
    here: dict[str, int] = {}
    for node in descendants(statements_of(handler.node)):
        if _is_cancel_call(node):
            receiver = ctx.code_for(node.func.value)
            here[receiver] = here.get(receiver, 0) + 1
    if not here:
        return set()
    per_scope: dict[int, dict[str, int]] = ctx.memo("cancelled-receivers", _index_cancels)
    everywhere = per_scope.get(id(handler.site.scope), {})
    return {r for r, n in here.items() if everywhere.get(r, 0) <= n}


def _is_cancel_call(value: Any) -> bool:
    return (
        isinstance(value, cst.Call)
        and isinstance(value.func, cst.Attribute)
        and value.func.attr.value == CANCEL
    )


def _waits_for(ctx: FileContext, awaited: Any, scope: Scope, cancelled: set[str]) -> bool:
    """`await t` or `await asyncio.wait_for(t, 1)` on a cancelled `t`; or, after a loop that
    cancels each of them, `await asyncio.gather(*tasks)`."""
    if not cancelled:
        return False
    if isinstance(awaited, cst.Call) and resolve(awaited.func, scope) in _CANCELLED_WAITS:
        return any(
            arg.star == "*" or any(ctx.code_for(v) in cancelled for v in elements(arg.value))
            for arg in awaited.args
            if arg.keyword is None
        )
    return ctx.code_for(awaited) in cancelled
