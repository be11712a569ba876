"""Row/column and offsets for the few nodes that are reported, without a pass over the file.

libcst's PositionProvider records every node (3.8x the parse). Here a reported node is placed
through a statement around it: that statement alone is generated, recording only the nodes
asked for, and its text is found in the source. Only what no statement can place pays for
generating the whole module (about 1x the parse, and only for files with findings).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Optional

from libcst._nodes.internal import CodegenState

from asynccheck.lint.finding import LINE_BREAK


@dataclass(frozen=True)
class Span:
    """Character offsets into the source and 1-based rows/columns of a node's syntax."""

    start: int
    end: int
    start_row: int
    start_col: int
    end_row: int
    end_col: int


# (host statements, innermost first; nodes inside them): hosts let nodes be placed cheaply.
Request = tuple[Sequence[Any], Sequence[Any]]


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


def spans(module: Any, source: str, requests: Iterable[Request]) -> dict[int, Span]:
    """Map id(node) -> Span for the nodes of each (host statements, nodes) request.

    A node is placed through the first of its hosts (statements around it, innermost
    first) that can place it: that statement alone is generated and found in the source
    text (see `_place_host`). What no host places comes from one codegen pass over the whole
    module, which costs about as much as parsing the file again.
    """
    result: dict[int, Span] = {}
    if not module.has_trailing_newline:
        # The last statement generates alone with a newline the file does not have, and an
        # identical statement elsewhere would be taken for it: place everything the slow way.
        requests = [((), [node for _, nodes in requests for node in nodes])]
    by_hosts: dict[tuple[int, ...], tuple[Sequence[Any], list[Any]]] = {}
    for hosts, nodes in requests:
        group = by_hosts.setdefault(tuple(map(id, hosts)), (hosts, []))
        group[1].extend(node for node in nodes if node is not None)
    lines = _LineStarts(source)
    leftovers: list[Any] = []
    # Level by level, innermost hosts first: the nodes a level did not place move up to
    # their next host, where all nodes that share it are placed by one generation (a
    # statement repeated in the file sends each of its nodes up to the enclosing def; one
    # def with twenty such calls is generated once, not twenty times).
    waiting = [(list(hosts), nodes) for hosts, nodes in by_hosts.values()]
    while waiting:
        level: dict[int, tuple[Any, list[Any], list[tuple[list[Any], list[Any]]]]] = {}
        for hosts, nodes in waiting:
            while hosts and type(hosts[0]).__name__ not in _HOST_TYPES:
                hosts.pop(0)
            if not hosts:
                leftovers.extend(nodes)
                continue
            group = level.setdefault(id(hosts[0]), (hosts[0], [], []))
            group[1].extend(nodes)
            group[2].append((hosts[1:], nodes))
        waiting = []
        for host, nodes, rests in level.values():
            result.update(_place_host(module, source, lines, host, nodes))
            for rest, own in rests:
                pending = [node for node in own if id(node) not in result]
                if pending:
                    waiting.append((rest, pending))
    # A statement outside its hosts (where an import goes, say) may be placed on its own.
    for node in leftovers:
        if id(node) not in result and type(node).__name__ in _HOST_TYPES:
            result.update(_place_host(module, source, lines, node, [node]))
    leftovers = [node for node in leftovers if id(node) not in result]
    if leftovers:
        result.update(_spans_in_module(module, {id(node) for node in leftovers}))
    return result


# A host's text is looked for where its first line occurs; past this many places (a line
# repeated all over the file) the whole module is generated instead.
_MAX_CANDIDATES = 16

_HOST_TYPES = frozenset(
    (
        "SimpleStatementLine", "If", "For", "While", "Try", "TryStar", "With", "FunctionDef",
        "ClassDef", "Match",
    )
)  # fmt: skip


class _LineStarts:
    """Offsets where the source's lines start, computed on first use."""

    def __init__(self, source: str) -> None:
        self.source = source
        self._starts: Optional[list[int]] = None

    def row_of(self, offset: int) -> int:
        """The 1-based row that `offset` is on."""
        if self._starts is None:
            self._starts = [0, *(m.end() for m in LINE_BREAK.finditer(self.source))]
        return bisect.bisect_right(self._starts, offset)

    def line_start(self, offset: int) -> int:
        """Where the line that `offset` is on starts."""
        row = self.row_of(offset)
        return self._starts[row - 1]  # type: ignore[index]

    def is_line_start(self, offset: int) -> bool:
        return self.line_start(offset) == offset


def _place_host(
    module: Any, source: str, lines: _LineStarts, host: Any, nodes: list[Any]
) -> dict[int, Span]:
    """Spans of `nodes` found inside `host`, from generating `host` alone.

    The statement's first line is looked up in the source; at each place it occurs, the
    statement is generated again with that place's indentation and kept only if the whole
    text matches there. Exactly one match places the statement; anything else (no match, a
    statement repeated verbatim, an `elif` that generates as `if`) gives up, and the caller
    falls back to generating the module.
    """
    targets = {id(node) for node in nodes} | {id(host)}
    state = _generate(module, host, targets, "")
    if id(host) not in state.marks:
        return {}
    text = "".join(state.tokens)
    syntactic = _offset_of(state.tokens, state.marks[id(host)][0])
    first_line = LINE_BREAK.split(text[syntactic:], 1)[0]
    if not first_line.strip() or ("el" + first_line) in source:
        # An `elif` generates alone as `if`: its own place would not match, and an `if`
        # with the same text elsewhere would be taken for it.
        return {}
    placed: Optional[tuple[int, _TargetedState]] = None
    by_indent: dict[str, _TargetedState] = {"": state}
    where = source.find(first_line)
    tries = 0
    while where != -1:
        tries += 1
        if tries > _MAX_CANDIDATES:
            return {}
        indent = source[lines.line_start(where) : where]
        if not indent or indent.isspace():
            candidate = by_indent.get(indent)
            if candidate is None:
                candidate = by_indent[indent] = _generate(module, host, targets, indent)
            own = "".join(candidate.tokens)
            start = where - _offset_of(candidate.tokens, candidate.marks[id(host)][0])
            if start >= 0 and lines.is_line_start(start) and source.startswith(own, start):
                if placed is not None and placed[0] != start:
                    return {}  # the same statement twice: cannot tell which one
                placed = (start, candidate)
        where = source.find(first_line, where + 1)
    if placed is None:
        return {}
    start, state = placed
    return _to_spans(state, start, lines.row_of(start))


def _generate(module: Any, node: Any, targets: set[int], indent: str) -> _TargetedState:
    state = _TargetedState(module, targets)
    if indent:
        state.indent_tokens = [indent]
    node._codegen(state)
    return state


def _offset_of(tokens: list[str], index: int) -> int:
    return sum(len(token) for token in tokens[:index])


def _spans_in_module(module: Any, targets: set[int]) -> dict[int, Span]:
    """The slow path: generate the whole module, recording only `targets`."""
    return _to_spans(_generate(module, module, targets, ""), 0, 1)


def _to_spans(state: _TargetedState, offset: int, row: int) -> dict[int, Span]:
    """Spans from a state's marks; its text starts at `offset`, at the start of `row`."""
    wanted = sorted({index for pair in state.marks.values() for index in pair})
    at = _positions_at(state.tokens, wanted)
    result: dict[int, Span] = {}
    for key, (start, end) in state.marks.items():
        s_off, s_row, s_col = at[start]
        e_off, e_row, e_col = at[end]
        result[key] = Span(
            offset + s_off, offset + e_off, row - 1 + s_row, s_col, row - 1 + e_row, e_col
        )
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
