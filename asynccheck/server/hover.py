"""Hover: a rule's explanation, with its bad and good example, where its code is in view —
on a code in a `# noqa: AC101` comment, or on a finding's range. The text is what
`asynccheck rule CODE` prints (`rule_docs.explain`)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Optional

from lsprotocol import types

from asynccheck.lint.finding import Finding, Position
from asynccheck.lint.suppress import comment
from asynccheck.rule_docs import explain
from asynccheck.rules import REGISTRY

_CODE = re.compile(r"\b[A-Za-z]{2}[0-9]{3}\b")


def hover(line: str, where: Position, findings: Sequence[Finding]) -> Optional[types.Hover]:
    code = code_in_comment(line, where.column) or code_at(where, findings)
    rule = REGISTRY.get(code) if code else None
    if rule is None:
        return None
    return types.Hover(types.MarkupContent(types.MarkupKind.Markdown, explain(rule)))


def code_in_comment(line: str, column: int) -> Optional[str]:
    """The code under the 1-based `column` when it is inside the line's comment."""
    found = comment(line)
    if found is None:
        return None
    start = len(line) - len(found)
    for match in _CODE.finditer(found):
        if start + match.start() < column <= start + match.end() + 1:
            return match.group().upper()
    return None


def code_at(where: Position, findings: Sequence[Finding]) -> Optional[str]:
    """The code of a finding whose range holds `where` (the narrowest one)."""
    inside = [f for f in findings if f.location <= where <= f.end_location]
    if not inside:
        return None
    return min(
        inside,
        key=lambda f: (
            f.end_location.row - f.location.row,
            f.end_location.column - f.location.column,
        ),
    ).code
