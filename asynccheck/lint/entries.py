"""Which coroutine functions are a task's entry: only ever started as a task, never awaited.

When such a coroutine swallows its cancellation and then ends, the task ends too: what is
lost is only that the task reports itself finished rather than cancelled. AC301/AC302 leave
those handlers to AC306. The answer is read from the module's own calls (`create_task(
self.run())`, `asyncio.run(main())`); a coroutine this module never starts or awaits is not
an entry here. The project layer can widen the question to the whole call graph by
answering `is_task_entry` from its summaries.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from asynccheck.lint import names
from asynccheck.lint.callgraph import local_callee
from asynccheck.lint.cst import cst
from asynccheck.lint.flow import TASK_STARTERS

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
    for site in ctx.facts.calls:
        callee = local_callee(ctx, site)
        if callee is None or not callee.is_async:
            continue
        (spawned if id(site.node) in started else called).add(id(callee.node))
    return frozenset(spawned - called)


def _started_calls(ctx: FileContext) -> set[int]:
    """The coroutine calls handed to a task starter: `create_task(worker(q))` -> worker(q)."""
    started: set[int] = set()
    for site in ctx.facts.calls:
        args = site.node.args
        if not args or args[0].keyword is not None or not isinstance(args[0].value, cst.Call):
            continue
        if _starts_a_task(site.node.func, site.scope):
            started.add(id(args[0].value))
    return started


def _starts_a_task(func: Any, scope: Any) -> bool:
    if isinstance(func, cst.Attribute) and func.attr.value in _STARTER_METHODS:
        return True
    last = func.value if isinstance(func, cst.Name) else None
    if last in TASK_STARTERS:  # `from asyncio import create_task`
        return True
    return names.resolve(func, scope) in _RUNNERS
