"""Where a statement sits among its function's blocks, and where a path goes on
after it: the frames from a handler's `try` out to the function's body, innermost first.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Optional

from asynccheck.lint.cst import cst
from asynccheck.lint.flow import statements_of
from asynccheck.lint.walk import descendants
from asynccheck.rules.cancellation.handlers import Handler, awaits_in

# A frame: the statements of one block, where the path is in it, what kind of block it is
# and the statement that owns it; innermost first.
Frame = tuple[Sequence[Any], int, str, Any]


def frames_of(handler: Handler) -> list[Frame]:
    """The blocks from the handler's `try` out to its function's body."""
    body = statements_of(handler.site.scope.node)
    return _frames_to(body, handler.site.parent, "function") or []


def _frames_to(
    statements: Sequence[Any], target: Any, kind: str, owner: Any = None
) -> Optional[list[Frame]]:
    for index, stmt in enumerate(statements):
        if stmt is target:
            return [(statements, index, kind, owner)]
        for inner_kind, block in blocks_of(stmt):
            found = _frames_to(statements_of(block), target, inner_kind, stmt)
            if found is not None:
                return [*found, (statements, index, kind, owner)]
    return None


def blocks_of(stmt: Any) -> Iterator[tuple[str, Any]]:
    """The blocks a compound statement holds, with what ending each one leads to."""
    if isinstance(stmt, (cst.For, cst.While)):
        yield ("loop", stmt.body)
        if stmt.orelse is not None:
            yield ("after", stmt.orelse)
    elif isinstance(stmt, cst.If):
        yield ("after", stmt.body)
        if stmt.orelse is not None:
            orelse = stmt.orelse
            yield from (blocks_of(orelse) if isinstance(orelse, cst.If) else [("after", orelse)])
    elif isinstance(stmt, cst.With):
        yield ("after", stmt.body)
    elif isinstance(stmt, (cst.Try, cst.TryStar)):
        yield ("try-body" if stmt.orelse is None else "stop", stmt.body)
        for clause in stmt.handlers:
            yield ("after", clause)
        if stmt.orelse is not None:
            yield ("after", stmt.orelse)
        if stmt.finalbody is not None:
            yield ("stop", stmt.finalbody)  # a finally resumes what was in flight
    elif isinstance(stmt, cst.Match):
        for case in stmt.cases:
            yield ("after", case)


def falls_through(kind: str, owner: Any) -> bool:
    """Leaving a block of this kind goes on after its statement."""
    if kind in ("after", "try-body"):
        return True
    if kind == "loop":  # it ends when its iterations do, unless it breaks or never ends
        if isinstance(owner, cst.While) and isinstance(owner.test, cst.Name):
            return owner.test.value != "True"
        return not any(isinstance(node, cst.Break) for node in descendants([owner.body]))
    return False  # the function's end, or a finally


_JUMPS = (cst.Return, cst.Break, cst.Continue)


def raises_first(statements: Iterable[Any]) -> Optional[bool]:
    """True when a `raise` comes before any jump or compound statement; False when one of
    those comes first; None when the block ends first."""
    for stmt in statements:
        if not isinstance(stmt, cst.SimpleStatementLine):
            return False  # a compound statement may leave some other way
        for small in stmt.body:
            if isinstance(small, cst.Raise):
                return True
            if isinstance(small, _JUMPS):
                return False
    return None


def exit_frame(frames: list[Frame], kind: str) -> Optional[int]:
    """The frame the path goes on in after the handler: the try's own block when it falls
    off the end; the block holding the innermost loop on `break`; none for `continue`."""
    if kind == "end":
        return 0
    if kind == "break":
        loop = next((i for i, frame in enumerate(frames) if frame[2] == "loop"), None)
        return loop + 1 if loop is not None and loop + 1 < len(frames) else None
    return None  # `continue`: the loop goes round again


def ends_from(frames: list[Frame], start: Optional[int]) -> bool:
    """From the statement at `frames[start]`, the function ends without another await."""
    if start is None:
        return False
    for statements, index, kind, _owner in frames[start:]:
        if awaits_in(statements[index + 1 :]):
            return False
        if kind == "function":
            return True
        if kind not in ("after", "try-body"):
            return False  # a loop body goes round again; a finally resumes what was in flight
    return False
