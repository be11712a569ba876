"""Advice follows the target version (issue 12, point 5): no TaskGroup or asyncio.timeout()
below 3.11, and AC405 silent where TaskGroup does not exist."""

from __future__ import annotations

import pytest

from asynccheck.lint.api import lint_source
from asynccheck.rules.advice import PHRASES, fit

DANGLING = "import asyncio\n\n\nasync def main(c):\n    asyncio.create_task(c)\n"
LOOP = "async def f(urls):\n    for url in urls:\n        await fetch(url)\n"
TIMEOUT_PARAM = "async def fetch(url, timeout):\n    await get(url)\n"
GATHER = "import asyncio\n\n\nasync def f():\n    await asyncio.gather(a(), b())\n"


def messages(source: str, target: str, code: str) -> list[str]:
    config = {"target-version": target, "extend-select": [code]}
    return [f.message for f in lint_source(source, config=config) if f.code == code]


@pytest.mark.parametrize(
    "source, code, modern, older",
    [
        (DANGLING, "AC401", "asyncio.TaskGroup", "await it"),
        (LOOP, "AC403", "asyncio.TaskGroup", "asyncio.gather()"),
        (TIMEOUT_PARAM, "AC503", "asyncio.timeout()", "asyncio.wait_for()"),
    ],
)
def test_advice_names_what_the_target_has(source, code, modern, older):
    (old,) = messages(source, "py310", code)
    (new,) = messages(source, "py311", code)
    assert modern not in old and older in old
    assert modern in new


def test_ac405_only_where_taskgroup_exists():
    assert messages(GATHER, "py310", "AC405") == []
    assert len(messages(GATHER, "py311", "AC405")) == 1


def test_target_from_requires_python_reaches_the_advice(tree, cli):
    tree(
        {
            "pyproject.toml": '[project]\nrequires-python = ">=3.8"\n[tool.asynccheck]\n',
            "m.py": DANGLING,
            "new/pyproject.toml": '[project]\nrequires-python = ">=3.12"\n[tool.asynccheck]\n',
            "new/m.py": DANGLING,
        }
    )
    out = cli("lint", "--format", "concise", "--no-cache", ".").stdout
    (old,) = [line for line in out.splitlines() if line.startswith("m.py")]
    (new,) = [line for line in out.splitlines() if line.startswith("new/m.py")]
    assert "TaskGroup" not in old and "TaskGroup" in new


@pytest.mark.parametrize("phrase", PHRASES, ids=lambda p: p.modern)
def test_every_phrase_is_said_by_some_rule(phrase):
    """A phrase no message says any more would silently stop fitting anything."""
    from asynccheck.rules import REGISTRY

    said = " ".join(
        str(value)
        for rule in REGISTRY.values()
        for name, value in vars(rule).items()
        if "message" in name and isinstance(value, str)
    )
    said = " ".join(said.split())
    assert phrase.modern in said
    assert fit(phrase.modern, (3, 10)) == phrase.older
    assert fit(phrase.modern, phrase.since) == phrase.modern
