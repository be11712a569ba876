"""Summaries kept between runs, by file: (mtime, size) first, then the content hash.

Files beside the findings cache, named after the store's key:
- the index (path -> mtime, size, content hash, summary hash), column-wise, read when a
  module not linted in the run is checked or a summary is looked up;
- the watched folders (folder -> mtime last seen, stamp), read by every run that checks
  stored answers (1,200 rows for HA);
- in shards by path, read and written only where a run needs them: the summaries, the
  questions of the linted files (read only to ask them again) and what each answer read
  of each module (read only when a summary it read changed). Whole, these were 30 MB: a
  run with one changed helper spent a second reading and writing them.
A damaged or foreign file is ignored: what it held is made again.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Optional

from asynccheck._hash import blake2b
from asynccheck.lint import cachefile
from asynccheck.lint.project.summary import ModuleSummary

_FORMAT = 4  # 3: summaries made for some names only (ModuleSummary.elided); 4: methods too
_SHARDS = 64
_HASH = 16  # bytes of a content or summary hash
Row = tuple[int, int, bytes, bytes]  # mtime_ns, size, content hash, summary hash ("" if none)


@dataclass
class _Shards:
    """A dict by path, kept in `_SHARDS` files: a run loads the shards of the paths it asks
    for and writes back the ones it changed."""

    store: SummaryStore
    part: str
    _loaded: dict[int, dict[str, Any]] = field(default_factory=dict)
    _dirty: set[int] = field(default_factory=set)

    def get(self, path: str) -> Any:
        return self._shard(_shard_of(path)).get(path)

    def put(self, path: str, value: Any) -> None:
        number = _shard_of(path)
        shard = self._shard(number)
        if shard.get(path) != value:
            shard[path] = value
            self._dirty.add(number)

    def drop(self, path: str) -> None:
        number = _shard_of(path)
        if self._shard(number).pop(path, None) is not None:
            self._dirty.add(number)

    def _shard(self, number: int) -> dict[str, Any]:
        shard = self._loaded.get(number)
        if shard is None:
            loaded = self.store.load(f"{self.part}.{number:02x}")
            shard = self._loaded[number] = loaded if isinstance(loaded, dict) else {}
        return shard

    def save(self) -> None:
        for number in sorted(self._dirty):
            self.store.write(f"{self.part}.{number:02x}", self._loaded[number])
        self._dirty.clear()


def _shard_of(path: str) -> int:
    return blake2b(path.encode("utf-8", "surrogatepass"), digest_size=1).digest()[0] % _SHARDS


@dataclass
class SummaryStore:
    folder: Optional[str]  # None: nothing is kept between runs
    key: str
    _rows: Optional[dict[str, Row]] = None
    # folder -> (mtime_ns last seen, stamp): the stamp changes only when a module looked
    # for there and not found appears (see step), not for every file made in the folder
    _folders: Optional[dict[str, tuple[int, int]]] = None
    _folders_dirty: bool = False
    _new: dict[str, Optional[ModuleSummary]] = field(default_factory=dict)
    _absent_new: dict[str, set[str]] = field(default_factory=dict)
    dirty: bool = False

    def __post_init__(self) -> None:
        self._bodies = _Shards(self, "bodies")  # path -> (content hash, summary tuple | None)
        self._questions = _Shards(self, "questions")  # path -> (content hash, questions)
        self._reads = _Shards(self, "reads")  # path -> what its answers read (see step)
        self._absent = _Shards(self, "absent")  # folder -> modules looked for, not found

    @classmethod
    def open(cls, folder: Optional[str], key: str) -> SummaryStore:
        return cls(folder, key)

    # --- files -----------------------------------------------------------------------------
    def _file(self, part: str) -> str:
        assert self.folder is not None
        name = blake2b(self.key.encode(), digest_size=8).hexdigest()
        return os.path.join(self.folder, f"project-{name}.{part}.marshal")

    def load(self, part: str) -> Any:
        return _load(self._file(part), self.key) if self.folder is not None else None

    def write(self, part: str, payload: Any) -> None:
        if self.folder is not None:  # a read-only tree: the run goes on without
            cachefile.write(self._file(part), (_FORMAT, self.key, payload))

    def prefetch(self, paths: Iterable[str]) -> None:
        """Load the index, the shards that storing these files' summaries, questions and
        answers will write, and the summaries their answers read last time (answering
        them again most likely reads the same)."""
        self.index  # noqa: B018  (loaded on first use)
        for path in paths:
            for shards in (self._bodies, self._questions, self._reads):
                shards.get(path)
            reads = self._reads.get(path)
            for dep, kept in reads.items() if isinstance(reads, dict) else ():
                if isinstance(kept, tuple) and len(kept) == 2 and kept[1] is not None:
                    self._bodies.get(dep)  # a module (a folder's entry has no hash)

    # --- the index -------------------------------------------------------------------------
    @property
    def index(self) -> dict[str, Row]:
        if self._rows is None:
            self._rows = _rows(self.load("index"))
        return self._rows

    # --- folders where a module looked for would appear ------------------------------------
    def folder_row(self, folder: str) -> Optional[tuple[int, int]]:
        """(mtime_ns last seen, stamp) of a watched folder."""
        if self._folders is None:
            loaded = self.load("folders")
            self._folders = loaded if isinstance(loaded, dict) else {}
        return self._folders.get(folder)

    def put_folder(self, folder: str, mtime_ns: int, stamp: int) -> None:
        if self.folder_row(folder) != (mtime_ns, stamp):
            assert self._folders is not None
            self._folders[folder] = (mtime_ns, stamp)
            self._folders_dirty = True

    def absent(self, folder: str) -> Optional[set[str]]:
        """The modules looked for in `folder` (in any run) and not found then; None when
        they are not known (a lost file)."""
        kept = self._absent.get(folder)
        if not isinstance(kept, tuple):
            return None
        return set(kept) | self._absent_new.get(folder, set())

    def add_absent(self, folder: str, modules: Iterable[str]) -> None:
        self._absent_new.setdefault(folder, set()).update(modules)

    def row(self, path: str) -> Optional[Row]:
        return self.index.get(path)

    def summary_digest(self, path: str, mtime_ns: int, size: int) -> Optional[bytes]:
        """The stored summary hash when the file looks unchanged; None when unknown."""
        row = self.index.get(path)
        if row is None or row[0] != mtime_ns or row[1] != size:
            return None
        return row[3]

    def summary(self, path: str) -> tuple[bool, Optional[ModuleSummary]]:
        """(known, summary) as of the file's row: known is False when it must be summarised
        afresh (the caller checked that the row is the file as it is)."""
        if path in self._new:
            return True, self._new[path]
        row = self.index.get(path)
        body = self._bodies.get(path)
        if row is None or not isinstance(body, tuple) or len(body) != 2 or body[0] != row[2]:
            return False, None
        if body[1] is None:
            return True, None
        summary = ModuleSummary.from_tuple(body[1])
        if summary is None:
            return False, None
        self._new[path] = summary  # decoded once a run
        return True, summary

    def put(
        self, path: str, mtime_ns: int, size: int, content: bytes, summary: Optional[ModuleSummary]
    ) -> bytes:
        """Remember a file's summary (None: it could not be parsed); returns its hash."""
        digest = summary.digest() if summary is not None else b""
        self.index[path] = (mtime_ns, size, content, digest)
        self._new[path] = summary
        self._bodies.put(path, (content, summary.to_tuple() if summary is not None else None))
        self.dirty = True
        return digest

    def forget(self, path: str) -> None:
        """A file that is gone."""
        if self.index.pop(path, None) is not None:
            self._new.pop(path, None)
            self._bodies.drop(path)
            self.dirty = True

    def forget_gone(self) -> None:
        """Forget the modules whose folder is gone (the engine asks when its findings
        cache found files gone: a tree moved or deleted)."""
        folders: dict[str, bool] = {}
        for path in list(self.index):
            if cachefile.folder_gone(path, folders):
                self.forget(path)

    # --- questions and reads of the linted files ---------------------------------------------
    def questions(self, path: str, content: bytes) -> Optional[tuple[Any, ...]]:
        """A linted file's questions, if kept for these very bytes."""
        row = self._questions.get(path)
        if not isinstance(row, tuple) or len(row) != 2 or row[0] != content:
            return None
        return row[1]  # type: ignore[no-any-return]

    def put_questions(self, path: str, content: bytes, asked: tuple[Any, ...]) -> None:
        self._questions.put(path, (content, asked))

    def reads(self, path: str) -> Any:
        return self._reads.get(path)

    def put_reads(self, path: str, reads: Any) -> None:
        self._reads.put(path, reads)

    def save(self) -> None:
        for folder, added in self._absent_new.items():
            kept = self._absent.get(folder)
            if not isinstance(kept, tuple) or not added.issubset(kept):
                self._absent.put(folder, tuple(sorted(added.union(kept or ()))))
        self._absent_new.clear()
        self._absent.save()
        self._questions.save()
        self._reads.save()
        if self._folders_dirty:
            self.write("folders", self._folders)
            self._folders_dirty = False
        if self.folder is None or not self.dirty:
            return
        self._bodies.save()
        index = self.index
        paths = sorted(index)
        rows = [index[p] for p in paths]
        self.write(
            "index",
            (
                paths,
                [r[0] for r in rows],
                [r[1] for r in rows],
                b"".join(r[2] for r in rows),
                [r[3] for r in rows],
            ),
        )
        self.dirty = False


def _rows(loaded: Any) -> dict[str, Row]:
    """The index from its columns (11,000 rows: a few ms; a dict of tuples took 25)."""
    try:
        paths, mtimes, sizes, contents, digests = loaded
        n = len(paths)
        if not (len(mtimes) == len(sizes) == len(digests) == n and len(contents) == n * _HASH):
            return {}
        return {
            path: (mtimes[i], sizes[i], contents[i * _HASH : (i + 1) * _HASH], digests[i])
            for i, path in enumerate(paths)
        }
    except (TypeError, ValueError):
        return {}


def _load(path: str, key: str) -> Any:
    data = cachefile.read(path)
    if isinstance(data, tuple) and len(data) == 3 and data[:2] == (_FORMAT, key):
        return data[2]
    return None  # missing, corrupt or foreign: start afresh
