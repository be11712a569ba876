"""The project's call graph across modules, built from summaries on demand.

A dotted name is looked up the way Python would find it: the longest prefix that is a
project module, then a def, a class (calling it runs `__init__`), a method through the
class's bases, or an import of that module (a re-export) followed on. Every module read on
the way is recorded, so the cache knows which summaries a file's findings depend on. A
module not summarised yet, or summarised for other names only (`ModuleSummary.elided`), is
noted in `missing` with the names `wanted` there, and the lookup fails for now; the caller
summarises those and builds a new graph. Cycles and long re-export chains just stop.

What was read is recorded finely, as (module, name) pairs: the cache checks a stored
answer against the parts of a changed summary it read (`read_digest`), so a new def in a
helper every integration imports leaves their answers alone. A module name looked for and
not found is recorded as (name, None): a module that appears later may change the answer.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Optional

from asynccheck._hash import blake2b
from asynccheck.lint.project.index import ModuleIndex
from asynccheck.lint.project.summary import DefSummary, ModuleSummary, wanted_name

Node = tuple[str, str]  # (module, qualname) of a def
_MAX_HOPS = 12
# Bases that add no methods a project class could inherit by surprise.
_EMPTY_BASES = frozenset(
    (
        "builtins.object",
        "typing.Generic",
        "abc.ABC",
        "typing.Protocol",
        "typing_extensions.Protocol",
    )
)
_Found = Optional[tuple[str, str, str]]  # ("def" | "class", module, qualname)
# (module, name read in its summary); (module, "") for the summary itself (None when the
# module cannot be read); (module, None) for a module name looked for and not found.
Read = tuple[str, Optional[str]]
_NOT_LOADED: Any = object()


@dataclass(frozen=True)
class Chain:
    hops: tuple[Node, ...]  # the defs from the called one to the one that blocks
    code: str  # the blocking call's code (AC104 ...)
    call: str  # the blocking call as it reads ("open")

    def render(self, origin: str) -> str:
        """`storage.save_order() -> open()`; defs of `origin` itself without a module."""
        return " -> ".join([*(_hop_text(node, origin) for node in self.hops), f"{self.call}()"])


def _hop_text(node: Node, origin: str) -> str:
    module, qualname = node
    if qualname.endswith(".__init__"):
        qualname = qualname[: -len(".__init__")]
    return f"{qualname}()" if module == origin else f"{module.rsplit('.', 1)[-1]}.{qualname}()"


@dataclass
class Graph:
    index: ModuleIndex
    summaries: Mapping[str, Optional[ModuleSummary]]  # None: the module could not be read
    missing: set[str] = field(default_factory=set)
    # by module in `missing`: the names looked up there, `Class.method` at most (a summary
    # made for some names only is made again when a name it left out is read)
    wanted: dict[str, set[str]] = field(default_factory=dict)
    _lookups: dict[str, tuple[Optional[Node], frozenset[Read]]] = field(default_factory=dict)
    _edges: dict[Node, tuple[tuple[Node, ...], frozenset[Read]]] = field(default_factory=dict)
    _hops: Optional[dict[Node, Optional[Node]]] = None

    # --- names to defs -------------------------------------------------------------------
    def lookup(self, dotted: str) -> tuple[Optional[Node], frozenset[Read]]:
        """The def a call of `dotted` runs, and what was read to find out."""
        known = self._lookups.get(dotted)
        if known is None:
            touched: set[Read] = set()
            found = self._find(dotted, touched, 0)
            node: Optional[Node] = None
            if found is not None:
                kind, module, qualname = found
                node = (
                    (module, qualname)
                    if kind == "def"
                    else self._method(module, qualname, "__init__", touched, 0)
                )
            known = self._lookups[dotted] = (node, frozenset(touched))
        return known

    def _summary(
        self, module: str, name: str, touched: set[Read], member: str = ""
    ) -> Optional[ModuleSummary]:
        """The module's summary, to read `name` in it; None for now when it is not
        summarised yet or was summarised without `name` (then it is `missing`, wanted for
        `name` and, when the read is for a class's `member`, for `name.member` too)."""
        touched.add((module, ""))
        summary = self.summaries.get(module, _NOT_LOADED)
        if summary is _NOT_LOADED or (summary is not None and not summary.covers((name,))):
            self.missing.add(module)
            wanted = self.wanted.setdefault(module, set())
            wanted.add(wanted_name(name))
            if member and "." not in name:
                wanted.add(f"{name}.{member}")
            return None
        return summary  # type: ignore[no-any-return]

    def _find(self, dotted: str, touched: set[Read], depth: int, member: str = "") -> _Found:
        """What `dotted` names; `member`: the attribute of it the caller reads next (a
        base class's method), wanted with it when its module is not summarised yet."""
        if depth > _MAX_HOPS:
            return None
        split = self.index.split(dotted)
        _absent(dotted, split[0] if split is not None else None, touched)
        if split is None:
            return None
        module, rest = split
        summary = self._summary(module, rest, touched, member)
        if summary is None:
            return None
        touched.add((module, rest))
        if rest in summary.defs:
            return ("def", module, rest)
        if rest in summary.classes:
            return ("class", module, rest)
        head, _, tail = rest.partition(".")
        touched.add((module, head))
        if head in summary.classes and tail and "." not in tail:  # `Repo.get`
            node = self._method(module, head, tail, touched, depth)
            return ("def", *node) if node is not None else None
        target = summary.imports.get(head)
        if target is not None and target != dotted:
            return self._find(f"{target}.{tail}" if tail else target, touched, depth + 1, member)
        touched.add((module, "*"))
        for key, star in summary.imports.items():
            if key.startswith("*"):
                found = self._find(f"{star}.{rest}", touched, depth + 1, member)
                if found is not None:
                    return found
        return None

    def _method(
        self, module: str, cls: str, attr: str, touched: set[Read], depth: int
    ) -> Optional[Node]:
        """`attr` of class `cls`, from the class or its bases (depth first); None when a
        base outside the project might define it, or an attribute of that name wins. A
        mark that is not a name (`lint.onloop.PROTOCOL_MARK`) is looked for in every base:
        no base outside the project has it."""
        if depth > _MAX_HOPS:
            return None
        summary = self._summary(module, f"{cls}.{attr}", touched)
        if summary is None:
            return None
        touched.add((module, cls))
        touched.add((module, f"{cls}.{attr}"))
        if cls not in summary.classes:
            return None
        if f"{cls}.{attr}" in summary.defs:
            return (module, f"{cls}.{attr}")
        info = summary.classes[cls]
        if attr in info.attributes or f"self.{attr}" in info.attributes:
            return None
        mark = not attr.isidentifier()  # no class outside the project can have it
        for base in info.bases:
            if base in _EMPTY_BASES:
                continue
            found = self._find(base, touched, depth + 1, attr) if base else None
            if found is None or found[0] != "class":
                if mark:
                    continue
                return None
            node = self._method(found[1], found[2], attr, touched, depth + 1)
            if node is not None:
                return node
        return None

    # --- defs to chains ------------------------------------------------------------------
    def _def(self, node: Node) -> Optional[DefSummary]:
        summary = self.summaries.get(node[0])
        return summary.defs.get(node[1]) if summary is not None else None

    def successors(self, node: Node) -> tuple[tuple[Node, ...], frozenset[Read]]:
        known = self._edges.get(node)
        if known is None:
            found: list[Node] = []
            touched: set[Read] = {(node[0], ""), node}
            info = self._def(node)
            for call in info.calls if info is not None and info.followed else ():
                callee, read = self.lookup(call)
                touched |= read
                if callee is not None and callee not in found:
                    found.append(callee)
            known = self._edges[node] = (tuple(found), frozenset(touched))
        return known

    def reach(self, targets: Iterable[str]) -> tuple[set[Node], set[str]]:
        """The defs the calls of `targets` can run, and every module read to know it."""
        nodes, reads = self.reach_reads(targets)
        return nodes, {module for module, name in reads if name is not None}

    def reach_reads(self, targets: Iterable[str]) -> tuple[set[Node], set[Read]]:
        """The defs the calls of `targets` can run, and everything read to know it."""
        nodes: set[Node] = set()
        modules: set[Read] = set()
        todo: list[Node] = []
        for target in targets:
            node, read = self.lookup(target)
            modules |= read
            if node is not None and node not in nodes:
                nodes.add(node)
                todo.append(node)
        while todo:
            successors, read = self.successors(todo.pop())
            modules |= read
            for node in successors:
                if node not in nodes:
                    nodes.add(node)
                    todo.append(node)
        return nodes, modules

    def chain(self, target: str) -> Optional[Chain]:
        """The shortest chain from a call of `target` to a blocking call, if it blocks."""
        start, _ = self.lookup(target)
        if start is None:
            return None
        hops = self._shortest_hops()
        if start not in hops:
            return None
        path = [start]
        while True:
            following = hops[path[-1]]
            if following is None or len(path) > len(hops):
                break
            path.append(following)
        info = self._def(path[-1])
        if info is None or info.blocking is None:
            return None
        return Chain(tuple(path), *info.blocking)

    def _shortest_hops(self) -> dict[Node, Optional[Node]]:
        """For every def explored so far that blocks: the next def on a shortest chain
        (None for a def that blocks itself). Backwards breadth-first from the blocking
        defs; ties go to the call made first."""
        if self._hops is not None:
            return self._hops
        callers: dict[Node, list[tuple[Node, int]]] = {}
        hops: dict[Node, Optional[Node]] = {}
        for node, (successors, _) in self._edges.items():
            for order, callee in enumerate(successors):
                callers.setdefault(callee, []).append((node, order))
        for node in set(self._edges) | set(callers):
            info = self._def(node)
            if info is not None and info.followed and info.blocking is not None:
                hops[node] = None
        frontier = list(hops)
        while frontier:
            best: dict[Node, tuple[int, Node]] = {}
            for callee in frontier:
                for caller, order in callers.get(callee, ()):
                    if caller in hops:
                        continue
                    if caller not in best or order < best[caller][0]:
                        best[caller] = (order, callee)
            for caller, (_, callee) in best.items():
                hops[caller] = callee
            frontier = sorted(best)
        self._hops = hops
        return hops


def _absent(dotted: str, found: Optional[str], touched: set[Read]) -> None:
    """The module names `index.split` looked for and did not find: the prefixes of
    `dotted` longer than the module found (all of them when none was)."""
    parts = dotted.split(".")
    shortest = found.count(".") + 2 if found is not None else 1
    for cut in range(shortest, len(parts)):
        touched.add((".".join(parts[:cut]), None))


def read_view(summary: Optional[ModuleSummary], name: str) -> Any:
    """What a read of `name` in a module's summary saw (the graph reads nothing else)."""
    if summary is None:
        return None
    if name == "":
        return ()
    if name == "*":
        return tuple(sorted((k, v) for k, v in summary.imports.items() if k.startswith("*")))
    if not summary.covers((name,)):
        return ("left out",)  # never what a summary that has it says
    info = summary.defs.get(name)
    cls = summary.classes.get(name)
    return (
        None if info is None else (info.followed, info.blocking, tuple(info.calls)),
        None if cls is None else (tuple(cls.bases), tuple(sorted(cls.attributes))),
        summary.imports.get(name),
    )


def read_digest(summary: Optional[ModuleSummary], names: Iterable[str]) -> bytes:
    """A hash of what reads of `names` saw: the same while those parts are the same."""
    seen = repr([(name, read_view(summary, name)) for name in sorted(names)])
    return blake2b(seen.encode("utf-8", "surrogatepass"), digest_size=16).digest()
