"""Which coroutine functions are a task's entry: only ever started as a task, never awaited.

When such a coroutine swallows its cancellation and then ends, the task ends too: what is
lost is only that the task reports itself finished rather than cancelled. AC301/AC302 leave
those handlers to AC306. The answer is read from the module's own calls (`create_task(
self.run())`, `asyncio.run(main())`, or through a function of the module that hands its
parameter to a task starter); a coroutine this module never starts or awaits is not an
entry here. The project layer can widen the question to the whole call graph by
answering `is_task_entry` from its summaries.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional

from asynccheck.lint import names
from asynccheck.lint.callgraph import local_callee
from asynccheck.lint.cst import cst
from asynccheck.lint.flow import TASK_STARTERS, parameter_for

if TYPE_CHECKING:
    from asynccheck.lint.context import FileContext

# Calls that run the coroutine they are given as a task of its own: the task spawners (any
# receiver: `loop.create_task`, `tg.create_task`, `hass.async_create_task`) and the runners
# (`asyncio.run(main())` wraps main() in the program's main task).
_STARTER_METHODS = TASK_STARTERS | frozenset(("run_until_complete",))
_RUNNERS = frozenset(("asyncio.run", "asyncio.runners.run"))


def is_task_entry(ctx: FileContext, function: Any) -> bool:
    """The async def is started as a task somewhere in the module and called nowhere else."""
    return id(function) in ctx.memo("task-entries", _task_entries)


def _task_entries(ctx: FileContext) -> frozenset[int]:
    started = _started_calls(ctx)
    spawned: set[int] = set()
    called: set[int] = set()
    by_name: dict[str, bool] = {}  # method name of an unresolved call -> only ever started
    for site in ctx.facts.calls:
        is_started = id(site.node) in started
        callee = local_callee(ctx, site)
        if callee is None:
            name = _called_name(site.node.func)
            if name is not None:
                by_name[name] = by_name.get(name, True) and is_started
            continue
        if callee.is_async:
            (spawned if is_started else called).add(id(callee.node))
    # `create_task(sub._jsi.activity_check())`: a receiver the file does not type. The one
    # async def of that name is the entry when every call of the name, on any receiver,
    # starts a task.
    defs: dict[str, list[Any]] = {}
    for scope in ctx.facts.scopes.values():
        if scope.is_async:
            defs.setdefault(scope.node.name.value, []).append(scope.node)
    for name, only_started in by_name.items():
        found = defs.get(name, [])
        if only_started and len(found) == 1:
            spawned.add(id(found[0]))
    return frozenset(spawned - called)


def _called_name(func: Any) -> Optional[str]:
    if isinstance(func, cst.Attribute):
        return func.attr.value  # type: ignore[no-any-return]
    return func.value if isinstance(func, cst.Name) else None


def _started_calls(ctx: FileContext) -> set[int]:
    """The coroutine calls handed to a task starter: `create_task(worker(q))` -> worker(q);
    also through a function of the module that hands its parameter to one
    (`def start(coro): tasks.add(create_task(coro))`, then `start(worker(q))`)."""
    started: set[int] = set()
    wrappers: dict[int, set[str]] = {}
    for site in ctx.facts.calls:
        args = site.node.args
        if (
            not args
            or args[0].keyword is not None
            or not _starts_a_task(site.node.func, site.scope)
        ):
            continue
        first = args[0].value
        if isinstance(first, cst.Call):
            started.add(id(first))
        elif isinstance(first, cst.Name) and _is_parameter(site.scope.node, first.value):
            wrappers.setdefault(id(site.scope.node), set()).add(first.value)
    if not wrappers:
        return started
    for site in ctx.facts.calls:
        callee = local_callee(ctx, site)
        params = wrappers.get(id(callee.node)) if callee is not None else None
        if not params:
            continue
        method = isinstance(site.node.func, cst.Attribute)
        for arg in site.node.args:
            if isinstance(arg.value, cst.Call) and (
                parameter_for(callee.node, site.node, arg, method) in params
            ):
                started.add(id(arg.value))
    return started


def _is_parameter(function: Any, name: str) -> bool:
    params = getattr(function, "params", None)
    if params is None or isinstance(function, cst.Lambda):
        return False
    every = (*params.posonly_params, *params.params, *params.kwonly_params)
    return any(param.name.value == name for param in every)


def _starts_a_task(func: Any, scope: Any) -> bool:
    if isinstance(func, cst.Attribute) and func.attr.value in _STARTER_METHODS:
        return True
    last = func.value if isinstance(func, cst.Name) else None
    if last in TASK_STARTERS:  # `from asyncio import create_task`
        return True
    return names.resolve(func, scope) in _RUNNERS
