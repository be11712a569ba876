"""Applying fixes: non-overlapping edits, re-checked until nothing is left to fix, and a
fixed file must still parse (otherwise it is left as it was)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Callable

from asynccheck.lint.finding import Edit, Finding

MAX_ROUNDS = 10


@dataclass(frozen=True)
class FixOutcome:
    text: str
    fixed: int  # how many findings were fixed
    findings: tuple[Finding, ...]  # what remains


def applicable(finding: Finding, unsafe: bool) -> bool:
    return finding.fix is not None and (finding.fix.is_safe or unsafe)


def apply_fixes(text: str, findings: Iterable[Finding], *, unsafe: bool = False) -> tuple[str, int]:
    """Apply every applicable fix that does not overlap one already taken.

    Identical edits are shared: two AC101 fixes both add `import asyncio`, once.
    """
    chosen: list[Edit] = []
    count = 0
    for finding in sorted(findings, key=Finding.sort_key):
        if not applicable(finding, unsafe):
            continue
        assert finding.fix is not None
        new = [edit for edit in finding.fix.edits if edit not in chosen]
        if any(_overlaps(edit, other) for edit in new for other in chosen):
            continue
        chosen.extend(new)
        count += 1
    for edit in sorted(chosen, key=lambda e: (e.start, e.end), reverse=True):
        text = text[: edit.start] + edit.content + text[edit.end :]
    return text, count


def _overlaps(a: Edit, b: Edit) -> bool:
    if a.start == a.end == b.start == b.end:
        return True  # two different insertions at one place: order would be arbitrary
    return a.start < b.end and b.start < a.end


def parses(text: str) -> bool:
    """A fix that breaks the syntax is never written."""
    from asynccheck.lint.cst import cst

    try:
        cst.parse_module(text)
    except Exception:  # libcst raises ParserSyntaxError, and worse on odd input
        return False
    return True


def fix_until_stable(
    text: str,
    check: Callable[[str], Sequence[Finding]],
    parses: Callable[[str], bool] = parses,
    *,
    unsafe: bool = False,
) -> FixOutcome:
    """Fix, re-check, repeat: a second run of `--fix` must find nothing more to fix."""
    fixed = 0
    findings = tuple(check(text))
    for _ in range(MAX_ROUNDS):
        new_text, count = apply_fixes(text, findings, unsafe=unsafe)
        if count == 0 or not parses(new_text):
            break
        text, fixed = new_text, fixed + count
        findings = tuple(check(text))
    return FixOutcome(text, fixed, findings)


def unified_diff(path: str, before: str, after: str) -> str:
    return "".join(
        difflib.unified_diff(
            before.splitlines(keepends=True),
            after.splitlines(keepends=True),
            fromfile=f"a/{path}",
            tofile=f"b/{path}",
        )
    )
