"""Lint one file's text: parse once, collect facts once, run the selected rules, suppress."""

from __future__ import annotations

import ast
import re
from collections.abc import Sequence, Set
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Optional

from asynccheck.config import Config
from asynccheck.globs import ignored_for_file
from asynccheck.lint.context import FileContext, LintSettings, RawFinding
from asynccheck.lint.facts import collect
from asynccheck.lint.finding import Finding, Position, split_lines
from asynccheck.lint.onloop import (
    PROTOCOL_CALLBACKS,
    SCHEDULING_METHODS,
    mark_maybe_protocols,
    mark_on_loop,
    on_condition,
)
from asynccheck.lint.parse import parse_module
from asynccheck.rules import ENGINE_CODES, REGISTRY
from asynccheck.rules.advice import fit_findings
from asynccheck.rules.base import Rule

if TYPE_CHECKING:
    from asynccheck.lint.project.summary import ModuleSummary

_LOOP_CALLBACK_TEXT = re.compile(
    "|".join(sorted(PROTOCOL_CALLBACKS | SCHEDULING_METHODS.keys(), key=lambda n: (-len(n), n)))
)
_LIBCST_AT = re.compile(r"error at (\d+):(\d+): (.*)", re.DOTALL)


@dataclass(frozen=True)
class Checker:
    """The selected rules and the settings they read; built once per run, sent to workers."""

    codes: frozenset[str]
    settings: LintSettings = field(default_factory=LintSettings)
    # `per-file-ignores` from the config, and the folder its globs are relative to. Applied
    # here rather than after the run, so that `--fix` never fixes what a file ignores.
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    root: Optional[str] = None

    @property
    def rules(self) -> Sequence[Rule]:
        return [REGISTRY[code]() for code in sorted(self.codes) if code in REGISTRY]

    def rules_for(self, text: str, path: str = "") -> list[Rule]:
        """The rules that can fire on this text: most need the word `async` in it. None in a
        stub (`.pyi`): its code never runs, and a stub with bodies only repeats its module."""
        if path.endswith(".pyi"):
            return []
        # Sync code the loop runs (lint.onloop) may be all a file has: a subclass of another
        # module's protocol, a callback handed to a loop it was given.
        has_async = "async" in text or _LOOP_CALLBACK_TEXT.search(text) is not None
        return [
            rule
            for rule in self.rules
            if rule.code not in ENGINE_CODES and (has_async or not rule.needs_async)
        ]

    def check(self, path: str, text: str) -> list[Finding]:
        """The file's findings, on its own (no other module is looked at)."""
        return self.check_in_project(path, text, None)[0]

    def check_in_project(
        self,
        path: str,
        text: str,
        module: Optional[str],
        is_package: bool = False,
        place_questions: bool = True,
    ) -> tuple[list[Finding], Optional[ModuleSummary]]:
        """The file's findings, with AC110's questions about other modules among them
        (`project.candidates`) when `module` names it, and its summary when it was parsed.
        Without `place_questions`, a question is placed once answered (from the file on
        disk, so only for a `text` read from there)."""
        findings, summary = self._check(path, text, module, is_package, place_questions)
        if self.per_file_ignores and findings:
            findings = [
                f
                for f in findings
                if not ignored_for_file(f.code, path, self.per_file_ignores, self.root)
            ]
        return findings, summary

    def summary_of(
        self, text: str, module: str, is_package: bool, wanted: Optional[Set[str]] = None
    ) -> Optional[ModuleSummary]:
        """A module's summary alone: for a module the linted files reach but do not name.
        None when it cannot be parsed. Bodies that cannot change the summary are left out
        before the parse, and with `wanted` (`Class.method` at most), the defs, classes and
        methods those names do not need become stubs (`project.skim`, `project.stubs`; the
        summary names them in `elided`)."""
        from asynccheck.lint.project.skim import parse_for_summary

        parsed = parse_for_summary(text, wanted)
        if parsed is None:
            return None
        text, tree, elided = parsed
        ctx = FileContext("", text, tree, collect(tree, frozenset(("Yield",))), self.settings)
        try:
            summary = self._summarise(ctx, module, is_package)
        finally:
            ctx.release()
        return summary.left_out(elided)

    def _summarise(self, ctx: FileContext, module: str, is_package: bool) -> ModuleSummary:
        from asynccheck.lint.project.summarise import summarise
        from asynccheck.rules.blocking.helper_chains import runs_when_called
        from asynccheck.rules.blocking.sites import classify_call

        return summarise(ctx, module, is_package, classify_call, runs_when_called)

    def _check(
        self,
        path: str,
        text: str,
        module_name: Optional[str] = None,
        is_package: bool = False,
        place_questions: bool = True,
    ) -> tuple[list[Finding], Optional[ModuleSummary]]:
        rules = self.rules_for(text, path)
        project = module_name is not None and "AC110" in self.codes and not path.endswith(".pyi")
        if not rules and "AC001" not in self.codes:
            return [], None  # nothing can fire: do not even parse
        try:
            module = parse_module(text)  # unvalidated: a fix's new nodes still are
        except Exception as error:  # libcst raises ParserSyntaxError, and worse on odd input
            return self._syntax_error(path, text, error), None
        if not rules and not project:
            return [], None
        site_types = frozenset(t for rule in rules for t in rule.site_types)
        facts = collect(module, site_types | {"Yield"} if project else site_types)
        in_project = module_name is not None and not path.endswith(".pyi")
        maybe = mark_on_loop(facts, maybe_protocols=in_project)
        ctx = FileContext(path, text, module, facts, self.settings)
        ctx.module_name, ctx.is_package = module_name, is_package
        # protocol callbacks through another module's base (rare): questions, answered later
        conditions = (
            mark_maybe_protocols(ctx, maybe, module_name, is_package)
            if maybe and module_name
            else {}
        )
        raw: list[RawFinding] = []
        for rule in rules:
            raw.extend(rule.advise(ctx, rule.check(ctx)))
        if conditions:
            raw = on_condition(ctx, raw, conditions)
        summary = self._summarise(ctx, module_name, is_package) if project else None
        unplaced: list[Finding] = []
        if project and not place_questions:
            from asynccheck.lint.project.candidates import unplaced_questions

            raw, unplaced = unplaced_questions(ctx, raw)
        findings = fit_findings([*ctx.materialize(raw), *unplaced], self.settings.target_version)
        # Memoized facts (flow views, call graphs) point back at the context: without this
        # the parsed tree lives on in a cycle until the GC finds it, and a run over thousands
        # of files pays for that in every full collection.
        ctx.release()
        if module.default_newline != "\n":
            findings = [_with_newline(f, module.default_newline) for f in findings]
        return findings, summary

    def _syntax_error(self, path: str, text: str, error: Exception) -> list[Finding]:
        if "AC001" not in self.codes:
            return []
        row, column, reason, python_accepts = _locate_syntax_error(text, error)
        lines = split_lines(text)
        line = lines[row - 1] if 0 < row <= len(lines) else ""
        if python_accepts:
            # libcst has limits CPython does not (e.g. some 10,000 implicitly concatenated
            # strings): say so rather than call valid code a syntax error.
            message = f"libcst cannot parse this file, although Python accepts it: {reason}"
        else:
            message = f"SyntaxError: {reason}"
        where = Position(row, column)
        return [Finding("AC001", message, path, where, where, None, line)]


