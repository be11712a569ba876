"""The helper chains AC110 reports: calls on the loop that reach a blocking call through
plain functions, in the module (here) or across the project (as questions the project step
answers, `lint/project/`).

The call graph comes from the one walk's call sites (`lint.callgraph`); the blocking calls
from the AC1xx catalogue (`sites.classify_call`). Only the helpers code on the loop calls are
explored, so a file whose coroutines call no local helper costs one loop over its calls.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Optional

from asynccheck.lint import names
from asynccheck.lint.callgraph import calls_by_scope, local_callee
from asynccheck.lint.cst import cst
from asynccheck.lint.project.summarise import spelled_names
from asynccheck.lint.project.targets import call_target
from asynccheck.rules.blocking.sites import BlockingSite, classify_call

if TYPE_CHECKING:
    from asynccheck.lint.context import FileContext
    from asynccheck.lint.facts import Site
    from asynccheck.lint.scopes import Scope


# Decorators that leave the call where it is: the body still runs on the caller's thread,
# now. Any other decorator may move it to a thread or make it a coroutine: not followed.
TRANSPARENT_DECORATORS = frozenset(
    (
        "builtins.staticmethod", "builtins.classmethod",
        "functools.lru_cache", "functools.cache", "functools.wraps", "functools.singledispatch",
        "contextlib.contextmanager", "abc.abstractmethod",
        "typing.final", "typing.override", "typing_extensions.final", "typing_extensions.override",
        # Home Assistant: `@callback` marks a function that runs in the event loop
        "homeassistant.core.callback", "homeassistant.loader.bind_hass",
    )
)  # fmt: skip

# Calling a generator function runs nothing; iterating it right there does.
_CONSUMING_PARENTS = frozenset(("For", "CompFor"))
_CALL_TEXT_LIMIT = 40
_SUPPRESSION_HINT = re.compile(r"#.*(?:noqa|asynccheck\s*:\s*ignore)", re.IGNORECASE)


@dataclass(frozen=True)
class HelperChain:
    """A call in a coroutine that reaches a blocking call through the module's helpers."""

    site: Site  # the helper's call inside the `async def`
    chain: tuple[str, ...]  # ("load_settings()", "read_config()", "open()")
    helper: str  # how the helper is named at the call: "load_settings", "self._load"
    blocking: BlockingSite  # the blocking call at the end of the chain


def helper_chains(ctx: FileContext) -> list[HelperChain]:
    """Every helper call on the loop's thread that blocks, with its shortest chain."""
    return ctx.memo("helper-chains", _analyse)


@dataclass
class _Graph:
    """The part of the module's call graph reachable from coroutines' helper calls."""

    # id(helper scope) -> (source order, blocking call made directly there)
    terminals: dict[int, list[tuple[int, BlockingSite]]]
    # id(callee scope) -> (caller scope, source order, call site)
    callers: dict[int, list[tuple[Scope, int, Site]]]
    scopes: dict[int, Scope]  # every helper reached, by id


def _analyse(ctx: FileContext) -> list[HelperChain]:
    calls = calls_by_scope(ctx)
    generators = {id(site.scope) for site in ctx.sites("Yield")}
    origins = _origins(ctx, calls, generators)
    if not origins:
        return []
    graph = _explore(ctx, calls, generators, [callee for _, callee in origins])
    if not graph.terminals:
        return []
    if _SUPPRESSION_HINT.search(ctx.source):
        _drop_suppressed(ctx, graph)
    hops = _shortest_hops(graph)
    found = []
    for site, callee in origins:
        if id(callee) not in hops:
            continue
        chain = [_call_text(ctx, site)]
        scope: Optional[Scope] = callee
        blocking: Optional[BlockingSite] = None
        while scope is not None:
            hop, next_scope = hops[id(scope)]
            if isinstance(hop, BlockingSite):
                blocking = hop
                chain.append(f"{hop.call}()")
            else:
                chain.append(_call_text(ctx, hop))
            scope = next_scope
        assert blocking is not None
        found.append(HelperChain(site, tuple(chain), callee_text(ctx, site.node.func), blocking))
    return found


