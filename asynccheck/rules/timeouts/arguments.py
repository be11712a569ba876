"""What a call is given as its timeout: by keyword or position, `None`, or nothing
with the call racing its awaitables.
"""

from __future__ import annotations

from typing import Any, Optional

from asynccheck.lint.cst import cst

_TIMEOUT_KEYWORDS = frozenset(("timeout", "delay", "when"))


def is_none(node: Any) -> bool:
    return isinstance(node, cst.Name) and node.value == "None"


def has_star(call: Any) -> bool:
    return any(arg.star for arg in call.args)


def timeout_arg(call: Any, position: Optional[int]) -> Optional[Any]:
    """The expression passed as the call's timeout, by keyword or by position."""
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value in _TIMEOUT_KEYWORDS:
            return arg.value
    positional = [arg for arg in call.args if arg.keyword is None]
    if position is not None and len(positional) > position:
        return positional[position].value
    return None


def races(call: Any) -> bool:
    """`asyncio.wait(..., return_when=FIRST_COMPLETED)` races its awaitables; in real code
    one of them is the stop signal or a timeout future, which bounds the wait."""
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == "return_when":
            value = arg.value
            name = value.attr.value if isinstance(value, cst.Attribute) else None
            return (name or getattr(value, "value", None)) == "FIRST_COMPLETED"
    return False
