"""The `except` clauses in `async def` that catch cancellation, and the names the
family resolves (`asyncio.CancelledError`, the shields and the cleanup timeouts).

Built once per file (memoized on the context) from the one walk's handler sites, with each
handler's ways out from the function's flow view (`lint/flow.py`), built only for functions
that have such a handler.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Optional

from asynccheck.lint import names
from asynccheck.lint.cst import cst
from asynccheck.lint.flow import flow_view
from asynccheck.lint.walk import descendants
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


KNOWN = frozenset(
    (*names.KNOWN_NAMES, *CANCELLED_ERRORS, *SHIELDS, *CLEANUP_TIMEOUTS, *TASK_WAITS,
     *TASK_SPAWNERS)
)  # fmt: skip
HANDLER_TYPES = ("ExceptHandler", "ExceptStarHandler")
TRY_TYPES = ("Try", "TryStar")
CANCEL = "cancel"
BROAD = "broad"


def resolve(expr: Any, scope: Scope) -> Optional[str]:
    return names.resolve(expr, scope, KNOWN)


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
    for type_name in HANDLER_TYPES:
        for site in ctx.sites(type_name):
            if not site.scope.is_async:
                continue
            catches = catch_kind(site.node.type, site.scope)
            if catches is None:
                continue
            exits = flow_view(ctx, site.scope.node).handler_exits(site.node)
            found.append(Handler(site, catches, exits))
    return found


def catch_kind(expr: Any, scope: Scope) -> Optional[str]:
    if expr is None:
        return BROAD
    parts = [e.value for e in expr.elements] if isinstance(expr, cst.Tuple) else [expr]
    resolved = {resolve(part, scope) for part in parts}
    if resolved & CANCELLED_ERRORS:
        return CANCEL
    if resolved & BROAD_EXCEPTIONS:
        return BROAD
    return None


def is_name(node: Any, name: str) -> bool:
    return isinstance(node, cst.Name) and node.value == name


def is_timeout(expr: Any, scope: Scope) -> bool:
    return isinstance(expr, cst.Call) and resolve(expr.func, scope) in CLEANUP_TIMEOUTS


def elements(value: Any) -> list[Any]:
    """The tasks an argument names: itself, or the items of `[t1, t2]` / `(t1, t2)`."""
    if isinstance(value, (cst.List, cst.Tuple, cst.Set)):
        return [element.value for element in value.elements]
    return [value]


def cancel_handled_earlier(try_node: Any, handler: Any, scope: Scope) -> bool:
    for earlier in try_node.handlers:
        if earlier is handler:
            return False
        if earlier.type is not None and catch_kind(earlier.type, scope) == CANCEL:
            return True
    return False


def awaits_in(statements: Iterable[Any]) -> bool:
    for node in descendants(statements):
        if isinstance(node, cst.Await):
            return True
        if isinstance(node, (cst.For, cst.With)) and node.asynchronous is not None:
            return True
    return False
