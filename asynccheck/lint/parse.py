"""libcst's parse without its per-node `_validate()`: a sixth of the parse, for nothing.

libcst validates each node it builds (`CSTNode.__post_init__` calls `_validate()`): that a
keyword has whitespace around it, that parentheses pair, and so on. Its note there says the
work belongs elsewhere, "to avoid validating the tree when parsing a file": the native
parser reads only the grammar and builds only valid nodes. So a parsed tree skips it.

Only the parse does. A node made afterwards, by an autofix's `with_changes()` or a
constructor, is validated as usual: the hook is swapped for the length of one
`parse_module` call and always put back, to the function read from libcst when this module
was first used (not to whatever was there at entry, so that two threads parsing at once can
only leave validation on, never off).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Optional

from asynccheck.lint.cst import cst

_VALIDATING: Optional[Any] = None  # CSTNode.__post_init__ as libcst defines it


def parse_module(text: str) -> Any:
    """`libcst.parse_module(text)`, its nodes built without `_validate()`; raises as it
    does on a text it cannot parse."""
    with unvalidated():
        return cst.parse_module(text)


@contextmanager
def unvalidated() -> Iterator[None]:
    """Build libcst nodes without `_validate()` inside the block: only for nodes made by
    the parser, which makes valid ones."""
    global _VALIDATING
    node = cst.CSTNode
    if _VALIDATING is None:
        _VALIDATING = node.__dict__.get("__post_init__")
    if _VALIDATING is None:  # not the libcst this was written for: validate as usual
        yield
        return
    node.__post_init__ = _no_validation
    try:
        yield
    finally:
        node.__post_init__ = _VALIDATING


def _no_validation(self: Any) -> None:
    pass
