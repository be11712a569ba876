"""Findings as LSP diagnostics: the code, the rule's page (the URL `--format json` gives),
the severity the settings give the code's family, and AC110's chain in the other files."""

from __future__ import annotations

import re
from typing import Optional

from lsprotocol import types
from pygls.uris import from_fs_path

from asynccheck.lint.finding import Finding, Position
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
    """One error on the configuration file, on the key it names when it names one."""
    lines = Lines(text)
    row = _row_naming(problem.message, text)
    line = lines.line(row)
    return types.Diagnostic(
        range=lines.range(Position(row, 1), Position(row, len(line) + 1)),
        message=problem.message,
        severity=types.DiagnosticSeverity.Error,
        source=SOURCE,
    )


def _row_naming(message: str, text: str) -> int:
    """The first line that holds a word the message quotes (`unknown key 'blocking_calls'`);
    else the `[tool.asynccheck]` table; else the first line."""
    words = re.findall(r"'([^'\s]+)'", message)
    for needle in (*words, "[tool.asynccheck]"):
        at = text.find(needle)
        if at >= 0:
            return text.count("\n", 0, at) + 1
    return 1
