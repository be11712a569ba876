"""AC502: `asyncio.wait_for(x, None)`, `asyncio.wait(tasks)` and friends, unbounded."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from asynccheck.lint import names
from asynccheck.lint.context import RawFinding
from asynccheck.rules.asyncio_calls import asyncio_calls
from asynccheck.rules.base import Example, Rule
from asynccheck.rules.catalog import WAITS_WITH_TIMEOUT
from asynccheck.rules.timeouts.arguments import has_star, is_none, races, timeout_arg

if TYPE_CHECKING:
    from asynccheck.lint.context import FileContext


class WaitWithoutTimeout(Rule):
    """`asyncio.wait_for(x, None)`, `asyncio.wait(tasks)` and `asyncio.timeout(None)` wait as
    long as it takes. When the other side never answers, the task hangs forever and whatever
    waits on it hangs too. Give every wait an upper bound."""

    code = "AC502"
    name = "wait-without-timeout"
    message = "{call}() without a timeout can wait forever; pass a timeout"
    default = False
    references = ("https://docs.python.org/3/library/asyncio-task.html#timeouts",)
    bad = (
        Example("import asyncio\nasync def f(c):\n    return await asyncio.wait_for(c, None)"),
        Example("import asyncio\nasync def f(ts):\n    done, pending = await asyncio.wait(ts)"),
        Example(
            "import asyncio\nasync def f(c):\n    async with asyncio.timeout(None):\n"
            "        await c"
        ),
        Example(
            "from asyncio import wait_for\nasync def f(c):\n    await wait_for(c, timeout=None)"
        ),
    )
    good = (
        Example("import asyncio\nasync def f(c):\n    return await asyncio.wait_for(c, 5)"),
        Example(
            "import asyncio\nasync def f(ts):\n    done, _ = await asyncio.wait(ts, timeout=3)"
        ),
        Example(
            "import asyncio\nasync def f(c):\n    async with asyncio.timeout(10):\n        await c"
        ),
        Example("import asyncio\nasync def f(c, **kw):\n    await asyncio.wait(c, **kw)"),
        Example(
            "import asyncio\nasync def f(work, stop):\n"
            "    await asyncio.wait([work, stop], return_when=asyncio.FIRST_COMPLETED)"
        ),
    )

    def check(self, ctx: FileContext) -> Iterable[RawFinding]:
        index = asyncio_calls(ctx)
        for key, position in sorted(WAITS_WITH_TIMEOUT.items()):
            for site in index.get(key, ()):
                call = site.node
                if races(call):
                    continue
                value = timeout_arg(call, position)
                if value is None:
                    # Missing: `asyncio.wait(ts)` waits forever; a missing required timeout
                    # (`wait_for(c)`) is a TypeError, not this rule's business.
                    if position is not None or has_star(call):
                        continue
                elif not is_none(value):
                    continue
                text = self.message.format(call=names.display_name(key))
                yield RawFinding(self.code, text, call, site.stmt)
