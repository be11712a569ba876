"""Which files a run looks at: the paths given, `.py`/`.pyi` below folders, minus excludes
and what .gitignore ignores. Sorted, so every run sees the same order."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Optional

from asynccheck.lint.gitignore import GitIgnore
from asynccheck.lint.listings import DEFAULT_EXCLUDED_NAMES, Listings

if TYPE_CHECKING:
    from asynccheck.config import Config
    from asynccheck.config_finder import ConfigFinder


class PathError(Exception):
    """A path given on the command line does not exist (exit 2)."""


@dataclass(frozen=True)
class Discovered:
    files: tuple[str, ...]
    unreadable: tuple[tuple[str, str], ...] = ()  # (path, reason): folders we could not list
    # with a ConfigFinder: each walked folder (as `files` spell it) -> its configuration, so
    # that a run need not look for configuration files again
    folder_configs: Mapping[str, Config] = field(default_factory=dict)


# A .gitignore and the folder its patterns are relative to.
_GitIgnore = tuple[str, GitIgnore]


@dataclass
class _Ignorer:
    """Exclude globs (gitignore syntax, relative to the config root) and .gitignore files.

    Called for every file of the tree, so it works on strings and skips what is not set:
    a tree with no excludes and no .gitignore costs one set lookup per folder.
    """

    root: str
    exclude: Sequence[str]
    respect_gitignore: bool

    def __post_init__(self) -> None:
        self._exclude = GitIgnore(self.exclude) if self.exclude else None
        # `exclude` by name alone, answered once per name (`__init__.py`, `const.py`, ...)
        self._by_name: dict[tuple[str, bool], bool] = {}

    def filters(self, gitignores: Sequence[_GitIgnore]) -> bool:
        """Whether anything beyond the default folder names can exclude a path here."""
        return self._exclude is not None or bool(gitignores)

    def excluded(
        self,
        path: str,
        name: str,
        is_dir: bool,
        gitignores: Sequence[_GitIgnore],
        folders_checked: bool = True,
    ) -> bool:
        """Whether `path` is excluded. A walk never enters an excluded folder, so it has
        checked the folders above `path` already (`folders_checked`); a file named on the
        command line has not."""
        if is_dir and name in DEFAULT_EXCLUDED_NAMES:
            return True
        if not self.filters(gitignores):
            return False
        folder = os.path.dirname(os.path.abspath(path))
        return self.in_folder(folder, gitignores, folders_checked)(name, is_dir)

    def in_folder(
        self, folder: str, gitignores: Sequence[_GitIgnore], folders_checked: bool = True
    ) -> Callable[[str, bool], bool]:
        """`excluded` for the entries of one folder: the folder's path relative to each
        pattern file is worked out once, not once per entry. Outside the root, `exclude`
        matches by name alone, answered once per name."""
        absolute = os.path.abspath(folder)
        pairs = [(spec, _relative_prefix(absolute, base)) for base, spec in gitignores]
        by_name = None
        if self._exclude is not None:
            prefix = _relative_prefix(absolute, self.root)
            if prefix is None:  # outside the root: `exclude` can only match by name
                by_name = self._exclude
            pairs.append((self._exclude, prefix))
        checks = [(spec, prefix) for spec, prefix in pairs if prefix is not None]
        named = self._by_name

        def ignored(spec: GitIgnore, relative: str, is_dir: bool) -> bool:
            if folders_checked:
                return spec.matches(relative, is_dir)
            return spec.match_file(relative + ("/" if is_dir else ""))

        def excluded(name: str, is_dir: bool) -> bool:
            if by_name is not None:
                known = named.get((name, is_dir))
                if known is None:
                    known = named[(name, is_dir)] = by_name.matches(name, is_dir)
                if known:
                    return True
            return bool(checks) and any(
                ignored(spec, prefix + name, is_dir) for spec, prefix in checks
            )

        return excluded

    def load(self, folder: str) -> Optional[_GitIgnore]:
        if not self.respect_gitignore:
            return None
        try:
            with open(os.path.join(folder, ".gitignore"), encoding="utf-8", errors="replace") as f:
                lines = f.read().splitlines()
        except OSError:
            return None
        return (folder, GitIgnore(lines))

    def inherited(self, folder: str) -> list[_GitIgnore]:
        """The .gitignore files of `folder`'s parents, up to its git repository's root."""
        if not self.respect_gitignore:
            return []
        chain = []
        current = folder
        while True:
            parent = os.path.dirname(current)
            if parent == current:
                return []  # not inside a git repository: parents' .gitignore do not apply
            current = parent
            loaded = self.load(current)
            if loaded is not None:
                chain.append(loaded)
            if os.path.exists(os.path.join(current, ".git")):
                return chain[::-1]


def _relative_prefix(folder: str, base: str) -> Optional[str]:
    """`folder` relative to `base`, ending in `/` (empty for `base` itself); None outside.
    Both are absolute and normalised (`os.path.abspath`), so a prefix test does what
    `os.path.relpath` would, at a tenth of its cost (it ran for each of HA's 2,800 folders
    in a warm run)."""
    folder_key, base_key = os.path.normcase(folder), os.path.normcase(base)
    if folder_key == base_key:
        return ""
    inside = base_key if base_key.endswith(os.sep) else base_key + os.sep
    if not folder_key.startswith(inside):
        return None
    return folder[len(inside) :].replace(os.sep, "/") + "/"


def discover(
    paths: Sequence[str],
    *,
    root: Optional[str] = None,
    exclude: Sequence[str] = (),
    respect_gitignore: bool = True,
    force_exclude: bool = False,
    configs: Optional[ConfigFinder] = None,
    listings: Optional[Listings] = None,
) -> Discovered:
    """Files to lint under `paths`. A file named explicitly is linted even if excluded,
    unless `force_exclude` (what a pre-commit hook wants: it names every changed file).
    With `configs`, each folder's excludes come from its own configuration instead.
    With `listings`, folders unchanged since an earlier run are not listed again."""
    listings = listings if listings is not None else Listings(None)
    ignorers = _Ignorers(_Ignorer(os.path.abspath(root or os.getcwd()), exclude, respect_gitignore))
    ignorers.configs = configs
    files: set[str] = set()
    unreadable: list[tuple[str, str]] = []
    for given in paths:
        if not os.path.lexists(given):
            raise PathError(f"{given}: no such file or directory")
        scope = ignorers.for_path(given)
        ignorer = scope[1]
        if os.path.isdir(given):
            top = os.path.abspath(given)
            inherited = ignorer.inherited(top)
            if os.path.exists(os.path.join(top, ".git")) or (
                # a folder named explicitly is linted even if a parent's .gitignore
                # ignores it (pyenv's ignores every installed Python, for one)
                inherited
                and ignorer.excluded(
                    top, os.path.basename(top), True, inherited, folders_checked=False
                )
            ):
                inherited = []
            walked = os.path.normpath(given)
            listings.walking(walked)
            _walk(walked, inherited, scope, ignorers, listings, files, unreadable)
        elif not force_exclude or not _explicit_file_excluded(given, ignorer):
            files.add(os.path.normpath(given))
    # A walk from "." yields "./a.py": report "a.py", and lint it once if also named so.
    dot = os.curdir + os.sep
    folders = ignorers.folder_configs
    if any(path.startswith(dot) for path in files):
        files = {path[len(dot) :] if path.startswith(dot) else path for path in files}
        folders = {_undotted(folder, dot): config for folder, config in folders.items()}
    return Discovered(tuple(sorted(files)), tuple(sorted(unreadable)), folders)


def _undotted(folder: str, dot: str) -> str:
    return "" if folder == os.curdir else folder[len(dot) :] if folder.startswith(dot) else folder


# the configuration in force (None without a ConfigFinder) and the ignorer made from it
_Scope = tuple[Optional["Config"], "_Ignorer"]


@dataclass
class _Ignorers:
    """One `_Ignorer` per configuration: a sub-project's excludes apply in its own tree."""

    default: _Ignorer
    configs: Optional[ConfigFinder] = None
    folder_configs: dict[str, Config] = field(default_factory=dict)  # filled by the walk
    _made: dict[int, _Scope] = field(default_factory=dict)

    def for_path(self, path: str) -> _Scope:
        if self.configs is None:
            return (None, self.default)
        return self._for(self.configs.for_path(path))

    def declared_in(self, folder: str) -> Optional[_Scope]:
        """The scope of the configuration `folder` declares, if it declares one."""
        own = self.configs.own(folder) if self.configs is not None else None
        return None if own is None else self._for(own)

    def _for(self, config: Config) -> _Scope:
        made = self._made.get(id(config))
        if made is None:
            root = os.path.abspath(config.root or os.getcwd())
            excludes = (*config.exclude, *config.extend_exclude)
            made = self._made[id(config)] = (
                config,  # kept alive, so that its id is not reused
                _Ignorer(root, excludes, config.respect_gitignore),
            )
        return made


