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
from asynccheck.globs import rebase_excludes, rebase_glob
from asynccheck.requires_python import lowest_minor

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
    respect_peer_noqa: bool = True  # a noqa for RUF006 silences AC401 too (lint/peers.py)
    extend: Optional[str] = None  # the file this one extends, as written (already merged in)
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
        for key in ("root", "source", "exclude", "extend_exclude", "respect_gitignore", "extend"):
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


def _path(value: Any, key: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"'{key}' must be the path of another configuration file")
    return value


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
    "respect-peer-noqa": ("respect_peer_noqa", _boolean),
    "extend": ("extend", _path),
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
    """Read `[tool.asynccheck]` from a pyproject.toml, or the top level of another TOML file,
    with what it `extend`s; `target-version` defaults from `requires-python`."""
    layer = _read_layer(Path(os.path.abspath(path)), ())
    config = layer.config
    if "target-version" not in layer.keys and layer.requires is not None:
        config = replace(config, target_version=target_for(layer.requires))
    return config


def target_for(version: tuple[int, int]) -> str:
    """The `target-version` for a lowest Python, clamped to those asynccheck knows."""
    lowest, highest = int(TARGET_VERSIONS[0][3:]), int(TARGET_VERSIONS[-1][3:])
    return f"py3{min(max(version[1], lowest), highest)}"


@dataclass(frozen=True)
class _Layer:
    """One file's settings merged over what it extends, and which keys any of them set."""

    config: Config
    keys: frozenset[str]
    requires: Optional[tuple[int, int]]  # from `requires-python`, nearest file first


def _read_layer(path: Path, chain: tuple[Path, ...]) -> _Layer:
    if path in chain:
        cycle = " -> ".join(str(p) for p in (*chain[chain.index(path) :], path))
        raise ConfigError(f"{chain[-1]}: 'extend' makes a cycle: {cycle}")
    data = _load_toml(path)
    table, where = _table(path, data)
    config = replace(from_mapping(table, where=where), root=str(path.parent), source=str(path))
    layer = _Layer(config, frozenset(table), _requires_python(path, data))
    if config.extend is None:
        return layer
    base_path = Path(os.path.abspath(path.parent / os.path.expanduser(config.extend)))
    if not base_path.is_file():
        raise ConfigError(f"{where}: 'extend' names {base_path}, which is not a file")
    return merge(_read_layer(base_path, (*chain, path)), layer)


def _load_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ConfigError(f"cannot read {path}: {error.strerror or error}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: invalid TOML: {error}") from None


def _table(path: Path, data: Mapping[str, Any]) -> tuple[Mapping[str, Any], str]:
    """The settings table of a file and how messages name it."""
    tool = data.get("tool", {})
    if path.name == "pyproject.toml" or (isinstance(tool, dict) and "asynccheck" in tool):
        table = tool.get("asynccheck", {}) if isinstance(tool, dict) else {}
        where = f"{path}: [tool.asynccheck]"
    else:
        table, where = data, str(path)
    if not isinstance(table, dict):
        raise ConfigError(f"{where} must be a table")
    return table, where


def _requires_python(path: Path, data: Mapping[str, Any]) -> Optional[tuple[int, int]]:
    """`[project] requires-python` of this pyproject.toml, or of the one beside another file."""
    if path.name != "pyproject.toml":
        sibling = path.parent / "pyproject.toml"
        try:
            data = tomllib.loads(sibling.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            return None
    project = data.get("project")
    if not isinstance(project, dict):
        return None
    return lowest_minor(project.get("requires-python"))


# keys whose values add up along an `extend` chain instead of replacing each other
_ACCUMULATED = {"extend-select": "extend_select", "extend-exclude": "extend_exclude"}


def merge(base: _Layer, child: _Layer) -> _Layer:
    """`child` over the `base` it extends: a key the child sets wins, `extend-*` lists add
    up, `per-file-ignores` merge by glob. Paths the base declares stay relative to the
    base's folder: they are rebased onto the child's."""
    assert base.config.root is not None and child.config.root is not None
    values = {key: getattr(base.config, name) for key, (name, _) in _KEYS.items()}
    for key in ("exclude", "extend-exclude"):
        values[key] = rebase_excludes(values[key], base.config.root, child.config.root)
    values["per-file-ignores"] = tuple(
        (rebase_glob(glob, base.config.root, child.config.root), codes)
        for glob, codes in base.config.per_file_ignores
    )
    for key in child.keys:
        value = getattr(child.config, _KEYS[key][0])
        if key in _ACCUMULATED:
            value = (*values[key], *value)
        elif key == "per-file-ignores":
            value = tuple(sorted({**dict(values[key]), **dict(value)}.items()))
        values[key] = value
    config = Config(**{_KEYS[key][0]: value for key, value in values.items()})
    config = replace(config, root=child.config.root, source=child.config.source)
    return _Layer(config, base.keys | child.keys, child.requires or base.requires)


CONFIG_FILES = ("asynccheck.toml", "pyproject.toml")  # in one folder, the first wins
_TABLE = re.compile(r"^\s*\[\s*tool\s*\.\s*asynccheck\b", re.MULTILINE)


def own_config_file(folder: str) -> Optional[str]:
    """The configuration file of `folder` itself: an asynccheck.toml, else a pyproject.toml
    with a [tool.asynccheck] table; None when it has neither."""
    dedicated = os.path.join(folder, CONFIG_FILES[0])
    if os.path.isfile(dedicated):
        return dedicated
    pyproject = os.path.join(folder, CONFIG_FILES[1])
    try:
        with open(pyproject, encoding="utf-8") as f:
            text = f.read()
    except (OSError, UnicodeDecodeError):
        return None
    return pyproject if _TABLE.search(text) else None


def find_config(start: Path) -> Optional[Path]:
    """The nearest configuration file (see `own_config_file`), walking up from `start`."""
    # abspath, not resolve(): a symlink loop must not crash the run, and the walk (like the
    # paths findings report and `per-file-ignores` match) follows the path as given.
    start = Path(os.path.abspath(start))
    folder = start if start.is_dir() else start.parent
    for candidate in (folder, *folder.parents):
        found = own_config_file(str(candidate))
        if found is not None:
            return Path(found)
    return None


def load(paths: Sequence[str], config_file: Optional[str] = None) -> Config:
    """One configuration for `paths` (the nearest to the first): `--config` wins. A lint run
    takes each file's own instead (`config_finder.ConfigFinder`)."""
    if config_file is not None:
        return read_file(Path(config_file))
    found = find_config(Path(paths[0]) if paths else Path.cwd())
    return read_file(found) if found else Config(root=str(Path.cwd()))
