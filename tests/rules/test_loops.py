"""AC6xx beyond the rule examples: positions, scopes, the AC602 fix, AC603's target version."""

from __future__ import annotations

import textwrap

import libcst
import pytest

from asynccheck.lint.api import lint_source
from asynccheck.lint.fix import apply_fixes


def found(source: str, select: str = "AC6", **config: object) -> list[tuple[str, int, int]]:
    findings = lint_source(textwrap.dedent(source), select=[select], config=config or None)
    return [(f.code, f.location.row, f.location.column) for f in findings]


def fixed(source: str, select: str = "AC602") -> str:
    source = textwrap.dedent(source)
    out, _ = apply_fixes(source, lint_source(source, select=[select]))
    libcst.parse_module(out)
    assert not [f for f in lint_source(out, select=[select]) if f.fix is not None]
    return out


def test_nested_loop_points_at_the_call() -> None:
    source = """
    import asyncio
    async def main():
        x = 1; asyncio.run(job())
        return asyncio.get_event_loop().run_until_complete(job())
    """
    assert found(source, "AC601") == [("AC601", 4, 12), ("AC601", 5, 12)]


@pytest.mark.parametrize(
    "source",
    [
        # a sync def nested in the coroutine runs later, maybe in a thread
        "import asyncio\nasync def f():\n    def g():\n        asyncio.run(job())\n    return g\n",
        # class body inside a coroutine
        "import asyncio\nasync def f():\n    class C:\n        loop = asyncio.new_event_loop()\n",
        # shadowed
        "async def f(asyncio):\n    asyncio.run(job())\n",
        "import asyncio\nasync def f():\n    await loop.run_in_executor(None, job)\n",
        # a library's own coroutine of that name
        "async def f(client):\n    await client.run_forever()\n",
    ],
)
def test_nested_loop_not_flagged(source: str) -> None:
    assert found(source, "AC601") == []


def test_get_event_loop_fix_keeps_alias_and_comments() -> None:
    source = """
    import asyncio as aio
    async def f():
        loop = aio.get_event_loop(  # why
        )
    """
    assert fixed(source) == textwrap.dedent(
        """
        import asyncio as aio
        async def f():
            loop = aio.get_running_loop(  # why
            )
        """
    )


def test_get_event_loop_fix_adds_the_import_after_a_docstring() -> None:
    source = (
        '"""Doc."""\nfrom asyncio import get_event_loop\nasync def f():\n    get_event_loop()\n'
    )
    assert fixed(source) == (
        '"""Doc."""\nimport asyncio\nfrom asyncio import get_event_loop\n'
        "async def f():\n    asyncio.get_running_loop()\n"
    )


def test_get_event_loop_no_fix_when_asyncio_is_taken() -> None:
    source = (
        "from asyncio import get_event_loop\nasyncio = None\nasync def f():\n    get_event_loop()\n"
    )
    findings = lint_source(source, select=["AC602"])
    assert [f.code for f in findings] == ["AC602"] and findings[0].fix is None


def test_get_event_loop_submodule_spelling() -> None:
    source = "import asyncio.events\nasync def f():\n    asyncio.events.get_event_loop()\n"
    assert fixed(source).endswith("asyncio.events.get_running_loop()\n")


def test_deprecated_policy_needs_target_312() -> None:
    source = "import asyncio\nasyncio.set_event_loop_policy(None)\n"
    assert found(source, "AC603") == []
    assert found(source, "AC603", **{"target-version": "py311"}) == []
    assert found(source, "AC603", **{"target-version": "py312"}) == [("AC603", 2, 1)]
    assert found(source, "AC603", **{"target-version": "py314"}) == [("AC603", 2, 1)]


def test_deprecated_policy_subclass_points_at_the_base() -> None:
    source = "import asyncio\nclass P(Base, asyncio.DefaultEventLoopPolicy):\n    pass\n"
    assert found(source, "AC603", **{"target-version": "py313"}) == [("AC603", 2, 15)]


def test_deprecated_policy_fires_without_async_in_the_file() -> None:
    source = "from asyncio import set_event_loop_policy as slp\nslp(None)\n"
    assert "async" in source  # the import spells it; a file without it cannot use asyncio
    findings = lint_source(
        "import uvloop\nfrom asyncio import *\nset_event_loop_policy(uvloop.EventLoopPolicy())\n",
        select=["AC603"],
        config={"target-version": "py312"},
    )
    assert [(f.code, f.location.row) for f in findings] == [("AC603", 3)]


def test_messages_name_the_call() -> None:
    source = "import asyncio\nasync def f():\n    asyncio.get_event_loop()\n    asyncio.run(g())\n"
    messages = {f.code: f.message for f in lint_source(source, select=["AC6"])}
    assert messages["AC601"].startswith("asyncio.run() inside async def")
    assert (
        messages["AC602"]
        == "asyncio.get_event_loop() inside async def; use asyncio.get_running_loop()"
    )
