"""The asyncio call index AC4xx–AC6xx share: one pass over the file's calls, memoized on
the context, resolving only calls whose last name part could be an asyncio one; with the
questions those rules ask of a call (is its receiver an event loop, is it in a coroutine)
and how it reads in a message.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any, Optional

from asynccheck.lint import names
from asynccheck.lint.cst import cst
from asynccheck.lint.scopes import ANNOTATED, PARAM, VALUE, Scope
from asynccheck.lint.walk import children, descendants
from asynccheck.rules.catalog import (
    AS_COMPLETED,
    ASYNCIO_COROUTINE_METHODS,
    ASYNCIO_TIMEOUT_ERRORS,
    ASYNCIO_TIMEOUTS,
    COROUTINE_FUNCTIONS,
    DEPRECATED_POLICY_CALLS,
    DEPRECATED_POLICY_CLASSES,
    FOREIGN_TIMEOUT_ERRORS,
    GATHER,
    GET_EVENT_LOOP,
    HTTP_CLIENTS_TIMEOUT,
    LOOP_GETTERS,
    LOOP_TASK_METHODS,
    LOOP_TYPES,
    NESTED_LOOP_CALLS,
    NESTED_LOOP_METHODS,
    SLEEPS,
    TASK_SPAWNERS,
    TRANSPARENT_DECORATORS,
    WAITS_WITH_TIMEOUT,
)

if TYPE_CHECKING:
    from asynccheck.lint.context import FileContext
    from asynccheck.lint.facts import Site


# Every qualified name the AC4xx–AC6xx rules ask about (also what a star import may bring).
ASYNCIO_NAMES: frozenset[str] = frozenset(
    (
        *TASK_SPAWNERS, *LOOP_GETTERS, *LOOP_TYPES, *COROUTINE_FUNCTIONS, *NESTED_LOOP_CALLS,
        *GET_EVENT_LOOP, *DEPRECATED_POLICY_CALLS, *DEPRECATED_POLICY_CLASSES, *SLEEPS,
        *GATHER, *AS_COMPLETED, *ASYNCIO_TIMEOUTS, *FOREIGN_TIMEOUT_ERRORS,
        *ASYNCIO_TIMEOUT_ERRORS, *WAITS_WITH_TIMEOUT, *HTTP_CLIENTS_TIMEOUT,
        *TRANSPARENT_DECORATORS, *ASYNCIO_COROUTINE_METHODS,
    )
)  # fmt: skip
_LAST_PARTS = frozenset(name.rsplit(".", 1)[-1] for name in ASYNCIO_NAMES)
# Methods looked up by name whatever the receiver: `<loop>.create_task`, `.run_forever`.
_METHODS = LOOP_TASK_METHODS | NESTED_LOOP_METHODS
_RECEIVER_TEXT_LIMIT = 30


def asyncio_calls(ctx: FileContext) -> dict[str, list[Site]]:
    """Calls by resolved name (`asyncio.sleep`), and method calls by `.attr` (`.create_task`)
    when the callee does not resolve; built once per file."""
    return ctx.memo("asyncio-calls", _index_calls)


def calls_named(ctx: FileContext, keys: Iterable[str]) -> Iterator[tuple[str, Site]]:
    """(key, site) for every call indexed under one of `keys`, keys in sorted order."""
    index = asyncio_calls(ctx)
    for key in sorted(keys):
        for site in index.get(key, ()):
            yield key, site


def _index_calls(ctx: FileContext) -> dict[str, list[Site]]:
    found: dict[str, list[Site]] = {}
    for site in ctx.facts.calls:
        func = site.node.func
        if isinstance(func, cst.Attribute):
            last = func.attr.value
            if last not in _LAST_PARTS and last not in _METHODS:
                continue
        elif isinstance(func, cst.Name):  # maybe an alias: `from asyncio import run as arun`
            last = func.value
        else:
            continue
        name = resolve(func, site.scope)
        if name is not None:
            found.setdefault(name, []).append(site)
        elif last in _METHODS and isinstance(func, cst.Attribute):
            found.setdefault(f".{last}", []).append(site)
    return found


def resolve(expr: Any, scope: Scope) -> Optional[str]:
    """The asyncio-family name `expr` stands for, or None."""
    name = names.resolve(expr, scope, ASYNCIO_NAMES)
    return name if name in ASYNCIO_NAMES else None


def call_text(ctx: FileContext, call: Any) -> str:
    """How a method call reads in a message: `loop.run_until_complete`, never a long chain."""
    func = call.func
    if isinstance(func, cst.Attribute):
        receiver = ctx.code_for(func.value)
        if len(receiver) > _RECEIVER_TEXT_LIMIT or "\n" in receiver:
            receiver = "loop"
        return f"{receiver}.{func.attr.value}"
    return ctx.code_for(func)


def is_event_loop(expr: Any, scope: Scope, depth: int = 0) -> bool:
    """`asyncio.get_running_loop()`, a name bound to one, a `loop: AbstractEventLoop`
    parameter, or a receiver named like one (`loop`, `self._loop`, `hass.loop`)."""
    if depth > 4:
        return False
    if isinstance(expr, cst.Call):
        return resolve(expr.func, scope) in LOOP_GETTERS
    if isinstance(expr, cst.Attribute):
        return _loop_like(expr.attr.value)
    if not isinstance(expr, cst.Name):
        return False
    found_in, bindings = scope.lookup(expr.value)
    if found_in is None or not bindings:
        return _loop_like(expr.value)
    for kind, payload in bindings:
        if kind == VALUE and is_event_loop(payload, found_in, depth + 1):
            return True
        annotation = payload.annotation if kind == PARAM else None
        if annotation is not None and resolve(annotation.annotation, found_in) in LOOP_TYPES:
            return True
        if kind == ANNOTATED and resolve(payload[0], found_in) in LOOP_TYPES:
            return True
        # `loop: Final = asyncio.get_running_loop()`: the value says what the annotation doesn't
        if (
            kind == ANNOTATED
            and payload[1] is not None
            and is_event_loop(payload[1], found_in, depth + 1)
        ):
            return True
    return _loop_like(expr.value) and all(kind in (PARAM, VALUE) for kind, _ in bindings)


def _loop_like(name: str) -> bool:
    return name.lower().lstrip("_").endswith("loop")


def in_coroutine(site: Site) -> bool:
    """Lexically inside an `async def` (RULES: not a nested def, lambda or class body)."""
    return site.scope.is_async


def body_nodes(node: Any) -> Iterator[Any]:
    """Every node under `node` in source order, not entering nested defs, lambdas or classes
    (their code runs later, in another frame)."""
    return descendants(children(node))
