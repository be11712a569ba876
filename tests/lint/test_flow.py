"""The flow view: ways out of an except handler, and whether a local resource leaks."""

from __future__ import annotations

import textwrap
from typing import Any, Optional

import libcst
import pytest

from asynccheck.lint.context import FileContext
from asynccheck.lint.facts import collect
from asynccheck.lint.flow import FlowView, flow_view


def _view(source: str) -> tuple[FileContext, FlowView]:
    source = textwrap.dedent(source)
    module = libcst.parse_module(source)
    ctx = FileContext("<t>", source, module, collect(module))
    func = next(s for s in module.body if isinstance(s, libcst.FunctionDef))
    return ctx, flow_view(ctx, func)


def _find(node: Any, kind: type) -> Any:
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, kind):
            return current
        stack.extend(reversed(list(current.children)))
    raise AssertionError(f"no {kind.__name__}")


def handler_exits(source: str) -> set[str]:
    _ctx, view = _view(source)
    handler = _find(view.node, libcst.ExceptHandler)
    return set(view.handler_exits(handler))


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("raise", {"raise"}),
        ("pass", {"end"}),
        ("log()\nraise", {"raise"}),
        ("if a:\n    return\nraise", {"return", "raise"}),
        ("if a:\n    raise\nelse:\n    raise e", {"raise"}),
        ("if a:\n    raise", {"raise", "end"}),
        ("raise Other() from e", {"raise"}),
        ("sys.exit(1)", {"raise"}),
        ("try:\n    cleanup()\nfinally:\n    raise", {"raise"}),
        ("try:\n    cleanup()\nexcept Exception:\n    pass\nraise", {"raise"}),
        ("for x in y:\n    raise", {"raise", "end"}),
        ("while True:\n    raise", {"raise"}),
        ("for i in [1, 2]:\n    raise", {"raise"}),
        ("for i in range(3):\n    raise", {"raise"}),
        ("for i in range(0):\n    raise", {"raise", "end"}),
        ("for i in []:\n    raise", {"raise", "end"}),
        ("for i in [1, 2]:\n    if a:\n        continue\n    raise", {"raise", "end"}),
        ("while x:\n    pass\nelse:\n    raise", {"raise"}),
        ("while True:\n    if a:\n        continue\n    raise", {"raise"}),
        ("while True:\n    if a:\n        break\nraise", {"raise"}),
        ("with lock:\n    raise", {"raise"}),
        ("match a:\n    case 1:\n        raise\n    case _:\n        return", {"raise", "return"}),
        ("match a:\n    case 1:\n        raise", {"raise", "end"}),
        ("def g():\n    return 1\nraise", {"raise"}),
    ],
)  # fmt: skip
def test_handler_exits(body: str, expected: set[str]) -> None:
    body = textwrap.indent(body, " " * 8).lstrip()
    source = f"import sys\nasync def f():\n    try:\n        await g()\n    except E as e:\n        {body}\n"
    assert handler_exits(source) == expected


def test_handler_in_a_loop_break_and_continue() -> None:
    source = """
    async def f():
        for x in y:
            try:
                await g()
            except E:
                if a:
                    continue
                break
    """
    assert handler_exits(source) == {"continue", "break"}


def test_one_line_handler() -> None:
    assert handler_exits("async def f():\n    try: await g()\n    except E: pass\n") == {"end"}
    assert handler_exits("async def f():\n    try: await g()\n    except E: raise\n") == {"raise"}


def leak(source: str, name: str = "s", implicit: bool = True) -> Optional[str]:
    _ctx, view = _view(source)
    binding = next(
        use.owner
        for use in view.uses(name)
        if isinstance(use.owner, (libcst.Assign, libcst.AnnAssign))
    )
    return view.leak(binding, name, implicit=implicit)


