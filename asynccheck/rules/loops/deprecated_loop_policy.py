"""AC603: the event loop policy API, deprecated in Python 3.14."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from asynccheck.lint import names
from asynccheck.lint.context import RawFinding
from asynccheck.rules.asyncio_calls import calls_named, resolve
from asynccheck.rules.base import Example, Rule
from asynccheck.rules.catalog import DEPRECATED_POLICY_CALLS, DEPRECATED_POLICY_CLASSES

if TYPE_CHECKING:
    from asynccheck.lint.context import FileContext


class DeprecatedLoopPolicy(Rule):
    """Event loop policies are deprecated in Python 3.14 and removed in 3.16:
    `asyncio.set_event_loop_policy()`, `get_event_loop_policy()` and the policy classes go
    away. From 3.12 on, pick the loop with `asyncio.run(main(), loop_factory=...)` or
    `asyncio.Runner(loop_factory=...)` instead. Checked only when `target-version` is 3.12
    or newer, where that replacement exists."""

    code = "AC603"
    name = "deprecated-loop-policy"
    message = (
        "{call} is deprecated since Python 3.14; use asyncio.run(..., loop_factory=...) "
        "or asyncio.Runner(loop_factory=...)"
    )
    needs_async = False
    site_types = ("ClassDef",)
    config_keys = ("target-version",)
    example_config = {"target-version": "py312"}
    references = (
        "https://docs.python.org/3.14/library/asyncio-policy.html",
        "https://docs.python.org/3/library/asyncio-runner.html#asyncio.run",
    )
    bad = (
        Example(
            "import asyncio, uvloop\nasyncio.set_event_loop_policy(uvloop.EventLoopPolicy())\n"
            "asyncio.run(main())"
        ),
        Example("import asyncio\npolicy = asyncio.get_event_loop_policy()"),
        Example(
            "import asyncio\nclass MyPolicy(asyncio.DefaultEventLoopPolicy):\n"
            "    def new_event_loop(self):\n        return MyLoop()"
        ),
        Example(
            "from asyncio import AbstractEventLoopPolicy\n"
            "class P(AbstractEventLoopPolicy):\n    pass"
        ),
        Example(
            "import asyncio as aio\nimport sys\nif sys.platform == 'win32':\n"
            "    aio.set_event_loop_policy(aio.WindowsSelectorEventLoopPolicy())"
        ),
    )
    good = (
        Example("import asyncio, uvloop\nasyncio.run(main(), loop_factory=uvloop.new_event_loop)"),
        Example(
            "import asyncio\nwith asyncio.Runner(loop_factory=MyLoop) as runner:\n"
            "    runner.run(main())"
        ),
        Example("class MyPolicy(BasePolicy):\n    pass"),
        Example("import mylib\nmylib.set_event_loop_policy(None)"),
        Example(
            "import asyncio\ndef get_event_loop_policy():\n    return None\nget_event_loop_policy()"
        ),
    )

    def check(self, ctx: FileContext) -> Iterable[RawFinding]:
        if ctx.settings.target_version < (3, 12):
            return
        for key, site in calls_named(ctx, DEPRECATED_POLICY_CALLS):
            call = f"{names.display_name(key)}()"
            yield RawFinding(self.code, self.message.format(call=call), site.node, site.stmt)
        for site in ctx.sites("ClassDef"):
            for base in site.node.bases:
                name = resolve(base.value, site.scope)
                if name in DEPRECATED_POLICY_CLASSES:
                    call = f"subclassing {name}"
                    yield RawFinding(
                        self.code, self.message.format(call=call), base.value, site.node
                    )
