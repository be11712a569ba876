"""AC5xx: waits without a timeout, and timeout mix-ups."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Optional

from asynccheck.lint import names
from asynccheck.lint.context import RawFinding
from asynccheck.lint.cst import cst
from asynccheck.rules.base import Example, Rule
from asynccheck.rules.catalog import (
    ASYNCIO_TIMEOUT_ERRORS,
    ASYNCIO_TIMEOUTS,
    FOREIGN_TIMEOUT_ERRORS,
    HTTP_CLIENTS_TIMEOUT,
    WAITS_WITH_TIMEOUT,
)
from asynccheck.rules.loops import asyncio_calls, resolve
from asynccheck.rules.tasks import body_nodes

if TYPE_CHECKING:
    from asynccheck.lint.context import FileContext

_TIMEOUT_KEYWORDS = frozenset(("timeout", "delay", "when"))


def _is_none(node: Any) -> bool:
    return isinstance(node, cst.Name) and node.value == "None"


def _has_star(call: Any) -> bool:
    return any(arg.star for arg in call.args)


def _timeout_arg(call: Any, position: Optional[int]) -> Optional[Any]:
    """The expression passed as the call's timeout, by keyword or by position."""
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value in _TIMEOUT_KEYWORDS:
            return arg.value
    positional = [arg for arg in call.args if arg.keyword is None]
    if position is not None and len(positional) > position:
        return positional[position].value
    return None


def _races(call: Any) -> bool:
    """`asyncio.wait(..., return_when=FIRST_COMPLETED)` races its awaitables; in real code
    one of them is the stop signal or a timeout future, which bounds the wait."""
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == "return_when":
            value = arg.value
            name = value.attr.value if isinstance(value, cst.Attribute) else None
            return (name or getattr(value, "value", None)) == "FIRST_COMPLETED"
    return False


class SessionWithoutTimeout(Rule):
    """An HTTP client without a timeout lets one stuck server hold a request, and the task
    awaiting it, for minutes: aiohttp's default total timeout is 300 s, and
    `httpx.AsyncClient(timeout=None)` waits forever. Set a timeout that fits the service."""

    code = "AC501"
    name = "session-without-timeout"
    message = "{call}() has no bounded timeout; pass timeout= (aiohttp.ClientTimeout(total=...))"
    default = False
    needs_async = False  # `aiohttp.ClientSession()` at module level needs no `async` text
    references = ("https://docs.aiohttp.org/en/stable/client_quickstart.html#timeouts",)
    bad = (
        Example(
            "import aiohttp\nasync def f():\n    async with aiohttp.ClientSession() as s:\n"
            "        pass"
        ),
        Example("import httpx\nasync def f():\n    client = httpx.AsyncClient(timeout=None)"),
        Example("from aiohttp import ClientSession\nsession = ClientSession(timeout=None)"),
    )
    good = (
        Example(
            "import aiohttp\nasync def f():\n"
            "    timeout = aiohttp.ClientTimeout(total=10)\n"
            "    async with aiohttp.ClientSession(timeout=timeout) as s:\n        pass"
        ),
        Example("import httpx\nasync def f():\n    client = httpx.AsyncClient()"),
        Example("import httpx\nclient = httpx.AsyncClient(timeout=10.0)"),
        Example("import aiohttp\ndef make(**kw):\n    return aiohttp.ClientSession(**kw)"),
    )

    def check(self, ctx: FileContext) -> Iterable[RawFinding]:
        index = asyncio_calls(ctx)
        for key, missing_is_unbounded in sorted(HTTP_CLIENTS_TIMEOUT.items()):
            for site in index.get(key, ()):
                call = site.node
                if any(arg.star == "**" for arg in call.args):
                    continue
                value = next(
                    (
                        arg.value
                        for arg in call.args
                        if arg.keyword is not None and arg.keyword.value == "timeout"
                    ),
                    None,
                )
                if (value is None and missing_is_unbounded) or _is_none(value):
                    text = self.message.format(call=names.display_name(key))
                    yield RawFinding(self.code, text, call, site.stmt)


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
                if _races(call):
                    continue
                value = _timeout_arg(call, position)
                if value is None:
                    # Missing: `asyncio.wait(ts)` waits forever; a missing required timeout
                    # (`wait_for(c)`) is a TypeError, not this rule's business.
                    if position is not None or _has_star(call):
                        continue
                elif not _is_none(value):
                    continue
                text = self.message.format(call=names.display_name(key))
                yield RawFinding(self.code, text, call, site.stmt)


class AsyncTimeoutParameter(Rule):
    """A `timeout` parameter on a coroutine makes every layer re-implement timeouts, and they
    do not compose: the caller cannot bound the whole operation. In asyncio the caller
    bounds any await with `async with asyncio.timeout(...)` (or `asyncio.wait_for`), so the
    coroutine does not need the parameter. This is flake8-async's ASYNC109; like it, decorated
    functions (route handlers, overrides of a base signature) are left alone."""

    code = "AC503"
    name = "async-timeout-parameter"
    message = (
        "{call}() takes a timeout parameter; let callers bound it with asyncio.timeout() "
        "or asyncio.wait_for()"
    )
    default = False
    config_keys = ("target-version",)  # no asyncio.timeout() advice below 3.11
    references = (
        "https://docs.python.org/3/library/asyncio-task.html#asyncio.timeout",
        "https://flake8-async.readthedocs.io/en/latest/rules.html#async109",
    )
    bad = (
        Example("async def fetch(url, timeout=10):\n    ..."),
        Example("class Client:\n    async def get(self, path, *, timeout: float = 5.0):\n        ..."),
        Example("async def wait_ready(\n    device,\n    timeout,\n):\n    ..."),
    )  # fmt: skip
    good = (
        Example(
            "import asyncio\nasync def fetch(url):\n    ...\n\nasync def main():\n"
            "    async with asyncio.timeout(10):\n        await fetch('u')"
        ),
        Example("def fetch(url, timeout=10):\n    ..."),
        Example("async def fetch(url, timeout_s=10):\n    ..."),
        Example("async def f():\n    def g(timeout):\n        ...\n    return g"),
        Example(
            "from typing import override\nclass Api(Base):\n    @override\n"
            "    async def get(self, path, timeout=None):\n        ..."
        ),
    )

    def check(self, ctx: FileContext) -> Iterable[RawFinding]:
        for scope in ctx.facts.scopes.values():
            if scope.kind != "async":
                continue
            node = scope.node
            if node.decorators:
                # A route handler, an @override of a base class's signature, a framework
                # hook: the parameter is not this function's choice (as flake8-async).
                continue
            params = node.params
            every = (*params.posonly_params, *params.params, *params.kwonly_params)
            for param in every:
                if param.name.value == "timeout":
                    text = self.message.format(call=node.name.value)
                    yield RawFinding(self.code, text, param.name, node)


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
