"""The globs of a configuration and the paths they match: `per-file-ignores` (fnmatch,
relative to the configuration's folder) and `exclude` (gitignore syntax, same folder).

A file that `extend`s another in a different folder inherits its globs rebased onto its
own folder, so every glob of a merged configuration means what its author wrote.
"""

from __future__ import annotations

import fnmatch
import glob
import os
from collections.abc import Sequence
from typing import Optional


def ignored_for_file(
    code: str,
    path: str,
    per_file_ignores: Sequence[tuple[str, Sequence[str]]],
    root: Optional[str] = None,
) -> bool:
    """Whether `per-file-ignores` drops `code` in `path`. A glob without a `/` may match the
    file name alone (`"test_*.py"`); any glob may match the path relative to `root`; an
    absolute glob (inherited from another folder) matches the absolute path."""
    absolute = _slashes(os.path.abspath(path))
    relative = _slashes(os.path.relpath(absolute, root or os.getcwd()))
    name = relative.rsplit("/", 1)[-1]
    for pattern, codes in per_file_ignores:
        if _is_absolute(pattern):
            matches = fnmatch.fnmatchcase(absolute, pattern)
        else:
            target = name if "/" not in pattern else relative
            matches = fnmatch.fnmatchcase(target, pattern) or fnmatch.fnmatchcase(relative, pattern)
        if matches and any(selector == "ALL" or code.startswith(selector) for selector in codes):
            return True
    return False


def rebase_glob(pattern: str, base: str, root: str) -> str:
    """A `per-file-ignores` glob written in folder `base`, for a configuration in `root`."""
    if base == root or "/" not in pattern or _is_absolute(pattern):
        return pattern
    return f"{glob.escape(_slashes(base)).rstrip('/')}/{pattern}"


def rebase_excludes(patterns: Sequence[str], base: str, root: str) -> tuple[str, ...]:
    """Gitignore-style `exclude` patterns written in folder `base`, rewritten for `root`.
    A pattern that can match nothing below `root` is dropped."""
    if base == root:
        return tuple(patterns)
    relative = _slashes(os.path.relpath(root, base))
    inside = [] if relative == ".." or relative.startswith("../") else relative.split("/")
    rebased = (_rebase_exclude(p, inside if inside else None) for p in patterns)
    return tuple(p for p in rebased if p is not None)


def _rebase_exclude(pattern: str, folders: Optional[list[str]]) -> Optional[str]:
    """`pattern` as seen from the subfolder `folders` of its base (None: not below it)."""
    negated = pattern.startswith("!")
    body = pattern[1:] if negated else pattern
    if "/" not in body.rstrip("/"):
        return pattern  # matches a name at any depth: the same from any folder
    if folders is None:
        return None
    segments = body.lstrip("/").split("/")
    for index, folder in enumerate(folders):
        if index >= len(segments) or segments[index] == "":
            return None  # the pattern names a folder above `root` (or `root` itself)
        if segments[index] == "**":
            segments = segments[index:]
            break
        if not fnmatch.fnmatchcase(folder, segments[index]):
            return None
    else:
        segments = segments[len(folders) :]
    if segments in ([], [""]):
        return None
    return ("!" if negated else "") + "/" + "/".join(segments)


def _slashes(path: str) -> str:
    return path.replace(os.sep, "/")


def _is_absolute(pattern: str) -> bool:
    return pattern.startswith("/") or (len(pattern) > 2 and pattern[1] == ":")
