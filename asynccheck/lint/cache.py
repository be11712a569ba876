"""One store of findings per (asynccheck version, effective config), keyed by file.

A file's (mtime, size) is the quick check; only when it changed is the content read and
hashed. The store is one marshal file (10,000 entries load in milliseconds), written
atomically; a corrupt, foreign or half-written store is ignored, never fatal.
"""

from __future__ import annotations

import os
from collections.abc import Container, Sequence
from dataclasses import dataclass, field
from typing import Any, Optional

from asynccheck import __version__
from asynccheck._hash import blake2b
from asynccheck.lint import cachefile

_FORMAT = 9  # 9: a summary hash covers `elided` (summaries made for some names only)
_DIGEST_SIZE = 16


def content_hash(data: bytes) -> bytes:
    return blake2b(data, digest_size=_DIGEST_SIZE).digest()


@dataclass
class Entry:
    mtime_ns: int
    size: int
    digest: bytes
    findings: tuple[Any, ...]  # Finding.to_tuple() each
    # Cross-module AC110 (lint.project): (what its answers read, as indexes into the
    # store's table of dep paths; the state of each then, packed in one bytes (see
    # step.pack); the answers, as finding tuples). Empty when the file asks nothing of
    # other modules. Its questions, and which parts of each summary the answers read, are
    # kept with the summaries (read only when they are needed).
    links: tuple[Any, ...] = ()
    # The file's project summary hash ("" when it cannot be parsed; None: not made): a
    # warm run checks the answers that read this module without the summary store.
    summary: Optional[bytes] = None


@dataclass
class Cache:
    """Entries by absolute path. Loaded column-wise (paths, mtimes, sizes, digests,
    findings): 11,000 entries load in 3 ms, where a dict of tuples took 25 ms."""

    path: Optional[str]  # None: caching is off
    key: str
    entries: dict[str, Entry] = field(default_factory=dict)  # stored in this run
    dirty: bool = False
    _columns: tuple[list[Any], ...] = ((), (), (), (), (), (), ())  # type: ignore[assignment]
    _index: dict[str, int] = field(default_factory=dict)
    # The paths the links read, once each: 35,000 (path, hash) pairs across HA's entries
    # took 50 ms to load as tuples; indexes and one bytes an entry load in a few.
    dep_paths: list[str] = field(default_factory=list)
    _dep_index: Optional[dict[str, int]] = None
    _gone: set[str] = field(default_factory=set)  # entries `save` leaves out

    @classmethod
    def open(cls, folder: Optional[str], config_fingerprint: str) -> Cache:
        key = f"{__version__}:{config_fingerprint}"
        if folder is None:
            return cls(None, key)
        name = blake2b(key.encode(), digest_size=8).hexdigest()
        path = os.path.join(cachefile.cache_folder(folder), f"lint-{name}.marshal")
        columns, dep_paths = _load(path, key)
        index = {p: i for i, p in enumerate(columns[0])}
        return cls(path, key, _columns=columns, _index=index, dep_paths=dep_paths)

    def dep_index(self, path: str) -> int:
        """The index of a dep path in `dep_paths`, added if new (indexes never move)."""
        if self._dep_index is None:
            self._dep_index = {p: i for i, p in enumerate(self.dep_paths)}
        i = self._dep_index.get(path)
        if i is None:
            i = self._dep_index[path] = len(self.dep_paths)
            self.dep_paths.append(path)
        return i

    def get(self, path: str) -> Optional[Entry]:
        entry = self.entries.get(path)
        if entry is not None:
            return entry
        i = self._index.get(path)
        if i is None:
            return None
        _, mtimes, sizes, digests, findings, links, summaries = self._columns
        digest = digests[i * _DIGEST : (i + 1) * _DIGEST]
        return Entry(mtimes[i], sizes[i], digest, findings[i], links[i], summaries[i])

    def summary_digest(self, path: str, mtime_ns: int, size: int) -> Optional[bytes]:
        """The summary hash stored with the file's findings, if it looks unchanged."""
        entry = self.entries.get(path)
        if entry is not None:
            same = entry.mtime_ns == mtime_ns and entry.size == size
            return entry.summary if same else None
        i = self._index.get(path)
        if i is None:
            return None
        _, mtimes, sizes, _, _, _, summaries = self._columns
        if mtimes[i] != mtime_ns or sizes[i] != size:
            return None
        return summaries[i]  # type: ignore[no-any-return]

    def links(self, path: str) -> tuple[Any, ...]:
        """The entry's cross-module part (see Entry.links); () when there is none."""
        entry = self.entries.get(path)
        if entry is not None:
            return entry.links
        i = self._index.get(path)
        return self._columns[5][i] if i is not None else ()  # type: ignore[no-any-return]

    def __contains__(self, path: str) -> bool:
        return path in self.entries or path in self._index

    def fresh(
        self, path: str, mtime_ns: int, size: int
    ) -> Optional[tuple[tuple[Any, ...], tuple[Any, ...]]]:
        """The stored (findings, links) if the file looks unchanged (same mtime and size).

        The warm path calls this once per file, so it builds nothing on a hit.
        """
        i = self._index.get(path)
        if i is None or path in self.entries:
            entry = self.entries.get(path)
            if entry is None or entry.mtime_ns != mtime_ns or entry.size != size:
                return None
            return entry.findings, entry.links
        _, mtimes, sizes, _, findings, links, _ = self._columns
        if mtimes[i] != mtime_ns or sizes[i] != size:
            return None
        return findings[i], links[i]

    def by_content(self, path: str, digest: bytes) -> Optional[Entry]:
        entry = self.get(path)
        return entry if entry is not None and entry.digest == digest else None

    def store(self, path: str, entry: Entry) -> None:
        self.entries[path] = entry
        self.dirty = True

    def forget_gone(self, seen: Container[str], walked: Sequence[str]) -> int:
        """Leave out of the next save the entries of files that are gone: under a folder
        this run walked (absolute), those it did not see; elsewhere, those whose folder is
        gone. Without this, a store keeps every file it ever held (a tree linted, then
        moved or deleted: 44,000 entries and 17 MB for 11,000 files, read by every run).
        Returns how many are left out."""
        walked_into = cachefile.under(walked)
        folders: dict[str, bool] = {}
        for path in (*self._index, *self.entries):
            if path not in seen and (walked_into(path) or cachefile.folder_gone(path, folders)):
                self._gone.add(path)
        self.dirty = self.dirty or bool(self._gone)
        return len(self._gone)

    def save(self) -> None:
        """Write the stored columns with this run's entries in place: the 11,000 entries
        of HA are not made into objects to save one changed file (that took 40 ms)."""
        if self.path is None or not self.dirty:
            return
        paths, mtimes, sizes, _, findings, links, summaries = (list(c) for c in self._columns)
        digests = bytearray(self._columns[3])
        columns = (paths, mtimes, sizes, findings, links, summaries)
        for path, e in self.entries.items():
            row = (path, e.mtime_ns, e.size, e.findings, e.links, e.summary)
            i = self._index.get(path)
            if i is None:
                for column, value in zip(columns, row):
                    column.append(value)
                digests += e.digest
            else:
                for column, value in zip(columns, row):
                    column[i] = value
                digests[i * _DIGEST : (i + 1) * _DIGEST] = e.digest
        deps = self.dep_paths
        if self._gone:
            rows = [i for i, path in enumerate(paths) if path not in self._gone]
            columns, digests = _rows_only(columns, digests, rows)
            deps, links, damaged = _compacted(deps, columns[4])
            columns = (*columns[:4], links, columns[5])
            if damaged:
                rows = [n for n in range(len(links)) if n not in damaged]
                columns, digests = _rows_only(columns, digests, rows)
        paths, mtimes, sizes, findings, links, summaries = columns
        data = {
            "format": _FORMAT,
            "key": self.key,
            "paths": paths,
            "mtimes": mtimes,
            "sizes": sizes,
            "digests": bytes(digests),
            "findings": findings,
            "links": links,
            "summaries": summaries,
            "deps": deps,
        }
        cachefile.write(self.path, data)  # a read-only tree: the run goes on without


