"""Which configuration applies to an open file: the nearest one, as `asynccheck lint` finds
it (`config_finder.ConfigFinder`), with the editor's settings over it.

A broken configuration file does not stop the server: the file is linted with what that
configuration said when it last read well (else the defaults), the editor's settings over
it, and the error is kept for one diagnostic on the file at fault. A `ConfigError` is a
message for the command line, which names that file in its text but carries no path: the
file is found here among the nearest configuration and the files it `extend`s.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from asynccheck.config import CONFIG_FILES, Config, ConfigError, find_config, validate_codes
from asynccheck.config_finder import ConfigFinder
from asynccheck.lint.discovery import PathError, discover
from asynccheck.rules import REGISTRY
from asynccheck.server.settings import Settings

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - the server's own dependency on 3.9 and 3.10
    import tomli as tomllib

_QUOTED = re.compile(r"'([^'\s]+)'")


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
    # by configuration file: what it said when it last read well (kept across `forget`)
    _last_good: dict[str, Config] = field(default_factory=dict)
    # the files configurations `extend`: a change to one re-reads them too
    _bases: set[str] = field(default_factory=set)

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
        # The editor's settings go over each file's configuration in `for_path`, so that what
        # a file said is kept as it was, to fall back on when it breaks.
        self._finder = ConfigFinder(known_codes=REGISTRY)
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
            # an unsaved, untitled buffer has no folder: the current folder's, as the CLI
            config = self._finder.fallback() if path is None else self._finder.for_path(path)
        except ConfigError as error:
            folder = os.path.dirname(os.path.abspath(path)) if path else os.getcwd()
            nearest = find_config(Path(folder))
            if nearest is None:  # pragma: no cover - an error needs a file to come from
                return Resolved(self.settings.apply(Config(root=folder)))
            chain = extend_chain(str(nearest))
            self._bases.update(chain[1:])
            config = self._last_good.get(chain[0]) or Config(root=folder)
            return Resolved(self.settings.apply(config), at_fault(str(error), chain))
        source = config.source
        if source is not None and self._last_good.get(source) is not config:
            self._last_good[source] = config
            if config.extend is not None:
                self._bases.update(extend_chain(source)[1:])
        return Resolved(self.settings.apply(config))

    def is_config(self, path: str) -> bool:
        """A configuration file, or a file one of them extends."""
        return is_config_file(path) or os.path.abspath(path) in self._bases


def at_fault(message: str, chain: list[str]) -> ConfigProblem:
    """The problem, on the file of the `extend` chain it is in: the one the message names
    (`/repo/base.toml: unknown key 'ignroe'`), or the one that holds the code it quotes (a
    code is checked once the chain is merged, and blamed on the nearest file)."""
    named = min((p for p in chain if p in message), key=message.index, default=chain[0])
    quoted = _QUOTED.findall(message)
    if "unknown rule code" in message and quoted and not _holds(named, quoted[0]):
        named = next((p for p in chain if _holds(p, quoted[0])), named)
    return ConfigProblem(named, message)


def extend_chain(path: str) -> list[str]:
    """`path` and the files it extends, nearest first, as far as they read."""
    chain = [os.path.abspath(path)]
    while len(chain) < 32:
        try:
            with open(chain[-1], "rb") as f:
                data = tomllib.load(f)
        except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
            break
        tool = data.get("tool")
        table = tool.get("asynccheck") if isinstance(tool, dict) else None
        if not isinstance(table, dict):
            table = data if not chain[-1].endswith("pyproject.toml") else {}
        extend = table.get("extend")
        if not isinstance(extend, str):
            break
        base = os.path.abspath(os.path.join(os.path.dirname(chain[-1]), os.path.expanduser(extend)))
        if base in chain or not os.path.isfile(base):
            break
        chain.append(base)
    return chain


def _holds(path: str, word: str) -> bool:
    try:
        with open(path, encoding="utf-8") as f:
            return word in f.read()
    except (OSError, UnicodeDecodeError):
        return False
