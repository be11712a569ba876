"""Row/column and offsets for the few nodes that are reported, from one lean codegen pass.

libcst's PositionProvider records every node (3.8x the parse); this state records only the
nodes asked for and converts token indices to positions once at the end (about 0.34x, and
only for files that have findings).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Optional

from libcst._nodes.internal import CodegenState


@dataclass(frozen=True)
class Span:
    """Character offsets into the source and 1-based rows/columns of a node's syntax."""

    start: int
    end: int
    start_row: int
    start_col: int
    end_row: int
    end_col: int


class _TargetedState(CodegenState):  # type: ignore[misc]
    def __init__(self, module: Any, targets: set[int]) -> None:
        super().__init__(
            default_indent=module.default_indent, default_newline=module.default_newline
        )
        self.targets = targets
        self.marks: dict[int, tuple[int, int]] = {}
        self.open: dict[int, int] = {}

    def before_codegen(self, node: Any) -> None:
        key = id(node)
        if key in self.targets:
            self.open.setdefault(key, len(self.tokens))

    def after_codegen(self, node: Any) -> None:
        key = id(node)
        if key in self.targets and key not in self.marks:
            self.marks[key] = (self.open.pop(key, len(self.tokens)), len(self.tokens))

    @contextmanager
    def record_syntactic_position(
        self, node: Any, *, start_node: Any = None, end_node: Any = None
    ) -> Iterator[None]:
        key = id(node)
        if key not in self.targets:
            yield
            return
        start = len(self.tokens)
        try:
            yield
        finally:
            # The syntactic range (no leading comments or parentheses) wins over the
            # whitespace-inclusive one recorded by before/after_codegen.
            self.marks[key] = (start, len(self.tokens))


def spans(module: Any, nodes: Iterable[Any]) -> dict[int, Span]:
    """Map id(node) -> Span for each of `nodes` found in `module`."""
    targets = {id(node) for node in nodes}
    if not targets:
        return {}
    state = _TargetedState(module, targets)
    module._codegen(state)
    tokens = state.tokens
    wanted = sorted({index for pair in state.marks.values() for index in pair})
    at = _positions_at(tokens, wanted)
    result: dict[int, Span] = {}
    for key, (start, end) in state.marks.items():
        s_off, s_row, s_col = at[start]
        e_off, e_row, e_col = at[end]
        result[key] = Span(s_off, e_off, s_row, s_col, e_row, e_col)
    return result


def _positions_at(tokens: list[str], indices: list[int]) -> dict[int, tuple[int, int, int]]:
    """(offset, row, column) before token i, for each wanted i, in one pass over the tokens."""
    out: dict[int, tuple[int, int, int]] = {}
    offset, row, line_start = 0, 1, 0
    position = 0
    for index in indices:
        while position < index and position < len(tokens):
            token = tokens[position]
            newlines = token.count("\n") + token.count("\r") - token.count("\r\n")
            if newlines:
                row += newlines
                last = max(token.rfind("\n"), token.rfind("\r"))
                line_start = offset + last + 1
            offset += len(token)
            position += 1
        out[index] = (offset, row, offset - line_start + 1)
    return out


def first_line(span: Optional[Span]) -> Optional[int]:
    return span.start_row if span else None