_DIGEST = _DIGEST_SIZE


def _rows_only(
    columns: tuple[list[Any], ...], digests: bytearray, rows: list[int]
) -> tuple[tuple[list[Any], ...], bytearray]:
    kept = tuple([column[i] for i in rows] for column in columns)
    return kept, bytearray().join(digests[i * _DIGEST : (i + 1) * _DIGEST] for i in rows)


def _compacted(table: list[str], links: list[Any]) -> tuple[list[str], list[Any], set[int]]:
    """The dep paths the links still read; the links with their indexes into that table;
    the rows whose link does not read as indexes (damaged: they are left out, and their
    files are linted again)."""
    new_index: dict[int, int] = {}
    used: list[str] = []
    out: list[Any] = []
    damaged: set[int] = set()
    for row, link in enumerate(links):
        if not link:
            out.append(link)  # the file asks nothing of other modules
            continue
        try:
            indexes, *rest = link
            moved = tuple(new_index.get(i, -1) for i in indexes)
            if -1 in moved:
                for i in indexes:
                    if i not in new_index:
                        used.append(table[i])
                        new_index[i] = len(used) - 1
                moved = tuple(new_index[i] for i in indexes)
            out.append((moved, *rest))
        except (TypeError, ValueError, IndexError):
            out.append(())
            damaged.add(row)
    return used, out, damaged


def _load(path: str, key: str) -> tuple[tuple[list[Any], ...], list[str]]:
    empty: tuple[list[Any], ...] = ([], [], [], b"", [], [], [])  # type: ignore[assignment]
    data = cachefile.read(path)
    try:
        if not isinstance(data, dict) or data.get("format") != _FORMAT or data.get("key") != key:
            return empty, []
        columns = (
            data["paths"], data["mtimes"], data["sizes"], data["digests"], data["findings"],
            data["links"], data["summaries"],
        )  # fmt: skip
        deps = data["deps"]
        n = len(columns[0])
        if (
            any(len(c) != n for c in (columns[1], columns[2], *columns[4:]))
            or len(columns[3]) != n * _DIGEST
            or not isinstance(deps, list)
        ):
            return empty, []
        return columns, deps
    except Exception:  # corrupt, truncated, foreign: start afresh
        return empty, []
