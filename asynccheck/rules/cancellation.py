"""AC301–AC305: cancellation swallowed, dropped in `finally`, or requested and never waited for.

The handler questions (does every path re-raise?) are answered by the function's flow view
(`lint/flow.py`), built only for functions that have a handler these rules care about.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Optional

from asynccheck.lint import names
from asynccheck.lint.context import FixPlan, NodeEdit, RawFinding
from asynccheck.lint.cst import cst
from asynccheck.lint.entries import is_task_entry
from asynccheck.lint.facts import bool_operands, dotted
from asynccheck.lint.finding import UNSAFE
from asynccheck.lint.flow import (
    ESCAPED,
    flow_view,
    local_definition,
    parameter_for,
    statements_of,
)
from asynccheck.lint.scopes import VALUE
from asynccheck.lint.walk import NESTED_SCOPES, children, descendants
from asynccheck.rules.base import Example, Rule
from asynccheck.rules.catalog import (
    BROAD_EXCEPTIONS,
    CANCELLED_ERRORS,
    CLEANUP_TIMEOUTS,
    SHIELDS,
    TASK_SPAWNERS,
    TASK_WAITS,
)

if TYPE_CHECKING:
    from asynccheck.lint.context import FileContext
    from asynccheck.lint.facts import Site
    from asynccheck.lint.scopes import Scope

_KNOWN = frozenset(
    (*names.KNOWN_NAMES, *CANCELLED_ERRORS, *SHIELDS, *CLEANUP_TIMEOUTS, *TASK_WAITS,
     *TASK_SPAWNERS)
)  # fmt: skip
_HANDLER_TYPES = ("ExceptHandler", "ExceptStarHandler")
_TRY_TYPES = ("Try", "TryStar")
_CANCEL = "cancel"
_BROAD = "broad"


def _resolve(expr: Any, scope: Scope) -> Optional[str]:
    return names.resolve(expr, scope, _KNOWN)


@dataclass(frozen=True)
class Handler:
    """An `except` clause inside `async def` that catches cancellation."""

    site: Site
    catches: str  # "cancel" (CancelledError named) | "broad" (bare, BaseException)
    exits: frozenset[str]  # ways out of its body

    @property
    def node(self) -> Any:
        return self.site.node

    @property
    def swallows(self) -> bool:
        return bool(self.exits - {"raise"})


def cancel_handlers(ctx: FileContext) -> list[Handler]:
    """Handlers in `async def` that catch CancelledError by name or by catching everything."""
    return ctx.memo("cancel-handlers", _classify_handlers)


def _classify_handlers(ctx: FileContext) -> list[Handler]:
    found = []
    for type_name in _HANDLER_TYPES:
        for site in ctx.sites(type_name):
            if not site.scope.is_async:
                continue
            catches = _catches(site.node.type, site.scope)
            if catches is None:
                continue
            exits = flow_view(ctx, site.scope.node).handler_exits(site.node)
            found.append(Handler(site, catches, exits))
    return found


def _catches(expr: Any, scope: Scope) -> Optional[str]:
    if expr is None:
        return _BROAD
    parts = [e.value for e in expr.elements] if isinstance(expr, cst.Tuple) else [expr]
    resolved = {_resolve(part, scope) for part in parts}
    if resolved & CANCELLED_ERRORS:
        return _CANCEL
    if resolved & BROAD_EXCEPTIONS:
        return _BROAD
    return None


# What a cancelled task is waited for through (`await asyncio.shield(task)` raises too).
_CANCELLED_WAITS = TASK_WAITS | SHIELDS

# A handler that asks the task about its cancellation state decides deliberately.
_DELIBERATE = frozenset(("uncancel", "cancelling"))
# Calls that hand the caught exception on, to be raised or reported elsewhere.
_FORWARDS = frozenset(
    ("append", "appendleft", "add", "extend", "insert", "put", "put_nowait", "set_exception",
     "throw")
)  # fmt: skip


def _deliberate(handler: Any) -> bool:
    """`.uncancel()` / `.cancelling()` in the handler: it tells its own cancellation from a
    CancelledError raised by the code it ran. Or it keeps the exception to raise it later:
    `cancelled = err`, `errors.append(err)`, `waiter.set_exception(err)`, `return err`."""
    caught = handler.name.name.value if handler.name is not None else None
    for node in descendants(statements_of(handler)):
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
            method = node.func.attr.value
            if method in _DELIBERATE:
                return True
            if (
                caught is not None
                and method in _FORWARDS
                and any(_carries(arg.value, caught) for arg in node.args)
            ):
                return True
        if (
            caught is not None
            and isinstance(node, (cst.Assign, cst.AnnAssign, cst.Return))
            and node.value is not None
            and any(_carries(value, caught) for value in _elements(node.value))
        ):
            return True  # kept, or handed to the caller (`return err`) to raise
    return False


def _swallows_own_cancellation(ctx: FileContext, handler: Handler) -> bool:
    """The handler can catch its task's own cancellation and carry on: every way of not
    doing so that AC301 and AC302 share is ruled out, cheapest first."""
    if not handler.swallows or not _awaits_in(statements_of(handler.site.parent)):
        return False  # no suspension point in the try: the cancellation cannot arrive there
    return not (
        _deliberate(handler.node)
        or _reraises_cancel_by_type(ctx, handler)
        or _waits_for_cancelled_task(ctx, handler)
        or _raises_after(handler)
        or _shielded(handler)
    )


def _reraises_cancel_by_type(ctx: FileContext, handler: Handler) -> bool:
    """A statement of the handler re-raises when the caught exception is a cancellation:
    `if isinstance(e, asyncio.CancelledError): raise` or `if not isinstance(e, Exception):
    raise`, or hands it to a helper of the module that does (`self._handle_error(e)`). The
    handler's other paths only see other exceptions."""
    caught = handler.node.name.name.value if handler.node.name is not None else None
    if caught is None:
        return False
    statements = statements_of(handler.node)
    scope = handler.site.scope
    return _guards_cancel(statements, caught, scope) or any(
        _helper_reraises(ctx, call, caught, scope) for call in _calls_passing(statements, caught)
    )


