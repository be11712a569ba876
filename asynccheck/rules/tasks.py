"""AC4xx: tasks and coroutines that are lost or never awaited, and awaits that should not
run one after another."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any, Optional

from asynccheck.lint import names
from asynccheck.lint.context import FixPlan, NodeEdit, RawFinding
from asynccheck.lint.cst import cst
from asynccheck.lint.facts import bool_operands, dotted, self_class
from asynccheck.lint.finding import SAFE
from asynccheck.lint.scopes import ANNOTATED, DEF, NONE, PARAM, VALUE, Scope
from asynccheck.lint.walk import NESTED_SCOPES, children, descendants
from asynccheck.rules.advice import TASK_GROUP
from asynccheck.rules.base import Example, Rule
from asynccheck.rules.catalog import (
    AS_COMPLETED,
    ASYNCIO_COROUTINE_METHODS,
    BLOCKING_CALLS,
    COROUTINE_FUNCTIONS,
    GATHER,
    LOOP_TASK_METHODS,
    SLEEP_EVENTS,
    SLEEPS,
    TASK_SPAWNERS,
    TRANSPARENT_DECORATORS,
)
from asynccheck.rules.loops import (
    asyncio_calls,
    call_text,
    calls_named,
    in_coroutine,
    is_event_loop,
    resolve,
)

if TYPE_CHECKING:
    from asynccheck.lint.context import FileContext
    from asynccheck.lint.facts import Site


def body_nodes(node: Any) -> Iterator[Any]:
    """Every node under `node` in source order, not entering nested defs, lambdas or classes
    (their code runs later, in another frame)."""
    return descendants(children(node))


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


# --- AC403 -----------------------------------------------------------------------------------
# Methods that talk over one connection or stream: their order matters, so a loop of them is
# not a set of independent iterations.
_SEQUENTIAL_METHODS = frozenset(
    (
        "send", "send_json", "send_str", "send_bytes", "send_message", "sendall", "write",
        "writelines", "drain", "execute", "executemany", "executescript", "fetch", "fetchrow",
        "fetchval", "fetchone", "fetchall", "commit", "publish", "put", "join", "acquire",
        "wait", "release", "send_command", "async_send_command", "async_send", "request",
        "write_gatt_char", "read", "readline", "readexactly", "recv",
    )
)  # fmt: skip
# Receivers that are one line to a device or peer (`self.modbus`, `self._serial`, `conn`):
# their requests queue up on that line whatever the caller does.
_CHANNEL_WORDS = ("modbus", "serial", "conn", "socket", "stream", "writer", "transport",
                  "protocol", "lock", "bus", "ws")  # fmt: skip
_EARLY_EXITS = (cst.Break, cst.Return, cst.Raise, cst.Yield)


def _one_channel(func: Any) -> bool:
    """A method call whose order matters: a sequential method, or any call on a channel."""
    if func.attr.value in _SEQUENTIAL_METHODS:
        return True
    receiver = func.value
    if isinstance(receiver, cst.Attribute):
        receiver = receiver.attr
    if not isinstance(receiver, cst.Name):
        return False
    parts = receiver.value.lower().strip("_").split("_")
    return any(p.startswith(w) or p.endswith(w) for p in parts for w in _CHANNEL_WORDS)


# Loop targets named like work that is already running: awaiting each in turn costs nothing.
_RUNNING_WORDS = ("task", "future", "fut", "job")


def _names_in(node: Any) -> set[str]:
    found = {node.value} if isinstance(node, cst.Name) else set()
    found.update(n.value for n in body_nodes(node) if isinstance(n, cst.Name))
    return found


def _target_names(target: Any) -> set[str]:
    if isinstance(target, cst.Name):
        return {target.value}
    if isinstance(target, (cst.Tuple, cst.List)):
        return {n for element in target.elements for n in _target_names(element.value)}
    if isinstance(target, cst.StarredElement):
        return _target_names(target.value)
    return set()


class _Bound:
    """A marker on the walk's stack: these names are bound once this point is reached."""

    __slots__ = ("names",)

    def __init__(self, bound: set[str]) -> None:
        self.names = bound


