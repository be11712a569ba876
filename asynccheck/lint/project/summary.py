"""What other modules need to know about one module: small, frozen, picklable, marshal-able.

A summary says, for each plain def, whether it makes a blocking call itself and which
project names it calls; for each class, its bases and the names that are not methods; and
the module's imports (so a re-export through `__init__.py` can be followed). It is built
from the same walk that checks the file (`summarise`) and cached by content hash.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Optional

from asynccheck._hash import blake2b

_FORMAT = 3  # 2: a protocol class has a lint.onloop.PROTOCOL_MARK def; 3: `elided`


@dataclass(frozen=True)
class DefSummary:
    """A function or method. `followed` is False for what the caller does not run now, on
    its own thread: `async def`, a decorator that may move it, a generator."""

    followed: bool
    blocking: Optional[tuple[str, str]] = None  # (code, "open") of its first blocking call
    calls: tuple[str, ...] = ()  # dotted names it calls, first call first


@dataclass(frozen=True)
class ClassSummary:
    bases: tuple[str, ...]  # dotted names; "" for a base that is not a plain name
    # names the class binds that are not its methods (`x = ...`, `self.x = ...`): an
    # attribute there wins over a base's method of that name
    attributes: frozenset[str] = frozenset()


@dataclass(frozen=True)
class ModuleSummary:
    module: str
    defs: Mapping[str, DefSummary] = field(default_factory=dict)  # by qualname
    classes: Mapping[str, ClassSummary] = field(default_factory=dict)
    imports: Mapping[str, str] = field(default_factory=dict)  # module-level name -> dotted
    # Top-level defs and classes left out of a summary made for some names only
    # (`project.skim`): a read of one of them needs the module summarised again.
    elided: frozenset[str] = frozenset()

    def covers(self, names: Iterable[str]) -> bool:
        """Whether reads of these names (or of what they hold: `Class.method`) are answered."""
        return not self.elided or not any(name.partition(".")[0] in self.elided for name in names)

    def top_level_names(self) -> frozenset[str]:
        """The top-level defs and classes this summary has."""
        return frozenset(name.partition(".")[0] for name in (*self.defs, *self.classes))

    def to_tuple(self) -> tuple[Any, ...]:
        defs = tuple(
            (name, d.followed, d.blocking, d.calls) for name, d in sorted(self.defs.items())
        )
        classes = tuple(
            (name, c.bases, tuple(sorted(c.attributes))) for name, c in sorted(self.classes.items())
        )
        imports = tuple(sorted(self.imports.items()))
        return (_FORMAT, self.module, defs, classes, imports, tuple(sorted(self.elided)))

    @classmethod
    def from_tuple(cls, data: tuple[Any, ...]) -> Optional[ModuleSummary]:
        """None for anything that is not a summary of this format (a damaged cache)."""
        try:
            version, module, defs, classes, imports, elided = data
            if version != _FORMAT:
                return None
            return cls(
                module,
                {n: DefSummary(f, tuple(b) if b else None, tuple(c)) for n, f, b, c in defs},
                {n: ClassSummary(tuple(b), frozenset(a)) for n, b, a in classes},
                dict(imports),
                frozenset(elided),
            )
        except (TypeError, ValueError):
            return None

    def digest(self) -> bytes:
        """Changes exactly when what other modules can learn from this one changes."""
        return blake2b(repr(self.to_tuple()).encode(), digest_size=16).digest()
