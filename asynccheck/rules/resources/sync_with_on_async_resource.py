"""AC205: a plain `with` on an async context manager."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Optional

from asynccheck.lint import names
from asynccheck.lint.context import RawFinding
from asynccheck.lint.cst import cst
from asynccheck.lint.facts import self_class
from asynccheck.lint.scopes import VALUE
from asynccheck.rules.base import Example, Rule
from asynccheck.rules.catalog import AIOHTTP_REQUESTS, ASYNC_ONLY_CONTEXT_MANAGERS
from asynccheck.rules.resources.sessions import is_aiohttp_session
from asynccheck.rules.resources.sites import CONFIGURED, known_names, resolve, resource_type

if TYPE_CHECKING:
    from asynccheck.lint.context import FileContext
    from asynccheck.lint.scopes import Scope


class SyncWithOnAsyncResource(Rule):
    """`aiohttp.ClientSession`, `asyncio.Lock`, `asyncio.timeout()` and the other async
    context managers implement `__aenter__`/`__aexit__` only. A plain `with` raises
    `TypeError` (or `AttributeError: __enter__`) at run time, on a path tests may not cover.
    Use `async with`."""

    code = "AC205"
    name = "sync-with-on-async-resource"
    message = "{call} is an async context manager; use `async with`, not `with`"
    site_types = ("With",)
    references = ("https://docs.python.org/3/reference/compound_stmts.html#async-with",)
    bad = (
        Example(
            """
            import aiohttp

            async def f(url):
                with aiohttp.ClientSession() as s:
                    pass
            """
        ),
        Example(
            """
            import asyncio

            class Cache:
                def __init__(self):
                    self._lock = asyncio.Lock()

                async def get(self, key):
                    with self._lock:
                        return self._data[key]
            """
        ),
        Example(
            """
            import asyncio

            async def f():
                with asyncio.timeout(5):
                    await g()
            """
        ),
        Example(
            """
            import aiohttp

            async def f(session: aiohttp.ClientSession, url):
                with session.get(url) as r:
                    return r.status
            """
        ),
    )
    good = (
        Example(
            """
            import aiohttp

            async def f(url):
                async with aiohttp.ClientSession() as s:
                    pass
            """
        ),
        Example(
            """
            import threading

            lock = threading.Lock()

            def f():
                with lock:
                    pass
            """
        ),
        Example(
            """
            import asyncio

            async def f():
                lock = asyncio.Lock()
                async with lock:
                    pass
            """
        ),
        Example(
            """
            import anyio

            async def f():
                with anyio.fail_after(5):
                    await g()
            """
        ),
    )

    def check(self, ctx: FileContext) -> Iterable[RawFinding]:
        known = known_names(ctx)
        for site in ctx.sites("With"):
            if site.node.asynchronous is not None:
                continue
            for item in site.node.items:
                name = _async_only(item.item, site.scope, ctx, known)
                if name is not None:
                    message = self.message.format(call=name)
                    yield RawFinding(self.code, message, item.item, site.stmt)


def _async_only(expr: Any, scope: Scope, ctx: FileContext, known: frozenset[str]) -> Optional[str]:
    """How the message names `expr` when it is an async-only context manager."""
    if isinstance(expr, cst.Call):
        func = expr.func
        name = resolve(func, scope, known)
        if name in ASYNC_ONLY_CONTEXT_MANAGERS or resource_type(name, ctx) == CONFIGURED:
            return f"{names.display_name(name or '')}()"
        if (
            isinstance(func, cst.Attribute)
            and func.attr.value in AIOHTTP_REQUESTS
            and is_aiohttp_session(func.value, scope, ctx)
        ):
            return f"aiohttp session.{func.attr.value}()"
        return None
    if isinstance(expr, cst.Name):
        _found, bindings = scope.lookup(expr.value)
        values = [p for kind, p in bindings if kind == VALUE]
    elif isinstance(expr, cst.Attribute):
        owner = self_class(expr.value, scope)
        if owner is None:
            return None
        values = [
            p for kind, p in owner.bindings.get(f"self.{expr.attr.value}", ()) if kind == VALUE
        ]
    else:
        return None
    for value in values:
        if isinstance(value, cst.Call):
            name = resolve(value.func, scope, known)
            if name in ASYNC_ONLY_CONTEXT_MANAGERS:
                return f"{ctx.code_for(expr)} ({names.display_name(name or '')}())"
    return None