def _simple_body(body: Any) -> bool:
    """Only simple statements: a loop with branches, handlers or blocks inside does more
    per item than one concurrent call can stand for (filters, per-item error handling,
    ordered side effects), so it is left alone."""
    if isinstance(body, cst.SimpleStatementSuite):
        return True
    return all(isinstance(stmt, cst.SimpleStatementLine) for stmt in body.body)


def _independent_awaits(for_node: Any, scope: Scope) -> bool:
    """The loop awaits per-item work whose iterations could run at once (RULES' reading:
    nothing carried from an earlier iteration, no early exit, no async iterator)."""
    if isinstance(for_node.iter, cst.Call) and resolve(for_node.iter.func, scope) in AS_COMPLETED:
        return False
    if for_node.orelse is not None or not _simple_body(for_node.body):
        return False
    fresh = _target_names(for_node.target)  # names this iteration computed before a point
    if any(word in name.lower() for name in fresh for word in _RUNNING_WORDS):
        return False  # awaiting tasks or futures that already run concurrently
    assigned_at: dict[str, int] = {}
    augmented: set[str] = set()
    reads: list[tuple[int, set[str]]] = []
    per_item = False
    # (node, inside an inner loop): awaits in an inner loop are that loop's business
    stack: list[tuple[Any, bool]] = [(child, False) for child in reversed(children(for_node.body))]
    position = 0
    while stack:
        node, inner = stack.pop()
        position += 1
        if isinstance(node, _Bound):  # popped after the value of its assignment
            for name in node.names:
                assigned_at.setdefault(name, position)
            continue
        if isinstance(node, _EARLY_EXITS):
            return False
        if isinstance(node, (cst.With, cst.For)) and node.asynchronous is not None:
            return False
        if isinstance(node, cst.AugAssign):
            augmented |= _target_names(node.target)
        elif isinstance(node, cst.Assign):
            bound = {n for target in node.targets for n in _target_names(target.target)}
            stack.append((_Bound(bound), inner))
        elif isinstance(node, (cst.AnnAssign, cst.NamedExpr, cst.For)):
            stack.append((_Bound(_target_names(node.target)), inner))
        elif isinstance(node, cst.Await) and not inner:
            call = node.expression
            if not isinstance(call, cst.Call):
                return False
            if resolve(call.func, scope) in SLEEPS:
                return False  # pacing: the loop is sequential on purpose
            used = _names_in(call)
            reads.append((position, used))
            func = call.func
            if (
                isinstance(func, cst.Attribute)
                and _one_channel(func)
                and not (_names_in(func.value) & fresh)
            ):
                return False
            if used & (fresh | {n for n, at in assigned_at.items() if at < position}):
                per_item = True
        if type(node).__name__ in NESTED_SCOPES:
            continue
        nested = inner or isinstance(node, (cst.For, cst.While))
        stack.extend((child, nested) for child in reversed(children(node)))
    if not per_item:
        return False
    for at, used in reads:
        if used & augmented:
            return False
        if any(assigned_at.get(name, 0) > at for name in used):
            return False  # read before this iteration assigns it: the previous one's value
    return True