def _helper_text(site: Site, helper: str) -> str:
    return helper if not site.node.args else f"{helper}, ..."


# What can move to a thread depends on how the helper is used (RULES: advice fits what is
# called): a `with helper():` block runs on the loop whatever thread enters it, and a
# generator blocks as it is iterated, not when it is called.
_ADVICE_BY_USE = {
    "WithItem": "make {name}() an @asynccontextmanager that awaits asyncio.to_thread() for "
    "the blocking part",
    "For": "iterate it in a thread: await asyncio.to_thread(list, {name}(...))",
    "CompFor": "iterate it in a thread: await asyncio.to_thread(list, {name}(...))",
}
_ADVICE = "use await asyncio.to_thread({helper})"
# A protocol callback or a function the loop calls (lint.onloop) cannot await.
_SYNC_ADVICE = "hand it to a thread: loop.run_in_executor(None, {helper})"


def advice_for(site: Site, helper: str) -> str:
    """The message's advice for calling `helper` at `site`."""
    if not site.scope.is_async and site.scope.loop_callback:
        return _SYNC_ADVICE.format(helper=_helper_text(site, helper))
    template = _ADVICE_BY_USE.get(type(site.parent).__name__, _ADVICE)
    return template.format(name=helper, helper=_helper_text(site, helper))


def project_calls(ctx: FileContext) -> list[tuple[Site, str]]:
    """Calls on the loop that may block through another module: a project def this file
    imports (or a method of a class it imports or types a receiver with), or one of the
    file's own helpers that calls one. The project graph answers them after the run."""
    assert ctx.module_name is not None
    spelled = spelled_names(ctx, ctx.module_name, ctx.is_package)
    generators = {id(site.scope) for site in ctx.sites("Yield")}
    calls = calls_by_scope(ctx)
    found = []
    for scope in ctx.facts.scopes.values():
        if not scope.runs_on_loop:
            continue
        for _, site in calls.get(id(scope), ()):
            if site.awaited or classify_call(ctx, site) is not None:
                continue
            local = local_callee(ctx, site)
            if local is not None:
                helper = _helper(ctx, site, generators)
                target = spelled.full(helper) if helper and not helper.runs_on_loop else None
            else:
                target = call_target(spelled, site)
            if target is not None:
                found.append((site, target))
    return found


def _origins(
    ctx: FileContext, calls: dict[int, list[tuple[int, Site]]], generators: set[int]
) -> list[tuple[Site, Scope]]:
    """Calls made on the loop's thread (`async def` bodies, nested defs they call) that run
    one of the module's plain functions."""
    origins = []
    for scope in ctx.facts.scopes.values():
        if not scope.runs_on_loop:
            continue
        for _, site in calls.get(id(scope), ()):
            callee = _helper(ctx, site, generators)
            # A nested def called from the coroutine runs on the loop: AC101-AC109 report its
            # own calls and this rule its helper calls, each where it is made.
            if callee is None or callee.runs_on_loop:
                continue
            if classify_call(ctx, site) is not None:  # AC101-AC109 report this call
                continue
            origins.append((site, callee))
    return origins


def _explore(
    ctx: FileContext,
    calls: dict[int, list[tuple[int, Site]]],
    generators: set[int],
    start: Sequence[Scope],
) -> _Graph:
    graph = _Graph({}, {}, {id(scope): scope for scope in start})
    seen = graph.scopes
    todo = list(seen.values())
    while todo:
        scope = todo.pop()
        for index, site in calls.get(id(scope), ()):
            blocking = classify_call(ctx, site)
            if blocking is not None:
                # On the loop already (a nested def the coroutine calls): AC101-AC109 report it.
                if not scope.runs_on_loop:
                    graph.terminals.setdefault(id(scope), []).append((index, blocking))
                continue
            callee = _helper(ctx, site, generators)
            if callee is None:
                continue
            graph.callers.setdefault(id(callee), []).append((scope, index, site))
            if id(callee) not in seen:
                seen[id(callee)] = callee
                todo.append(callee)
    return graph


