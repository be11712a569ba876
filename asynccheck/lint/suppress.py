"""`# noqa`, `# noqa: AC101,AC104` and `# asynccheck: ignore[AC101]` comments."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Optional

from asynccheck.lint.finding import Finding

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
    codes: set[str] = set()
    for match in _NOQA.finditer(line):
        listed = match.group("codes") or match.group("ignored")
        if listed is None:
            return ALL
        codes.update(code.upper() for code in re.split(r"[\s,]+", listed.strip()) if code)
    return frozenset(codes) if codes else None


def is_suppressed(code: str, line: str) -> bool:
    codes = suppressed_codes(line)
    return codes is not None and (codes is ALL or code in codes)


def unsuppressed(findings: Sequence[tuple[Finding, int]], lines: Sequence[str]) -> list[Finding]:
    """Drop findings whose line, or the first line of their statement, carries a noqa."""
    kept = []
    for finding, stmt_row in findings:
        rows = {finding.location.row, stmt_row}
        if any(
            0 < row <= len(lines) and is_suppressed(finding.code, lines[row - 1]) for row in rows
        ):
            continue
        kept.append(finding)
    return kept
