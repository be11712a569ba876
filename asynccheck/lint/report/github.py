"""`--format github`: GitHub Actions workflow commands, which annotate the pull-request diff.

One `::error ...::` line per finding. Values are escaped as the Actions runner unescapes them
(`@actions/core`'s `escapeData`/`escapeProperty`), so a `%`, `:`, `,` or line break in a path or
message cannot end a property early or start a new command.
"""

from __future__ import annotations

from asynccheck.lint.finding import Finding
from asynccheck.lint.report import LintReport

_DATA_ESCAPES = (("%", "%25"), ("\r", "%0D"), ("\n", "%0A"))
_PROPERTY_ESCAPES = (*_DATA_ESCAPES, (":", "%3A"), (",", "%2C"))


def render(report: LintReport) -> str:
    """One annotation line per finding; nothing at all when there are none."""
    return "".join(_annotation(f) + "\n" for f in sorted(report.findings, key=Finding.sort_key))


def _annotation(finding: Finding) -> str:
    props = (
        ("title", f"asynccheck ({finding.code})"),
        ("file", finding.path),
        ("line", str(finding.location.row)),
        ("col", str(finding.location.column)),
        ("endLine", str(finding.end_location.row)),
        ("endColumn", str(finding.end_location.column)),
    )
    joined = ",".join(f"{key}={escape_property(value)}" for key, value in props)
    return f"::error {joined}::{escape_data(f'{finding.code} {finding.message}')}"


def escape_data(text: str) -> str:
    """Escape a command's message: `%` first, so the escapes themselves survive."""
    for raw, escaped in _DATA_ESCAPES:
        text = text.replace(raw, escaped)
    return text


def escape_property(text: str) -> str:
    """Escape a property value, where `:` ends the properties and `,` separates them."""
    for raw, escaped in _PROPERTY_ESCAPES:
        text = text.replace(raw, escaped)
    return text
