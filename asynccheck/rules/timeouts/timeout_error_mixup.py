"""AC504: `except concurrent.futures.TimeoutError` / `socket.timeout` around asyncio timeouts before 3.11."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Optional

from asynccheck.lint import names
from asynccheck.lint.context import RawFinding
from asynccheck.lint.cst import cst
from asynccheck.rules.asyncio_calls import asyncio_calls, body_nodes, resolve
from asynccheck.rules.base import Example, Rule
from asynccheck.rules.catalog import (
    ASYNCIO_TIMEOUT_ERRORS,
    ASYNCIO_TIMEOUTS,
    FOREIGN_TIMEOUT_ERRORS,
)

if TYPE_CHECKING:
    from asynccheck.lint.context import FileContext


class TimeoutErrorMixup(Rule):
    """Before Python 3.11, `asyncio.wait_for()` and `asyncio.timeout()` raise
    `asyncio.TimeoutError`, a class of its own: `except concurrent.futures.TimeoutError` or
    `except socket.timeout` around them never runs, and the timeout escapes as an unhandled
    error. From 3.11 all three are the builtin `TimeoutError`, so the rule is checked only
    when `target-version` is older than 3.11."""

    code = "AC504"
    name = "timeout-error-mixup"
    message = (
        "except {call} does not catch asyncio's timeout before Python 3.11; "
        "catch asyncio.TimeoutError"
    )
    site_types = ("Try", "TryStar")
    config_keys = ("target-version",)
    references = ("https://docs.python.org/3/library/asyncio-exceptions.html#asyncio.TimeoutError",)
    bad = (
        Example(
            "import asyncio, concurrent.futures\nasync def f(c):\n    try:\n"
            "        await asyncio.wait_for(c, 1)\n"
            "    except concurrent.futures.TimeoutError:\n        pass"
        ),
        Example(
            "import asyncio, socket\nasync def f(c):\n    try:\n"
            "        async with asyncio.timeout(1):\n            await c\n"
            "    except (OSError, socket.timeout):\n        return None"
        ),
        Example(
            "from asyncio import wait_for\nfrom concurrent.futures import TimeoutError\n"
            "async def f(c):\n    try:\n        return await wait_for(c, 1)\n"
            "    except TimeoutError:\n        return None"
        ),
    )
    good = (
        Example(
            "import asyncio\nasync def f(c):\n    try:\n        await asyncio.wait_for(c, 1)\n"
            "    except asyncio.TimeoutError:\n        pass"
        ),
        Example(
            "import concurrent.futures\ndef f(fut):\n    try:\n        fut.result(1)\n"
            "    except concurrent.futures.TimeoutError:\n        pass"
        ),
        Example(
            "import asyncio, socket\nasync def f(c):\n    try:\n        await asyncio.wait_for(c, 1)\n"
            "    except (asyncio.TimeoutError, socket.timeout):\n        pass"
        ),
        Example(
            "import asyncio, socket\nasync def f(c, s):\n    try:\n"
            "        await asyncio.wait_for(c, 1)\n    except asyncio.TimeoutError:\n"
            "        pass\n    except socket.timeout:\n        pass"
        ),
    )  # fmt: skip

    def check(self, ctx: FileContext) -> Iterable[RawFinding]:
        version = ctx.settings.target_version
        timeout_calls: Optional[set[int]] = None
        for site in (*ctx.sites("Try"), *ctx.sites("TryStar")):
            node = site.node
            caught = [(h, self.caught(h, site.scope)) for h in node.handlers]
            foreign = [
                (handler, name)
                for handler, types in caught
                for name in types
                if name in FOREIGN_TIMEOUT_ERRORS and version < FOREIGN_TIMEOUT_ERRORS[name]
            ]
            if not foreign or any(
                name in ASYNCIO_TIMEOUT_ERRORS for _, types in caught for name in types
            ):
                continue
            if timeout_calls is None:
                index = asyncio_calls(ctx)
                timeout_calls = {id(s.node) for key in ASYNCIO_TIMEOUTS for s in index.get(key, ())}
            if not timeout_calls or not any(
                id(n) in timeout_calls for n in body_nodes(node.body) if isinstance(n, cst.Call)
            ):
                continue
            for handler, name in foreign:
                text = self.message.format(call=names.display_name(name))
                yield RawFinding(self.code, text, handler, handler)

    @staticmethod
    def caught(handler: Any, scope: Any) -> list[str]:
        if handler.type is None:
            return []
        types = handler.type
        elements = [e.value for e in types.elements] if isinstance(types, cst.Tuple) else [types]
        return [name for name in (resolve(e, scope) for e in elements) if name is not None]
