"""AC405: `asyncio.gather()` where `asyncio.TaskGroup` exists."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from asynccheck.lint import names
from asynccheck.lint.context import RawFinding
from asynccheck.rules.advice import TASK_GROUP
from asynccheck.rules.asyncio_calls import calls_named
from asynccheck.rules.base import Example, Rule
from asynccheck.rules.catalog import GATHER

if TYPE_CHECKING:
    from asynccheck.lint.context import FileContext


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
