""" "Disable ACxxx for this line": the one edit that adds a code to the line's `# noqa`.

The engine reads `# noqa` on the finding's line (or its statement's first line), so the
code goes on the finding's line: into its `# noqa: ...` list when it has one, else a new
`# noqa: CODE` comment after the code (and after any other comment there).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

from asynccheck.lint.suppress import comment

_CODES = re.compile(r"noqa\s*:\s*[A-Za-z]+[0-9]+(?:\s*,\s*[A-Za-z]+[0-9]+)*", re.IGNORECASE)


@dataclass(frozen=True)
class LineEdit:
    start: int  # 0-based characters in the line
    end: int
    text: str


def add_code(line: str, code: str) -> Optional[LineEdit]:
    """The edit that makes `line` suppress `code`; None if it already does (a bare `# noqa`)."""
    found = comment(line)
    if found is not None:
        at = len(line) - len(found)
        listed = _CODES.search(found)
        if listed is not None:
            end = at + listed.end()
            return LineEdit(end, end, f", {code}")
        if re.match(r"#\s*noqa\b(?!\s*:)", found, re.IGNORECASE):
            return None
    code_end = len(line.rstrip())
    return LineEdit(code_end, len(line), f"  # noqa: {code}")
