"""Output formats for `asynccheck lint`: one module per format, one `render` per module.

Every renderer is a pure function of a `LintReport`; the CLI picks one from `FORMATTERS`.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Callable

from asynccheck.lint.finding import Finding


@dataclass(frozen=True)
class RuleInfo:
    """What a report needs to know about a rule (SARIF's rule table, JSON's `url`)."""

    code: str
    name: str
    summary: str
    url: str
    default: bool = True


@dataclass(frozen=True)
class LintReport:
    findings: tuple[Finding, ...]  # sorted by Finding.sort_key
    files_checked: int
    rules: Mapping[str, RuleInfo] = field(default_factory=dict)
    fixed: int = 0  # fixes applied by --fix in this run
    unsafe_fixes_enabled: bool = False
    color: bool = False
    statistics: bool = False
    quiet: bool = False  # findings only: no summary lines
    tool_version: str = ""


Renderer = Callable[[LintReport], str]

# --format name -> module with `render(report) -> str`; loaded on demand
_MODULES: Mapping[str, str] = {
    "text": "asynccheck.lint.report.text",
    "concise": "asynccheck.lint.report.concise",
    "json": "asynccheck.lint.report.json",
    "sarif": "asynccheck.lint.report.sarif",
    "github": "asynccheck.lint.report.github",
}

FORMATS: tuple[str, ...] = tuple(_MODULES)


def renderer(fmt: str) -> Renderer:
    return importlib.import_module(_MODULES[fmt]).render  # type: ignore[no-any-return]
