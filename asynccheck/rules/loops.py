"""AC6xx: event loop management: nested loops, get_event_loop, deprecated policies.

Also home to the asyncio call index that AC4xx–AC6xx share: one pass over the file's calls,
memoized on the context, resolving only calls whose last name part could be an asyncio one.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any, Optional

from asynccheck.lint import names
from asynccheck.lint.context import FixPlan, NodeEdit, RawFinding
from asynccheck.lint.cst import cst
from asynccheck.lint.finding import SAFE
from asynccheck.lint.scopes import ANNOTATED, PARAM, VALUE, Scope
from asynccheck.rules.base import Example, Rule
from asynccheck.rules.catalog import (
    AS_COMPLETED,
    ASYNCIO_COROUTINE_METHODS,
    ASYNCIO_TIMEOUT_ERRORS,
    ASYNCIO_TIMEOUTS,
    COROUTINE_FUNCTIONS,
    DEPRECATED_POLICY_CALLS,
    DEPRECATED_POLICY_CLASSES,
    FOREIGN_TIMEOUT_ERRORS,
    GATHER,
    GET_EVENT_LOOP,
    HTTP_CLIENTS_TIMEOUT,
    LOOP_GETTERS,
    LOOP_TASK_METHODS,
    LOOP_TYPES,
    NESTED_LOOP_CALLS,
    NESTED_LOOP_METHODS,
    SLEEPS,
    TASK_SPAWNERS,
    TRANSPARENT_DECORATORS,
    WAITS_WITH_TIMEOUT,
)

if TYPE_CHECKING:
    from asynccheck.lint.context import FileContext
    from asynccheck.lint.facts import Site

# Every qualified name the AC4xx–AC6xx rules ask about (also what a star import may bring).
ASYNCIO_NAMES: frozenset[str] = frozenset(
    (
        *TASK_SPAWNERS, *LOOP_GETTERS, *LOOP_TYPES, *COROUTINE_FUNCTIONS, *NESTED_LOOP_CALLS,
        *GET_EVENT_LOOP, *DEPRECATED_POLICY_CALLS, *DEPRECATED_POLICY_CLASSES, *SLEEPS,
        *GATHER, *AS_COMPLETED, *ASYNCIO_TIMEOUTS, *FOREIGN_TIMEOUT_ERRORS,
        *ASYNCIO_TIMEOUT_ERRORS, *WAITS_WITH_TIMEOUT, *HTTP_CLIENTS_TIMEOUT,
        *TRANSPARENT_DECORATORS, *ASYNCIO_COROUTINE_METHODS,
    )
)  # fmt: skip
_LAST_PARTS = frozenset(name.rsplit(".", 1)[-1] for name in ASYNCIO_NAMES)
# Methods looked up by name whatever the receiver: `<loop>.create_task`, `.run_forever`.
_METHODS = LOOP_TASK_METHODS | NESTED_LOOP_METHODS
_RECEIVER_TEXT_LIMIT = 30


def asyncio_calls(ctx: FileContext) -> dict[str, list[Site]]:
    """Calls by resolved name (`asyncio.sleep`), and method calls by `.attr` (`.create_task`)
    when the callee does not resolve; built once per file."""
    return ctx.memo("asyncio-calls", _index_calls)


def calls_named(ctx: FileContext, keys: Iterable[str]) -> Iterator[tuple[str, Site]]:
    """(key, site) for every call indexed under one of `keys`, keys in sorted order."""
    index = asyncio_calls(ctx)
    for key in sorted(keys):
        for site in index.get(key, ()):
            yield key, site


def _index_calls(ctx: FileContext) -> dict[str, list[Site]]:
    found: dict[str, list[Site]] = {}
    for site in ctx.facts.calls:
        func = site.node.func
        if isinstance(func, cst.Attribute):
            last = func.attr.value
            if last not in _LAST_PARTS and last not in _METHODS:
                continue
        elif isinstance(func, cst.Name):  # maybe an alias: `from asyncio import run as arun`
            last = func.value
        else:
            continue
        name = resolve(func, site.scope)
        if name is not None:
            found.setdefault(name, []).append(site)
        elif last in _METHODS and isinstance(func, cst.Attribute):
            found.setdefault(f".{last}", []).append(site)
    return found


def resolve(expr: Any, scope: Scope) -> Optional[str]:
    """The asyncio-family name `expr` stands for, or None."""
    name = names.resolve(expr, scope, ASYNCIO_NAMES)
    return name if name in ASYNCIO_NAMES else None


def call_text(ctx: FileContext, call: Any) -> str:
    """How a method call reads in a message: `loop.run_until_complete`, never a long chain."""
    func = call.func
    if isinstance(func, cst.Attribute):
        receiver = ctx.code_for(func.value)
        if len(receiver) > _RECEIVER_TEXT_LIMIT or "\n" in receiver:
            receiver = "loop"
        return f"{receiver}.{func.attr.value}"
    return ctx.code_for(func)


def is_event_loop(expr: Any, scope: Scope, depth: int = 0) -> bool:
    """`asyncio.get_running_loop()`, a name bound to one, a `loop: AbstractEventLoop`
    parameter, or a receiver named like one (`loop`, `self._loop`, `hass.loop`)."""
    if depth > 4:
        return False
    if isinstance(expr, cst.Call):
        return resolve(expr.func, scope) in LOOP_GETTERS
    if isinstance(expr, cst.Attribute):
        return _loop_like(expr.attr.value)
    if not isinstance(expr, cst.Name):
        return False
    found_in, bindings = scope.lookup(expr.value)
    if found_in is None or not bindings:
        return _loop_like(expr.value)
    for kind, payload in bindings:
        if kind == VALUE and is_event_loop(payload, found_in, depth + 1):
            return True
        annotation = payload.annotation if kind == PARAM else None
        if annotation is not None and resolve(annotation.annotation, found_in) in LOOP_TYPES:
            return True
        if kind == ANNOTATED and resolve(payload[0], found_in) in LOOP_TYPES:
            return True
        # `loop: Final = asyncio.get_running_loop()`: the value says what the annotation doesn't
        if (
            kind == ANNOTATED
            and payload[1] is not None
            and is_event_loop(payload[1], found_in, depth + 1)
        ):
            return True
    return _loop_like(expr.value) and all(kind in (PARAM, VALUE) for kind, _ in bindings)


def _loop_like(name: str) -> bool:
    return name.lower().lstrip("_").endswith("loop")


def in_coroutine(site: Site) -> bool:
    """Lexically inside an `async def` (RULES: not a nested def, lambda or class body)."""
    return site.scope.is_async


class NestedEventLoop(Rule):
    """A coroutine already runs on an event loop. `asyncio.run()` or
    `loop.run_until_complete()` there either fails ("This event loop is already running",
    "cannot be called from a running event loop") or starts a second loop in the same thread
    that blocks the first one until it finishes: every other task stops meanwhile. Await the
    coroutine, or schedule it with `asyncio.create_task()`."""

    code = "AC601"
    name = "nested-event-loop"
    message = "{call}() inside async def starts a nested event loop; await the coroutine instead"
    references = ("https://docs.python.org/3/library/asyncio-runner.html#asyncio.run",)
    bad = (
        Example("import asyncio\nasync def main():\n    asyncio.run(work())"),
        Example(
            "import asyncio\nasync def main():\n    loop = asyncio.get_event_loop()\n"
            "    return loop.run_until_complete(fetch())"
        ),
        Example("import asyncio\nasync def serve():\n    loop = asyncio.new_event_loop()"),
        Example("from asyncio import run as arun\nasync def main():\n    arun(job())"),
        Example("class S:\n    async def start(self):\n        self._loop.run_forever()"),
    )
    good = (
        Example("import asyncio\nasync def main():\n    await work()\n\nasyncio.run(main())"),
        Example(
            "import asyncio\ndef main():\n    loop = asyncio.new_event_loop()\n"
            "    loop.run_until_complete(work())"
        ),
        Example(
            "import asyncio\nasync def main():\n    def in_thread():\n"
            "        asyncio.run(work())\n    await asyncio.to_thread(in_thread)"
        ),
        Example("async def main(runner):\n    await runner.run()"),
        Example("async def main(ws_client):\n    await ws_client.run_forever()"),
        Example(
            "import asyncio, threading\nasync def main():\n"
            "    threading.Thread(target=lambda: asyncio.run(job())).start()"
        ),
    )

    def check(self, ctx: FileContext) -> Iterable[RawFinding]:
        for key, site in calls_named(
            ctx, (*NESTED_LOOP_CALLS, *(f".{m}" for m in NESTED_LOOP_METHODS))
        ):
            # `await client.run_forever()` is some library's coroutine, not a loop's
            if not in_coroutine(site) or (site.awaited and key[0] == "."):
                continue
            call = names.display_name(key) if key[0] != "." else call_text(ctx, site.node)
            yield RawFinding(self.code, self.message.format(call=call), site.node, site.stmt)


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