class AwaitInLoop(Rule):
    """`for x in xs: await fetch(x)` waits for each fetch before starting the next: ten
    requests of 100 ms take a second instead of 100 ms. When the iterations do not depend
    on each other, start them together with `asyncio.gather()` or an `asyncio.TaskGroup`.
    Off by default: ordering is sometimes the point (one connection, rate limits)."""

    code = "AC403"
    name = "await-in-loop"
    message = (
        "await in a for loop runs the iterations one after another; run them concurrently "
        "with asyncio.gather() or asyncio.TaskGroup"
    )
    default = False
    site_types = ("For",)
    config_keys = ("target-version",)  # no TaskGroup advice below 3.11 (rules/advice.py)
    references = ("https://docs.python.org/3/library/asyncio-task.html#task-groups",)
    bad = (
        Example("async def f(urls):\n    for url in urls:\n        await fetch(url)"),
        Example(
            "async def f(session, urls):\n    out = []\n    for url in urls:\n"
            "        out.append(await session.get(url))\n    return out"
        ),
        Example(
            "async def f(users):\n    for user in users:\n        key = user.id\n"
            "        data = await load(key)\n        print(data)"
        ),
    )
    good = (
        Example(
            """
            async def discover_all(client, ids):
                # one at a time: gather would use up the client's connection pool
                for device_id in ids:
                    await client.discover(device_id)
            """
        ),
        Example(
            "import asyncio\nasync def f(urls):\n"
            "    await asyncio.gather(*(fetch(u) for u in urls))"
        ),
        Example(
            "async def f(pages):\n    cursor = None\n    for _ in pages:\n"
            "        cursor = await fetch(cursor)"
        ),
        Example(
            "async def f(hosts):\n    for host in hosts:\n        if await ping(host):\n"
            "            return host"
        ),
        Example(
            "import asyncio\nasync def f(tasks):\n    for t in asyncio.as_completed(tasks):\n"
            "        print(await t)"
        ),
        Example(
            "import asyncio\nasync def f(items):\n    for item in items:\n"
            "        await send(item)\n        await asyncio.sleep(1)"
        ),
        Example("async def f(conn, rows):\n    for row in rows:\n        await conn.execute(row)"),
        Example(
            "async def f(self, inverters):\n    for inverter in inverters:\n"
            "        await self.modbus.init_inverter(inverter.info)"
        ),
        Example("async def f(n):\n    for _ in range(n):\n        await tick()"),
        Example(
            "import asyncio\nasync def f(futures):\n    for name, future in futures.items():\n"
            "        print(name, await asyncio.wait_for(future, 5))"
        ),
        Example("async def f(items):\n    async for item in items:\n        await save(item)"),
    )

    def check(self, ctx: FileContext) -> Iterable[RawFinding]:
        for site in ctx.sites("For"):
            node = site.node
            if (
                node.asynchronous is None
                and in_coroutine(site)
                and _independent_awaits(node, site.scope)
                and not _sequential_on_purpose(node)
            ):
                yield RawFinding(self.code, self.message, node, node)


# A comment on the loop that talks about concurrency means the author chose to go one by one:
# `# just await each discover as gather uses up all HTTPAdapter pools`.
_ON_PURPOSE = re.compile(
    r"gather|concurren|parallel|sequential|one (at a time|by one|after another)|in order|"
    r"serial|rate.?limit|throttl|overload",
    re.IGNORECASE,
)


def _sequential_on_purpose(loop: Any) -> bool:
    comments = [line.comment for line in loop.leading_lines if line.comment is not None]
    body = loop.body
    if isinstance(body, cst.IndentedBlock):
        if body.header.comment is not None:
            comments.append(body.header.comment)
        if body.body:
            first = body.body[0]
            comments.extend(line.comment for line in first.leading_lines if line.comment)
    return any(_ON_PURPOSE.search(comment.value) for comment in comments)


# --- AC404 -----------------------------------------------------------------------------------
# A condition on the clock is a deadline, not a flag: `while time.monotonic() < end`,
# `while (delay := due - self._clock()) > 0`.
_CLOCK_CALL = re.compile(
    r"^(time|monotonic|monotonic_ns|perf_counter|time_ns|utcnow|now)$|(^|_)clock($|_)"
)
# State no asyncio.Event can stand for: another thread's or process's, or the disk's.
_FOREIGN_STATE_METHODS = frozenset(("is_alive", "poll", "exists", "is_file", "is_dir"))
_FOREIGN_STATE_TYPES = frozenset(
    ("thread-event", "thread", "thread-lock", "thread-queue", "bounded-queue", "future",
     "popen", "path", "async-result")
)  # fmt: skip


