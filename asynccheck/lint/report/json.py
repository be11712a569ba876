"""`--format json`: a JSON array of findings in ruff's shape, for scripts and other tools.

Keys are sorted as ruff's serializer sorts them, so a consumer written against
`ruff check --output-format json` reads this unchanged (bar `cell`, which is for notebooks).
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from asynccheck.lint.finding import Edit, Finding, Fix, Position
from asynccheck.lint.report import LintReport, statistics


def render(report: LintReport) -> str:
    """The findings as an indented JSON array (`[]` when none), with a trailing newline;
    with `--statistics`, one object a code instead, as ruff writes them.

    ASCII-only: non-ASCII text is escaped, so the output survives any console encoding.
    """
    if report.statistics:
        items = [dataclasses.asdict(row) for row in statistics(report)]
    else:
        items = [_finding(f, report) for f in sorted(report.findings, key=Finding.sort_key)]
    return json.dumps(items, indent=2, sort_keys=True) + "\n"


def _finding(finding: Finding, report: LintReport) -> dict[str, Any]:
    rule = report.rules.get(finding.code)
    return {
        "code": finding.code,
        "message": finding.message,
        "filename": finding.path,
        "location": _position(finding.location),
        "end_location": _position(finding.end_location),
        "fix": _fix(finding.fix) if finding.fix is not None else None,
        "url": rule.url if rule is not None and rule.url else None,
        # The row a suppression comment must sit on: a finding's first row, which is also
        # where a multi-line statement's suppression is read.
        "noqa_row": finding.location.row,
    }


def _fix(fix: Fix) -> dict[str, Any]:
    return {
        "applicability": fix.applicability,
        "message": fix.message or None,
        "edits": [_edit(e) for e in fix.edits],
    }


def _edit(edit: Edit) -> dict[str, Any]:
    return {
        "content": edit.content,
        "location": _position(edit.location),
        "end_location": _position(edit.end_location),
    }


def _position(pos: Position) -> dict[str, int]:
    return {"row": pos.row, "column": pos.column}
