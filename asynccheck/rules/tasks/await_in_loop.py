"""AC403: independent awaits made one at a time in a loop."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from asynccheck.lint.context import RawFinding
from asynccheck.lint.cst import cst
from asynccheck.lint.scopes import Scope
from asynccheck.lint.walk import NESTED_SCOPES, children
from asynccheck.rules.asyncio_calls import body_nodes, in_coroutine, resolve
from asynccheck.rules.base import Example, Rule
from asynccheck.rules.catalog import AS_COMPLETED, SLEEPS

if TYPE_CHECKING:
    from asynccheck.lint.context import FileContext


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
