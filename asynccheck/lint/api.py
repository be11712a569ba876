"""The library entry points: lint a string, lint paths. The CLI is a thin layer over these."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Optional

from asynccheck.config import Config, from_mapping, validate_codes
from asynccheck.lint.checker import Checker
from asynccheck.lint.context import LintSettings
from asynccheck.lint.finding import Finding
from asynccheck.rules import REGISTRY


def checker_for(config: Config) -> Checker:
    known = {code: rule.default for code, rule in REGISTRY.items()}
    settings = LintSettings(
        blocking_calls=frozenset(config.blocking_calls),
        resource_types=frozenset(config.resource_types),
        target_version=config.target,
    )
    return Checker(config.enabled_codes(known), settings)


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
