"""Output formats for `asynccheck lint`: one module per format, one `render` per module.

Every renderer is a pure function of a `LintReport`; the CLI picks one from `FORMATTERS`.
"""

from __future__ import annotations

import importlib
from collections import Counter
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


@dataclass(frozen=True)
class Statistic:
    """One row of `--statistics`: a code, its rule's name, how many, whether `--fix` clears
    them all (every one of its findings has a fix this run would apply)."""

    code: str
    name: str
    count: int
    fixable: bool


def fix_applies(finding: Finding, report: LintReport) -> bool:
    """Whether `--fix` in this run would apply the finding's fix.

    As in ruff, an unsafe fix counts (and earns `[*]`) once `--unsafe-fixes` is on; until then
    it is only mentioned as hidden in the summary.
    """
    fix = finding.fix
    return fix is not None and (fix.is_safe or report.unsafe_fixes_enabled)


def statistics(report: LintReport) -> list[Statistic]:
    """The `--statistics` rows, by count (highest first), then by code; any format's."""
    counts = Counter(f.code for f in report.findings)
    fixable = {code: True for code in counts}
    for finding in report.findings:
        fixable[finding.code] = fixable[finding.code] and fix_applies(finding, report)
    rows = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return [Statistic(code, _rule_name(report, code), count, fixable[code]) for code, count in rows]


def _rule_name(report: LintReport, code: str) -> str:
    rule = report.rules.get(code)
    return rule.name if rule is not None else ""


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
# formats a person reads: `--diff` prints a diff beside them; the others are for tools
HUMAN_FORMATS = ("text", "concise")
# formats that have a `--statistics` form
STATISTICS_FORMATS = ("text", "concise", "json")


def renderer(fmt: str) -> Renderer:
    return importlib.import_module(_MODULES[fmt]).render  # type: ignore[no-any-return]
