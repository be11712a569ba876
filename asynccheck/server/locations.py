"""Where a def of another module is, by the qualified name the project layer gives it
(`Repo.get`, `make.<locals>.inner`): for the related locations of an AC110 chain.

The summaries (`lint.project.summary`) carry no positions: they are cached by content and
compared by hash, and a position would change them at every edit above a def. So the defs of
a chain are found here, from the same scopes and qualified names the summary was made from
(`targets.ModuleNames`), and placed by the engine's positions (`lint.positions`), which
generates only the def asked for. A text search for `def get` would land on the first `get`
of the file, whatever its class. Only files with a chain pay for this, and each text once.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Optional

from asynccheck._hash import blake2b
from asynccheck.lint.finding import Position, split_lines

_MAX_REMEMBERED = 4096


@dataclass(frozen=True)
class Place:
    """A def's name: 1-based rows and characters, and its line (for the client's units)."""

    start: Position
    end: Position
    line: str


NOWHERE = Place(Position(1, 1), Position(1, 1), "")  # a def that cannot be found: the file


@dataclass
class Definitions:
    """Places of defs by (path, text, qualname), kept for the session."""

    _known: dict[tuple[str, bytes, str], Place] = field(default_factory=dict)

    def place(self, path: str, text: str, module: str, is_package: bool, qualname: str) -> Place:
        digest = blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()
        key = (path, digest, qualname)
        if key not in self._known:
            if len(self._known) > _MAX_REMEMBERED:
                self._known.clear()
            self._known[key] = find(text, module, is_package, qualname) or NOWHERE
        return self._known[key]


def find(text: str, module: str, is_package: bool, qualname: str) -> Optional[Place]:
    """The name of the def `qualname` of this module's text; None when there is none or the
    text does not parse. A name defined twice is the last definition, as in the summary."""
    from asynccheck.lint.cst import cst
    from asynccheck.lint.facts import collect
    from asynccheck.lint.positions import spans
    from asynccheck.lint.project.targets import ModuleNames

    try:
        tree = cst.parse_module(text)
    except Exception:
        return None
    facts = collect(tree)
    spelled = ModuleNames(module, is_package, facts)
    found = None
    for scope in facts.scopes.values():
        if scope.kind in ("function", "async") and spelled.qualname(scope) == qualname:
            found = scope
    if found is None:
        return None
    name = found.node.name
    span = spans(tree, text, [(tuple(_hosts(found)), [name])]).get(id(name))
    if span is None:
        return None
    lines = split_lines(text)
    line = lines[span.start_row - 1] if span.start_row <= len(lines) else ""
    return Place(
        Position(span.start_row, span.start_col), Position(span.end_row, span.end_col), line
    )


def _hosts(scope: Any) -> Iterator[Any]:
    """The def itself, then the defs and classes around it (what `spans` can generate)."""
    while scope is not None and scope.parent is not None:
        if scope.kind != "lambda":
            yield scope.node
        scope = scope.parent
