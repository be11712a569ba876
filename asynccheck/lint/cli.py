"""`asynccheck lint`, `asynccheck rules`, `asynccheck rule CODE`: parse options, call the
library, render, exit 0 (clean) / 1 (findings) / 2 (usage or configuration error)."""

from __future__ import annotations

import dataclasses
import functools
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Optional

import click

from asynccheck import __version__
from asynccheck.config import TARGET_VERSIONS, Config, ConfigError, read_file, validate_codes
from asynccheck.config_finder import ConfigFinder
from asynccheck.lint.discovery import PathError
from asynccheck.lint.engine import RunOptions, RunResult, run
from asynccheck.lint.report import (
    FORMATS,
    HUMAN_FORMATS,
    STATISTICS_FORMATS,
    LintReport,
    RuleInfo,
    renderer,
)

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


def _codes(values: Sequence[str]) -> Optional[tuple[str, ...]]:
    """`--select AC1,AC201 --select AC3` -> ("AC1", "AC201", "AC3"); None when not given."""
    if not values:
        return None
    codes = [c.strip().upper() for v in values for c in v.split(",") if c.strip()]
    return tuple("ALL" if c == "ALL" else c for c in codes)


def _fail(message: str) -> None:
    click.echo(f"asynccheck: error: {message}", err=True)
    sys.exit(EXIT_ERROR)


def rule_infos() -> dict[str, RuleInfo]:
    from asynccheck.rules import REGISTRY

    return {
        code: RuleInfo(code, rule.name, rule.summary(), rule.url(), rule.default)
        for code, rule in REGISTRY.items()
    }


@click.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--select", multiple=True, help="Codes or prefixes to check (AC1, AC201, ALL).")
@click.option("--ignore", multiple=True, help="Codes or prefixes to leave out.")
@click.option("--extend-select", multiple=True, help="Codes to add to the selection.")
@click.option(
    "--format", "output_format", type=click.Choice(FORMATS), default="text", show_default=True
)
@click.option("--fix", is_flag=True, help="Apply safe fixes in place.")
@click.option("--unsafe-fixes", is_flag=True, help="Also apply (or show) unsafe fixes.")
@click.option("--diff", is_flag=True, help="Show the fixes as a diff; change nothing.")
@click.option("--exclude", multiple=True, help="Glob of files or folders to skip (repeatable).")
@click.option(
    "--respect-gitignore/--no-respect-gitignore",
    default=None,
    help="Skip what .gitignore files ignore (default: on).",
)
@click.option("--jobs", "-j", type=click.IntRange(min=1), help="Worker processes (default: CPUs).")
@click.option("--no-cache", is_flag=True, help="Neither read nor write .asynccheck_cache.")
@click.option("--quiet", "-q", is_flag=True, help="Print findings only, no summary.")
@click.option("--statistics", is_flag=True, help="Count findings per rule.")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when there are findings.")
@click.option(
    "--target-version", type=click.Choice(TARGET_VERSIONS), help="Oldest Python to support."
)
@click.option("--config", "config_file", type=click.Path(), help="Read this TOML file instead.")
@click.option("--force-exclude", is_flag=True, help="Apply excludes to files named explicitly too.")
@click.option("--stdin-filename", help="With the path '-': the name to report for stdin.")
def lint(
    paths: tuple[str, ...],
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    extend_select: tuple[str, ...],
    output_format: str,
    fix: bool,
    unsafe_fixes: bool,
    diff: bool,
    exclude: tuple[str, ...],
    respect_gitignore: Optional[bool],
    jobs: Optional[int],
    no_cache: bool,
    quiet: bool,
    statistics: bool,
    exit_zero: bool,
    target_version: Optional[str],
    config_file: Optional[str],
    force_exclude: bool,
    stdin_filename: Optional[str],
) -> None:
    """Check Python files for asyncio mistakes (default path: the current folder)."""
    paths = paths or (".",)
    _check_format(output_format, diff, statistics)
    adjust = functools.partial(
        _override,
        select=select,
        ignore=ignore,
        extend_select=extend_select,
        exclude=exclude,
        respect_gitignore=respect_gitignore,
        target_version=target_version,
    )
    try:
        from asynccheck.rules.index import RULE_INDEX  # not the rules: a warm run parses nothing

        validate_codes(adjust(Config()), RULE_INDEX, where="command line")
        override = read_file(Path(config_file)) if config_file is not None else None
        configs = ConfigFinder(override, adjust=adjust, known_codes=RULE_INDEX)
        config = configs.for_path(stdin_filename or ".") if "-" in paths else None
    except ConfigError as error:
        _fail(str(error))
    if "-" in paths:
        if len(paths) > 1:
            _fail("'-' (stdin) cannot be combined with other paths")
        assert config is not None
        sys.exit(
            _lint_stdin(
                config,
                stdin_filename or "-",
                fix,
                unsafe_fixes,
                diff,
                output_format,
                quiet,
                exit_zero,
            )
        )
    options = RunOptions(
        fix=fix,
        unsafe_fixes=unsafe_fixes,
        diff=diff,
        jobs=jobs,
        use_cache=not no_cache,
        progress=sys.stderr.isatty() and output_format in ("text", "concise"),
        force_exclude=force_exclude,
        prefork=True,
    )
    try:
        result = run(paths, configs, options)
    except (PathError, ConfigError) as error:
        _fail(str(error))
    for folder, reason in result.skipped_folders:
        click.echo(f"asynccheck: warning: cannot list {folder}: {reason}", err=True)
    if not result.files_checked:
        # as ruff does: a warning, not a failure (a pre-commit run may pass no Python file)
        click.echo(f"asynccheck: warning: no Python files found in {', '.join(paths)}", err=True)
    if diff:
        sys.stdout.write("".join(result.diffs))
        sys.stdout.flush()  # the diff before the summary on stderr, in a terminal too
        if not quiet:
            count = len(result.diffs)
            click.echo(f"Would fix {result.fixed} finding(s) in {count} file(s).", err=True)
        sys.exit(EXIT_CLEAN if exit_zero or not result.diffs else EXIT_FINDINGS)
    _print_report(result, output_format, unsafe_fixes, statistics, quiet)
    sys.exit(EXIT_CLEAN if exit_zero or not result.findings else EXIT_FINDINGS)


