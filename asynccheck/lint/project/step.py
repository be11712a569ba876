"""The project step of a run: answer the linted files' cross-module questions.

After the files are checked (each one parsed once, its summary made from that same walk),
the questions (`candidates`) are answered from the summaries of the modules they reach.
Modules reached but not linted are summarised on demand, round after round as the chains
go deeper, by the engine's worker pool (`summarise_paths`); their summaries are cached by
content hash. Each file's answer records the summary hashes it read (`deps`), so its
stored findings are reused only while those summaries stay the same.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Callable, Optional

from asynccheck.lint.finding import Finding
from asynccheck.lint.project.candidates import Candidate
from asynccheck.lint.project.graph import Graph
from asynccheck.lint.project.index import ModuleIndex
from asynccheck.lint.project.store import SummaryStore
from asynccheck.lint.project.summary import ModuleSummary

Deps = tuple[tuple[str, bytes], ...]  # (path, summary hash) of every module read
# path -> (mtime_ns, size, content hash, summary or None); run by the engine's pool
Summarised = tuple[str, int, int, bytes, Optional[ModuleSummary]]
SummarisePaths = Callable[[Sequence[tuple[str, str]]], Iterable[Summarised]]
_MAX_ROUNDS = 64
_UNKNOWN = object()


@dataclass(frozen=True)
class Answer:
    findings: tuple[Finding, ...]
    deps: Deps


@dataclass
class ProjectStep:
    store: SummaryStore
    files: Sequence[str]  # the linted files: their package roots make the project
    config_root: Optional[str] = None
    _index: Optional[ModuleIndex] = None
    _questions: dict[str, list[Candidate]] = field(default_factory=dict)
    _stats: dict[str, tuple[int, int]] = field(default_factory=dict)
    _now: dict[str, object] = field(default_factory=dict)  # path -> summary hash now
    _unchanged: Optional[bool] = None

    @property
    def index(self) -> ModuleIndex:
        if self._index is None:
            self._index = ModuleIndex.around(self.files, self.config_root)
        return self._index

    # --- the warm path: is a stored answer still right? ----------------------------------
    def deps_current(self, deps: Deps) -> bool:
        """Every summary these answers read is still the same. When no summarised file
        changed at all, that holds for every file at once; otherwise a dict lookup per
        module read (a warm run over HA would check 35,000)."""
        if self._unchanged is None:
            self._unchanged = self._nothing_changed()
        if self._unchanged:
            return True
        now = self._now
        for path, digest in deps:
            current = now.get(path, _UNKNOWN)
            if current is _UNKNOWN:
                current = now[path] = self._digest_now(path)
            if current != digest:
                return False
        return True

    def _nothing_changed(self) -> bool:
        """Every file the store has summarised looks as it did when summarised (the engine
        stat'ed the linted ones already)."""
        index = self.store.index
        if not index:
            return False
        for path, row in index.items():
            stat = self._stat(path)
            if stat is None:
                return False
            if stat[0] != row[0] or stat[1] != row[1]:
                return False
        return True

    def seen(self, path: str, mtime_ns: int, size: int) -> None:
        """The engine stat'ed this file already: no second stat for it as a dependency."""
        self._stats[path] = (mtime_ns, size)

    def _stat(self, path: str) -> Optional[tuple[int, int]]:
        """(mtime_ns, size) the engine saw, else from the disk; None when it is gone."""
        stat = self._stats.get(path)
        if stat is None:
            try:
                st = os.stat(path)
            except OSError:
                return None
            stat = (st.st_mtime_ns, st.st_size)
        return stat

    def _digest_now(self, path: str) -> Optional[bytes]:
        stat = self._stat(path)
        return None if stat is None else self.store.summary_digest(path, *stat)

    # --- questions and what the linted files taught ---------------------------------------
    def ask(self, path: str, candidates: Sequence[Candidate]) -> None:
        self._questions[os.path.abspath(path)] = list(candidates)

    @property
    def asked(self) -> bool:
        return bool(self._questions)

    def questions(self, path: str) -> list[Candidate]:
        return self._questions.get(os.path.abspath(path), [])

    def ask_again(self, path: str, key: str, content: bytes) -> bool:
        """Ask a cached file's stored questions again; False when they are not kept."""
        from asynccheck.lint.project.candidates import Candidate

        stored = self.store.questions(key, content)
        if stored is None:
            return False
        self.ask(path, [Candidate.from_tuple(path, t) for t in stored])
        return True

    def keep_questions(self, path: str, content: bytes) -> None:
        asked = tuple(c.to_tuple() for c in self.questions(path))
        self.store.put_questions(os.path.abspath(path), content, asked)

    def learn(self, item: Summarised) -> bytes:
        """A linted file's own summary (made in its check); returns the summary hash."""
        path, mtime_ns, size, content, summary = item
        return self.store.put(os.path.abspath(path), mtime_ns, size, content, summary)

    # --- answers -------------------------------------------------------------------------
    def answer(self, summarise_paths: SummarisePaths) -> dict[str, Answer]:
        if not any(self._questions.values()):
            return {path: Answer((), ()) for path in self._questions}
        summaries: dict[str, Optional[ModuleSummary]] = {}
        for _ in range(_MAX_ROUNDS):
            graph = Graph(self.index, summaries)
            reached = {
                path: graph.reach(c.target for c in asked)
                for path, asked in self._questions.items()
            }
            if not graph.missing:
                break
            self._load(sorted(graph.missing), summaries, summarise_paths)
        answers = {}
        for path, asked in self._questions.items():
            module = self.index.name_of(path)
            findings = []
            for candidate in asked:
                chain = graph.chain(candidate.target)
                if chain is not None:
                    findings.append(candidate.answered(chain.render(module)))
            answers[path] = Answer(tuple(findings), self._deps(reached[path][1], summaries))
        return answers

    def _deps(self, modules: Iterable[str], summaries: dict[str, Optional[ModuleSummary]]) -> Deps:
        out = []
        for module in sorted(modules):
            path = self.index.path_of(module)
            if path is not None:
                summary = summaries.get(module)
                out.append((path, summary.digest() if summary is not None else b""))
        return tuple(out)

    def _load(
        self,
        modules: Sequence[str],
        summaries: dict[str, Optional[ModuleSummary]],
        summarise_paths: SummarisePaths,
    ) -> None:
        """Summaries of `modules`: from the store when the bytes are the same, else made."""
        from asynccheck.lint.cache import content_hash

        todo = []
        for module in modules:
            path = self.index.path_of(module)
            summaries[module] = None  # unreadable, unparsable or gone: chains stop there
            if path is None:
                continue
            try:
                with open(path, "rb") as f:
                    content = content_hash(f.read())
            except OSError:
                continue
            known, summary = self.store.summary(path, content)
            if known:
                summaries[module] = summary
            else:
                todo.append((path, module))
        named = dict(todo)
        for path, mtime_ns, size, content, summary in summarise_paths(todo):
            if content:  # read; else it vanished meanwhile
                self.store.put(path, mtime_ns, size, content, summary)
            summaries[named[path]] = summary
