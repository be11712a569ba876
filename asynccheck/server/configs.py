"""Which configuration applies to an open file: the nearest one, as `asynccheck lint` finds
it (`config_finder.ConfigFinder`), with the editor's settings over it.

A broken configuration file does not stop the server: the file is linted with the editor's
settings over the defaults, and the error is kept for one diagnostic on that file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from asynccheck.config import CONFIG_FILES, Config, ConfigError, find_config, validate_codes
from asynccheck.config_finder import ConfigFinder
from asynccheck.lint.discovery import PathError, discover
from asynccheck.rules import REGISTRY
from asynccheck.server.settings import Settings


@dataclass(frozen=True)
class ConfigProblem:
    path: str  # the configuration file to put the diagnostic on
    message: str


@dataclass(frozen=True)
class Resolved:
    config: Config
    problem: Optional[ConfigProblem] = None


def is_config_file(path: str) -> bool:
    return os.path.basename(path) in CONFIG_FILES


@dataclass
class Configs:
    """Configurations by folder, remembered until a configuration file or the settings change."""

    settings: Settings = field(default_factory=Settings)
    settings_error: Optional[str] = None  # a bad code in the editor's settings
    _finder: Optional[ConfigFinder] = None
    _excluded: dict[str, bool] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.use(self.settings)

    def use(self, settings: Settings) -> None:
        """New editor settings: validated on their own, then applied to every file's config."""
        try:
            validate_codes(settings.apply(Config()), REGISTRY, where="editor settings")
            self.settings, self.settings_error = settings, None
        except ConfigError as error:
            self.settings, self.settings_error = Settings(), str(error)
        self.forget()

    def forget(self) -> None:
        """A configuration file changed: read them again."""
        self._finder = ConfigFinder(adjust=self.settings.apply, known_codes=REGISTRY)
        self._excluded = {}

    def excluded(self, path: Optional[str]) -> bool:
        """Whether the file's configuration leaves it out (`exclude`, `.gitignore`): editors
        open such files too, and they get no diagnostics, as with the pre-commit hook
        (`--force-exclude`). Remembered until a configuration file changes."""
        if path is None:
            return False
        if path not in self._excluded:
            try:
                found = discover([path], configs=self._finder, force_exclude=True)
                self._excluded[path] = not found.files
            except (PathError, ConfigError, OSError):  # not on disk yet, or a broken config
                self._excluded[path] = False
        return self._excluded[path]

    def for_path(self, path: Optional[str]) -> Resolved:
        assert self._finder is not None
        try:
            if path is None:  # an unsaved, untitled buffer
                return Resolved(self._finder.fallback())
            return Resolved(self._finder.for_path(path))
        except ConfigError as error:
            folder = os.path.dirname(os.path.abspath(path)) if path else os.getcwd()
            source = find_config(Path(folder))
            problem = ConfigProblem(str(source), str(error)) if source is not None else None
            return Resolved(self.settings.apply(Config(root=folder)), problem)
