"""Code actions: each finding's fix as a quickfix (unsafe ones only when the settings allow,
and labelled so), "Disable ACxxx for this line", and `source.fixAll.asynccheck`, which
applies every safe fix in the file as `asynccheck lint --fix` would."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Callable, Optional

from lsprotocol import types

from asynccheck.lint.finding import Finding, Fix, Position
from asynccheck.lint.fix import fix_until_stable
from asynccheck.rules import ENGINE_CODES
from asynccheck.server.diagnostics import diagnostic
from asynccheck.server.linting import Outcome
from asynccheck.server.noqa import add_code
from asynccheck.server.positions import Lines
from asynccheck.server.settings import Settings

FIX_ALL = "source.fixAll.asynccheck"
Check = Callable[[str], Sequence[Finding]]  # the file's own findings for a text


def wanted(kind: str, only: Optional[Sequence[str]]) -> bool:
    """LSP's `only` filter: `source.fixAll` asks for `source.fixAll.asynccheck` too."""
    return not only or any(kind == k or kind.startswith(f"{k}.") for k in only)


def code_actions(
    uri: str,
    outcome: Outcome,
    lines: Lines,
    asked: types.Range,
    only: Optional[Sequence[str]],
    settings: Settings,
    check: Check,
) -> list[types.CodeAction]:
    actions: list[types.CodeAction] = []
    if wanted(types.CodeActionKind.QuickFix, only):
        first, last = asked.start.line + 1, asked.end.line + 1
        for finding in outcome.findings:
            if finding.location.row <= last and finding.end_location.row >= first:
                actions.extend(_for_finding(uri, finding, lines, settings))
    if wanted(FIX_ALL, only):
        fixed = fix_all(uri, outcome, lines, check)
        if fixed is not None:
            actions.append(fixed)
    return actions


def _for_finding(
    uri: str, finding: Finding, lines: Lines, settings: Settings
) -> Iterator[types.CodeAction]:
    shown = [diagnostic(finding, lines, settings)]
    fix = finding.fix
    if fix is not None and (fix.is_safe or settings.unsafe_fixes):
        title = f"{finding.code}: {fix.message}" + ("" if fix.is_safe else " (unsafe fix)")
        yield types.CodeAction(
            title=title,
            kind=types.CodeActionKind.QuickFix,
            diagnostics=shown,
            edit=_workspace_edit(uri, _edits(fix, lines)),
            is_preferred=fix.is_safe,
        )
    if finding.code in ENGINE_CODES:
        return  # a file that cannot be parsed or read: no comment silences that
    row = finding.location.row
    noqa = add_code(lines.line(row), finding.code)
    if noqa is not None:
        edit = types.TextEdit(
            lines.range(Position(row, noqa.start + 1), Position(row, noqa.end + 1)), noqa.text
        )
        yield types.CodeAction(
            title=f"Disable {finding.code} for this line",
            kind=types.CodeActionKind.QuickFix,
            diagnostics=shown,
            edit=_workspace_edit(uri, [edit]),
        )


def fix_all(uri: str, outcome: Outcome, lines: Lines, check: Check) -> Optional[types.CodeAction]:
    """Every safe fix, re-checked until none is left (as `--fix`); None when none applies."""
    if not any(f.fix is not None and f.fix.is_safe for f in outcome.findings):
        return None
    first = [True]

    def findings(text: str) -> Sequence[Finding]:
        if first[0]:  # the findings already published are for this very text
            first[0] = False
            return outcome.findings
        return check(text)

    result = fix_until_stable(outcome.text, findings)
    if result.text == outcome.text:
        return None
    last = len(lines.lines)
    everything = lines.range(Position(1, 1), Position(last, len(lines.line(last)) + 1))
    return types.CodeAction(
        title="asynccheck: fix all safe fixes",
        kind=FIX_ALL,
        edit=_workspace_edit(uri, [types.TextEdit(everything, result.text)]),
    )


def _edits(fix: Fix, lines: Lines) -> list[types.TextEdit]:
    return [types.TextEdit(lines.range(e.location, e.end_location), e.content) for e in fix.edits]


def _workspace_edit(uri: str, edits: list[types.TextEdit]) -> types.WorkspaceEdit:
    return types.WorkspaceEdit(changes={uri: edits})
