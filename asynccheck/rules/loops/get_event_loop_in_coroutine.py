"""AC602: `asyncio.get_event_loop()` inside a coroutine."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Optional

from asynccheck.lint import names
from asynccheck.lint.context import FixPlan, NodeEdit, RawFinding
from asynccheck.lint.cst import cst
from asynccheck.lint.finding import SAFE
from asynccheck.rules.asyncio_calls import calls_named, in_coroutine
from asynccheck.rules.base import Example, Rule
from asynccheck.rules.catalog import GET_EVENT_LOOP

if TYPE_CHECKING:
    from asynccheck.lint.context import FileContext
    from asynccheck.lint.facts import Site


class GetEventLoopInCoroutine(Rule):
    """Inside a coroutine the running loop is known: `asyncio.get_running_loop()` returns it
    and cannot go wrong. `asyncio.get_event_loop()` goes through the policy, warns or creates
    a new loop in some versions and contexts, and its behaviour changed in 3.10, 3.12 and
    3.14. In a coroutine the two return the same loop, so the fix is safe.

    Off by default: inside a coroutine `get_event_loop()` returns the running loop and does
    not warn on any version, so this is modernisation, not a bug (judged by hand on real
    packages, 20 findings of 20 were harmless). Select it to tidy code before the policy
    system goes away (3.16); `get_event_loop()` outside a coroutine is where it misbehaves."""

    code = "AC602"
    name = "get-event-loop-in-coroutine"
    message = "{call}() inside async def; use asyncio.get_running_loop()"
    default = False
    fix_safety = SAFE
    fix_title = "Replace with `asyncio.get_running_loop()`"
    references = (
        "https://docs.python.org/3/library/asyncio-eventloop.html#asyncio.get_running_loop",
    )
    bad = (
        Example(
            "import asyncio\nasync def f():\n    loop = asyncio.get_event_loop()\n"
            "    await loop.run_in_executor(None, print)",
            fixed="import asyncio\nasync def f():\n    loop = asyncio.get_running_loop()\n"
            "    await loop.run_in_executor(None, print)",
        ),
        Example(
            "import asyncio as aio\nasync def f():\n    return aio.get_event_loop().time()",
            fixed="import asyncio as aio\nasync def f():\n    return aio.get_running_loop().time()",
        ),
        Example(
            "from asyncio import get_event_loop\nasync def f():\n    loop = get_event_loop()",
            fixed="import asyncio\nfrom asyncio import get_event_loop\n"
            "async def f():\n    loop = asyncio.get_running_loop()",
        ),
        Example(
            "from asyncio import get_event_loop, get_running_loop\n"
            "async def f():\n    loop = get_event_loop()",
            fixed="from asyncio import get_event_loop, get_running_loop\n"
            "async def f():\n    loop = get_running_loop()",
        ),
        Example(
            "class C:\n    async def start(self):\n"
            "        self.loop = asyncio.get_event_loop()  # a snippet without imports",
            fixed="class C:\n    async def start(self):\n"
            "        self.loop = asyncio.get_running_loop()  # a snippet without imports",
        ),
    )
    good = (
        Example("import asyncio\nasync def f():\n    loop = asyncio.get_running_loop()"),
        Example("import asyncio\ndef f():\n    loop = asyncio.get_event_loop()"),
        Example(
            "import asyncio\nasync def f():\n    def cb():\n"
            "        return asyncio.get_event_loop()\n    return cb"
        ),
        Example("async def f(policy):\n    return policy.get_event_loop()"),
        Example("from mylib import get_event_loop\nasync def f():\n    return get_event_loop()"),
    )

    def check(self, ctx: FileContext) -> Iterable[RawFinding]:
        for key, site in calls_named(ctx, GET_EVENT_LOOP):
            if not in_coroutine(site):
                continue
            call = names.display_name(key)
            yield RawFinding(
                self.code,
                self.message.format(call=call),
                site.node,
                site.stmt,
                self.make_fix(ctx, site),
            )

    def make_fix(self, ctx: FileContext, site: Site) -> Optional[FixPlan]:
        call = site.node
        if call.args:
            return None
        func = call.func
        if isinstance(func, cst.Attribute):  # asyncio.x / aio.x / asyncio.events.x
            edits: tuple[NodeEdit, ...] = (NodeEdit(func.attr, "get_running_loop"),)
        elif names.resolve_name("get_running_loop", site.scope) == "asyncio.get_running_loop":
            edits = (NodeEdit(func, "get_running_loop"),)
        else:
            module, imports = ctx.module_name_for(site.scope, "asyncio")
            if module is None:
                return None
            edits = (NodeEdit(func, f"{module}.get_running_loop"), *imports)
        return FixPlan(SAFE, self.fix_title or "", edits)
