"""`# noqa`, `# noqa: AC101,AC104` and `# asynccheck: ignore[AC101]` comments."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Optional

from asynccheck.lint.finding import Finding
from asynccheck.lint.peers import SILENCED_BY

_NOQA = re.compile(
    r"#\s*(?:noqa(?P<noqa>\s*:\s*(?P<codes>[A-Za-z]+[0-9]+(?:[\s,]+[A-Za-z]+[0-9]+)*))?"
    r"|asynccheck\s*:\s*ignore(?:\[(?P<ignored>[^\]]*)\])?)",
    re.IGNORECASE,
)

ALL = frozenset({"*"})


def suppressed_codes(line: str) -> Optional[frozenset[str]]:
    """The codes a line's comment suppresses: ALL for a bare `# noqa`, None for none."""
    if "#" not in line:
        return None
    comment = _comment(line)
    if comment is None:
        return None
    codes: set[str] = set()
    for match in _NOQA.finditer(comment):
        listed = match.group("codes") or match.group("ignored")
        if listed is None:
            return ALL
        codes.update(code.upper() for code in re.split(r"[\s,]+", listed.strip()) if code)
    return frozenset(codes) if codes else None


def comment(line: str) -> Optional[str]:
    """The comment at the end of a line of code, `#` included (the language server adds
    codes to it); None when the line has none."""
    return _comment(line)


def _comment(line: str) -> Optional[str]:
    """The comment at the end of a line of code, skipping `#` inside string literals.

    A flagged line and its statement's first line start in code, so one pass that tracks
    quotes (single, triple, escapes) is enough; no tokenizer needed.
    """
    index, length = 0, len(line)
    quote = ""
    while index < length:
        char = line[index]
        if quote:
            if char == "\\":
                index += 2
                continue
            if line.startswith(quote, index):
                index += len(quote)
                quote = ""
                continue
        elif char == "#":
            return line[index:]
        elif char in "'\"":
            quote = char * 3 if line.startswith(char * 3, index) else char
            index += len(quote)
            continue
        index += 1
    return None


def is_suppressed(code: str, line: str, peers: bool = True) -> bool:
    """Whether the line's comment silences `code`: by name, by a bare `# noqa`, or (with
    `peers`) by a flake8-async / ruff code for the same problem (`lint.peers`)."""
    codes = suppressed_codes(line)
    if codes is None:
        return False
    return (
        codes is ALL or code in codes or (peers and not codes.isdisjoint(SILENCED_BY.get(code, ())))
    )


def unsuppressed(
    findings: Sequence[tuple[Finding, int]], lines: Sequence[str], peers: bool = True
) -> list[Finding]:
    """Drop findings whose line, or the first line of their statement, carries a noqa."""
    kept = []
    for finding, stmt_row in findings:
        rows = {finding.location.row, stmt_row}
        if any(
            0 < row <= len(lines) and is_suppressed(finding.code, lines[row - 1], peers)
            for row in rows
        ):
            continue
        kept.append(finding)
    return kept
