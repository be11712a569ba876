"""A module summarised for the project step alone is parsed skimmed (lint.project.skim): the
summary must be the very one the whole text gives."""

from __future__ import annotations

import textwrap

import pytest

from asynccheck.lint.checker import Checker
from asynccheck.lint.context import FileContext
from asynccheck.lint.cst import cst
from asynccheck.lint.facts import collect
from asynccheck.lint.project.skim import parse_for_summary, skim

MODULE = '''
import os
import time


class Store:
    def __init__(self, path):
        self.path = path

    async def async_load(self, name):
        """Load it.

Text at the margin of a docstring.
        """
        data = await self._read(name)
        return {"k": data, "j": [1, 2,
    3]}

    async def async_fetch(self, name):
        """Fetch it.

        Blank lines and brackets inside are fine.
        """
        return await self._get(
            name,
        )

    async def async_save(self):
        self.saved = True
        await self._write()

    async def async_nested(self):
        def inner():
            time.sleep(1)
        return inner

    async def async_plain(self, x):
        # a comment
        y = f"{x['a']} {x["b"]}"
        if y:
            return os.path.exists(y)

        return None

    def save(self):
        open(self.path, "w").close()


async def run(
    a: int,
    b: str = "):",
) -> None:
    global COUNT
    COUNT = 1


async def tick(*, now):
    await now()
    return [
        now
    ]
async def one_line(): return 1


def sync():
    time.sleep(1)
'''


def _summary(text: str, parsed_text: str, tree: object) -> tuple[object, ...]:
    checker = Checker(frozenset(("AC110",)))
    ctx = FileContext("", parsed_text, tree, collect(tree, frozenset(("Yield",))))
    try:
        return checker._summarise(ctx, "pkg.store", False).to_tuple()
    finally:
        ctx.release()


def test_only_bodies_that_bind_nothing_outside_are_left_out() -> None:
    short = skim(MODULE)
    assert short is not None
    assert len(short.splitlines()) == len(MODULE.splitlines())  # line numbers kept
    assert "await self._get(" not in short  # async_fetch: left out
    assert "os.path.exists(y)" not in short  # async_plain: left out
    assert "await now()" not in short  # tick: no `self`
    # async_load is kept: a line of it (in a docstring, in brackets) is not indented deeper
    # than its def, and this scan does not tell those from the end of the body
    for kept in (
        "data = await self._read(name)",
        "self.saved = True",
        "def inner():",
        "global COUNT",
        "return 1",
        "time.sleep",
    ):
        assert kept in short


def test_the_summary_is_the_whole_texts() -> None:
    tree = cst.parse_module(MODULE)
    parsed = parse_for_summary(MODULE)
    assert parsed is not None and parsed[0] != MODULE
    assert _summary(MODULE, *parsed) == _summary(MODULE, MODULE, tree)


@pytest.mark.parametrize(
    "text",
    [
        "x = 1\n",  # no async
        "async def f():\n\tawait g()\n",  # tabs: not read
        "s = '''\nasync def f():\n    pass\n'''\n",  # inside a string
        "async def f(): return 1\n",  # one line
    ],
)
def test_texts_it_does_not_skim(text: str) -> None:
    assert skim(text) is None


def test_an_unparsable_text_is_none_and_a_bad_skim_falls_back_to_the_whole() -> None:
    assert parse_for_summary("def f(:\n") is None
    text = textwrap.dedent(
        """
        async def f():
            x = 1
        y = 2
        """
    )
    parsed = parse_for_summary(text)
    assert parsed is not None
    assert "y = 2" in parsed[0]