def _walk(
    top: str,
    inherited: list[_GitIgnore],
    scope: _Scope,
    ignorers: _Ignorers,
    listings: Listings,
    files: set[str],
    unreadable: list[tuple[str, str]],
) -> None:
    """Iterative walk; symlinked folders are not followed (no loops, no escapes).

    Excludes are applied to a folder's listing once it is complete, so a folder's own
    .gitignore counts. A warm run over 2,800 folders spends much of its time here: keep
    the loop lean. A folder with its own configuration file switches to that
    configuration's excludes.
    """
    stack: list[tuple[str, list[_GitIgnore], _Scope]] = [(top, inherited, scope)]
    configured = ignorers.configs is not None
    folder_configs = ignorers.folder_configs
    sep = os.sep
    while stack:
        folder, gitignores, scope = stack.pop()
        try:
            listing = listings.list(folder)
        except OSError as error:
            unreadable.append((folder, error.strerror or str(error)))
            continue
        if listing.has_config and configured and folder != top:
            scope = ignorers.declared_in(folder) or scope
        if configured:
            folder_configs[folder] = scope[0]  # type: ignore[assignment]
        ignorer = scope[1]
        if listing.has_gitignore and ignorer.respect_gitignore:
            own = ignorer.load(os.path.abspath(folder))
            if own is not None:
                gitignores = [*gitignores, own]
        sources, folders = listing.sources, listing.folders
        if ignorer.filters(gitignores):
            excluded = ignorer.in_folder(folder, gitignores)
            sources = tuple(name for name in sources if not excluded(name, False))
            folders = tuple(name for name in folders if not excluded(name, True))
        prefix = folder if folder.endswith(sep) else folder + sep
        files.update([prefix + name for name in sources])
        stack.extend([(prefix + name, gitignores, scope) for name in folders])


def _explicit_file_excluded(given: str, ignorer: _Ignorer) -> bool:
    path = os.path.abspath(given)
    folder = os.path.dirname(path)
    gitignores = ignorer.inherited(path)
    parts = os.path.relpath(path, ignorer.root).replace(os.sep, "/").split("/")
    if any(part in DEFAULT_EXCLUDED_NAMES for part in parts[:-1]):
        return True
    own = ignorer.load(folder)
    name = os.path.basename(path)
    return ignorer.excluded(path, name, False, gitignores, folders_checked=False) or (
        own is not None and ignorer.excluded(path, name, False, [own], folders_checked=False)
    )