def _loop_statements(body: Any) -> list[Any]:
    """The small statements of a loop body, or [] when it holds a compound statement."""
    if isinstance(body, cst.SimpleStatementSuite):
        return list(body.body)
    smalls = []
    for stmt in body.body:
        if not isinstance(stmt, cst.SimpleStatementLine):
            return []
        smalls.extend(stmt.body)
    return smalls


def _sleep_called(small: Any, scope: Scope) -> Optional[str]:
    """`await asyncio.sleep(...)` / `await anyio.sleep(...)` alone: the sleep's full name."""
    if not (
        isinstance(small, cst.Expr)
        and isinstance(small.value, cst.Await)
        and isinstance(small.value.expression, cst.Call)
    ):
        return None
    name = resolve(small.value.expression.func, scope)
    return name if name in SLEEPS else None


def _polls_a_flag(test: Any, scope: Scope) -> bool:
    if isinstance(test, (cst.Integer, cst.SimpleString)) or (
        isinstance(test, cst.Name) and test.value == "True"
    ):
        return False  # `while True:` is a periodic loop, not a poll
    if any(isinstance(node, cst.Await) for node in (test, *body_nodes(test))):
        return False  # asks a server or the disk: no Event can stand for that
    # `while job.result is None and time.time() < deadline`: a flag, with a deadline
    return any(_is_flag(operand, scope) for operand in bool_operands(test))


def _is_flag(operand: Any, scope: Scope) -> bool:
    return not any(
        isinstance(node, cst.Call) and _asks_the_world(node, scope)
        for node in (operand, *body_nodes(operand))
    )


def _asks_the_world(call: Any, scope: Scope) -> bool:
    """The clock, the disk, another thread or process (`os.path.exists(p)`,
    `stop.is_set()` on a threading.Event, `proc.poll()`): nothing an asyncio.Event is set by."""
    func = call.func
    last = func.attr.value if isinstance(func, cst.Attribute) else getattr(func, "value", "")
    if _CLOCK_CALL.search(last) or last in _FOREIGN_STATE_METHODS:
        return True
    if names.resolve(func, scope) in BLOCKING_CALLS:
        return True
    return (
        isinstance(func, cst.Attribute) and names.type_of(func.value, scope) in _FOREIGN_STATE_TYPES
    )


class BusyWait(Rule):
    """`while not done: await asyncio.sleep(0.1)` wakes up ten times a second to look at a
    flag, and still reacts up to 100 ms late. An `asyncio.Event` (`await event.wait()`) or an
    `asyncio.Condition` wakes the waiter exactly when the state changes, and costs nothing
    meanwhile.

    Not flagged: `while True:` (a periodic loop), a body that does more than sleep, and a
    condition that awaits or asks the clock, the disk, another thread or a process
    (`time.monotonic() < end`, `os.path.exists(p)`, `threading.Event.is_set()`,
    `proc.poll()`): no asyncio.Event can stand for those."""

    code = "AC404"
    name = "busy-wait"
    message = "while loop polls with {call}(); wait on an {event} or Condition instead"
    site_types = ("While",)
    references = ("https://docs.python.org/3/library/asyncio-sync.html#asyncio.Event",)
    bad = (
        Example("import asyncio\nasync def f(self):\n    while not self.ready:\n"
                "        await asyncio.sleep(0.1)"),
        Example("from asyncio import sleep\nasync def f(job):\n    while job.state != 'done':\n"
                "        await sleep(1)"),
        Example("import asyncio\nasync def f(ev):\n    while not ev.is_set(): await asyncio.sleep(0)"),
        Example("import asyncio as aio\nasync def f(q):\n    while q.empty():\n"
                "        await aio.sleep(0.5)"),
    )  # fmt: skip
    good = (
        Example("import asyncio\nasync def f(event: asyncio.Event):\n    await event.wait()"),
        Example("import asyncio\nasync def f():\n    while True:\n"
                "        await refresh()\n        await asyncio.sleep(60)"),
        Example("import asyncio, time\nasync def f(deadline):\n"
                "    while time.monotonic() < deadline:\n        await asyncio.sleep(1)"),
        Example("import asyncio\nasync def f():\n    attempts = 0\n    while attempts < 5:\n"
                "        attempts += 1\n        await asyncio.sleep(2 ** attempts)"),
        Example("import asyncio\nasync def f(self):\n    while self.running:\n"
                "        await self.poll()\n        await asyncio.sleep(5)"),
        Example("import asyncio\ndef f(self):\n    while not self.ready:\n"
                "        asyncio.sleep(0.1)"),
        Example("import asyncio\nasync def f(api):\n    while not await api.link_clicked():\n"
                "        await asyncio.sleep(2)"),
    )  # fmt: skip

    def check(self, ctx: FileContext) -> Iterable[RawFinding]:
        for site in ctx.sites("While"):
            node = site.node
            if not in_coroutine(site) or not _polls_a_flag(node.test, site.scope):
                continue
            # The body is the sleep alone (flake8-async's ASYNC110 reading): anything more
            # is work done per round, a retry or a periodic job rather than a bare poll.
            smalls = _loop_statements(node.body)
            sleep = _sleep_called(smalls[0], site.scope) if len(smalls) == 1 else None
            if sleep is not None:
                event = SLEEP_EVENTS.get(sleep, "asyncio.Event")
                message = self.message.format(call=_public_name(sleep), event=event)
                yield RawFinding(self.code, message, node, node)