def _guards_cancel(statements: Sequence[Any], caught: str, scope: Scope) -> bool:
    """`if isinstance(caught, CancelledError): raise` among the statements."""
    for stmt in statements:
        if not isinstance(stmt, cst.If) or not _ends_in_raise(stmt.body):
            continue
        # `if a or isinstance(e, CancelledError): raise` raises whenever the guard holds
        if any(_is_cancel_guard(test, caught, scope) for test in bool_operands(stmt.test, cst.Or)):
            return True
    return False


def _calls_passing(statements: Sequence[Any], caught: str) -> Iterator[tuple[Any, Any]]:
    """The calls made as statements that are given the caught exception, with that argument:
    `handle(e)`, `await self._on_error(e)`, up to the first statement that jumps away."""
    for stmt in statements:
        if not isinstance(stmt, cst.SimpleStatementLine):
            return
        for small in stmt.body:
            value = small.value if isinstance(small, cst.Expr) else None
            if isinstance(value, cst.Await):
                value = value.expression
            if isinstance(value, cst.Call):
                arg = next((a for a in value.args if _is_name(a.value, caught)), None)
                if arg is not None:
                    yield value, arg
            if isinstance(small, (cst.Return, cst.Raise, cst.Break, cst.Continue)):
                return


def _helper_reraises(ctx: FileContext, passed: tuple[Any, Any], caught: str, scope: Scope) -> bool:
    """The module's helper that receives the exception raises it again when it is a
    cancellation: `def handle(exc): if isinstance(exc, CancelledError): raise exc`."""
    call, arg = passed
    view = flow_view(ctx, scope.node)
    definition = local_definition(view, call.func)
    if definition is None or definition is scope.node:
        return False
    param = parameter_for(definition, call, arg, isinstance(call.func, cst.Attribute))
    helper = ctx.facts.scopes.get(id(definition))
    if param is None or helper is None:
        return False
    return _guards_cancel(statements_of(definition), param, helper)


