"""Reading and writing one of the files kept in `.asynccheck_cache/`: marshal, written
atomically (a reader sees the old file or the new one, never half of one), in a folder that
git is told to ignore. A corrupt, foreign or unreadable file reads as None; a read-only tree
only means nothing is kept."""

from __future__ import annotations

import marshal
import os
from collections.abc import Callable, Sequence
from typing import Any, Optional

CACHE_DIR_NAME = ".asynccheck_cache"


def cache_folder(root: str) -> str:
    return os.path.join(root, CACHE_DIR_NAME)


def under(folders: Sequence[str]) -> Callable[[str], bool]:
    """Whether a path is one of `folders` (absolute) or inside one: what a run walked, and
    so what it would have seen if it were still there."""
    exact = frozenset(folders)
    insides = tuple(folder if folder.endswith(os.sep) else folder + os.sep for folder in folders)
    return lambda path: path in exact or path.startswith(insides)


def folder_gone(path: str, known: dict[str, bool]) -> bool:
    """Whether the folder that held `path` is gone (a tree moved or deleted): what a store
    drops, so that it does not keep every file it ever held. `known`: each folder's answer,
    so that it is stat'ed once."""
    folder = os.path.dirname(path)
    gone = known.get(folder)
    if gone is None:
        gone = known[folder] = not os.path.isdir(folder)
    return gone


def read(path: str) -> Optional[Any]:
    """The file's value, or None when it is missing, corrupt or not marshal data."""
    try:
        with open(path, "rb") as f:
            return marshal.loads(f.read())  # marshal.load(f) reads in small steps: 4x slower
    except Exception:  # corrupt, truncated, foreign: start afresh
        return None


def write(path: str, value: Any) -> bool:
    """Write `value` to `path` atomically; False when the tree is read-only (or full)."""
    folder = os.path.dirname(path)
    try:
        os.makedirs(folder, exist_ok=True)
        ignore = os.path.join(folder, ".gitignore")
        if not os.path.exists(ignore):
            with open(ignore, "w", encoding="utf-8") as f:
                f.write("# Created by asynccheck\n*\n")
        import tempfile  # only a run that changed something writes

        fd, temporary = tempfile.mkstemp(dir=folder, prefix=".asynccheck-", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(marshal.dumps(value))
            os.replace(temporary, path)
        except BaseException:
            os.unlink(temporary)
            raise
    except OSError:
        return False
    return True
