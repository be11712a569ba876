"""AC402: a coroutine called and never awaited."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Optional

from asynccheck.lint import names
from asynccheck.lint.context import FixPlan, NodeEdit, RawFinding
from asynccheck.lint.cst import cst
from asynccheck.lint.facts import dotted, self_class
from asynccheck.lint.finding import SAFE
from asynccheck.lint.scopes import ANNOTATED, DEF, NONE, PARAM, VALUE, Scope
from asynccheck.rules.asyncio_calls import body_nodes, calls_named, in_coroutine, resolve
from asynccheck.rules.base import Example, Rule
from asynccheck.rules.catalog import (
    ASYNCIO_COROUTINE_METHODS,
    COROUTINE_FUNCTIONS,
    TRANSPARENT_DECORATORS,
)

if TYPE_CHECKING:
    from asynccheck.lint.context import FileContext
    from asynccheck.lint.facts import Site


# --- AC402 -----------------------------------------------------------------------------------
def _plain_coroutine_function(ctx: FileContext, bindings: Any, scope: Scope) -> bool:
    """Every binding is an `async def` that still makes a coroutine: no yield (an async
    generator), no decorator that may wrap it into something else."""
    if not bindings:
        return False
    for kind, payload in bindings:
        if kind != DEF or payload.asynchronous is None:
            return False
        for decorator in payload.decorators:
            expr = decorator.decorator
            if isinstance(expr, cst.Call):
                expr = expr.func
            name = names.resolve(expr, scope, TRANSPARENT_DECORATORS)
            if name is None or names.display_name(name) not in TRANSPARENT_DECORATORS:
                return False
        if _is_generator(ctx, payload):
            return False
    return True


def _is_generator(ctx: FileContext, function: Any) -> bool:
    memo: dict[int, bool] = ctx.memo("ac402-generators", lambda _ctx: {})
    key = id(function)
    if key not in memo:
        memo[key] = any(isinstance(n, cst.Yield) for n in body_nodes(function.body))
    return memo[key]


_PRIMITIVE_METHODS = frozenset(m for methods in ASYNCIO_COROUTINE_METHODS.values() for m in methods)


def asyncio_object(expr: Any, scope: Scope, depth: int = 0) -> Optional[str]:
    """The asyncio constructor (`asyncio.Lock`) that `expr` was statically built by."""
    if depth > 4:
        return None
    if isinstance(expr, cst.Call):
        name = resolve(expr.func, scope)
        return name if name in ASYNCIO_COROUTINE_METHODS else None
    if isinstance(expr, cst.Name):
        found_in, bindings = scope.lookup(expr.value)
        return _agreed_object(bindings, found_in, depth) if found_in is not None else None
    if isinstance(expr, cst.Attribute):
        owner = self_class(expr.value, scope)
        if owner is not None:
            bindings = [
                *owner.bindings.get(f"self.{expr.attr.value}", ()),
                *((k, p) for k, p in owner.bindings.get(expr.attr.value, ()) if k == ANNOTATED),
            ]
            return _agreed_object(bindings, owner, depth)
    return None


def _agreed_object(bindings: Any, scope: Scope, depth: int) -> Optional[str]:
    """The one asyncio object type all bindings agree on (`x = None` aside), or None."""
    result: Optional[str] = None
    for kind, payload in bindings:
        if kind == NONE:
            continue
        if kind == VALUE:
            this = asyncio_object(payload, scope, depth + 1)
        elif kind == ANNOTATED:
            this = _annotated_object(payload[0], scope)
            if this is None and payload[1] is not None:
                this = asyncio_object(payload[1], scope, depth + 1)
        elif kind == PARAM and payload.annotation is not None:
            this = _annotated_object(payload.annotation.annotation, scope)
        else:
            return None
        if this is None or (result is not None and this != result):
            return None
        result = this
    return result


def _annotated_object(annotation: Any, scope: Scope) -> Optional[str]:
    if isinstance(annotation, cst.Subscript):  # asyncio.Queue[int]
        annotation = annotation.value
    name = resolve(annotation, scope)
    return name if name in ASYNCIO_COROUTINE_METHODS else None


def _primitive_coroutine(site: Site) -> Optional[str]:
    """`lock.acquire`, `queue.put`, ... when the receiver is statically that asyncio object."""
    func = site.node.func
    if not isinstance(func, cst.Attribute) or func.attr.value not in _PRIMITIVE_METHODS:
        return None
    kind = asyncio_object(func.value, site.scope)
    if kind is None or func.attr.value not in ASYNCIO_COROUTINE_METHODS[kind]:
        return None
    return f"{dotted(func.value) or names.display_name(kind)}.{func.attr.value}"


def _async_def_names(ctx: FileContext) -> frozenset[str]:
    return frozenset(
        scope.node.name.value for scope in ctx.facts.scopes.values() if scope.kind == "async"
    )


def _local_coroutine(ctx: FileContext, site: Site) -> Optional[str]:
    """The name of the same-module `async def` (or `self.` method) this call invokes."""
    func = site.node.func
    if isinstance(func, cst.Name):
        found_in, bindings = site.scope.lookup(func.value)
        if found_in is not None and _plain_coroutine_function(ctx, bindings, found_in):
            return func.value
    elif isinstance(func, cst.Attribute):
        owner = self_class(func.value, site.scope)
        if owner is not None:
            bindings = owner.bindings.get(func.attr.value, ())
            if _plain_coroutine_function(ctx, bindings, owner):
                return f"{func.value.value}.{func.attr.value}"
    return None


class CoroutineNotAwaited(Rule):
    """Calling a coroutine function only creates the coroutine object: nothing in it runs
    until it is awaited or scheduled. `asyncio.sleep(1)` without `await` does not wait,
    `save(item)` without `await` does not save, and Python warns "coroutine ... was never
    awaited" only when the object is collected, far from the mistake."""

    code = "AC402"
    name = "coroutine-not-awaited"
    message = "{call}() is never awaited; add await, or schedule it with asyncio.create_task()"
    fix_safety = SAFE
    fix_title = "Insert `await`"
    fix_awaits = True
    references = (
        "https://docs.python.org/3/library/asyncio-dev.html#detect-never-awaited-coroutines",
    )
    bad = (
        Example(
            "import asyncio\nasync def f():\n    asyncio.sleep(1)",
            fixed="import asyncio\nasync def f():\n    await asyncio.sleep(1)",
        ),
        Example(
            "import asyncio as aio\nasync def f(a, b):\n    aio.gather(a(), b())  # both\n",
            fixed="import asyncio as aio\nasync def f(a, b):\n    await aio.gather(a(), b())  # both\n",
        ),
        Example("async def save(x):\n    ...\n\nasync def handler(x):\n    save(x)"),
        Example(
            "class Repo:\n    async def flush(self):\n        ...\n\n"
            "    async def close(self):\n        self.flush()"
        ),
        Example("async def refresh():\n    ...\n\ndef on_click():\n    refresh()"),
        Example("from asyncio import wait_for\nasync def f(c):\n    wait_for(c, 1)"),
        Example(
            "import asyncio\nclass Worker:\n    def __init__(self):\n"
            "        self._lock = asyncio.Lock()\n\n    async def run(self):\n"
            "        self._lock.acquire()",
            fixed="import asyncio\nclass Worker:\n    def __init__(self):\n"
            "        self._lock = asyncio.Lock()\n\n    async def run(self):\n"
            "        await self._lock.acquire()",
        ),
        Example("import asyncio\nasync def f(q: asyncio.Queue[int]):\n    q.put(1)"),
    )
    good = (
        Example("import asyncio\nasync def f():\n    await asyncio.sleep(1)"),
        Example("async def save(x):\n    ...\n\nasync def handler(x):\n    await save(x)"),
        Example(
            "import asyncio\nasync def save(x):\n    ...\n\nasync def handler(x):\n"
            "    task = asyncio.create_task(save(x))\n    await task"
        ),
        Example("async def ticks():\n    yield 1\n\nasync def f():\n    ticks()"),
        Example(
            "from mylib import wrap\n\n@wrap\nasync def job():\n    ...\n\ndef f():\n    job()"
        ),
        Example("def save(x):\n    ...\n\nasync def handler(x):\n    save(x)"),
        Example(
            "class A:\n    async def run(self):\n        ...\n\n"
            "    def start(self, other):\n        other.run()"
        ),
        Example(
            "import asyncio, threading\nasync def f(q: asyncio.Queue):\n"
            "    lock = threading.Lock()\n    lock.acquire()\n    q.put_nowait(1)"
        ),
    )  # fmt: skip

    def check(self, ctx: FileContext) -> Iterable[RawFinding]:
        known: set[int] = set()
        for key, site in calls_named(ctx, COROUTINE_FUNCTIONS):
            if isinstance(site.parent, cst.Expr):
                known.add(id(site.node))
                call = names.display_name(key)
                yield RawFinding(
                    self.code,
                    self.message.format(call=call),
                    site.node,
                    site.stmt,
                    self.make_fix(site),
                )
        local = _async_def_names(ctx)
        for site in ctx.facts.calls:
            if not isinstance(site.parent, cst.Expr) or id(site.node) in known:
                continue
            func = site.node.func
            last = (
                func.attr.value if isinstance(func, cst.Attribute) else getattr(func, "value", None)
            )
            if last in _PRIMITIVE_METHODS:
                call = _primitive_coroutine(site)
                if call is not None:
                    message = self.message.format(call=call)
                    yield RawFinding(self.code, message, site.node, site.stmt, self.make_fix(site))
                    continue
            if last in local:
                call = _local_coroutine(ctx, site)
                if call is not None:
                    yield RawFinding(
                        self.code, self.message.format(call=call), site.node, site.stmt
                    )

    def make_fix(self, site: Site) -> Optional[FixPlan]:
        if not in_coroutine(site):
            return None
        return FixPlan(SAFE, self.fix_title or "", (NodeEdit(site.node, "await ", "before"),))