def _public_name(qualified: str) -> str:
    """`asyncio.tasks.sleep` as users spell it: `asyncio.sleep`."""
    module, _, name = qualified.rpartition(".")
    return f"asyncio.{name}" if module.startswith("asyncio.") else qualified


# --- AC405 -----------------------------------------------------------------------------------
class GatherInTaskgroupEra(Rule):
    """When one awaitable passed to `asyncio.gather()` fails, gather raises at once but the
    others keep running, unsupervised: their errors are lost and they may outlive the
    caller. `asyncio.TaskGroup` (Python 3.11+) cancels the siblings and waits for them, and
    reports every failure in an ExceptionGroup. `return_exceptions=True` is a deliberate
    choice and is not flagged. Silent when `target-version` is below `py311`: there is no
    `TaskGroup` to move to."""

    code = "AC405"
    name = "gather-in-taskgroup-era"
    message = (
        "{call}() without return_exceptions leaves sibling tasks running when one fails; "
        "use asyncio.TaskGroup"
    )
    default = False
    config_keys = ("target-version",)
    example_config = {"target-version": "py311"}
    references = ("https://docs.python.org/3/library/asyncio-task.html#asyncio.TaskGroup",)
    bad = (
        Example("import asyncio\nasync def f():\n    await asyncio.gather(a(), b())"),
        Example("from asyncio import gather\nasync def f(cs):\n    return await gather(*cs)"),
        Example("import asyncio as aio\nasync def f():\n    x, y = await aio.gather(a(), b())"),
    )
    good = (
        Example(
            "import asyncio\nasync def f():\n    async with asyncio.TaskGroup() as tg:\n"
            "        tg.create_task(a())\n        tg.create_task(b())"
        ),
        Example(
            "import asyncio\nasync def f():\n"
            "    await asyncio.gather(a(), b(), return_exceptions=True)"
        ),
        Example("async def f(gather):\n    await gather(a(), b())"),
        Example("import asyncio\nasync def f(kw):\n    await asyncio.gather(a(), **kw)"),
    )

    def check(self, ctx: FileContext) -> Iterable[RawFinding]:
        if ctx.settings.target_version < TASK_GROUP:
            return
        for key, site in calls_named(ctx, GATHER):
            if any(
                arg.star == "**"
                or (arg.keyword is not None and arg.keyword.value == "return_exceptions")
                for arg in site.node.args
            ):
                continue
            call = names.display_name(key)
            yield RawFinding(self.code, self.message.format(call=call), site.node, site.stmt)