def _is_cancel_guard(test: Any, caught: str, scope: Scope) -> bool:
    """`isinstance(e, asyncio.CancelledError)` (or BaseException), `not isinstance(e,
    Exception)`: true whenever the caught exception is a cancellation."""
    negated = isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not)
    checked = _isinstance_of(test.expression if negated else test, caught)
    if checked is None:
        return False
    resolved = {_resolve(t, scope) for t in checked}
    if negated:
        return resolved == {"builtins.Exception"}
    return bool(resolved & (CANCELLED_ERRORS | BROAD_EXCEPTIONS))


# Scopes that keep cancellation out when given `shield=True`.
_SHIELDING_SCOPES = frozenset(
    ("anyio.CancelScope", "anyio.move_on_after", "anyio.fail_after", "trio.CancelScope")
)


def _shielded(handler: Handler) -> bool:
    """The try sits in `with anyio.CancelScope(shield=True):`: no cancellation reaches it."""
    scope = handler.site.scope
    return any(
        isinstance(owner, cst.With) and any(_shields(item.item, scope) for item in owner.items)
        for _statements, _index, _kind, owner in _frames(handler)
    )


def _shields(expr: Any, scope: Scope) -> bool:
    return (
        isinstance(expr, cst.Call)
        and _resolve(expr.func, scope) in _SHIELDING_SCOPES
        and any(
            a.keyword is not None and a.keyword.value == "shield" and _is_name(a.value, "True")
            for a in expr.args
        )
    )


def _raises_after(handler: Handler) -> bool:
    """The handler only swallows by falling off its end, and what runs next raises before
    anything can jump: `try: await ws.close()` / `except BaseException: pass` / `raise` in
    cleanup code, also from inside a loop or an outer handler that ends in `raise`. The
    function ends with an exception either way."""
    if handler.exits - {"raise"} != {"end"}:
        return False
    for statements, index, kind, owner in _frames(handler):
        verdict = _raises_first(statements[index + 1 :])
        if verdict is not None:
            return verdict
        if not _falls_through(kind, owner):
            return False
    return False


# A frame: the statements of one block, where the path is in it, what kind of block it is
# and the statement that owns it; innermost first.
Frame = tuple[Sequence[Any], int, str, Any]


def _frames(handler: Handler) -> list[Frame]:
    """The blocks from the handler's `try` out to its function's body."""
    body = statements_of(handler.site.scope.node)
    return _frames_to(body, handler.site.parent, "function") or []


def _frames_to(
    statements: Sequence[Any], target: Any, kind: str, owner: Any = None
) -> Optional[list[Frame]]:
    for index, stmt in enumerate(statements):
        if stmt is target:
            return [(statements, index, kind, owner)]
        for inner_kind, block in _blocks_of(stmt):
            found = _frames_to(statements_of(block), target, inner_kind, stmt)
            if found is not None:
                return [*found, (statements, index, kind, owner)]
    return None


def _blocks_of(stmt: Any) -> Iterator[tuple[str, Any]]:
    """The blocks a compound statement holds, with what ending each one leads to."""
    if isinstance(stmt, (cst.For, cst.While)):
        yield ("loop", stmt.body)
        if stmt.orelse is not None:
            yield ("after", stmt.orelse)
    elif isinstance(stmt, cst.If):
        yield ("after", stmt.body)
        if stmt.orelse is not None:
            orelse = stmt.orelse
            yield from (_blocks_of(orelse) if isinstance(orelse, cst.If) else [("after", orelse)])
    elif isinstance(stmt, cst.With):
        yield ("after", stmt.body)
    elif isinstance(stmt, (cst.Try, cst.TryStar)):
        yield ("try-body" if stmt.orelse is None else "stop", stmt.body)
        for clause in stmt.handlers:
            yield ("after", clause)
        if stmt.orelse is not None:
            yield ("after", stmt.orelse)
        if stmt.finalbody is not None:
            yield ("stop", stmt.finalbody)  # a finally resumes what was in flight
    elif isinstance(stmt, cst.Match):
        for case in stmt.cases:
            yield ("after", case)


