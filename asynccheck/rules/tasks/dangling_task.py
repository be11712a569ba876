"""AC401: a task whose reference is dropped."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Optional

from asynccheck.lint import names
from asynccheck.lint.context import RawFinding
from asynccheck.lint.cst import cst
from asynccheck.lint.walk import children
from asynccheck.rules.asyncio_calls import asyncio_calls, call_text, is_event_loop
from asynccheck.rules.base import Example, Rule
from asynccheck.rules.catalog import LOOP_TASK_METHODS, TASK_SPAWNERS

if TYPE_CHECKING:
    from asynccheck.lint.context import FileContext
    from asynccheck.lint.facts import Site


# --- AC401 -----------------------------------------------------------------------------------
# Parents under which a spawned task may still be thrown away (displays, conditions, ...);
# under any other parent (assignment, call argument, return, await) it is kept.
_MAYBE_DISCARDED_PARENTS = frozenset(
    (
        "Element", "StarredElement", "ListComp", "SetComp", "GeneratorExp", "DictComp",
        "DictElement", "BooleanOperation", "IfExp", "If", "While", "WithItem", "Assert",
        "UnaryOperation", "Comparison", "ComparisonTarget", "Attribute", "CompIf",
    )
)  # fmt: skip
# `create_task(c).add_done_callback(cb)` as a statement still drops the task.
_CHAINED_METHODS = frozenset(("add_done_callback", "set_name"))


def _discarded_roots(stmt: Any) -> list[Any]:
    """The expressions of a statement whose values are thrown away."""
    if isinstance(stmt, cst.SimpleStatementLine):
        roots = []
        for small in stmt.body:
            if isinstance(small, cst.Expr):
                roots.append(small.value)
            elif isinstance(small, cst.Assert):
                roots.append(small.test)
        return roots
    if isinstance(stmt, (cst.If, cst.While)):
        return [stmt.test]
    if isinstance(stmt, cst.With):
        return [item.item for item in stmt.items if item.asname is None]
    return []


def _discarded_calls(expr: Any, out: set[int]) -> None:
    """Collect the calls whose results `expr`, itself discarded, throws away too."""
    stack = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, cst.Call):
            out.add(id(node))
            func = node.func
            if isinstance(func, cst.Attribute) and func.attr.value in _CHAINED_METHODS:
                stack.append(func.value)
        elif isinstance(node, (cst.List, cst.Set, cst.Tuple)):
            stack.extend(element.value for element in node.elements)
        elif isinstance(node, (cst.ListComp, cst.SetComp, cst.GeneratorExp)):
            stack.append(node.elt)
        elif isinstance(node, cst.DictComp):
            stack.extend((node.key, node.value))
        elif isinstance(node, cst.Dict):
            stack.extend(
                part
                for element in node.elements
                if isinstance(element, cst.DictElement)
                for part in (element.key, element.value)
            )
        elif isinstance(node, cst.BooleanOperation):
            stack.extend((node.left, node.right))
        elif isinstance(node, cst.IfExp):
            stack.extend((node.body, node.orelse))
        elif isinstance(node, cst.UnaryOperation):
            stack.append(node.expression)
        elif isinstance(node, cst.Comparison):
            stack.append(node.left)
            stack.extend(target.comparator for target in node.comparisons)


def _is_tested_only(site: Site) -> bool:
    """Only the task's truth or identity is used, wherever the expression stands:
    `x = 1 if create_task(c) else 2`, `(... for j in js if create_task(j))`, `t is None`."""
    parent = site.parent
    if isinstance(parent, (cst.CompIf, cst.Comparison, cst.ComparisonTarget)):
        return True
    return isinstance(parent, cst.IfExp) and parent.test is site.node


def _is_discarded(ctx: FileContext, site: Site) -> bool:
    parent_type = type(site.parent).__name__
    if parent_type == "Expr" or _is_tested_only(site):
        return True
    if parent_type not in _MAYBE_DISCARDED_PARENTS or site.stmt is None:
        return False
    memo: dict[int, set[int]] = ctx.memo("ac401-discarded", lambda _ctx: {})
    calls = memo.get(id(site.stmt))
    if calls is None:
        calls = set()
        for root in _discarded_roots(site.stmt):
            _discarded_calls(root, calls)
        memo[id(site.stmt)] = calls
    return id(site.node) in calls


# Names whose reading we cannot see: a function that calls these may read any local.
_DYNAMIC_READS = frozenset(("locals", "vars", "eval", "exec"))


def _unread_local(ctx: FileContext, site: Site) -> Optional[str]:
    """The local name the task is bound to when the function never reads it again: the
    reference dies with the frame, as if the result had been dropped (`t = create_task(c)`)."""
    stmt, scope = site.parent, site.scope
    if isinstance(stmt, cst.Assign) and len(stmt.targets) == 1:
        target = stmt.targets[0].target
    elif isinstance(stmt, cst.AnnAssign):
        target = stmt.target
    else:
        return None
    if not isinstance(target, cst.Name) or scope.kind not in ("function", "async"):
        return None
    name = target.value
    if name in scope.global_names:
        return None
    reads: dict[str, bool] = ctx.memo("ac401-reads", lambda _ctx: {}).setdefault(id(scope), {})
    if name not in reads:
        reads[name] = _reads_name(scope.node, name)
    return None if reads[name] else name


def _reads_name(function: Any, name: str) -> bool:
    """`name` is used anywhere in the function (nested code included) other than as the
    target of a plain assignment; or the function may read it in a way we cannot see."""
    stack = [(child, function) for child in children(function)]
    while stack:
        node, parent = stack.pop()
        if isinstance(node, cst.Name):
            if node.value in _DYNAMIC_READS:
                return True
            if node.value == name and not _assigned_to(node, parent):
                return True
        elif isinstance(node, (cst.Global, cst.Nonlocal)):
            if any(item.name.value == name for item in node.names):
                return True
        else:
            stack.extend((child, node) for child in children(node))
    return False


def _assigned_to(name: Any, parent: Any) -> bool:
    return (isinstance(parent, cst.AssignTarget) and parent.target is name) or (
        isinstance(parent, cst.AnnAssign) and parent.target is name
    )


def task_spawns(ctx: FileContext) -> list[tuple[Site, str]]:
    """`asyncio.create_task(...)`, `ensure_future(...)` and `<loop>.create_task(...)` calls,
    with how each reads in a message."""
    index = asyncio_calls(ctx)
    found = [
        (site, names.display_name(key)) for key in TASK_SPAWNERS for site in index.get(key, ())
    ]
    for method in LOOP_TASK_METHODS:
        for site in index.get(f".{method}", ()):
            if is_event_loop(site.node.func.value, site.scope):
                found.append((site, call_text(ctx, site.node)))
    return found


class DanglingTask(Rule):
    """The event loop keeps only a weak reference to a task. A task whose result is thrown
    away (`asyncio.create_task(job())` as a statement) can be garbage-collected before it
    finishes, and its exception is never seen; so can one bound to a local that nothing
    reads, once the function returns. Keep a reference (a set of background tasks,
    discarded in a done callback), or start it in an `asyncio.TaskGroup`."""

    code = "AC401"
    name = "dangling-task"
    message = (
        "{call}() result is never kept, so the task can vanish mid-flight; store the task "
        "or use asyncio.TaskGroup"
    )
    unread_message = (
        "{call}() result is bound to '{name}' but never used, so the task can vanish "
        "mid-flight; store the task or use asyncio.TaskGroup"
    )
    needs_async = False
    config_keys = ("target-version",)  # no TaskGroup advice below 3.11 (rules/advice.py)
    references = (
        "https://docs.python.org/3/library/asyncio-task.html#asyncio.create_task",
        "https://docs.astral.sh/ruff/rules/asyncio-dangling-task/",
    )
    bad = (
        Example("import asyncio\nasync def main():\n    asyncio.create_task(work())"),
        Example("import asyncio\ndef on_event(coro):\n    asyncio.ensure_future(coro)"),
        Example(
            "import asyncio\nasync def main():\n    loop = asyncio.get_running_loop()\n"
            "    loop.create_task(work())"
        ),
        Example(
            "from asyncio import create_task\nasync def main(jobs):\n"
            "    [create_task(j) for j in jobs]"
        ),
        Example("class S:\n    def start(self):\n        self._loop.create_task(self.run())"),
        Example(
            "import asyncio\nasync def main():\n"
            "    asyncio.create_task(work()).add_done_callback(print)"
        ),
        Example("import asyncio\nasync def main(c):\n    if asyncio.create_task(c):\n        pass"),
        Example(
            "import asyncio\nasync def main():\n    task = asyncio.create_task(work())\n"
            "    await other_work()"
        ),
    )
    good = (
        Example(
            "import asyncio\nasync def main():\n    async with asyncio.TaskGroup() as tg:\n"
            "        tg.create_task(work())"
        ),
        Example(
            "import asyncio\nbackground = set()\nasync def main():\n"
            "    task = asyncio.create_task(work())\n    background.add(task)\n"
            "    task.add_done_callback(background.discard)"
        ),
        Example("import asyncio\nasync def main():\n    await asyncio.create_task(work())"),
        Example("import asyncio\nasync def main(jobs):\n"
                "    await asyncio.gather(*[asyncio.create_task(j) for j in jobs])"),
        Example("class Component:\n    def setup(self, hass):\n"
                "        hass.async_create_task(self.refresh())"),
        Example("import asyncio\ndef start(coro):\n    return asyncio.ensure_future(coro)"),
        Example("async def main(nursery):\n    nursery.create_task(work())"),
        Example("import asyncio\nasync def main(tasks):\n"
                "    tasks.append(asyncio.create_task(work()))"),
    )  # fmt: skip

    def check(self, ctx: FileContext) -> Iterable[RawFinding]:
        for site, call in task_spawns(ctx):
            if _is_discarded(ctx, site):
                yield RawFinding(self.code, self.message.format(call=call), site.node, site.stmt)
                continue
            unread = _unread_local(ctx, site)
            if unread is not None:
                message = self.unread_message.format(call=call, name=unread)
                yield RawFinding(self.code, message, site.node, site.stmt)
