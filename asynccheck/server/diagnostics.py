"""Findings as LSP diagnostics: the code, the rule's page (the URL `--format json` gives),
the severity the settings give the code's family, and AC110's chain in the other files."""

from __future__ import annotations

import re
from typing import Optional

from lsprotocol import types
from pygls.uris import from_fs_path

from asynccheck.lint.finding import Finding, Position, split_lines
from asynccheck.rules import REGISTRY
from asynccheck.server.configs import ConfigProblem
from asynccheck.server.linting import Outcome
from asynccheck.server.positions import Lines
from asynccheck.server.project import Step
from asynccheck.server.settings import Settings

SOURCE = "asynccheck"


def diagnostics(outcome: Outcome, lines: Lines, settings: Settings) -> list[types.Diagnostic]:
    return [
        diagnostic(f, lines, settings, outcome.chains.get((f.location.row, f.location.column)))
        for f in outcome.findings
    ]


def diagnostic(
    finding: Finding, lines: Lines, settings: Settings, chain: Optional[tuple[Step, ...]] = None
) -> types.Diagnostic:
    rule = REGISTRY.get(finding.code)
    message = f"{finding.message}\nhelp: {finding.help}" if finding.help else finding.message
    return types.Diagnostic(
        range=lines.range(finding.location, finding.end_location),
        message=message,
        severity=types.DiagnosticSeverity(settings.severity_of(finding.code)),
        code=finding.code,
        code_description=types.CodeDescription(href=rule.url()) if rule is not None else None,
        source=SOURCE,
        related_information=[_related(step, lines) for step in chain] if chain else None,
    )


def _related(step: Step, lines: Lines) -> types.DiagnosticRelatedInformation:
    """The def's name in its file, in the client's units (only its own line is at hand)."""
    place = step.place
    line = Lines(place.line, lines.codec)  # row 1 of it is the def's row
    end = place.end.column if place.end.row == place.start.row else place.start.column
    row = place.start.row - 1
    where = types.Range(
        types.Position(row, line.to_client(Position(1, place.start.column)).character),
        types.Position(row, line.to_client(Position(1, end)).character),
    )
    location = types.Location(from_fs_path(step.path) or step.path, where)
    return types.DiagnosticRelatedInformation(location, f"calls {step.message}")


def config_diagnostic(problem: ConfigProblem, text: str) -> types.Diagnostic:
    """One error on the configuration file, on what the message names when it can be found
    there (a key, a code, the place TOML gave up), else on the first line."""
    lines = Lines(text)
    start, end = _place(problem.message, text)
    message = problem.message
    if message.startswith(f"{problem.path}: "):  # the file it is shown on
        message = message[len(problem.path) + 2 :]
    return types.Diagnostic(
        range=lines.range(start, end),
        message=message,
        severity=types.DiagnosticSeverity.Error,
        source=SOURCE,
    )


_TOML_AT = re.compile(r"at line (\d+), column (\d+)")
_QUOTED = re.compile(r"'([^'\s]+)'")
_TABLE = re.compile(r"^[ \t]*\[[ \t]*tool[ \t]*\.[ \t]*asynccheck[ \t]*\]", re.MULTILINE)


def _place(message: str, text: str) -> tuple[Position, Position]:
    """Where in `text` the configuration error is: the line and column TOML reports; else
    the first key (`'select' must be ...`) or quoted value (`unknown rule code 'AC999'`)
    the message names, after the `[tool.asynccheck]` header when there is one; else that
    header; else the first line."""
    lines = split_lines(text) or [""]
    at = _TOML_AT.search(message)
    if at is not None:
        row = min(int(at.group(1)), len(lines))
        return Position(row, int(at.group(2))), Position(row, len(lines[row - 1]) + 1)
    if "at end of document" in message:  # on the last line that has anything
        row = max((i for i, line in enumerate(lines, 1) if line.strip()), default=1)
        return Position(row, 1), Position(row, len(lines[row - 1]) + 1)
    table = _TABLE.search(text)
    begin = table.start() if table is not None else 0
    named = message.split("; did you mean", 1)[0]  # the suggestion is not in the file
    for word in _QUOTED.findall(named):
        word = re.escape(word)
        for pattern in (
            rf"^[ \t]*[\"']?({word})[\"']?[ \t]*=",  # the key
            rf"[\"']({word})[\"']",  # a quoted value
        ):
            found = re.compile(pattern, re.MULTILINE).search(text, begin)
            if found is not None:
                return _span(text, found.start(1), found.end(1))
    if table is not None:
        return _span(text, table.start(), table.end())
    return Position(1, 1), Position(1, len(lines[0]) + 1)


def _span(text: str, start: int, end: int) -> tuple[Position, Position]:
    """1-based positions of the characters text[start:end] (on one line)."""
    row = text.count("\n", 0, start) + 1
    line_start = text.rfind("\n", 0, start) + 1
    return Position(row, start - line_start + 1), Position(row, end - line_start + 1)
