"""The library entry points: lint a string, lint paths. The CLI is a thin layer over these."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Optional

from asynccheck.config import Config, from_mapping, validate_codes
from asynccheck.config_finder import ConfigFinder
from asynccheck.lint.checker import checker_for
from asynccheck.lint.engine import RunOptions, RunResult, run
from asynccheck.lint.finding import Finding
from asynccheck.rules import REGISTRY


def lint_source(
    source: str,
    *,
    select: Optional[Iterable[str]] = None,
    ignore: Iterable[str] = (),
    path: str = "<string>",
    config: Optional[Config | Mapping[str, Any]] = None,
) -> list[Finding]:
    """Lint `source` as if it were the file `path`; findings sorted by position."""
    if config is None:
        config = Config()
    elif not isinstance(config, Config):
        config = from_mapping(config)
    if select is not None:
        config = Config(**{**config.__dict__, "select": tuple(select)})
    if ignore:
        config = Config(**{**config.__dict__, "ignore": (*config.ignore, *ignore)})
    validate_codes(config, REGISTRY)
    findings = checker_for(config).check(path, source)
    return sorted(findings, key=Finding.sort_key)


def lint_paths(
    paths: Sequence[str],
    *,
    config: Optional[Config] = None,
    options: Optional[RunOptions] = None,
) -> RunResult:
    """Lint files and folders, each with the nearest [tool.asynccheck] (or all with `config`)."""
    if config is None:
        return run(paths, ConfigFinder(known_codes=REGISTRY), options or RunOptions())
    validate_codes(config, REGISTRY, where=config.source or "")
    return run(paths, config, options or RunOptions())