def _check_format(output_format: str, diff: bool, statistics: bool) -> None:
    """Options a format cannot honour are usage errors, not silently other output."""
    if diff and output_format not in HUMAN_FORMATS:
        _fail(f"--diff prints a diff, not {output_format}; use --format text or concise with it")
    if statistics and output_format not in STATISTICS_FORMATS:
        formats = ", ".join(STATISTICS_FORMATS)
        _fail(f"--statistics has no {output_format} form; use --format {formats} with it")


def _override(
    config: Config,
    *,
    select: Sequence[str],
    ignore: Sequence[str],
    extend_select: Sequence[str],
    exclude: Sequence[str],
    respect_gitignore: Optional[bool],
    target_version: Optional[str],
) -> Config:
    """Command-line options win over the file: --select replaces, the others add."""
    changes: dict[str, object] = {}
    if _codes(select) is not None:
        changes["select"] = _codes(select)
    if ignore:
        changes["ignore"] = (*config.ignore, *(_codes(ignore) or ()))
    if extend_select:
        changes["extend_select"] = (*config.extend_select, *(_codes(extend_select) or ()))
    if exclude:
        changes["exclude"] = (*config.exclude, *exclude)
    if respect_gitignore is not None:
        changes["respect_gitignore"] = respect_gitignore
    if target_version is not None:
        changes["target_version"] = target_version
    return dataclasses.replace(config, **changes) if changes else config  # type: ignore[arg-type]


def _print_report(
    result: RunResult, output_format: str, unsafe: bool, statistics: bool, quiet: bool
) -> None:
    report = LintReport(
        findings=result.findings,
        files_checked=result.files_checked,
        rules=rule_infos() if output_format in ("sarif", "json") or statistics else {},
        fixed=result.fixed,
        unsafe_fixes_enabled=unsafe,
        color=output_format in ("text", "concise") and _color(),
        statistics=statistics,
        quiet=quiet,
        tool_version=__version__,
    )
    sys.stdout.write(renderer(output_format)(report))


def _color() -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return sys.stdout.isatty()


def _lint_stdin(
    config: Config,
    filename: str,
    fix: bool,
    unsafe: bool,
    diff: bool,
    output_format: str,
    quiet: bool,
    exit_zero: bool,
) -> int:
    """Lint standard input; with --fix the fixed code goes to stdout, findings to stderr."""
    from asynccheck.lint.checker import checker_for
    from asynccheck.lint.fix import fix_until_stable, unified_diff
    from asynccheck.lint.source import decode

    decoded = decode(sys.stdin.buffer.read())
    if decoded.text is None:
        _fail(f"cannot decode standard input: {decoded.error}")
    text = decoded.text or ""
    checker = checker_for(config)

    if fix or diff:
        outcome = fix_until_stable(text, lambda t: checker.check(filename, t), unsafe=unsafe)
        if diff:
            sys.stdout.write(unified_diff(filename, text, outcome.text))
            return EXIT_CLEAN if exit_zero or outcome.text == text else EXIT_FINDINGS
        sys.stdout.write(outcome.text)
        findings, fixed = outcome.findings, outcome.fixed
        out = sys.stderr
    else:
        findings, fixed, out = tuple(checker.check(filename, text)), 0, sys.stdout
    from asynccheck.lint.finding import Finding

    report = LintReport(
        findings=tuple(sorted(findings, key=Finding.sort_key)),
        files_checked=1,
        rules=rule_infos(),
        fixed=fixed,
        unsafe_fixes_enabled=unsafe,
        quiet=quiet,
        tool_version=__version__,
    )
    out.write(renderer(output_format)(report))
    return EXIT_CLEAN if exit_zero or not findings else EXIT_FINDINGS


@click.command()
def rules() -> None:
    """List every rule: code, name, default, fixable."""
    from asynccheck.rules import REGISTRY

    rows = [("Code", "Name", "Default", "Fix")]
    for code, rule in REGISTRY.items():
        rows.append((code, rule.name, "on" if rule.default else "opt-in", rule.fix_safety or "-"))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for index, row in enumerate(rows):
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
        if index == 0:
            click.echo("  ".join("-" * width for width in widths))


@click.command()
@click.argument("code")
def rule(code: str) -> None:
    """Explain one rule, with a bad and a good example and its fix."""
    from asynccheck.rule_docs import explain
    from asynccheck.rules import REGISTRY

    found = REGISTRY.get(code.upper())
    if found is None:
        from asynccheck.config import _nearest

        _fail(f"unknown rule code '{code}'{_nearest(code.upper(), REGISTRY)}")
    click.echo(explain(found))
