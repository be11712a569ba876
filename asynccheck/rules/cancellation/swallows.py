"""Does a handler swallow its own task's cancellation? Every way of not doing so that
AC301, AC302 and AC306 share (a deliberate `uncancel()`, a re-raise by type, waiting for a
cancelled task, a `raise` right after, a shield), cheapest first; and whether the swallow
ends the task's coroutine (AC306's, not AC301's or AC302's).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Optional

from asynccheck.lint.cst import cst
from asynccheck.lint.entries import is_task_entry
from asynccheck.lint.facts import bool_operands, dotted
from asynccheck.lint.flow import flow_view, local_definition, parameter_for, statements_of
from asynccheck.lint.walk import descendants
from asynccheck.rules.cancellation.blocks import (
    ends_from,
    exit_frame,
    falls_through,
    frames_of,
    raises_first,
)
from asynccheck.rules.cancellation.cancelled_tasks import waits_for_cancelled_task
from asynccheck.rules.cancellation.handlers import (
    BROAD,
    Handler,
    awaits_in,
    cancel_handled_earlier,
    cancel_handlers,
    elements,
    is_name,
    resolve,
)
from asynccheck.rules.catalog import BROAD_EXCEPTIONS, CANCELLED_ERRORS

if TYPE_CHECKING:
    from asynccheck.lint.context import FileContext
    from asynccheck.lint.scopes import Scope


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
            and any(_carries(value, caught) for value in elements(node.value))
        ):
            return True  # kept, or handed to the caller (`return err`) to raise
    return False


@dataclass(frozen=True)
class Swallow:
    """A handler that swallows its task's own cancellation."""

    handler: Handler
    at_task_exit: bool  # the coroutine is a task's entry and ends right after: AC306's


def swallows(ctx: FileContext) -> list[Swallow]:
    """Every handler that swallows its task's own cancellation, asked once per file: AC301
    takes those that name CancelledError, AC302 the broad ones, AC306 those at a task's
    exit. A broad clause after one that catches CancelledError by name never sees it."""
    return ctx.memo("cancel-swallows", _find_swallows)


def _find_swallows(ctx: FileContext) -> list[Swallow]:
    found = []
    for handler in cancel_handlers(ctx):
        if not swallows_own_cancellation(ctx, handler):
            continue
        if handler.catches == BROAD and cancel_handled_earlier(
            handler.site.parent, handler.node, handler.site.scope
        ):
            continue
        found.append(Swallow(handler, swallowed_at_task_exit(ctx, handler)))
    return found


def swallows_own_cancellation(ctx: FileContext, handler: Handler) -> bool:
    """The handler can catch its task's own cancellation and carry on: every way of not
    doing so is ruled out, cheapest first."""
    if not handler.swallows or not awaits_in(statements_of(handler.site.parent)):
        return False  # no suspension point in the try: the cancellation cannot arrive there
    return not (
        _deliberate(handler.node)
        or _reraises_cancel_by_type(ctx, handler)
        or waits_for_cancelled_task(ctx, handler)
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
                arg = next((a for a in value.args if is_name(a.value, caught)), None)
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
    resolved = {resolve(t, scope) for t in checked}
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
        for _statements, _index, _kind, owner in frames_of(handler)
    )


def _shields(expr: Any, scope: Scope) -> bool:
    return (
        isinstance(expr, cst.Call)
        and resolve(expr.func, scope) in _SHIELDING_SCOPES
        and any(
            a.keyword is not None and a.keyword.value == "shield" and is_name(a.value, "True")
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
    for statements, index, kind, owner in frames_of(handler):
        verdict = raises_first(statements[index + 1 :])
        if verdict is not None:
            return verdict
        if not falls_through(kind, owner):
            return False
    return False


def swallowed_at_task_exit(ctx: FileContext, handler: Handler) -> bool:
    """The coroutine is a task's entry (`is_task_entry`) and every way the handler swallows
    leads straight to its end: the task finishes right after, as if it had not been
    cancelled, and nothing more runs in it (its own `finally` cleanup aside)."""
    if not is_task_entry(ctx, handler.site.scope.node):
        return False
    frames = frames_of(handler)
    return bool(frames) and all(
        ends_from(frames, exit_frame(frames, kind)) for kind in handler.exits - {"raise", "return"}
    )


def _isinstance_of(test: Any, name: str) -> Optional[list[Any]]:
    """The type expressions of `isinstance(name, T)` / `isinstance(name, (T1, T2))`."""
    if not (
        isinstance(test, cst.Call)
        and is_name(test.func, "isinstance")
        and len(test.args) == 2
        and is_name(test.args[0].value, name)
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
    if is_name(value, caught):
        return True
    if not isinstance(value, cst.Call):
        return False
    callee = dotted(value.func)
    return (
        callee is not None
        and callee.rpartition(".")[2][:1].isupper()
        and any(is_name(arg.value, caught) for arg in value.args)
    )
