"""One store of findings per (asynccheck version, effective config), keyed by file.

A file's (mtime, size) is the quick check; only when it changed is the content read and
hashed. The store is one marshal file (10,000 entries load in milliseconds), written
atomically; a corrupt, foreign or half-written store is ignored, never fatal.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import tempfile
from dataclasses import dataclass, field
from typing import Any, Optional

from asynccheck import __version__

_FORMAT = 1
CACHE_DIR_NAME = ".asynccheck_cache"


def content_hash(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=16).digest()


@dataclass
class Entry:
    mtime_ns: int
    size: int
    digest: bytes
    findings: tuple[Any, ...]  # Finding.to_tuple() each


@dataclass
class Cache:
    path: Optional[str]  # None: caching is off
    key: str
    entries: dict[str, Entry] = field(default_factory=dict)
    dirty: bool = False

    @classmethod
    def open(cls, folder: Optional[str], config_fingerprint: str) -> Cache:
        key = f"{__version__}:{config_fingerprint}"
        if folder is None:
            return cls(None, key)
        name = hashlib.blake2b(key.encode(), digest_size=8).hexdigest()
        path = os.path.join(folder, CACHE_DIR_NAME, f"lint-{name}.marshal")
        return cls(path, key, _load(path, key))

    def lookup(self, path: str, stat: os.stat_result) -> Optional[Entry]:
        """The entry if the file looks unchanged (same mtime and size)."""
        entry = self.entries.get(path)
        if entry is not None and entry.mtime_ns == stat.st_mtime_ns and entry.size == stat.st_size:
            return entry
        return None

    def by_content(self, path: str, digest: bytes) -> Optional[Entry]:
        entry = self.entries.get(path)
        return entry if entry is not None and entry.digest == digest else None

    def store(self, path: str, entry: Entry) -> None:
        self.entries[path] = entry
        self.dirty = True

    def save(self) -> None:
        if self.path is None or not self.dirty:
            return
        data = {
            "format": _FORMAT,
            "key": self.key,
            "files": {
                path: (e.mtime_ns, e.size, e.digest, e.findings) for path, e in self.entries.items()
            },
        }
        folder = os.path.dirname(self.path)
        try:
            os.makedirs(folder, exist_ok=True)
            ignore = os.path.join(folder, ".gitignore")
            if not os.path.exists(ignore):
                with open(ignore, "w", encoding="utf-8") as f:
                    f.write("# Created by asynccheck\n*\n")
            fd, temporary = tempfile.mkstemp(dir=folder, prefix=".lint-", suffix=".tmp")
            try:
                with os.fdopen(fd, "wb") as f:
                    marshal.dump(data, f)
                os.replace(temporary, self.path)
            except BaseException:
                os.unlink(temporary)
                raise
        except OSError:
            pass  # a read-only tree: the run still succeeds, just without a cache


def _load(path: str, key: str) -> dict[str, Entry]:
    try:
        with open(path, "rb") as f:
            data = marshal.load(f)
        if not isinstance(data, dict) or data.get("format") != _FORMAT or data.get("key") != key:
            return {}
        files = data["files"]
        return {p: Entry(m, s, d, tuple(fs)) for p, (m, s, d, fs) in files.items()}
    except Exception:  # corrupt, truncated, foreign: start afresh
        return {}
