"""`--format text`: ruff's full output, each finding with its line and carets, then a summary.

`concise` reuses the header line, the summary and the statistics table from here, so the two
human formats never disagree on wording, on what `[*]` means or on the counts.
"""

from __future__ import annotations

import unicodedata

from asynccheck.lint.finding import Finding
from asynccheck.lint.report import LintReport, fix_applies, statistics

# ruff expands tabs to stops of its default indent width, 4; the carets use the same cells.
TAB_SIZE = 4

# SGR codes, in the colours ruff uses: bold path, cyan separators and `*`, bold red code and
# carets, bold bright-blue gutter.
BOLD = "1"
CYAN = "36"
BOLD_RED = "1;31"
BOLD_BLUE = "1;94"

_FIX_COMMAND = "asynccheck lint --fix"
_UNSAFE_HINT = "can be enabled with the `--unsafe-fixes` option"


def render(report: LintReport) -> str:
    """Every finding as header, flagged line and carets, a blank line, then the summary."""
    if report.statistics:
        return _lines(statistics_table(report) + summary(report))
    out: list[str] = []
    for finding in sorted(report.findings, key=Finding.sort_key):
        out.append(header(finding, report))
        out.extend(_frame(finding, report.color))
        out.append("")
    return _lines(out + summary(report))


def paint(text: str, sgr: str, color: bool) -> str:
    """Wrap `text` in an ANSI style, or return it unchanged when colour is off."""
    return f"\x1b[{sgr}m{text}\x1b[0m" if color and text else text


def header(finding: Finding, report: LintReport) -> str:
    """`path:row:col: CODE [*] message`, the line both human formats start a finding with."""
    color = report.color
    sep = paint(":", CYAN, color)
    mark = f"[{paint('*', CYAN, color)}] " if fix_applies(finding, report) else ""
    return (
        f"{paint(finding.path, BOLD, color)}{sep}{finding.location.row}{sep}"
        f"{finding.location.column}{sep} {paint(finding.code, BOLD_RED, color)} "
        f"{mark}{_one_line(finding.message)}"
    )


def summary(report: LintReport) -> list[str]:
    if report.quiet:
        return []
    return _summary(report)


def _summary(report: LintReport) -> list[str]:
    """ruff's closing lines: how many findings (and fixed ones), then what `--fix` would do."""
    remaining = len(report.findings)
    out: list[str] = []
    if report.fixed > 0:
        total = report.fixed + remaining
        out.append(
            f"Found {total} {_plural(total, 'finding')} "
            f"({report.fixed} fixed, {remaining} remaining)."
        )
    elif remaining:
        out.append(f"Found {remaining} {_plural(remaining, 'finding')}.")
    else:
        out.append("All checks passed!")

    fixable = [f for f in report.findings if fix_applies(f, report)]
    hidden = sum(1 for f in report.findings if f.fix is not None and not fix_applies(f, report))
    # Name the command that really applies them: unsafe ones also need --unsafe-fixes.
    command = _FIX_COMMAND
    if any(f.fix is not None and not f.fix.is_safe for f in fixable):
        command += " --unsafe-fixes"
    prefix = f"[{paint('*', CYAN, report.color)}]"
    hidden_note = f"{hidden} hidden {_plural(hidden, 'fix', 'fixes')} {_UNSAFE_HINT}"
    if fixable and hidden:
        out.append(f"{prefix} {len(fixable)} fixable with `{command}` ({hidden_note}).")
    elif fixable:
        out.append(f"{prefix} {len(fixable)} fixable with `{command}`.")
    elif hidden:
        out.append(f"No fixes available ({hidden_note}).")
    return out


def statistics_table(report: LintReport) -> list[str]:
    """ruff's `--statistics` table (flake8's layout): count, code, `[*]`, rule name.
    A code is marked fixable only when every one of its findings is, so `[*]` promises that
    `--fix` clears the whole row."""
    rows = statistics(report)
    if not rows:
        return []
    count_width = len(str(rows[0].count))
    code_width = max(len(row.code) for row in rows)
    any_fixable = any(row.fixable for row in rows)
    star = f"[{paint('*', CYAN, report.color)}] "
    out = []
    for row in rows:
        mark = (star if row.fixable else "[ ] ") if any_fixable else ""
        line = (
            f"{paint(str(row.count).rjust(count_width), BOLD, report.color)}\t"
            f"{paint(row.code.ljust(code_width), BOLD_RED, report.color)}\t{mark}{row.name}"
        )
        out.append(line.rstrip())
    return out


def _frame(finding: Finding, color: bool) -> list[str]:
    """The flagged line under a row-number gutter, with carets under the span.

    Only the first row of the span is kept with the finding, so a span that goes on to later
    rows is underlined to the end of that row. A finding without a line (an unreadable file)
    has no frame.
    """
    raw = _strip_newline(finding.source_line)
    if not raw:
        return []
    shown, cells = _display(raw)
    start = min(max(finding.location.column - 1, 0), len(raw))
    if finding.end_location.row == finding.location.row:
        end = min(max(finding.end_location.column - 1, start), len(raw))
    else:
        end = len(raw)
    width = max(cells[end] - cells[start], 1)
    row = str(finding.location.row)
    gutter = paint(" " * len(row) + " |", BOLD_BLUE, color)
    carets = paint("^" * width + " " + finding.code, BOLD_RED, color)
    lines = [
        gutter,
        f"{paint(row + ' |', BOLD_BLUE, color)} {shown}",
        f"{gutter} {' ' * cells[start]}{carets}",
        gutter,
    ]
    advice = finding.fix.message if finding.fix is not None else finding.help
    if advice:
        help_mark = paint(" " * len(row) + " =", BOLD_BLUE, color)
        lines.append(f"{help_mark} {paint('help', BOLD, color)}: {_one_line(advice)}")
    return lines


def _display(line: str) -> tuple[str, list[int]]:
    """The line as the terminal should show it, and the cell where each character starts.

    `cells[i]` is the display column of character `i` (`cells[len(line)]` is the width), so
    carets stay under the span through tabs (expanded to stops of TAB_SIZE), wide East Asian
    characters (two cells), combining marks (none) and control characters (shown as one-cell
    symbols, so that a stray escape sequence in a source file cannot restyle the terminal).
    """
    out: list[str] = []
    cells: list[int] = []
    col = 0
    for ch in line:
        cells.append(col)
        if ch == "\t":
            step = TAB_SIZE - col % TAB_SIZE
            out.append(" " * step)
            col += step
            continue
        shown = _printable(ch)
        out.append(shown if shown is not None else ch)
        col += 1 if shown is not None else _cell_width(ch)
    cells.append(col)
    return "".join(out), cells


def _printable(ch: str) -> str | None:
    """A visible stand-in for a control character (U+2400 block), or None for others."""
    code = ord(ch)
    if code < 0x20:
        return chr(0x2400 + code)
    if code == 0x7F:
        return "\u2421"
    if 0x80 <= code < 0xA0:
        return "\ufffd"
    return None


def _cell_width(ch: str) -> int:
    if unicodedata.category(ch) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def _strip_newline(line: str) -> str:
    if line.endswith("\r\n"):
        return line[:-2]
    if line.endswith(("\n", "\r")):
        return line[:-1]
    return line


def _one_line(text: str) -> str:
    """Messages are one line in every human format, whatever a parser's reason contains."""
    return " ".join(text.splitlines())


def _plural(n: int, word: str, plural: str = "") -> str:
    return word if n == 1 else (plural or word + "s")


def _lines(lines: list[str]) -> str:
    return "".join(line + "\n" for line in lines)
