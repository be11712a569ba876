"""Cross-file findings (AC110) in the editor: the project layer (`lint.project`) asked with
the workspace's files, where an open buffer wins over the file on disk, and a module that
exists only as an open buffer (a new file never saved) counts as a module.

The file being linted is checked once (its own findings, its questions about other modules
and its summary from the same parse); the modules its questions reach are summarised from
their current text, remembered by content, so typing in one file re-reads no other. The
rounds are the project step's (`ProjectStep.answer`: look up, summarise what is missing,
look up again) without its store, which reads every module from disk to hash it.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from asynccheck._hash import blake2b
from asynccheck.lint.finding import Finding
from asynccheck.server.locations import Definitions, Place

try:  # the project layer: when this asynccheck has none, files are linted on their own
    from asynccheck.lint.project import candidates as _candidates
    from asynccheck.lint.project.graph import Graph
    from asynccheck.lint.project.index import ModuleIndex, module_of_path
except ImportError:  # pragma: no cover - an older engine
    _candidates = None

TextOf = Callable[[str], Optional[str]]  # a workspace file's text: open buffer, else disk
OpenPaths = Callable[[], Iterable[str]]  # the paths of the open buffers
_MAX_REMEMBERED = 4096
_MAX_ROUNDS = 64  # as the project step: chains deeper than this stop


@dataclass(frozen=True)
class Step:
    """One def of an AC110 chain, for the diagnostic's relatedInformation."""

    path: str
    place: Place  # where its name is, in the text the chain was read from
    message: str


@dataclass(frozen=True)
class Answered:
    findings: tuple[Finding, ...]
    chains: dict[tuple[int, int], tuple[Step, ...]]  # by the finding's (row, column)
    reads: frozenset[str] = frozenset()  # the files whose change may change the answer
    absent: frozenset[str] = frozenset()  # files looked for and not found: ... if they come


def module_of(path: Optional[str]) -> tuple[Optional[str], bool]:
    """The module a file is (None: the project is not asked), and whether it is a package."""
    if _candidates is None or path is None or not path.endswith(".py"):
        return None, False
    return module_of_path(path)[0] or None, os.path.basename(path) == "__init__.py"


def split(findings: Iterable[Finding]) -> tuple[list[Finding], list[Any]]:
    """(the file's own findings, its questions about other modules)."""
    if _candidates is None:
        return list(findings), []
    return _candidates.split(findings)


def _digest(text: str) -> bytes:
    return blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()


@dataclass
class Summaries:
    """Module summaries by (path, text): shared by every lint of the session."""

    _known: dict[tuple[str, bytes], Any] = field(default_factory=dict)

    def get(self, checker: Any, path: str, text: str, module: str) -> Any:
        key = (path, _digest(text))
        if key not in self._known:
            if len(self._known) > _MAX_REMEMBERED:
                self._known.clear()
            package = os.path.basename(path) == "__init__.py"
            self._known[key] = checker.summary_of(text, module, package)
        return self._known[key]


if _candidates is not None:

    @dataclass
    class WorkspaceIndex(ModuleIndex):
        """The project's index, where an open buffer that is not on disk is a module too
        (`pkg/storage.py` typed but never saved answers `pkg.storage`). The files looked for
        and not found are kept: opening one of them may change the answers."""

        unsaved: frozenset[str] = frozenset()  # absolute paths of open buffers
        absent: set[str] = field(default_factory=set)
        _buffers: dict[str, Optional[str]] = field(default_factory=dict)

        def path_of(self, module: str) -> Optional[str]:
            found = super().path_of(module)
            if found is not None:
                return found
            if module not in self._buffers:
                self._buffers[module] = self._buffer_of(module)
            return self._buffers[module]

        def _buffer_of(self, module: str) -> Optional[str]:
            if not module or not all(part.isidentifier() for part in module.split(".")):
                return None
            relative = module.replace(".", os.sep)
            for root in self.roots:
                for candidate in (
                    os.path.join(root, relative + ".py"),
                    os.path.join(root, relative, "__init__.py"),
                ):
                    if candidate in self.unsaved:
                        return candidate
                    self.absent.add(candidate)
            return None


@dataclass(frozen=True)
class Workspace:
    """What the project step reads: texts (buffer or disk), open buffers, summaries."""

    text_of: TextOf
    open_paths: OpenPaths
    summaries: Summaries
    definitions: Definitions


def answer(
    path: str,
    text: str,
    questions: Sequence[Any],
    own: Any,
    checker: Any,
    config_root: Optional[str],
    workspace: Workspace,
) -> Answered:
    """The questions that lead to a blocking call, as findings naming their chain."""
    me = os.path.abspath(path)
    index = WorkspaceIndex.around([me], config_root)
    index.unsaved = frozenset(os.path.abspath(p) for p in workspace.open_paths())
    targets = [q.target for q in questions]
    summaries: dict[str, Any] = {}
    for _ in range(_MAX_ROUNDS):
        graph = Graph(index, summaries)
        _, touched = graph.reach(targets)
        if not graph.missing:
            break
        for module in sorted(graph.missing):
            summaries[module] = _summary(module, index, me, own, checker, workspace)
    reads = frozenset(p for p in map(index.path_of, touched) if p is not None)
    origin = index.name_of(me)
    found: list[Finding] = []
    chains: dict[tuple[int, int], tuple[Step, ...]] = {}
    for question in questions:
        chain = graph.chain(question.target)
        if chain is None:
            continue
        found.append(question.answered(chain.render(origin)))
        where = question.finding.location
        chains[(where.row, where.column)] = _steps(chain.hops, index, me, text, workspace)
    return Answered(tuple(found), chains, reads, frozenset(index.absent))


def _summary(module: str, index: Any, me: str, own: Any, checker: Any, workspace: Workspace) -> Any:
    """A module's summary from its current text; None when it cannot be found or read."""
    path = index.path_of(module)
    if path is None:
        return None
    if os.path.abspath(path) == me:
        return own
    text = workspace.text_of(path)
    return None if text is None else workspace.summaries.get(checker, path, text, module)


def _steps(
    hops: Sequence[tuple[str, str]], index: Any, me: str, text: str, workspace: Workspace
) -> tuple[Step, ...]:
    """Where each def of the chain is defined, as the project's own scopes name it
    (`Repo.get` is the `get` of class `Repo`, not the first `def get` in the file)."""
    out = []
    for module, qualname in hops:
        path = index.path_of(module)
        if path is None:
            continue
        source = text if os.path.abspath(path) == me else workspace.text_of(path) or ""
        is_package = os.path.basename(path) == "__init__.py"
        place = workspace.definitions.place(path, source, module, is_package, qualname)
        out.append(Step(path, place, f"{module}.{qualname}()"))
    return tuple(out)
