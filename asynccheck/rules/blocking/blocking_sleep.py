"""AC101: `time.sleep()` on the loop."""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

from asynccheck.lint.context import FixPlan, NodeEdit
from asynccheck.lint.finding import SAFE
from asynccheck.rules.base import Example
from asynccheck.rules.blocking.base import STATEMENT_PARENTS, BlockingCall, can_await_here

if TYPE_CHECKING:
    from asynccheck.lint.context import FileContext
    from asynccheck.lint.facts import Site


class BlockingSleep(BlockingCall):
    """The loop runs one callback at a time: `time.sleep(2)` in a coroutine stops every task
    for two seconds. No other request is served and no timeout fires meanwhile.
    `await asyncio.sleep()` suspends only the current task."""

    code = "AC101"
    name = "blocking-sleep"
    message = "{call}() blocks the event loop; use await asyncio.sleep()"
    sync_message = "{call}() blocks the event loop; schedule what follows with loop.call_later()"
    sync_help = "Schedule what follows the sleep with `loop.call_later(delay, callback)`"
    fix_safety = SAFE
    fix_title = "Replace with `await asyncio.sleep(...)`"
    fix_awaits = True
    references = ("https://docs.python.org/3/library/asyncio-dev.html#running-blocking-code",)
    bad = (
        Example(
            "import time\nasync def f():\n    time.sleep(1)",
            fixed="import asyncio\nimport time\nasync def f():\n    await asyncio.sleep(1)",
        ),
        Example(
            "from time import sleep as zz\nasync def f():\n    zz(0.5)",
            fixed="import asyncio\nfrom time import sleep as zz\n"
            "async def f():\n    await asyncio.sleep(0.5)",
        ),
        Example(
            "import asyncio as aio\nimport time as t\n\nasync def retry(delay):\n"
            "    t.sleep(delay)  # back off\n",
            fixed="import asyncio as aio\nimport time as t\n\nasync def retry(delay):\n"
            "    await aio.sleep(delay)  # back off\n",
        ),
        Example("async def snippet():\n    time.sleep(1)\n"),
        Example(
            "import time\nasync def f():\n    def wait():\n        time.sleep(1)\n    wait()\n"
        ),
    )
    good = (
        Example("import asyncio\nasync def f():\n    await asyncio.sleep(1)"),
        Example("import time\ndef f():\n    time.sleep(1)"),
        Example(
            "import asyncio, time\nasync def f():\n    def g():\n        time.sleep(1)\n"
            "    await asyncio.to_thread(g)"
        ),
        Example(
            "import asyncio\nfrom time import sleep\nasync def f():\n"
            "    sleep = asyncio.sleep\n    await sleep(1)"
        ),
        Example(
            "import asyncio, time\nasync def f(loop):\n"
            "    await loop.run_in_executor(None, lambda: time.sleep(1))"
        ),
    )

    def make_fix(self, ctx: FileContext, site: Site) -> Optional[FixPlan]:
        if not can_await_here(site, STATEMENT_PARENTS):
            return None
        asyncio_name, imports = ctx.module_name_for(site.scope, "asyncio")
        if asyncio_name is None:
            return None
        edits = (
            NodeEdit(site.node, "await ", "before"),
            NodeEdit(site.node.func, f"{asyncio_name}.sleep"),
            *imports,
        )
        return FixPlan(SAFE, self.fix_title or "", edits)
