"""The linted files are parsed without libcst's per-node validation (lint.parse): the tree
is the same, and nodes made afterwards (an autofix's) are validated as usual."""

from __future__ import annotations

import libcst
import pytest

from asynccheck.lint.parse import parse_module, unvalidated

SOURCE = '''
import time


class Store:
    async def load(self, name: str) -> bytes:
        """Load it."""
        time.sleep(1)  # noqa: AC101
        return (await self._read(name)) or b""
'''


def test_same_tree_as_libcst() -> None:
    tree = parse_module(SOURCE)
    assert tree.code == SOURCE
    assert tree.deep_equals(libcst.parse_module(SOURCE))


def _invalid_node() -> None:
    # libcst's _validate() refuses a `not` glued to its operand
    libcst.UnaryOperation(
        operator=libcst.Not(whitespace_after=libcst.SimpleWhitespace("")),
        expression=libcst.Name("x"),
    )


def test_nodes_made_after_a_parse_are_validated() -> None:
    parse_module(SOURCE)
    with pytest.raises(libcst.CSTValidationError):
        _invalid_node()


def test_validation_is_back_after_a_failed_parse() -> None:
    with pytest.raises(libcst.ParserSyntaxError):
        parse_module("def (:\n")
    with pytest.raises(libcst.CSTValidationError):
        _invalid_node()


def test_overlapping_blocks_can_only_leave_validation_on() -> None:
    """Two threads parsing at once: the first to finish puts libcst's hook back (the other
    parse validates from then on), never the no-op it found on entry."""
    with unvalidated():
        with unvalidated():
            _invalid_node()  # not validated inside
        with pytest.raises(libcst.CSTValidationError):
            _invalid_node()
    with pytest.raises(libcst.CSTValidationError):
        _invalid_node()
