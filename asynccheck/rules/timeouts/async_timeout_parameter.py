"""AC503: a coroutine with a `timeout` parameter."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from asynccheck.lint.context import RawFinding
from asynccheck.rules.base import Example, Rule

if TYPE_CHECKING:
    from asynccheck.lint.context import FileContext


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