def _falls_through(kind: str, owner: Any) -> bool:
    """Leaving a block of this kind goes on after its statement."""
    if kind in ("after", "try-body"):
        return True
    if kind == "loop":  # it ends when its iterations do, unless it breaks or never ends
        if isinstance(owner, cst.While) and isinstance(owner.test, cst.Name):
            return owner.test.value != "True"
        return not any(isinstance(node, cst.Break) for node in descendants([owner.body]))
    return False  # the function's end, or a finally


_JUMPS = (cst.Return, cst.Break, cst.Continue)


def _raises_first(statements: Iterable[Any]) -> Optional[bool]:
    """True when a `raise` comes before any jump or compound statement; False when one of
    those comes first; None when the block ends first."""
    for stmt in statements:
        if not isinstance(stmt, cst.SimpleStatementLine):
            return False  # a compound statement may leave some other way
        for small in stmt.body:
            if isinstance(small, cst.Raise):
                return True
            if isinstance(small, _JUMPS):
                return False
    return None


def swallowed_at_task_exit(ctx: FileContext, handler: Handler) -> bool:
    """The coroutine is a task's entry (`is_task_entry`) and every way the handler swallows
    leads straight to its end: the task finishes right after, as if it had not been
    cancelled, and nothing more runs in it (its own `finally` cleanup aside)."""
    if not is_task_entry(ctx, handler.site.scope.node):
        return False
    frames = _frames(handler)
    return bool(frames) and all(
        _ends_from(frames, _exit_frame(frames, kind))
        for kind in handler.exits - {"raise", "return"}
    )


def _exit_frame(frames: list[Frame], kind: str) -> Optional[int]:
    """The frame the path goes on in after the handler: the try's own block when it falls
    off the end; the block holding the innermost loop on `break`; none for `continue`."""
    if kind == "end":
        return 0
    if kind == "break":
        loop = next((i for i, frame in enumerate(frames) if frame[2] == "loop"), None)
        return loop + 1 if loop is not None and loop + 1 < len(frames) else None
    return None  # `continue`: the loop goes round again


def _ends_from(frames: list[Frame], start: Optional[int]) -> bool:
    """From the statement at `frames[start]`, the function ends without another await."""
    if start is None:
        return False
    for statements, index, kind, _owner in frames[start:]:
        if _awaits_in(statements[index + 1 :]):
            return False
        if kind == "function":
            return True
        if kind not in ("after", "try-body"):
            return False  # a loop body goes round again; a finally resumes what was in flight
    return False


def _isinstance_of(test: Any, name: str) -> Optional[list[Any]]:
    """The type expressions of `isinstance(name, T)` / `isinstance(name, (T1, T2))`."""
    if not (
        isinstance(test, cst.Call)
        and _is_name(test.func, "isinstance")
        and len(test.args) == 2
        and _is_name(test.args[0].value, name)
    ):
        return None
    types = test.args[1].value
    return [e.value for e in types.elements] if isinstance(types, cst.Tuple) else [types]


def _ends_in_raise(block: Any) -> bool:
    body = statements_of(block)
    last = body[-1] if body else None
    if isinstance(last, cst.Raise):  # `if isinstance(e, CancelledError): raise` on one line
        return True
    return isinstance(last, cst.SimpleStatementLine) and isinstance(last.body[-1], cst.Raise)


def _carries(value: Any, caught: str) -> bool:
    """The caught exception itself, or wrapped whole in an object that can raise it again
    (`Error(exc)`, `Outcome(exc)`): a class call with it as an argument."""
    if _is_name(value, caught):
        return True
    if not isinstance(value, cst.Call):
        return False
    callee = dotted(value.func)
    return (
        callee is not None
        and callee.rpartition(".")[2][:1].isupper()
        and any(_is_name(arg.value, caught) for arg in value.args)
    )


