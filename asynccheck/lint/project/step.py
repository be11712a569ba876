"""The project step of a run: answer the linted files' cross-module questions.

After the files are checked (each one parsed once, its summary made from that same walk),
the questions (`candidates`) are answered from the summaries of the modules they reach.
Modules reached but not linted are summarised on demand, round after round as the chains
go deeper, by the engine's worker pool (`summarise_paths`); their summaries are cached by
content hash.

A stored answer keeps what it read (`deps`): the summary hash of each module, and the
stamp of each folder where a module it looked for and did not find would appear (the
stamp moves when such a module appears). It is reused while those are the same. The engine calls `reuse` after the changed files are
linted, so their new summaries are known: a changed module not linted in this run is
summarised first. When a hash differs, the parts of the summary the answer read (kept
apart, `Reads`) are compared: a new def nobody calls leaves every answer as it was. Only
when those differ too is the file asked its stored questions again (no parse).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Union

from asynccheck.lint.finding import Finding
from asynccheck.lint.project.candidates import Candidate, Unplaced
from asynccheck.lint.project.candidates import place as place_here
from asynccheck.lint.project.graph import Graph, Read, read_digest
from asynccheck.lint.project.index import ModuleIndex
from asynccheck.lint.project.store import SummaryStore
from asynccheck.lint.project.summary import ModuleSummary

# (path, summary hash) of every module read; (folder, stamp) of every folder where a
# module looked for and not found would appear
Deps = tuple[tuple[str, Union[bytes, int]], ...]
# by the path of each dep: (the names read in that module's summary, a hash of what they
# said) or, for a folder, (the modules looked for there, None)
Reads = dict[str, tuple[tuple[str, ...], Optional[bytes]]]
# path -> (mtime_ns, size, content hash, summary or None); run by the engine's pool
Summarised = tuple[str, int, int, bytes, Optional[ModuleSummary]]
# (path, module, the names wanted from it or None for all): what the pool summarises
SummaryWanted = tuple[str, str, Optional[frozenset[str]]]
SummarisePaths = Callable[[Sequence[SummaryWanted]], Iterable[Summarised]]
PlaceFindings = Callable[[Sequence[Unplaced]], list[Finding]]
_MAX_ROUNDS = 64
# Rounds in a run in which a module is summarised for the names read there alone; after
# them, in full (a chain that keeps coming back into one module)
_PARTIAL_ROUNDS = 6
_UNKNOWN: Any = object()


def _never() -> bool:
    return False


_STALE: Any = object()  # a module whose file changed since it was summarised


@dataclass(frozen=True)
class Answer:
    findings: tuple[Finding, ...]
    deps: Deps
    reads: Reads = field(default_factory=dict)


@dataclass
class ProjectStep:
    store: SummaryStore
    files: Sequence[str]  # the linted files: their package roots make the project
    config_root: Optional[str] = None
    _index: Optional[ModuleIndex] = None
    _questions: dict[str, list[Candidate]] = field(default_factory=dict)
    # (mtime_ns, size) by path, None when gone: the engine fills it with the linted files
    stats: dict[str, Optional[tuple[int, int]]] = field(default_factory=dict)
    _now: dict[str, Any] = field(default_factory=dict)  # dep -> its state now
    _digests: dict[str, bytes] = field(default_factory=dict)
    _read_digests: dict[tuple[str, tuple[str, ...]], bytes] = field(default_factory=dict)
    # The summary hash the findings cache keeps with a linted file, if it looks as then
    # (a warm run over HA checks its answers without loading the summary store).
    cached_digest: Optional[Callable[[str, int, int], Optional[bytes]]] = None
    _stamps: dict[str, Optional[int]] = field(default_factory=dict)
    _mtimes: dict[str, Optional[int]] = field(default_factory=dict)
    _listings: dict[str, Optional[frozenset[str]]] = field(default_factory=dict)
    _partial_rounds: dict[str, int] = field(default_factory=dict)  # path -> summarised in a run
    _packed: Optional[_Packed] = None  # the deps' states now, for `reuse`
    # What the run did (the tests read it): answers reused as stored, reused after their
    # reads were compared, files asked again, modules summarised outside the lint.
    counts: dict[str, int] = field(
        default_factory=lambda: {"reused": 0, "rechecked": 0, "asked": 0, "summarised": 0}
    )

    @property
    def index(self) -> ModuleIndex:
        if self._index is None:
            self._index = ModuleIndex(roots=_package_roots(self.files))
            if self.config_root:
                for folder in (self.config_root, os.path.join(self.config_root, "src")):
                    self._index.add_root(folder)
        return self._index

    def _stat(self, path: str) -> Optional[tuple[int, int]]:
        """(mtime_ns, size) the engine saw, else from the disk; None when it is gone."""
        stat = self.stats.get(path, _UNKNOWN)
        if stat is _UNKNOWN:
            try:
                st = os.stat(path)
                stat = (st.st_mtime_ns, st.st_size)
            except OSError:
                stat = None
            self.stats[path] = stat
        return stat  # type: ignore[no-any-return]

    # --- the warm path: are stored answers still right? -----------------------------------
    def reuse(
        self,
        stored: Sequence[tuple[str, Any]],
        table: Sequence[str],
        summarise_paths: SummarisePaths,
    ) -> list[Any]:
        """For each cached file (key, links as `encode` made them, with `table`), once the
        changed files are linted: (its stored answers, the deps to store or None) while
        they are still right; None when it must be asked again; False when its entry is
        damaged."""
        out: list[Any] = [None] * len(stored)
        doubtful: list[tuple[int, Deps]] = []
        stale: set[str] = set()
        packed = self._packed_states(table)
        for i, (_, links) in enumerate(stored):
            try:
                indexes, states, answers = links
                # The warm path: one join and one compare a file, in C.
                if b"".join(map(packed.__getitem__, indexes)) == states:
                    out[i] = (answers, None)
                    self.counts["reused"] += 1
                    continue
                deps = decode(indexes, states, table)
            except Exception:  # a damaged entry: its file is linted again
                out[i] = False
                continue
            stale.update(path for path, digest in deps if self._now_state(path, digest) is _STALE)
            doubtful.append((i, deps))
        if stale:
            self._summarise_again(sorted(stale), summarise_paths)
        for i, deps in doubtful:
            key, (_, _, answers) = stored[i]
            fresh = self._still_right(key, deps)
            if fresh is not None:
                out[i] = (answers, fresh if fresh != deps else None)
                self.counts["rechecked"] += 1
        return out

    def _now_state(self, path: str, digest: Union[bytes, int]) -> Any:
        current = self._now.get(path, _UNKNOWN)
        if current is _UNKNOWN:
            current = self._now[path] = self._state(path, digest)
        return current

    def _state(self, path: str, digest: Union[bytes, int]) -> Any:
        """A dep's state now: a folder's stamp, a module's summary hash (None: gone), or
        _STALE when the module changed since it was summarised."""
        if isinstance(digest, int):
            return self._stamp(path)
        stat = self._stat(path)
        if stat is None:
            self.store.forget(path)
            return None
        if self.cached_digest is not None:
            digest = self.cached_digest(path, *stat)
            if digest is not None:
                return digest
        row = self.store.row(path)
        if row is not None and row[0] == stat[0] and row[1] == stat[1]:
            return row[3]
        return _STALE

    def _still_right(self, key: str, deps: Deps) -> Optional[Deps]:
        """The deps as they are now, if what the answers read of each changed one is the
        same; None when it is not (or what they read is not kept)."""
        reads = self.store.reads(key)
        if not isinstance(reads, dict):
            return None
        fresh = []
        for path, digest in deps:
            current = self._now_state(path, digest)
            if current == digest:
                fresh.append((path, digest))
                continue
            kept = reads.get(path)
            if current is None or current is _STALE or not isinstance(kept, tuple):
                return None
            names, seen = kept
            if isinstance(digest, int):  # a folder: the modules looked for are still not there
                if self._appeared(path, names):
                    return None
                self.store.add_absent(path, names)
            else:
                known, summary = self.store.summary(path)
                if not known or self._read_digest(path, names, summary) != seen:
                    return None
            fresh.append((path, current))
        return tuple(fresh)

    def _read_digest(
        self, path: str, names: tuple[str, ...], summary: Optional[ModuleSummary]
    ) -> bytes:
        key = (path, names)
        digest = self._read_digests.get(key)
        if digest is None:
            digest = self._read_digests[key] = read_digest(summary, names)
        return digest

    # --- folders where a module looked for and not found would appear --------------------
    def _stamp(self, folder: str) -> Optional[int]:
        """The folder's stamp: its mtime when a module looked for there last appeared (or
        when it was first watched). A file made there that no answer looked for (an
        editor's swap file, a report) leaves the stamp, and the answers, as they were."""
        stamp = self._stamps.get(folder, _UNKNOWN)
        if stamp is _UNKNOWN:
            mtime = self._mtime(folder)
            row = self.store.folder_row(folder)
            if mtime is None:
                stamp = None
            elif row is not None and row[0] == mtime:
                stamp = row[1]
            else:
                watched = self.store.absent(folder) if row is not None else None
                unchanged = watched is not None and not self._appeared(folder, watched)
                stamp = row[1] if unchanged and row is not None else mtime
                self.store.put_folder(folder, mtime, stamp)
            self._stamps[folder] = stamp
        return stamp  # type: ignore[no-any-return]

    def _appeared(self, folder: str, modules: Iterable[str]) -> bool:
        """Whether one of `modules`, not found when looked for, may now be found: its
        path goes through an entry of `folder` (one listing a folder), and then the index
        finds it."""
        listing = self._listing(folder)
        if listing is None:
            return True  # the folder is gone: let the answers be made again
        prefix = os.path.join(folder, "")
        # the roots the folder was watched for: a folder is watched inside a root
        roots = [r for r in self.index.roots if folder == r or prefix.startswith(r + os.sep)]
        for module in modules:
            relative = module.replace(".", os.sep)
            for root in roots:
                full = os.path.join(root, relative)
                if full == folder:
                    entry = "__init__.py"
                elif full.startswith(prefix):
                    head, sep, _ = full[len(prefix) :].partition(os.sep)
                    entry = head if sep or head in listing else head + ".py"
                else:
                    continue
                if entry in listing and self.index.path_of(module) is not None:
                    return True
        return False

    def _listing(self, folder: str) -> Optional[frozenset[str]]:
        if folder not in self._listings:
            try:
                self._listings[folder] = frozenset(os.listdir(folder))
            except OSError:
                self._listings[folder] = None
        return self._listings[folder]

    def _mtime(self, folder: str) -> Optional[int]:
        mtime = self._mtimes.get(folder, _UNKNOWN)
        if mtime is _UNKNOWN:
            try:
                mtime = os.stat(folder).st_mtime_ns
            except OSError:
                mtime = None
            self._mtimes[folder] = mtime
        return mtime  # type: ignore[no-any-return]

    # --- questions and what the linted files taught ---------------------------------------
    def prepare(
        self,
        paths: Sequence[str],
        table: Sequence[str] = (),
        stored: Sequence[Any] = (),
        done: Callable[[], bool] = _never,
    ) -> None:
        """Load now what learning these files' summaries and answering their questions will
        read; work out the state of every dep in `table` but theirs; load what the answers
        in `stored` read of them (`reuse` is given the same table and answers, and reads
        that when a summary changed). The engine calls this while another process lints
        the files, and `done` says when that is over: what is left is then done on demand,
        as without this. Most needed first."""
        linted = {os.path.abspath(path) for path in paths}
        self.store.prefetch(linted)
        self.index  # noqa: B018  (built on first use)
        packed = self._packed_states(table)
        reading_linted: set[int] = set()
        for i, dep in enumerate(table):
            if dep in linted:
                reading_linted.add(i)
            elif i not in packed:
                if i % 256 == 0 and done():
                    return
                packed[i]  # worked out on first use
        for key, links in stored if reading_linted else ():
            with contextlib.suppress(Exception):  # a damaged entry: `reuse` sees to it
                if not reading_linted.isdisjoint(links[0]):
                    if done():
                        return
                    self.store.reads(key)

    def _packed_states(self, table: Sequence[str]) -> _Packed:
        if self._packed is None or self._packed.table is not table:
            self._packed = _Packed(self, table)
        return self._packed

    def ask(self, path: str, candidates: Sequence[Candidate]) -> None:
        self._questions[os.path.abspath(path)] = list(candidates)

    @property
    def asked(self) -> bool:
        return bool(self._questions)

    def questions(self, path: str) -> list[Candidate]:
        return self._questions.get(os.path.abspath(path), [])

    def ask_again(self, path: str, key: str, content: bytes) -> bool:
        """Ask a cached file's stored questions again; False when they are not kept."""
        stored = self.store.questions(key, content)
        if stored is None:
            return False
        self.ask(path, [Candidate.from_tuple(path, t) for t in stored])
        self.counts["asked"] += 1
        return True

    def keep(self, path: str, content: bytes, answer: Answer) -> None:
        """Remember a linted file's questions, and what its answers read."""
        key = os.path.abspath(path)
        self.store.put_questions(key, content, tuple(c.to_tuple() for c in self.questions(path)))
        self.store.put_reads(key, answer.reads)

    def learn(self, item: Summarised) -> bytes:
        """A linted file's own summary (made in its check); returns the summary hash."""
        path, mtime_ns, size, content, summary = item
        key = os.path.abspath(path)
        self._now.pop(key, None)
        return self.store.put(key, mtime_ns, size, content, summary)

    # --- answers -------------------------------------------------------------------------
    def answer(
        self, summarise_paths: SummarisePaths, place: PlaceFindings = place_here
    ) -> dict[str, Answer]:
        """The answers to the questions asked: the yeses, placed by `place` in one batch
        (placing parses the file again: the engine may do it in its prefork worker)."""
        if not any(self._questions.values()):
            return {path: Answer((), ()) for path in self._questions}
        summaries: dict[str, Optional[ModuleSummary]] = {}
        for _ in range(_MAX_ROUNDS):
            graph = Graph(self.index, summaries)
            reached = {
                path: graph.reach_reads(t for c in asked for t in c.targets)[1]
                for path, asked in self._questions.items()
            }
            if not graph.missing:
                break
            self._load(sorted(graph.missing), graph.wanted, summaries, summarise_paths)
        yeses: list[tuple[str, Unplaced]] = []
        for path, asked in self._questions.items():
            module = self.index.name_of(path)
            for candidate in asked:
                target, *conditions = candidate.targets
                chain = graph.chain(target)
                if chain is None or any(graph.chain(c) is None for c in conditions):
                    continue
                yeses.append((path, candidate.with_chain(chain.render(module))))
        findings: dict[str, list[Finding]] = {path: [] for path in self._questions}
        placed = place([yes for _, yes in yeses]) if yeses else []
        for (path, _), finding in zip(yeses, placed):
            if finding not in findings[path]:  # a class with two protocol bases
                findings[path].append(finding)
        return {
            path: Answer(tuple(findings[path]), *self._deps(reached[path], summaries))
            for path in self._questions
        }

    def _deps(
        self, reads: Iterable[Read], summaries: dict[str, Optional[ModuleSummary]]
    ) -> tuple[Deps, Reads]:
        names: dict[str, set[str]] = {}
        absent: set[str] = set()
        for module, name in reads:
            if name is None:
                absent.add(module)
            else:
                names.setdefault(module, set()).add(name)
        deps: list[tuple[str, Union[bytes, int]]] = []
        kept: Reads = {}
        for module in sorted(names):
            path = self.index.path_of(module)
            if path is None:  # pragma: no cover - a module read has a file
                absent.add(module)
                continue
            summary = summaries.get(module)
            digest = self._digests.get(path)
            if digest is None:
                digest = self._digests[path] = summary.digest() if summary is not None else b""
            read = tuple(sorted(names[module]))
            deps.append((path, digest))
            kept[path] = (read, self._read_digest(path, read, summary))
        folders: dict[str, list[str]] = {}
        for module in sorted(absent):
            for folder in self._folders_of(module):
                folders.setdefault(folder, []).append(module)
        for folder in sorted(folders):
            stamp = self._stamp(folder)
            if stamp is not None:
                deps.append((folder, stamp))
                kept[folder] = (tuple(folders[folder]), None)
                self.store.add_absent(folder, folders[folder])
        return tuple(deps), kept

    def _folders_of(self, module: str) -> list[str]:
        """The folders whose listing changes if `module` comes to be, in any root: the
        nearest existing folder above `pkg/mod.py`, and above `pkg/mod/__init__.py`."""
        if not module or not all(part.isidentifier() for part in module.split(".")):
            return []  # never a module (ModuleIndex.path_of)
        relative = module.replace(".", os.sep)
        found = []
        for root in self.index.roots:
            for folder in (
                os.path.dirname(os.path.join(root, relative)),
                os.path.join(root, relative),
            ):
                while len(folder) > len(root) and self._mtime(folder) is None:
                    folder = os.path.dirname(folder)
                if folder not in found:
                    found.append(folder)
        return found

    def _load(
        self,
        modules: Sequence[str],
        wanted: dict[str, set[str]],
        summaries: dict[str, Optional[ModuleSummary]],
        summarise_paths: SummarisePaths,
    ) -> None:
        """Summaries of `modules`, for the names `wanted` from each: from the store while
        their files look the same (mtime and size, as the findings cache) and the stored
        summary has those names, else made for those names and joined to the stored one
        (`_summarise_paths`), in full after a few rounds in a run."""
        todo: list[SummaryWanted] = []
        for module in modules:
            path = self.index.path_of(module)
            earlier = summaries.get(module)
            summaries[module] = None  # unreadable, unparsable or gone: chains stop there
            if path is None:
                continue
            names = frozenset(wanted.get(module, ()))
            stat = self._stat(path)
            row = self.store.row(path)
            if earlier is None and stat is not None and row is not None and row[:2] == stat:
                known, summary = self.store.summary(path)
                if known and _serves(summary, names):
                    summaries[module] = summary
                    continue
            rounds = self._partial_rounds[path] = self._partial_rounds.get(path, 0) + 1
            todo.append((path, module, names or None if rounds <= _PARTIAL_ROUNDS else None))
        named = {path: module for path, module, _ in todo}
        for path, summary in self._summarise_paths(todo, summarise_paths).items():
            summaries[named[path]] = summary

    def _summarise_again(self, paths: Sequence[str], summarise_paths: SummarisePaths) -> None:
        """Bring the stored summaries of changed modules up to date, and their state: for
        the names the stored summary had."""
        todo: list[SummaryWanted] = []
        for path in paths:
            known, summary = self.store.summary(path)
            todo.append((path, self.index.name_of(path), _grown(summary if known else None)))
        self._summarise_paths(todo, summarise_paths)
        for path in paths:
            self._now[path] = self._state(path, b"")

    def _summarise_paths(
        self, todo: Sequence[SummaryWanted], summarise_paths: SummarisePaths
    ) -> dict[str, Optional[ModuleSummary]]:
        """Summaries of files: a file touched but with the same bytes keeps its stored
        summary (if it has the names wanted); the rest are summarised (parsed) by the pool.
        A stored summary made for other names of the same bytes is joined to the new one,
        which is made for the names wanted alone: a module read again in a run for one
        more name parses little more than its imports."""
        from asynccheck.lint.cache import content_hash

        done: dict[str, Optional[ModuleSummary]] = {}
        parse: list[SummaryWanted] = []
        partial: dict[str, tuple[bytes, ModuleSummary]] = {}  # path -> (content, stored)
        for path, module, names in todo:
            row = self.store.row(path)
            if row is not None:
                try:
                    st = os.stat(path)
                    with open(path, "rb") as f:
                        content = content_hash(f.read())
                except OSError:
                    self.store.forget(path)
                    continue
                known, summary = self.store.summary(path) if content == row[2] else (False, None)
                if known and _serves(summary, names):
                    self.stats[path] = (st.st_mtime_ns, st.st_size)
                    self.store.put(path, st.st_mtime_ns, st.st_size, content, summary)
                    done[path] = summary
                    continue
                if known and summary is not None and summary.elided and names is not None:
                    partial[path] = (content, summary)
            parse.append((path, module, names))
        for path, mtime_ns, size, content, summary in summarise_paths(parse):
            self.counts["summarised"] += 1
            stored = partial.get(path)
            if stored is not None and stored[0] == content and summary is not None:
                summary = stored[1].joined(summary)
            if content:  # read; else it vanished meanwhile
                self.stats[path] = (mtime_ns, size)
                self.store.put(path, mtime_ns, size, content, summary)
            else:
                self.store.forget(path)
            done[path] = summary
        return done


def _serves(summary: Optional[ModuleSummary], names: Optional[frozenset[str]]) -> bool:
    """Whether a summary answers reads of `names` (None: of every name)."""
    if summary is None:
        return True  # the file cannot be parsed: no summary has more to say
    return not summary.elided if names is None else summary.covers(names)


def _grown(
    earlier: Optional[ModuleSummary], names: frozenset[str] = frozenset()
) -> Optional[frozenset[str]]:
    """The names to summarise a module for: `names` and those an earlier summary made for
    some names had. None (all) when the earlier one had all, or without names."""
    if earlier is not None and not earlier.elided:
        return None
    if earlier is None:
        return names or None
    return names | earlier.kept_names()


def _package_roots(files: Sequence[str]) -> list[str]:
    """The roots `ModuleIndex.around` finds (the folder above each file's top package, in
    the order of the files), asking the disk only about folders the files do not show to
    be packages: it stat'ed each package above each file (HA: 11,000 files, 0.1 s)."""
    known = set(files)
    tops: dict[str, str] = {}

    def top(folder: str) -> str:
        found = tops.get(folder)
        if found is None:
            init = os.path.join(folder, "__init__.py")
            if not folder:  # the current folder, reached from relative paths
                found = top(os.getcwd())
            elif init in known or os.path.isfile(init):
                parent = os.path.dirname(folder)
                found = folder if parent == folder else top(parent)
            else:
                found = folder
            tops[folder] = found
        return found

    roots: list[str] = []
    folders: set[str] = set()
    folders_done: set[str] = set()  # tops already made roots
    for path in files:
        folder = path.rpartition(os.sep)[0]  # dirname, ten times cheaper
        if folder not in folders:
            if not folder and path.startswith(os.sep):
                folder = os.sep
            folders.add(folder)
            found = top(folder)
            if found not in folders_done:
                folders_done.add(found)
                root = os.path.abspath(found)
                if root not in roots and os.path.isdir(root):
                    roots.append(root)
    return roots


# --- deps as the findings cache keeps them ------------------------------------------------
_ZERO = bytes(16)  # the summary hash of a module that cannot be read ("")
_NEVER = b"!"  # the state of a module gone or changed: no stored state has its width


def pack(state: Any) -> bytes:
    """A dep's state in fixed width: 16 bytes for a summary hash, 8 for a folder's stamp."""
    if isinstance(state, int):
        return state.to_bytes(8, "little", signed=True)
    if isinstance(state, bytes):
        return state or _ZERO
    return _NEVER


def encode(deps: Deps, index_of: Callable[[str], int]) -> tuple[tuple[int, ...], bytes]:
    """(indexes of the dep paths, their states packed in one bytes); a folder's path
    ends with a separator in the table."""
    indexes = tuple(
        index_of(path + os.sep if isinstance(state, int) else path) for path, state in deps
    )
    return indexes, b"".join(pack(state) for _, state in deps)


def decode(indexes: Sequence[int], states: bytes, table: Sequence[str]) -> Deps:
    deps: list[tuple[str, Union[bytes, int]]] = []
    at = 0
    for i in indexes:
        path = table[i]
        if path.endswith(os.sep):
            deps.append((path[:-1], int.from_bytes(states[at : at + 8], "little", signed=True)))
            at += 8
        else:
            digest = states[at : at + 16]
            deps.append((path, b"" if digest == _ZERO else digest))
            at += 16
    if at != len(states):
        raise ValueError("damaged deps")
    return tuple(deps)


class _Packed(dict):  # type: ignore[type-arg]
    """Index in the table of dep paths -> the dep's state now, packed; made on first use."""

    def __init__(self, step: ProjectStep, table: Sequence[str]) -> None:
        super().__init__()
        self.step, self.table = step, table

    def __missing__(self, i: int) -> bytes:
        path = self.table[i]
        step = self.step
        stat = step.stats.get(path)
        if stat is not None and step.cached_digest is not None:  # a linted file: most deps
            digest = step.cached_digest(path, *stat)
            if digest is not None:
                packed = self[i] = digest or _ZERO
                return packed
        if path.endswith(os.sep):
            state = step._now_state(path[:-1], 0)
        else:
            state = step._now_state(path, b"")
        packed = self[i] = pack(state)
        return packed