_BARE_LF = re.compile(r"(?<!\r)\n")


def _with_newline(finding: Finding, newline: str) -> Finding:
    """Inserted lines (`import asyncio`) use the file's own line ending, not a bare LF.

    Only insertions are touched: a replacement's text comes from the file itself, and a LF
    inside a string literal there must stay a LF.
    """
    fix = finding.fix
    if fix is None or not any(e.start == e.end and "\n" in e.content for e in fix.edits):
        return finding
    edits = tuple(
        replace(e, content=_BARE_LF.sub(newline, e.content)) if e.start == e.end else e
        for e in fix.edits
    )
    return replace(finding, fix=replace(fix, edits=edits))


def _locate_syntax_error(text: str, error: Exception) -> tuple[int, int, str, bool]:
    """CPython's own row, column and wording where it can read the file; libcst's otherwise.
    The last item says whether CPython accepts the file (libcst alone failed)."""
    python_accepts = False
    try:
        compile(text, "<file>", "exec", ast.PyCF_ONLY_AST, dont_inherit=True)
        python_accepts = True
    except SyntaxError as cpython:
        if cpython.lineno:
            return cpython.lineno, max(cpython.offset or 1, 1), cpython.msg, False
    except (ValueError, RecursionError, MemoryError):
        pass
    message = str(getattr(error, "message", error))
    match = _LIBCST_AT.search(message)
    if match:
        reason = match.group(3).strip().splitlines()[0]
        return int(match.group(1)), int(match.group(2)), reason, python_accepts  # 1-based
    row = getattr(error, "raw_line", 1) or 1
    column = (getattr(error, "raw_column", 0) or 0) + 1
    reason = message.splitlines()[0] if message else type(error).__name__
    return row, column, reason, python_accepts


def lint_text(
    path: str, text: str, codes: frozenset[str], settings: Optional[LintSettings] = None
) -> list[Finding]:
    return Checker(codes, settings or LintSettings()).check(path, text)


def checker_for(config: Config) -> Checker:
    """The rules a configuration selects, with the settings they read."""
    known = {code: rule.default for code, rule in REGISTRY.items()}
    settings = LintSettings(
        blocking_calls=frozenset(config.blocking_calls),
        resource_types=frozenset(config.resource_types),
        target_version=config.target,
        respect_peer_noqa=config.respect_peer_noqa,
    )
    return Checker(config.enabled_codes(known), settings, config.per_file_ignores, config.root)