def _is_name(node: Any, name: str) -> bool:
    return isinstance(node, cst.Name) and node.value == name


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
        if isinstance(func, cst.Attribute) and func.attr.value == _CANCEL:
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


def _waits_for_cancelled_task(ctx: FileContext, handler: Handler) -> bool:
    """`t.cancel()` ... `try: await t` / `except CancelledError: pass`: every await in the
    try is on a task this function (or, for `self.x`, its class; for a global, its module)
    cancelled, maybe in the try itself; directly or through gather/wait/wait_for/shield.
    Statements without an await cannot receive the task's own cancellation."""
    body = statements_of(handler.site.parent)
    scope = handler.site.scope
    nodes = list(descendants(body))
    cancelled = _cancelled_receivers(ctx, scope) - _cancelled_only_in(ctx, handler)
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
            and not all(_is_timeout(item.item, scope) for item in node.items)
        ):
            return False  # `async with asyncio.timeout(1): await task` is fine
    return awaits > 0


def _is_timeout(expr: Any, scope: Scope) -> bool:
    return isinstance(expr, cst.Call) and _resolve(expr.func, scope) in CLEANUP_TIMEOUTS


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
        and value.func.attr.value == _CANCEL
    )


def _waits_for(ctx: FileContext, awaited: Any, scope: Scope, cancelled: set[str]) -> bool:
    """`await t` or `await asyncio.wait_for(t, 1)` on a cancelled `t`; or, after a loop that
    cancels each of them, `await asyncio.gather(*tasks)`."""
    if not cancelled:
        return False
    if isinstance(awaited, cst.Call) and _resolve(awaited.func, scope) in _CANCELLED_WAITS:
        return any(
            arg.star == "*" or any(ctx.code_for(v) in cancelled for v in _elements(arg.value))
            for arg in awaited.args
            if arg.keyword is None
        )
    return ctx.code_for(awaited) in cancelled


def _elements(value: Any) -> list[Any]:
    """The tasks an argument names: itself, or the items of `[t1, t2]` / `(t1, t2)`."""
    if isinstance(value, (cst.List, cst.Tuple, cst.Set)):
        return [element.value for element in value.elements]
    return [value]


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
    `self.x` task a method of the class cancels).

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
    site_types = _HANDLER_TYPES
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
        for handler in cancel_handlers(ctx):
            if handler.catches != _CANCEL or not _swallows_own_cancellation(ctx, handler):
                continue
            if swallowed_at_task_exit(ctx, handler):
                continue  # AC306
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
    cancels = [part for part in parts if _resolve(part, scope) in CANCELLED_ERRORS]
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
    site_types = _HANDLER_TYPES
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
        for handler in cancel_handlers(ctx):
            if handler.catches != _BROAD or not _swallows_own_cancellation(ctx, handler):
                continue
            if _cancel_handled_earlier(handler.site.parent, handler.node, handler.site.scope):
                continue
            if swallowed_at_task_exit(ctx, handler):
                continue  # AC306
            what = "bare `except:`" if handler.node.type is None else "`except BaseException`"
            yield RawFinding(
                self.code, self.message.format(call=what), handler.node, handler.site.stmt
            )


def _cancel_handled_earlier(try_node: Any, handler: Any, scope: Scope) -> bool:
    for earlier in try_node.handlers:
        if earlier is handler:
            return False
        if earlier.type is not None and _catches(earlier.type, scope) == _CANCEL:
            return True
    return False


def _awaits_in(statements: Iterable[Any]) -> bool:
    for node in descendants(statements):
        if isinstance(node, cst.Await):
            return True
        if isinstance(node, (cst.For, cst.With)) and node.asynchronous is not None:
            return True
    return False