@pytest.mark.parametrize(
    "source",
    [
        # closed in a finally
        """
        async def f():
            s = make()
            try:
                await s.get()
            finally:
                await s.close()
        """,
        # bound inside the try
        """
        async def f():
            try:
                s = make()
                await s.get()
            finally:
                await s.close()
        """,
        # entered with async with
        """
        async def f():
            s = make()
            async with s:
                await s.get()
        """,
        # guarded close in a finally
        """
        async def f():
            s = None
            try:
                s = make()
                await s.get()
            finally:
                if s is not None:
                    await s.close()
        """,
        # returned, stored, yielded, put in a container, captured
        "async def f():\n    s = make()\n    await s.login()\n    return s\n",
        "async def f(self):\n    s = make()\n    self.session = s\n",
        "async def f():\n    s = make()\n    yield s\n    await s.close()\n",
        "async def f(out):\n    s = make()\n    out.append(s)\n",
        "async def f():\n    s = make()\n    return {'session': s}\n",
        "async def f(hass):\n    s = make()\n    hass.data['x'] = s\n",
        "async def f(entry):\n    s = make()\n    entry.async_on_unload(s.close)\n",
        "async def f():\n    s = make()\n    async def stop():\n        await s.close()\n    return stop\n",
        # handed to something that keeps it
        "async def f():\n    s = make()\n    return Client(s)\n",
        "async def f():\n    s = make()\n    client = api.Client(session=s)\n    return client\n",
        "async def f(stack):\n    s = make()\n    await stack.enter_async_context(s)\n",
        "async def f():\n    s = make()\n    asyncio.create_task(worker(s))\n",
        # a helper of the module that closes it
        """
        async def f():
            s = make()
            await finish(s)

        async def finish(session):
            try:
                await session.get()
            finally:
                await session.close()
        """,
        # closed under a flag that says whether this function owns it
        """
        async def f(own):
            s = make()
            try:
                await s.get()
            finally:
                if own:
                    await s.close()
        """,
        # the close in the except and at the end of the else: every path
        """
        async def f():
            s = make()
            try:
                await s.get()
            except BaseException:
                await s.close()
                raise
            else:
                await s.close()
        """,
        # a handler that catches everything, then a finally-free close
        """
        async def f():
            s = make()
            try:
                await s.get()
            except Exception:
                pass
            finally:
                await s.close()
        """,
    ],
)
def test_no_leak(source: str) -> None:
    # `finish` is found after f: the helper lookup goes through the module scope
    assert leak(source) is None


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("async def f():\n    s = make()\n    await s.get()\n", "end"),
        # closed on the normal path only: an exception in get() leaks it
        ("async def f():\n    s = make()\n    await s.get()\n    await s.close()\n", "raise"),
        # an early return before the try
        (
            """
            async def f(a):
                s = make()
                if a:
                    return None
                try:
                    await s.get()
                finally:
                    await s.close()
            """,
            "return",
        ),
        # an if in the finally that closes nothing
        (
            """
            async def f(a):
                s = make()
                try:
                    await s.get()
                finally:
                    if a:
                        log()
                    else:
                        log()
                await s.get()
            """,
            "end",
        ),
        # bound and closed inside the same if, with an early return between
        (
            """
            async def f(a):
                if a:
                    s = make()
                    if await s.get():
                        return 1
                    await s.close()
            """,
            "return",
        ),
        # used, not kept
        ("async def f():\n    s = make()\n    await fetch(s, 'u')\n", "end"),
        ("async def f():\n    s = make()\n    print(s)\n", "end"),
        # break out of a loop skips the close
        (
            """
            async def f(xs):
                for x in xs:
                    s = make()
                    if x:
                        break
                    await s.close()
            """,
            "end",
        ),
    ],
)
def test_leak(source: str, expected: str) -> None:
    assert leak(source) == expected


def test_close_on_the_normal_path_is_enough_without_implicit_raises() -> None:
    source = "async def f():\n    s = make()\n    await s.get()\n    await s.close()\n"
    assert leak(source, implicit=False) is None


def test_helper_that_only_uses_it_is_not_an_escape() -> None:
    source = """
    async def f():
        s = make()
        await fetch(s)

    async def fetch(session):
        return await session.get('u')
    """
    assert leak(source) == "end"


def test_view_is_memoized() -> None:
    ctx, view = _view("async def f():\n    pass\n")
    assert flow_view(ctx, view.node) is view
