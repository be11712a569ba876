"""`--format concise`: one `path:row:col: CODE [*] message` line per finding, then the summary.

For editors' problem matchers and `grep`: the header, summary and statistics are those of
`text`, without the source frame.
"""

from __future__ import annotations

from asynccheck.lint.finding import Finding
from asynccheck.lint.report import LintReport
from asynccheck.lint.report.text import header, statistics_table, summary


def render(report: LintReport) -> str:
    """One line per finding in (path, row, column, code) order, then ruff's summary lines."""
    if report.statistics:
        lines = statistics_table(report)
    else:
        lines = [header(f, report) for f in sorted(report.findings, key=Finding.sort_key)]
    return "".join(line + "\n" for line in lines + summary(report))
