"""Summaries kept between runs, by file: (mtime, size) first, then the content hash.

Two files beside the findings cache: a small index (path -> mtime, size, content hash,
summary hash), read by every run that has cross-module findings to check, and the
summaries themselves, read only when a chain must be worked out again. A damaged or
foreign store is ignored.
"""

from __future__ import annotations

import marshal
import os
import tempfile
from dataclasses import dataclass, field
from typing import Any, Optional

from asynccheck._hash import blake2b
from asynccheck.lint.project.summary import ModuleSummary

_FORMAT = 1
Row = tuple[int, int, bytes, bytes]  # mtime_ns, size, content hash, summary hash ("" if none)


@dataclass
class SummaryStore:
    folder: Optional[str]  # None: nothing is kept between runs
    key: str
    index: dict[str, Row] = field(default_factory=dict)
    _bodies: Optional[dict[str, Any]] = None
    _new: dict[str, Optional[ModuleSummary]] = field(default_factory=dict)
    # path -> (content hash, questions as finding tuples) of the linted files that ask any
    _questions: Optional[dict[str, Any]] = None
    _questions_dirty: bool = False
    dirty: bool = False

    @classmethod
    def open(cls, folder: Optional[str], key: str) -> SummaryStore:
        store = cls(folder, key)
        if folder is not None:
            loaded = _load(store._file("index"), key)
            if isinstance(loaded, dict):
                store.index = loaded
        return store

    def _file(self, part: str) -> str:
        assert self.folder is not None
        name = blake2b(self.key.encode(), digest_size=8).hexdigest()
        return os.path.join(self.folder, f"project-{name}.{part}.marshal")

    def summary_digest(self, path: str, mtime_ns: int, size: int) -> Optional[bytes]:
        """The stored summary hash when the file looks unchanged; None when unknown."""
        row = self.index.get(path)
        if row is None or row[0] != mtime_ns or row[1] != size:
            return None
        return row[3]

    def summary(self, path: str, content: bytes) -> tuple[bool, Optional[ModuleSummary]]:
        """(known, summary) for the file's current bytes: known is False when it must be
        summarised afresh."""
        row = self.index.get(path)
        if row is None or row[2] != content:
            return False, None
        if path in self._new:
            return True, self._new[path]
        bodies = self._load_bodies()
        if path not in bodies:
            return False, None
        data = bodies[path]
        if data is None:
            return True, None
        summary = ModuleSummary.from_tuple(data)
        return summary is not None, summary

    def put(
        self, path: str, mtime_ns: int, size: int, content: bytes, summary: Optional[ModuleSummary]
    ) -> bytes:
        """Remember a file's summary (None: it could not be parsed); returns its hash."""
        digest = summary.digest() if summary is not None else b""
        self.index[path] = (mtime_ns, size, content, digest)
        self._new[path] = summary
        self.dirty = True
        return digest

    def questions(self, path: str, content: bytes) -> Optional[tuple[Any, ...]]:
        """A linted file's questions, if kept for these very bytes."""
        row = self._load_questions().get(path)
        if not isinstance(row, tuple) or len(row) != 2 or row[0] != content:
            return None
        return row[1]  # type: ignore[no-any-return]

    def put_questions(self, path: str, content: bytes, asked: tuple[Any, ...]) -> None:
        questions = self._load_questions()
        if questions.get(path) != (content, asked):
            questions[path] = (content, asked)
            self._questions_dirty = True

    def _load_questions(self) -> dict[str, Any]:
        if self._questions is None:
            loaded = _load(self._file("questions"), self.key) if self.folder is not None else None
            self._questions = loaded if isinstance(loaded, dict) else {}
        return self._questions

    def _load_bodies(self) -> dict[str, Any]:
        if self._bodies is None:
            loaded = _load(self._file("bodies"), self.key) if self.folder is not None else None
            self._bodies = loaded if isinstance(loaded, dict) else {}
        return self._bodies

    def save(self) -> None:
        if self.folder is not None and self._questions_dirty:
            try:
                os.makedirs(self.folder, exist_ok=True)
                _write(self._file("questions"), self.key, self._questions)
            except OSError:
                pass
        if self.folder is None or not self.dirty:
            return
        bodies = dict(self._load_bodies())
        for path, summary in self._new.items():
            bodies[path] = summary.to_tuple() if summary is not None else None
        bodies = {path: body for path, body in bodies.items() if path in self.index}
        try:
            os.makedirs(self.folder, exist_ok=True)
            _write(self._file("bodies"), self.key, bodies)
            _write(self._file("index"), self.key, self.index)
        except OSError:
            pass  # a read-only tree: the run still succeeds


def _load(path: str, key: str) -> Any:
    try:
        with open(path, "rb") as f:
            data = marshal.loads(f.read())
        if isinstance(data, tuple) and len(data) == 3 and data[:2] == (_FORMAT, key):
            return data[2]
    except Exception:  # corrupt, truncated, foreign: start afresh
        pass
    return None


def _write(path: str, key: str, payload: Any) -> None:
    fd, temporary = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".project-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(marshal.dumps((_FORMAT, key, payload)))
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise
