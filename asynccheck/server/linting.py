"""Lint one document's text, in memory, with its configuration: what `asynccheck lint` would
report for the file if it were saved, plus the chains AC110 follows into other files.

A rule that raises must not cost the user the other rules' findings: the check is run again
rule by rule, and the ones that fail are reported back for the log.
"""

from __future__ import annotations

import dataclasses
import traceback
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Optional

from asynccheck.lint.checker import Checker, checker_for
from asynccheck.lint.finding import Finding
from asynccheck.server import project
from asynccheck.server.configs import ConfigProblem, Configs


@dataclass(frozen=True)
class Outcome:
    text: str
    findings: tuple[Finding, ...]
    problem: Optional[ConfigProblem] = None
    failures: tuple[str, ...] = ()  # one log message per rule that raised
    chains: dict[tuple[int, int], tuple[project.Step, ...]] = field(default_factory=dict)
    asks_project: bool = False  # some finding may change when another file does
    reads: frozenset[str] = frozenset()  # ... when one of these files does
    absent: frozenset[str] = frozenset()  # ... or when one of these appears


@dataclass
class Linter:
    configs: Configs
    workspace: project.Workspace

    def lint(self, path: Optional[str], text: str) -> Outcome:
        if self.configs.excluded(path):
            return Outcome(text, ())
        resolved = self.configs.for_path(path)
        checker = checker_for(resolved.config)
        name = path or "<untitled>"
        module, is_package = project.module_of(path)
        checked, summary, failures = _check(checker, name, text, module, is_package)
        own, questions = project.split(checked)
        chains: dict[tuple[int, int], tuple[project.Step, ...]] = {}
        reads: frozenset[str] = frozenset()
        absent: frozenset[str] = frozenset()
        if questions and path is not None:
            try:
                answered = project.answer(
                    path, text, questions, summary, checker, resolved.config.root, self.workspace
                )
                own.extend(answered.findings)
                chains, reads, absent = answered.chains, answered.reads, answered.absent
            except Exception:
                failures += (f"asynccheck: the project step failed on {name}:\n{_trace()}",)
        return Outcome(
            text,
            tuple(sorted(own, key=Finding.sort_key)),
            resolved.problem,
            failures,
            chains,
            bool(questions),
            reads,
            absent,
        )

    def check(self, path: Optional[str], text: str) -> list[Finding]:
        """The file's own findings only (for fix-all: fixes never come from other files)."""
        checker = checker_for(self.configs.for_path(path).config)
        return _check(checker, path or "<untitled>", text, None, False)[0]


def _check(
    checker: Checker, path: str, text: str, module: Optional[str], is_package: bool
) -> tuple[list[Finding], Any, tuple[str, ...]]:
    try:
        return (*_check_once(checker, path, text, module, is_package), ())
    except Exception:
        pass
    findings: list[Finding] = []
    summary: Any = None
    failures = []
    for code in sorted(checker.codes):
        alone = dataclasses.replace(checker, codes=frozenset({code}))
        try:
            found, made = _check_once(alone, path, text, module, is_package)
        except Exception:
            failures.append(f"asynccheck: rule {code} failed on {path}:\n{_trace()}")
            continue
        findings.extend(found)
        summary = summary or made
    return sorted(set(findings), key=Finding.sort_key), summary, tuple(failures)


def _check_once(
    checker: Checker, path: str, text: str, module: Optional[str], is_package: bool
) -> tuple[Sequence[Finding], Any]:
    in_project = getattr(checker, "check_in_project", None)
    if in_project is None:  # an engine without the project layer
        return checker.check(path, text), None
    return in_project(path, text, module, is_package)


def _trace() -> str:
    return traceback.format_exc(limit=-4).rstrip()
