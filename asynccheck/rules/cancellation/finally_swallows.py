"""AC303: `return`, `break` or `continue` in a `finally:` block."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from asynccheck.lint.context import RawFinding
from asynccheck.lint.cst import cst
from asynccheck.lint.flow import statements_of
from asynccheck.rules.base import Example, Rule
from asynccheck.rules.cancellation.blocks import blocks_of
from asynccheck.rules.cancellation.handlers import TRY_TYPES

if TYPE_CHECKING:
    from asynccheck.lint.context import FileContext


class FinallySwallows(Rule):
    """A `return`, `break` or `continue` in a `finally:` block discards the exception in
    flight, whatever it is: a `CancelledError` is lost and the task carries on as if it
    had not been cancelled; any error disappears without a trace. Python 3.14 warns about
    it (PEP 765). Move the statement out of the `finally` block."""

    code = "AC303"
    name = "finally-swallows"
    message = "`{call}` in finally discards CancelledError and any other exception; move it out"
    site_types = TRY_TYPES
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
        for type_name in TRY_TYPES:
            for site in ctx.sites(type_name):
                if not site.scope.is_async or site.node.finalbody is None:
                    continue
                for stmt in _escapes_from(statements_of(site.node.finalbody), False):
                    keyword = type(stmt).__name__.lower()
                    yield RawFinding(self.code, self.message.format(call=keyword), stmt, stmt)


def _escapes_from(statements: Iterable[Any], in_loop: bool) -> Iterator[Any]:
    """`return` anywhere, `break`/`continue` outside a loop of their own, in a finally body.
    A nested `try`'s own `finally` is left to that statement's site."""
    for stmt in statements:
        if isinstance(stmt, (cst.SimpleStatementLine, cst.SimpleStatementSuite)):
            for small in stmt.body:
                if isinstance(small, cst.Return) or (
                    not in_loop and isinstance(small, (cst.Break, cst.Continue))
                ):
                    yield small
            continue
        for kind, block in blocks_of(stmt):
            if block is not getattr(stmt, "finalbody", None):
                yield from _escapes_from(statements_of(block), in_loop or kind == "loop")
