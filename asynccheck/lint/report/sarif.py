"""`--format sarif`: a SARIF 2.1.0 log, mainly for GitHub code scanning (`upload-sarif`).

GitHub reads only part of SARIF but requires some optional fields (a rule's `fullDescription`
and `help`); they are filled here from the rule table. Columns are 1-based code points, as the
run's `columnKind` says: SARIF's default, UTF-16 code units, would shift every column after a
character outside the BMP.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import PurePath
from typing import Any
from urllib.parse import quote

from asynccheck.lint.finding import Edit, Finding, Fix, Position
from asynccheck.lint.report import LintReport, RuleInfo

SCHEMA_URI = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
INFORMATION_URI = "https://asynccheck.readthedocs.io/"
SRCROOT = "%SRCROOT%"


def render(report: LintReport) -> str:
    """The whole log as indented JSON with a trailing newline; ASCII-only, like `json`."""
    findings = sorted(report.findings, key=Finding.sort_key)
    rules = _rule_table(report.rules, findings)
    index = {rule["id"]: i for i, rule in enumerate(rules)}
    driver: dict[str, Any] = {"name": "asynccheck", "informationUri": INFORMATION_URI}
    if report.tool_version:
        driver["version"] = report.tool_version
    driver["rules"] = rules
    run = {
        "tool": {"driver": driver},
        # Paths are relative to where asynccheck ran; only the consumer knows that directory
        # as a URI (upload-sarif uses the checkout), so the base is declared without one.
        "originalUriBaseIds": {
            SRCROOT: {"description": {"text": "The directory asynccheck was run from."}}
        },
        "columnKind": "unicodeCodePoints",
        "results": [_result(f, index) for f in findings],
    }
    log = {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}
    return json.dumps(log, indent=2) + "\n"


def _rule_table(rules: Mapping[str, RuleInfo], findings: list[Finding]) -> list[dict[str, Any]]:
    """Every known rule by code, plus a stub for any code a finding has that the table lacks,
    so each result's `ruleIndex` points at a descriptor."""
    table = {code: _descriptor(rule) for code, rule in rules.items()}
    for finding in findings:
        if finding.code not in table:
            table[finding.code] = _stub_descriptor(finding.code)
    return [table[code] for code in sorted(table)]


def _descriptor(rule: RuleInfo) -> dict[str, Any]:
    summary = rule.summary or rule.name or rule.code
    descriptor: dict[str, Any] = {"id": rule.code}
    if rule.name:
        descriptor["name"] = rule.name
    descriptor["shortDescription"] = {"text": summary}
    descriptor["fullDescription"] = {"text": summary}
    if rule.url:
        descriptor["helpUri"] = rule.url
        descriptor["help"] = {
            "text": f"{summary}\nSee {rule.url}",
            "markdown": f"{summary}\n\n[{rule.code} documentation]({rule.url})",
        }
    else:
        descriptor["help"] = {"text": summary}
    descriptor["defaultConfiguration"] = {"level": "error"}
    descriptor["properties"] = {"tags": ["asyncio"], "problem.severity": "error"}
    return descriptor


def _stub_descriptor(code: str) -> dict[str, Any]:
    return {
        "id": code,
        "shortDescription": {"text": code},
        "fullDescription": {"text": code},
        "help": {"text": code},
        "defaultConfiguration": {"level": "error"},
    }


def _result(finding: Finding, index: Mapping[str, int]) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": finding.code,
        "ruleIndex": index[finding.code],
        "level": "error",
        "message": {"text": finding.message},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": _artifact(finding.path),
                    "region": _region(finding.location, finding.end_location),
                }
            }
        ],
    }
    if finding.fix is not None and finding.fix.edits:  # SARIF needs >= 1 replacement
        result["fixes"] = [_fix(finding.fix, finding.path)]
    return result


def _fix(fix: Fix, path: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if fix.message:
        out["description"] = {"text": fix.message}
    out["artifactChanges"] = [
        {"artifactLocation": _artifact(path), "replacements": [_replacement(e) for e in fix.edits]}
    ]
    # SARIF has no notion of fix safety; keep ruff's word for it in the property bag.
    out["properties"] = {"applicability": fix.applicability}
    return out


def _replacement(edit: Edit) -> dict[str, Any]:
    out: dict[str, Any] = {"deletedRegion": _region(edit.location, edit.end_location)}
    if edit.content:
        out["insertedContent"] = {"text": edit.content}
    return out


def _region(start: Position, end: Position) -> dict[str, int]:
    """1-based lines and columns; `endColumn` is the column after the span, as in SARIF."""
    return {
        "startLine": start.row,
        "startColumn": start.column,
        "endLine": end.row,
        "endColumn": end.column,
    }


def _artifact(path: str) -> dict[str, str]:
    """A relative path becomes a percent-encoded POSIX URI reference against %SRCROOT%,
    which GitHub resolves against the repository root; an absolute one a `file:` URI."""
    pure = PurePath(path)
    if pure.is_absolute():
        return {"uri": pure.as_uri()}
    return {"uri": quote(pure.as_posix(), safe="/"), "uriBaseId": SRCROOT}
