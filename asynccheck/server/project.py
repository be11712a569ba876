"""Cross-file findings (AC110) in the editor: the project layer (`lint.project`) asked with
the workspace's files, where an open buffer wins over the file on disk.

The file being linted is checked once (its own findings, its questions about other modules
and its summary from the same parse); the modules its questions reach are summarised from
their current text, remembered by content, so typing in one file re-reads no other.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from asynccheck._hash import blake2b
from asynccheck.lint.finding import Finding

try:  # the project layer: when this asynccheck has none, files are linted on their own
    from asynccheck.lint.project import candidates as _candidates
    from asynccheck.lint.project.graph import Graph
    from asynccheck.lint.project.index import module_of_path
    from asynccheck.lint.project.step import ProjectStep
    from asynccheck.lint.project.store import SummaryStore
except ImportError:  # pragma: no cover - an older engine
    _candidates = None

TextOf = Callable[[str], Optional[str]]  # a workspace file's text: open buffer, else disk
_MAX_REMEMBERED = 4096


@dataclass(frozen=True)
class Step:
    """One place of an AC110 chain in another file, for the diagnostic's relatedInformation."""

    path: str
    row: int  # 1-based
    message: str


@dataclass(frozen=True)
class Answered:
    findings: tuple[Finding, ...]
    chains: dict[tuple[int, int], tuple[Step, ...]]  # by the finding's (row, column)
    reads: frozenset[str] = frozenset()  # the files whose change may change the answer


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


@dataclass
class Summaries:
    """Module summaries by (path, text): shared by every lint of the session."""

    _known: dict[tuple[str, bytes], Any] = field(default_factory=dict)

    def get(self, checker: Any, path: str, text: str, module: str) -> Any:
        key = (path, blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest())
        if key not in self._known:
            if len(self._known) > _MAX_REMEMBERED:
                self._known.clear()
            package = os.path.basename(path) == "__init__.py"
            self._known[key] = checker.summary_of(text, module, package)
        return self._known[key]


def answer(
    path: str,
    questions: Sequence[Any],
    own: Any,
    checker: Any,
    config_root: Optional[str],
    text_of: TextOf,
    summaries: Summaries,
) -> Answered:
    """The questions that lead to a blocking call, as findings naming their chain."""
    step = ProjectStep(SummaryStore(None, "server"), [path], config_root)
    step.ask(path, questions)
    made: dict[str, Any] = {}
    me = os.path.abspath(path)

    def summarise(items: Sequence[tuple[str, str]]) -> Iterable[Any]:
        for other, module in items:
            text = text_of(other)
            if os.path.abspath(other) == me:
                summary = own
            elif text is None:
                summary = None
            else:
                summary = summaries.get(checker, other, text, module)
            made[module] = summary
            yield (other, 0, 0, b"read" if text is not None else b"", summary)

    found = step.answer(summarise).get(me)
    if found is None:
        return Answered((), {})
    reads = frozenset(os.path.abspath(read) for read, _ in found.deps)
    if not found.findings:
        return Answered((), {}, reads)
    graph = Graph(step.index, made)
    graph.reach(q.target for q in questions)  # explores the defs chain() walks back over
    chains = {}
    for question in questions:
        chain = graph.chain(question.target)
        if chain is not None:
            where = question.finding.location
            chains[(where.row, where.column)] = _steps(chain.hops, step.index, text_of)
    return Answered(tuple(found.findings), chains, reads)


def _steps(hops: Sequence[tuple[str, str]], index: Any, text_of: TextOf) -> tuple[Step, ...]:
    """Where each def of the chain is; a def that cannot be found points at its file."""
    out = []
    for module, qualname in hops:
        path = index.path_of(module)
        if path is None:
            continue
        name = qualname.rsplit(".", 1)[-1]
        out.append(Step(path, _def_row(text_of(path) or "", name), f"{module}.{qualname}()"))
    return tuple(out)


def _def_row(text: str, name: str) -> int:
    pattern = re.compile(rf"^[ \t]*(?:async[ \t]+)?def[ \t]+{re.escape(name)}\b", re.MULTILINE)
    match = pattern.search(text)
    return text.count("\n", 0, match.start()) + 1 if match else 1
