"""AC404: a loop that polls a flag with sleeps."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Optional

from asynccheck.lint import names
from asynccheck.lint.context import RawFinding
from asynccheck.lint.cst import cst
from asynccheck.lint.facts import bool_operands
from asynccheck.lint.scopes import Scope
from asynccheck.rules.asyncio_calls import body_nodes, in_coroutine, resolve
from asynccheck.rules.base import Example, Rule
from asynccheck.rules.catalog import BLOCKING_CALLS, SLEEP_EVENTS, SLEEPS

if TYPE_CHECKING:
    from asynccheck.lint.context import FileContext


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
