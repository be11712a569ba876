"""Scopes and bindings, collected in the one walk over a file (see `facts.collect`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

# Binding kinds. The payload of each is noted beside it.
IMPORT = "import"  # the fully qualified name it binds ("os.path", "time.sleep")
VALUE = "value"  # the assigned expression
ANNOTATED = "annotated"  # (annotation expression, value expression or None)
PARAM = "param"  # the cst.Param
WITH = "with"  # the context manager expression of `with X as name`
DEF = "def"  # the FunctionDef
CLASS = "class"  # the ClassDef
NONE = "none"  # `name = None`, as in `try: import x / except ImportError: x = None`
OTHER = "other"  # anything we do not follow (loop targets, tuple unpacking, except-as, ...)


@dataclass(eq=False)
class Scope:
    """A module, function, lambda or class body, as Python scopes names."""

    kind: str  # "module" | "function" | "async" | "lambda" | "class"
    node: Any
    parent: Optional[Scope]
    bindings: dict[str, list[tuple[str, Any]]] = field(default_factory=dict)
    global_names: set[str] = field(default_factory=set)
    star_imports: list[str] = field(default_factory=list)
    # A sync `def` nested in an `async def` and called from its body runs on the loop too.
    called_from_async: bool = False
    # Sync code the loop calls itself: a protocol callback, a function handed to
    # `loop.call_soon` and the like (see lint.onloop).
    loop_callback: bool = False

    @property
    def is_async(self) -> bool:
        return self.kind == "async"

    @property
    def runs_on_loop(self) -> bool:
        """Code here runs on the event loop's thread, holding it until it returns: an
        `async def` body, a nested def it calls, or a callback the loop runs."""
        return self.kind == "async" or self.called_from_async or self.loop_callback

    def bind(self, name: str, kind: str, payload: Any) -> None:
        self.bindings.setdefault(name, []).append((kind, payload))

    def module(self) -> Scope:
        scope = self
        while scope.parent is not None:
            scope = scope.parent
        return scope

    def lookup(self, name: str) -> tuple[Optional[Scope], list[tuple[str, Any]]]:
        """Find the scope that binds `name` as seen from here (LEGB, class bodies skipped)."""
        scope: Optional[Scope] = self
        if name in self.global_names:
            scope = self.module()
        first = True
        while scope is not None:
            if scope.kind != "class" or first:
                found = scope.bindings.get(name)
                if found:
                    return scope, found
            first = False
            scope = scope.parent
        return None, []
