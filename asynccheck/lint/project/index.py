"""Module names <-> files, for the package trees around the linted files.

A file's package root is found by walking up its `__init__.py`s (so `src/` layouts work:
`src/app/handlers.py` is `app.handlers`); the folder of the nearest config and its `src/`
are roots too. Lookups hit the file system once per name and are remembered.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Optional

_SOURCE_SUFFIXES = (".py",)


def module_of_path(path: str) -> tuple[str, str]:
    """(module name, root folder) of a file, from the `__init__.py`s above it."""
    path = os.path.abspath(path)
    folder, name = os.path.split(path)
    stem = name.rsplit(".", 1)[0]
    parts = [] if stem == "__init__" else [stem]
    while os.path.isfile(os.path.join(folder, "__init__.py")):
        folder, package = os.path.split(folder)
        parts.append(package)
        if not package:  # pragma: no cover - a package at the file system's root
            break
    return ".".join(reversed(parts)), folder


def package_of(module: str, is_package: bool) -> str:
    """The package a module's relative imports start from."""
    return module if is_package else module.rpartition(".")[0]


def absolute(target: str, module: str, is_package: bool) -> Optional[str]:
    """`..storage.save` seen from `pkg.sub.mod` -> `pkg.storage.save`; None past the top."""
    if not target.startswith("."):
        return target
    dots = len(target) - len(target.lstrip("."))
    base = package_of(module, is_package).split(".") if module else []
    if dots - 1 > len(base) or (dots - 1 == len(base) and not target.lstrip(".")):
        return None
    base = base[: len(base) - (dots - 1)]
    rest = target[dots:]
    return ".".join([*base, rest] if rest else base) or None


@dataclass
class ModuleIndex:
    """Where each module of the project lives; roots in priority order."""

    roots: list[str] = field(default_factory=list)
    _paths: dict[str, Optional[str]] = field(default_factory=dict)
    _names: dict[str, str] = field(default_factory=dict)  # path -> module name

    @classmethod
    def around(cls, files: Iterable[str], config_root: Optional[str] = None) -> ModuleIndex:
        index = cls()
        for path in files:
            index.add_file(path)
        if config_root:
            for folder in (config_root, os.path.join(config_root, "src")):
                index.add_root(folder)
        return index

    def add_root(self, folder: str) -> None:
        folder = os.path.abspath(folder)
        if folder not in self.roots and os.path.isdir(folder):
            self.roots.append(folder)

    def add_file(self, path: str) -> str:
        """Register a file; returns its module name."""
        key = os.path.abspath(path)
        known = self._names.get(key)
        if known is not None:
            return known
        name, root = module_of_path(key)
        self.add_root(root)
        self._names[key] = name
        if name:
            self._paths.setdefault(name, key)
        return name

    def name_of(self, path: str) -> str:
        return self.add_file(path)

    def path_of(self, module: str) -> Optional[str]:
        """The file of `module` (`pkg/mod.py` or `pkg/mod/__init__.py`), or None."""
        if module in self._paths:
            return self._paths[module]
        found = None
        if module and all(part.isidentifier() for part in module.split(".")):
            relative = module.replace(".", os.sep)
            for root in self.roots:
                for candidate in (
                    *(os.path.join(root, relative + suffix) for suffix in _SOURCE_SUFFIXES),
                    os.path.join(root, relative, "__init__.py"),
                ):
                    if os.path.isfile(candidate):
                        found = candidate
                        break
                if found:
                    break
        self._paths[module] = found
        if found is not None:
            self._names.setdefault(found, module)
        return found

    def split(self, dotted: str) -> Optional[tuple[str, str]]:
        """(module, rest) for the longest prefix of `dotted` that is a project module."""
        parts = dotted.split(".")
        for cut in range(len(parts) - 1, 0, -1):
            module = ".".join(parts[:cut])
            if self.path_of(module) is not None:
                return module, ".".join(parts[cut:])
        return None
