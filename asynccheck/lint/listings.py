"""Folder listings kept between runs: a warm run stats each folder instead of listing it.

Discovery's walk over Home Assistant lists 2,800 folders and 61,000 entries; sorting those
into sources and sub-folders was most of a warm run. A folder's entries change only with its
ctime: adding, removing or renaming an entry sets it, and so does setting the mtime back (as
`rsync -t` or `tar` do). The inode tells a folder replaced by another one. A listing taken
less than `_SETTLE_NS` after its folder last changed is not kept, because a change in the
same clock tick, or on a file server whose clock runs ahead, would not show (git calls such
index entries "racy"). Only the raw listing is kept: excludes, .gitignore files and
configurations are still read and applied on every run.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Optional

from asynccheck import __version__
from asynccheck.config import CONFIG_FILES
from asynccheck.lint import cachefile

SOURCE_SUFFIXES = (".py", ".pyi")

# Folders nobody wants linted (ruff skips the same kind by default).
DEFAULT_EXCLUDES = (
    ".bzr", ".direnv", ".eggs", ".git", ".git-rewrite", ".hg", ".mypy_cache", ".nox",
    ".pants.d", ".pytype", ".ruff_cache", ".asynccheck_cache", ".pytest_cache", ".svn",
    ".tox", ".venv", "venv", "__pypackages__", "__pycache__", "_build", "buck-out", "build",
    "dist", "node_modules", "site-packages",
)  # fmt: skip
DEFAULT_EXCLUDED_NAMES = frozenset(DEFAULT_EXCLUDES)

_FORMAT = 1
_FILE_NAME = "listings.marshal"
_SETTLE_NS = 10 * 1_000_000_000
# Folders outside this run's walks are kept for the next run that walks them, but not
# without bound (runs over ever new trees): past this, a save keeps this run's alone.
_MAX_FOLDERS = 100_000
_GITIGNORE, _CONFIG = 1, 2  # a row's flags

# (ctime_ns, inode, source names, sub-folder names, flags): marshal writes plain tuples only
_Row = tuple[int, int, tuple[str, ...], tuple[str, ...], int]


class Listing(NamedTuple):
    """What the walk needs of one folder's entries."""

    sources: tuple[str, ...]  # names of `.py`/`.pyi` entries that are not folders
    folders: tuple[str, ...]  # sub-folders, those excluded by default left out
    has_gitignore: bool
    has_config: bool  # a configuration file's name (its content decides)


@dataclass
class Listings:
    """Listings by absolute folder path, read from and saved to one file of the cache."""

    path: Optional[str]  # None: every folder is listed and nothing is kept
    _rows: Optional[dict[str, _Row]] = None  # read at the first folder listed
    _seen: dict[str, _Row] = field(default_factory=dict)  # folders listed or checked this run
    _walked: list[str] = field(default_factory=list)  # tops of this run's walks, absolute
    _top: tuple[str, str] = ("", "")  # the current walk's top: as walked, absolute
    _changed: bool = False

    @classmethod
    def open(cls, cache_root: Optional[str]) -> Listings:
        """The listings kept under `cache_root` (None: keep nothing). Not on Windows: there
        a folder's ctime is its creation time, and its mtime does not move on FAT."""
        if cache_root is None or os.name == "nt":
            return cls(None)
        return cls(os.path.join(cachefile.cache_folder(cache_root), _FILE_NAME))

    def walking(self, top: str) -> None:
        """A walk starts at `top`: kept folders below it that it does not reach are gone."""
        if self.path is not None:
            self._top = (top, os.path.abspath(top))
            self._walked.append(self._top[1])

    def list(self, folder: str) -> Listing:
        """The entries of `folder`; raises OSError as `os.scandir` does."""
        if self.path is None:
            return _listing(_scan(folder, 0, 0))
        if self._rows is None:
            self._rows = _rows_of(cachefile.read(self.path))
        top, absolute = self._top
        # the walk's folders extend its top: cheaper than abspath for each
        key = absolute + folder[len(top) :] if top and folder.startswith(top) else folder
        if not os.path.isabs(key):
            key = os.path.abspath(key)
        stat = os.stat(folder)
        row = self._rows.get(key)
        if row is None or row[0] != stat.st_ctime_ns or row[1] != stat.st_ino:
            row = _scan(folder, stat.st_ctime_ns, stat.st_ino)
            if time.time_ns() - stat.st_ctime_ns < _SETTLE_NS:
                return _listing(row)  # too fresh to trust next time: listed again then
            self._changed = True
        self._seen[key] = row
        return _listing(row)

    def save(self) -> None:
        """Keep what this run listed, and the folders outside its walks as they were."""
        if self.path is None or self._rows is None:
            return  # nothing was listed
        walked_into = cachefile.under(self._walked)
        gone = {key for key in self._rows if key not in self._seen and walked_into(key)}
        if not self._changed and not gone:
            return
        rows = {
            key: row
            for key, row in self._rows.items()
            if key not in self._seen and key not in gone and os.path.isdir(key)  # not deleted
        }
        if len(rows) + len(self._seen) > _MAX_FOLDERS:
            rows = {}
        rows.update(self._seen)
        cachefile.write(self.path, (_FORMAT, __version__, rows))
        self._rows, self._seen, self._changed = rows, {}, False


def _scan(folder: str, ctime_ns: int, inode: int) -> _Row:
    """One pass over the folder's entries. Keep it lean: it runs for every entry of a tree
    the first time (Home Assistant: 61,000)."""
    sources: list[str] = []
    folders: list[str] = []
    flags = 0
    suffixes = SOURCE_SUFFIXES
    excluded = DEFAULT_EXCLUDED_NAMES
    with os.scandir(folder) as entries:
        for entry in entries:
            name = entry.name
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError:
                is_dir = False
            if is_dir:
                if name not in excluded:
                    folders.append(name)
            elif name.endswith(suffixes):
                sources.append(name)
            elif name == ".gitignore":
                flags |= _GITIGNORE
            elif name in CONFIG_FILES:
                flags |= _CONFIG
    return (ctime_ns, inode, tuple(sources), tuple(folders), flags)


def _listing(row: _Row) -> Listing:
    flags = row[4]
    return Listing(row[2], row[3], bool(flags & _GITIGNORE), bool(flags & _CONFIG))


def _rows_of(data: Any) -> dict[str, _Row]:
    """The kept rows, or none when the file is missing, corrupt or from another version."""
    if not (isinstance(data, tuple) and len(data) == 3 and data[:2] == (_FORMAT, __version__)):
        return {}
    rows = data[2]
    if not isinstance(rows, dict) or not all(
        isinstance(row, tuple) and len(row) == 5 for row in rows.values()
    ):
        return {}
    return rows
