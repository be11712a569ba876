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

_FORMAT = 4  # 2: a protocol class has a lint.onloop.PROTOCOL_MARK def; 3: `elided`;
# 4: `elided` names methods too


def wanted_name(name: str) -> str:
    """What a summary is made for, to answer reads of `name`: `Class.method` at most."""
    return ".".join(name.split(".", 2)[:2])


def _heads(name: str) -> tuple[str, ...]:
    """`Class` and `Class.method` for `Class.method.<locals>.inner`."""
    head, dot, rest = name.partition(".")
    return (head, f"{head}.{rest.partition('.')[0]}") if dot else (head,)


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
    # The top-level defs and classes, and the methods (`Class.method`), left out of a
    # summary made for some names only (`project.skim`): a read of one of them, or of what
    # it holds, needs the module summarised again.
    elided: frozenset[str] = frozenset()

    def covers(self, names: Iterable[str]) -> bool:
        """Whether reads of these names (or of what they hold) are answered."""
        return not self.elided or not any(
            part in self.elided for name in names for part in _heads(name)
        )

    def left_out(self, elided: frozenset[str]) -> ModuleSummary:
        """This summary, made from a text where `elided` were stubs, without those."""
        if not elided:
            return self

        def kept(name: str) -> bool:
            return not any(part in elided for part in _heads(name))

        return ModuleSummary(
            self.module,
            {name: info for name, info in self.defs.items() if kept(name)},
            {name: info for name, info in self.classes.items() if kept(name)},
            self.imports,
            elided,
        )

    def joined(self, other: ModuleSummary) -> ModuleSummary:
        """One summary that covers what either covers: both made from the same text, each
        agreeing with the whole one on what it covers."""
        if not self.elided or not other.elided:
            return self if not self.elided else other
        elided = set(self.elided & other.elided)
        for these, those in ((self.elided, other.elided), (other.elided, self.elided)):
            # `Class` left out of one and `Class.method` of the other: the method is in neither
            elided.update(name for name in these if name.partition(".")[0] in those)
        return ModuleSummary(
            self.module,
            {**self.defs, **other.defs},
            {**self.classes, **other.classes},
            self.imports,
            frozenset(elided),
        )

    def kept_names(self) -> frozenset[str]:
        """The defs, methods and classes this summary has (`Class.method` at most)."""
        return frozenset(wanted_name(name) for name in (*self.defs, *self.classes))

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