class FinallySwallows(Rule):
    """A `return`, `break` or `continue` in a `finally:` block discards the exception in
    flight, whatever it is: a `CancelledError` is lost and the task carries on as if it
    had not been cancelled; any error disappears without a trace. Python 3.14 warns about
    it (PEP 765). Move the statement out of the `finally` block."""

    code = "AC303"
    name = "finally-swallows"
    message = "`{call}` in finally discards CancelledError and any other exception; move it out"
    site_types = _TRY_TYPES
    references = ("https://peps.python.org/pep-0765/",)
    bad = (
        Example(
            """
            async def f():
                try:
                    await g()
                finally:
                    return None
            """
        ),
        Example(
            """
            async def f(items):
                for item in items:
                    try:
                        await handle(item)
                    finally:
                        continue
            """
        ),
        Example(
            """
            async def f(items):
                while True:
                    try:
                        await handle(items)
                    finally:
                        if done():
                            break
            """
        ),
    )
    good = (
        Example(
            """
            async def f():
                try:
                    return await g()
                finally:
                    cleanup()
            """
        ),
        Example(
            """
            async def f(items):
                try:
                    await g()
                finally:
                    for item in items:
                        if item:
                            break
            """
        ),
        Example(
            """
            def f():
                try:
                    g()
                finally:
                    return None
            """
        ),
        Example(
            """
            async def f():
                try:
                    await g()
                finally:
                    def cb():
                        return 1
                    register(cb)
            """
        ),
    )

    def check(self, ctx: FileContext) -> Iterable[RawFinding]:
        for type_name in _TRY_TYPES:
            for site in ctx.sites(type_name):
                if not site.scope.is_async or site.node.finalbody is None:
                    continue
                for stmt in _escapes_from(statements_of(site.node.finalbody), False):
                    keyword = type(stmt).__name__.lower()
                    yield RawFinding(self.code, self.message.format(call=keyword), stmt, stmt)


_LOOPS = ("For", "While")


def _escapes_from(statements: Iterable[Any], in_loop: bool) -> Iterator[Any]:
    """`return` anywhere, `break`/`continue` outside a loop of their own, in a finally body.
    A nested `try`'s own `finally` is left to that statement's site."""
    for stmt in statements:
        kind = type(stmt).__name__
        if kind in ("SimpleStatementLine", "SimpleStatementSuite"):
            for small in stmt.body:
                if isinstance(small, cst.Return) or (
                    not in_loop and isinstance(small, (cst.Break, cst.Continue))
                ):
                    yield small
        elif kind in _LOOPS:
            yield from _escapes_from(statements_of(stmt), True)
            if stmt.orelse is not None:
                yield from _escapes_from(statements_of(stmt.orelse), in_loop)
        elif kind in _TRY_TYPES:
            yield from _escapes_from(statements_of(stmt), in_loop)
            for handler in stmt.handlers:
                yield from _escapes_from(statements_of(handler), in_loop)
            if stmt.orelse is not None:
                yield from _escapes_from(statements_of(stmt.orelse), in_loop)
        elif kind == "If":
            yield from _escapes_from(statements_of(stmt), in_loop)
            if stmt.orelse is not None:
                orelse = stmt.orelse
                nested = [orelse] if isinstance(orelse, cst.If) else statements_of(orelse)
                yield from _escapes_from(nested, in_loop)
        elif kind == "With":
            yield from _escapes_from(statements_of(stmt), in_loop)
        elif kind == "Match":
            for case in stmt.cases:
                yield from _escapes_from(statements_of(case), in_loop)