def _helper(ctx: FileContext, site: Site, generators: set[int]) -> Optional[Scope]:
    """The plain function this call runs now, on the caller's thread, or None."""
    callee = local_callee(ctx, site)
    if callee is None or callee.kind != "function":
        return None
    decorators = _decorators(callee)
    if decorators is None:
        return None
    if id(callee) in generators and "contextlib.contextmanager" not in decorators:
        parent = site.parent
        if type(parent).__name__ not in _CONSUMING_PARENTS or parent.iter is not site.node:
            return None
    return callee


def runs_when_called(scope: Scope, generators: set[int]) -> bool:
    """Calling this def runs its body now, on the caller's thread: a plain function whose
    decorators leave it in place, and not a generator (unless a `@contextmanager`)."""
    if scope.kind != "function":
        return False
    decorators = _decorators(scope)
    if decorators is None:
        return False
    return id(scope) not in generators or "contextlib.contextmanager" in decorators


def _decorators(scope: Scope) -> Optional[set[str]]:
    """The def's decorators by name, or None when one may move the call elsewhere."""
    found = set()
    for decorator in scope.node.decorators:
        name = _decorator_name(decorator.decorator, scope.parent)
        if name not in TRANSPARENT_DECORATORS:
            return None
        found.add(name)
    return found


def _decorator_name(expr: Any, scope: Optional[Scope]) -> Optional[str]:
    if isinstance(expr, cst.Call):  # `@lru_cache(maxsize=None)`
        expr = expr.func
    return names.resolve(expr, scope) if scope is not None else None


def _drop_suppressed(ctx: FileContext, graph: _Graph) -> None:
    """A `# noqa` on a blocking call inside a helper (bare, with that call's code, or AC110)
    means its author accepted it there: no chain goes through it. Likewise a `# noqa` for
    AC110 on a helper's call of another helper cuts that edge."""
    sites = [blocking.site for items in graph.terminals.values() for _, blocking in items]
    sites += [
        site
        for edges in graph.callers.values()
        for _, _, site in edges
        if site.scope.kind == "function"
    ]
    suppressed = ctx.suppression_of(sites)

    for key, items in list(graph.terminals.items()):
        kept = [item for item in items if not suppressed(item[1].site, (item[1].code, "AC110"))]
        if kept:
            graph.terminals[key] = kept
        else:
            del graph.terminals[key]
    for key, edges in graph.callers.items():
        graph.callers[key] = [
            edge
            for edge in edges
            if edge[2].scope.kind != "function" or not suppressed(edge[2], ("AC110",))
        ]


def _shortest_hops(graph: _Graph) -> dict[int, tuple[Any, Optional[Scope]]]:
    """For each helper that blocks: its first step on a shortest chain to a blocking call,
    and the helper that step calls (None when the step is the blocking call itself).

    A breadth-first search backwards from the blocking calls: each helper is reached first
    at its shortest distance, so cycles end themselves. Ties go to the call made first.
    """
    hops: dict[int, tuple[Any, Optional[Scope]]] = {}
    for key, items in graph.terminals.items():
        hops[key] = (min(items, key=lambda item: item[0])[1], None)
    frontier = list(graph.terminals)
    while frontier:
        best: dict[int, tuple[int, Site, Scope]] = {}  # caller -> (order, call, callee)
        for key in frontier:
            for caller, index, site in graph.callers.get(key, ()):
                caller_key = id(caller)
                if caller_key in hops:
                    continue
                current = best.get(caller_key)
                if current is None or index < current[0]:
                    best[caller_key] = (index, site, graph.scopes[key])
        for caller_key, (_, site, callee) in best.items():
            hops[caller_key] = (site, callee)
        frontier = list(best)
    return hops


def _call_text(ctx: FileContext, site: Site) -> str:
    return f"{callee_text(ctx, site.node.func)}()"


def callee_text(ctx: FileContext, func: Any) -> str:
    if isinstance(func, cst.Name):
        return func.value  # type: ignore[no-any-return]
    text = ctx.code_for(func)
    if len(text) > _CALL_TEXT_LIMIT or "\n" in text:
        text = f"...{func.attr.value}" if isinstance(func, cst.Attribute) else "..."
    return text
