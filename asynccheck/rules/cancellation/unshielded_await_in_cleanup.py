"""AC304: an await in cleanup code (a `finally:`, an `except CancelledError:`) with no shield or timeout."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from asynccheck.lint.context import RawFinding
from asynccheck.lint.cst import cst
from asynccheck.lint.flow import statements_of
from asynccheck.lint.walk import NESTED_SCOPES, children
from asynccheck.rules.base import Example, Rule
from asynccheck.rules.cancellation.handlers import (
    CANCEL,
    HANDLER_TYPES,
    TRY_TYPES,
    cancel_handlers,
    is_timeout,
    resolve,
)
from asynccheck.rules.catalog import SHIELDS

if TYPE_CHECKING:
    from asynccheck.lint.context import FileContext
    from asynccheck.lint.facts import Site
    from asynccheck.lint.scopes import Scope


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
    site_types = (*TRY_TYPES, *HANDLER_TYPES)
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
        for type_name in TRY_TYPES:
            for site in ctx.sites(type_name):
                if site.scope.is_async and site.node.finalbody is not None:
                    blocks.append((site, site.node.finalbody))
        for handler in cancel_handlers(ctx):
            if handler.catches == CANCEL:
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
            if not (isinstance(operand, cst.Call) and resolve(operand.func, scope) in SHIELDS):
                yield node
            guarded = True  # what the shielded call is given is inside the shield
        if (
            kind == "With"  # `async with asyncio.timeout()`, `with anyio.fail_after()`
            and any(is_timeout(item.item, scope) for item in node.items)
        ):
            stack.extend((child, True) for child in statements_of(node))
            continue
        stack.extend((child, guarded) for child in children(node))
