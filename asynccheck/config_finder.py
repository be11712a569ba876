"""Which configuration applies to a path, as ruff decides it: the nearest `asynccheck.toml`
or `pyproject.toml` with `[tool.asynccheck]` above the file, whatever else is linted in the
same run; without one, the configuration found from the current folder, else the defaults.
`--config FILE` applies to every file. Each file is read once a run.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from asynccheck.config import Config, own_config_file, read_file, validate_codes


def _unchanged(config: Config) -> Config:
    return config


@dataclass
class ConfigFinder:
    """Configurations by folder, memoized: a run over 1,000 folders reads each one once."""

    override: Optional[Config] = None  # `--config FILE`: every path gets this one
    # the command line's options over each file's settings (applied after validation, so a
    # bad code on the command line is not blamed on a file)
    adjust: Callable[[Config], Config] = _unchanged
    known_codes: Optional[Iterable[str]] = None  # validate each file's codes against these
    _by_folder: dict[str, Optional[Config]] = field(default_factory=dict)
    _fallback: Optional[Config] = None

    def __post_init__(self) -> None:
        if self.override is not None:
            self.override = self._checked(self.override)

    def for_path(self, path: str) -> Config:
        """The configuration that applies to the file (or folder) `path`."""
        absolute = os.path.abspath(path)
        folder = absolute if os.path.isdir(absolute) else os.path.dirname(absolute)
        return self.for_folder(folder)

    def for_folder(self, folder: str) -> Config:
        if self.override is not None:
            return self.override
        found = self._nearest(os.path.abspath(folder))
        return found if found is not None else self.fallback()

    def own(self, folder: str) -> Optional[Config]:
        """The configuration `folder` itself declares; None if it declares none."""
        if self.override is not None:
            return None
        found = self._nearest(os.path.abspath(folder))
        if found is None or found.root != os.path.abspath(folder):
            return None
        return found

    def fallback(self) -> Config:
        """For files with no configuration above them: the current folder's, as ruff does."""
        if self._fallback is None:
            cwd = os.getcwd()
            found = self._nearest(cwd)
            self._fallback = found if found is not None else self._checked(Config(root=cwd))
        return self._fallback

    def _nearest(self, folder: str) -> Optional[Config]:
        """Walk up until a folder already known or one with a configuration file."""
        unknown: list[str] = []
        found: Optional[Config] = None
        current = folder
        while True:
            if current in self._by_folder:
                found = self._by_folder[current]
                break
            unknown.append(current)
            source = own_config_file(current)
            if source is not None:
                found = self._checked(read_file(Path(source)))
                break
            parent = os.path.dirname(current)
            if parent == current:
                break
            current = parent
        for name in unknown:
            self._by_folder[name] = found
        return found

    def _checked(self, config: Config) -> Config:
        if self.known_codes is not None:
            validate_codes(config, self.known_codes, where=config.source or "")
        return self.adjust(config)


def config_for_path(path: str, config_file: Optional[str] = None) -> Config:
    """The configuration asynccheck applies to `path` (for editors and the language server;
    keep a `ConfigFinder` to answer many paths). Raises config.ConfigError."""
    override = read_file(Path(config_file)) if config_file is not None else None
    return ConfigFinder(override).for_path(path)
