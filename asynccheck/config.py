"""`[tool.asynccheck]` from pyproject.toml (or `--config FILE`) -> a frozen `Config`.

Unknown keys and codes are errors that name the nearest valid one: a typo that silently
disables a rule is worse than a failed run.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Optional

from asynccheck._hash import blake2b

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.9/3.10
    import tomli as tomllib

TARGET_VERSIONS = tuple(f"py3{minor}" for minor in range(9, 15))
_DOTTED = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")


class ConfigError(Exception):
    """A configuration mistake; the CLI prints it and exits 2."""


@dataclass(frozen=True)
class Config:
    select: Optional[tuple[str, ...]] = None  # None: the rules that are on by default
    ignore: tuple[str, ...] = ()
    extend_select: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    extend_exclude: tuple[str, ...] = ()
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    target_version: str = "py39"
    blocking_calls: tuple[str, ...] = ()
    resource_types: tuple[str, ...] = ()
    slow_callback_ms: float = 100.0
    respect_gitignore: bool = True
    root: Optional[str] = field(default=None, compare=False)  # folder of the config file
    source: Optional[str] = field(default=None, compare=False)  # the config file

    def enabled_codes(self, known: Mapping[str, bool]) -> frozenset[str]:
        """Codes to run: `known` maps every code to whether it is on by default."""
        if self.select is None:
            chosen = {code for code, default in known.items() if default}
        else:
            chosen = {code for code in known if _matches_any(code, self.select)}
        chosen |= {code for code in known if _matches_any(code, self.extend_select)}
        return frozenset(code for code in chosen if not _matches_any(code, self.ignore))

    def fingerprint(self) -> str:
        """A stable hash of everything that can change findings (for the cache key)."""
        data = asdict(self)
        for key in ("root", "source", "exclude", "extend_exclude", "respect_gitignore"):
            data.pop(key)
        # repr of plain str/int/bool/tuple/list values is stable across runs (no sets here)
        return blake2b(repr(sorted(data.items())).encode(), digest_size=12).hexdigest()

    @property
    def target(self) -> tuple[int, int]:
        return (3, int(self.target_version[3:]))


def _matches_any(code: str, selectors: Iterable[str]) -> bool:
    return any(selector == "ALL" or code.startswith(selector) for selector in selectors)


# key in TOML -> (Config field, parser)
def _codes(value: Any, key: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f'\'{key}\' must be a list of rule codes, like ["AC101", "AC2"]')
    return tuple(v.strip().upper() if v.strip().upper() != "ALL" else "ALL" for v in value)


def _strings(value: Any, key: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"'{key}' must be a list of strings")
    return tuple(value)


def _dotted_names(value: Any, key: str) -> tuple[str, ...]:
    names = _strings(value, key)
    for name in names:
        if not _DOTTED.match(name):
            raise ConfigError(f"'{key}': {name!r} is not a dotted name like 'mysdk.client.fetch'")
    return names


def _per_file_ignores(value: Any, key: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    if not isinstance(value, dict):
        raise ConfigError(f"'{key}' must be a table of glob = [codes]")
    return tuple(sorted((glob, _codes(codes, f"{key}.{glob}")) for glob, codes in value.items()))


def _target_version(value: Any, key: str) -> str:
    if value not in TARGET_VERSIONS:
        hint = _nearest(str(value), TARGET_VERSIONS)
        raise ConfigError(f"'{key}' must be one of {', '.join(TARGET_VERSIONS)}{hint}")
    return str(value)


def _number(value: Any, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise ConfigError(f"'{key}' must be a positive number of milliseconds")
    return float(value)


def _boolean(value: Any, key: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"'{key}' must be true or false")
    return value


_KEYS = {
    "select": ("select", _codes),
    "ignore": ("ignore", _codes),
    "extend-select": ("extend_select", _codes),
    "exclude": ("exclude", _strings),
    "extend-exclude": ("extend_exclude", _strings),
    "per-file-ignores": ("per_file_ignores", _per_file_ignores),
    "target-version": ("target_version", _target_version),
    "blocking-calls": ("blocking_calls", _dotted_names),
    "resource-types": ("resource_types", _dotted_names),
    "slow-callback-ms": ("slow_callback_ms", _number),
    "respect-gitignore": ("respect_gitignore", _boolean),
}
CONFIG_KEYS = tuple(_KEYS)


def _nearest(word: str, choices: Iterable[str]) -> str:
    import difflib  # only on a configuration error

    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.5)
    return f"; did you mean '{close[0]}'?" if close else ""


def from_mapping(table: Mapping[str, Any], *, where: str = "[tool.asynccheck]") -> Config:
    values: dict[str, Any] = {}
    for key, value in table.items():
        spec = _KEYS.get(key)
        if spec is None:
            raise ConfigError(f"{where}: unknown key '{key}'{_nearest(key, _KEYS)}")
        name, parse = spec
        try:
            values[name] = parse(value, key)
        except ConfigError as error:
            raise ConfigError(f"{where}: {error}") from None
    return Config(**values)


def validate_codes(config: Config, known: Iterable[str], *, where: str = "") -> None:
    """Every selector must be a code or a prefix of one (`AC1`, `AC30`) or `ALL`."""
    known = sorted(known)
    selectors = [
        *(config.select or ()),
        *config.ignore,
        *config.extend_select,
        *(code for _, codes in config.per_file_ignores for code in codes),
    ]
    for selector in selectors:
        if selector == "ALL" or any(code.startswith(selector) for code in known):
            continue
        prefix = f"{where}: " if where else ""
        raise ConfigError(f"{prefix}unknown rule code '{selector}'{_nearest(selector, known)}")


def read_file(path: Path) -> Config:
    """Read `[tool.asynccheck]` from a pyproject.toml, or the top level of another TOML file."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ConfigError(f"cannot read {path}: {error.strerror or error}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: invalid TOML: {error}") from None
    tool = data.get("tool", {})
    if path.name == "pyproject.toml" or (isinstance(tool, dict) and "asynccheck" in tool):
        table = tool.get("asynccheck", {}) if isinstance(tool, dict) else {}
        where = f"{path}: [tool.asynccheck]"
    else:
        table, where = data, str(path)
    if not isinstance(table, dict):
        raise ConfigError(f"{where} must be a table")
    config = from_mapping(table, where=where)
    return replace(config, root=os.path.abspath(path.parent), source=str(path))


def find_config(start: Path) -> Optional[Path]:
    """The nearest pyproject.toml with a [tool.asynccheck] table, walking up from `start`."""
    # abspath, not resolve(): a symlink loop must not crash the run, and the walk (like the
    # paths findings report and `per-file-ignores` match) follows the path as given.
    start = Path(os.path.abspath(start))
    folder = start if start.is_dir() else start.parent
    for candidate in (folder, *folder.parents):
        pyproject = candidate / "pyproject.toml"
        try:
            text = pyproject.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        if re.search(r"^\s*\[\s*tool\s*\.\s*asynccheck\b", text, re.MULTILINE):
            return pyproject
    return None


def load(paths: Sequence[str], config_file: Optional[str] = None) -> Config:
    """The configuration for a run over `paths`: `--config` wins, else the nearest one."""
    if config_file is not None:
        return read_file(Path(config_file))
    found = find_config(Path(paths[0]) if paths else Path.cwd())
    return read_file(found) if found else Config(root=str(Path.cwd()))