class UnshieldedAwaitInCleanup(Rule):
    """Cleanup code runs while the task is being cancelled or failing. An `await` there can
    itself be cancelled (a second `cancel()`, a `TaskGroup` tearing down, a timeout), leaving
    the cleanup half done, or it can hang forever on a dead peer, so the task never ends.
    Bound it: `await asyncio.shield(...)` keeps it from being cancelled, `async with
    asyncio.timeout(...)` or `asyncio.wait_for(...)` keeps it from hanging."""

    code = "AC304"
    name = "unshielded-await-in-cleanup"
    message = "await in cleanup can be cancelled or hang; wrap it in asyncio.shield() or asyncio.timeout()"
    default = False
    site_types = (*_TRY_TYPES, *_HANDLER_TYPES)
    config_keys = ("target-version",)  # asyncio.wait_for() advice below 3.11 (rules/advice.py)
    references = (
        "https://docs.python.org/3/library/asyncio-task.html#shielding-from-cancellation",
    )
    bad = (
        Example(
            """
            async def f(conn):
                try:
                    await conn.query()
                finally:
                    await conn.close()
            """
        ),
        Example(
            """
            import asyncio

            async def f(conn):
                try:
                    await conn.query()
                except asyncio.CancelledError:
                    await conn.rollback()
                    raise
            """
        ),
        Example(
            """
            async def f(lock, conn):
                try:
                    await conn.query()
                finally:
                    if conn.open:
                        await conn.close()
            """
        ),
    )
    good = (
        Example(
            """
            import asyncio

            async def f(conn):
                try:
                    await conn.query()
                finally:
                    await asyncio.shield(conn.close())
            """
        ),
        Example(
            """
            import asyncio

            async def f(conn):
                try:
                    await conn.query()
                finally:
                    async with asyncio.timeout(5):
                        await conn.close()
            """
        ),
        Example(
            """
            async def f(conn):
                try:
                    await conn.query()
                finally:
                    conn.close_nowait()
            """
        ),
        Example(
            """
            def f(conn):
                try:
                    conn.query()
                finally:
                    conn.close()
            """
        ),
        Example(
            """
            import asyncio

            async def f(conn):
                try:
                    await conn.query()
                finally:
                    await asyncio.wait_for(conn.close(), 5)
            """
        ),
    )

    def check(self, ctx: FileContext) -> Iterable[RawFinding]:
        reported: set[int] = set()
        blocks: list[tuple[Site, Any]] = []
        for type_name in _TRY_TYPES:
            for site in ctx.sites(type_name):
                if site.scope.is_async and site.node.finalbody is not None:
                    blocks.append((site, site.node.finalbody))
        for handler in cancel_handlers(ctx):
            if handler.catches == _CANCEL:
                blocks.append((handler.site, handler.node))
        for site, block in blocks:
            for node in _unshielded_awaits(statements_of(block), site.scope):
                if id(node) not in reported:
                    reported.add(id(node))
                    yield RawFinding(self.code, self.message, node, site.stmt)


def _unshielded_awaits(statements: Iterable[Any], scope: Scope) -> Iterator[Any]:
    stack = [(node, False) for node in statements]
    while stack:
        node, guarded = stack.pop()
        kind = type(node).__name__
        if kind in NESTED_SCOPES:
            continue
        if kind == "Await" and not guarded:
            operand = node.expression
            if not (isinstance(operand, cst.Call) and _resolve(operand.func, scope) in SHIELDS):
                yield node
            guarded = True  # what the shielded call is given is inside the shield
        if (
            kind == "With"  # `async with asyncio.timeout()`, `with anyio.fail_after()`
            and any(_is_timeout(item.item, scope) for item in node.items)
        ):
            stack.extend((child, True) for child in statements_of(node))
            continue
        stack.extend((child, guarded) for child in children(node))


def _is_timeout(expr: Any, scope: Scope) -> bool:
    return isinstance(expr, cst.Call) and _resolve(expr.func, scope) in CLEANUP_TIMEOUTS


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
                and func.attr.value == _CANCEL
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
        spawner = _resolve(func, scope) in TASK_SPAWNERS or (
            isinstance(func, cst.Attribute)
            and func.attr.value == "create_task"
            and _resolve(func, scope) is None
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
    a task, and nothing else calls, is an entry."""

    code = "AC306"
    name = "task-entry-swallows-cancel"
    message = (
        "the task's coroutine swallows CancelledError and ends, so the task ends as not "
        "cancelled; re-raise"
    )
    default = False
    site_types = _HANDLER_TYPES
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
        for handler in cancel_handlers(ctx):
            if not _swallows_own_cancellation(ctx, handler):
                continue
            if handler.catches == _BROAD and _cancel_handled_earlier(
                handler.site.parent, handler.node, handler.site.scope
            ):
                continue
            if swallowed_at_task_exit(ctx, handler):
                yield RawFinding(self.code, self.message, handler.node, handler.site.stmt)
