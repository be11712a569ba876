"""Which project def a call names, spelled as a dotted name the project graph can look up.

`save()` after `from .storage import save` -> `pkg.storage.save`; `st.save()` after
`import pkg.storage as st` -> the same; `self.repo.get()` with `self.repo = Repo()` (or
`repo: Repo` in the class) -> `pkg.repo.Repo.get`; `Repo().get()` and `Repo.get()` too; a
call of the module's own def -> its qualified name. Whether the name really is a def, a
class (its `__init__` runs) or nothing is for the graph to say, with the other modules'
summaries in hand; here only this file's bindings are read.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Any, Optional

from asynccheck.lint import names
from asynccheck.lint.cst import cst
from asynccheck.lint.facts import Facts, self_class
from asynccheck.lint.project.index import absolute
from asynccheck.lint.scopes import ANNOTATED, CLASS, DEF, IMPORT, NONE, PARAM, VALUE, Scope

# Names outside the project for sure: the standard library and builtins. Anything else
# that resolves may be a project module; the index decides when the graph asks.
_STDLIB = frozenset(
    getattr(sys, "stdlib_module_names", ())
    or ("asyncio", "os", "sys", "time", "json", "io", "re", "typing", "socket", "subprocess")
) | {"builtins", "__future__"}
_OPTIONAL_WRAPPERS = frozenset(("typing.Optional", "typing_extensions.Optional"))


@dataclass
class ModuleNames:
    """How this file's scopes are spelled from outside: `pkg.mod.Class.method`."""

    module: str
    is_package: bool
    facts: Facts
    _qualnames: dict[int, Optional[str]] = field(default_factory=dict)

    def qualname(self, scope: Scope) -> Optional[str]:
        """`Class.method`, `func.<locals>.inner`; None for lambdas and the module."""
        key = id(scope)
        if key in self._qualnames:
            return self._qualnames[key]
        name: Optional[str] = None
        if scope.parent is not None and scope.kind != "lambda":
            own = scope.node.name.value
            parent = scope.parent
            if parent.parent is None:
                name = own
            else:
                outer = self.qualname(parent)
                if outer is not None:
                    name = f"{outer}.<locals>.{own}" if parent.kind != "class" else f"{outer}.{own}"
        self._qualnames[key] = name
        return name

    def full(self, scope: Scope) -> Optional[str]:
        qualname = self.qualname(scope)
        return f"{self.module}.{qualname}" if qualname and self.module else None

    def imported(self, target: str) -> Optional[str]:
        """An import's target, made absolute; None for the standard library."""
        full = absolute(target, self.module, self.is_package)
        if full is None or full.split(".", 1)[0] in _STDLIB:
            return None
        return full


def call_target(spelled: ModuleNames, site: Any) -> Optional[str]:
    """The dotted name of the project def or class this call runs, or None."""
    func = site.node.func
    scope = site.scope
    if isinstance(func, cst.Name):
        return _name_target(spelled, func.value, scope)
    if not isinstance(func, cst.Attribute):
        return None
    owner = receiver_class(spelled, func.value, scope)
    if owner is not None:
        return f"{owner}.{func.attr.value}"
    resolved = names.resolve(func, scope)  # `st.save`, `pkg.storage.save`
    return spelled.imported(resolved) if resolved is not None else None


def _name_target(spelled: ModuleNames, name: str, scope: Scope) -> Optional[str]:
    _, bindings = scope.lookup(name)
    binding = _single(bindings)
    if binding is None:
        return None
    kind, payload = binding
    if kind in (DEF, CLASS):
        inner = spelled.facts.scopes.get(id(payload))
        return spelled.full(inner) if inner is not None else None
    if kind == IMPORT:
        return spelled.imported(payload)
    return None


def _single(bindings: list[tuple[str, Any]]) -> Optional[tuple[str, Any]]:
    """The one binding of a name (`x = None` placeholders aside), or None."""
    kept = [binding for binding in bindings if binding[0] != NONE]
    return kept[0] if len(kept) == 1 else None


def receiver_class(spelled: ModuleNames, receiver: Any, scope: Scope) -> Optional[str]:
    """The dotted name of the class of `receiver`, when this file says what it is."""
    if isinstance(receiver, cst.Call):  # `Repo().get()`
        return class_name(spelled, receiver.func, scope)
    if isinstance(receiver, cst.Attribute):  # `self.repo`, typed in the class
        owner = self_class(receiver.value, scope)
        if owner is None:
            return None
        attr = receiver.attr.value
        bound = owner.bindings.get(f"self.{attr}", [])
        annotated = [b for b in owner.bindings.get(attr, ()) if b[0] == ANNOTATED]
        return _binding_class(spelled, _single(bound) or _single(annotated), owner)
    if not isinstance(receiver, cst.Name):
        return None
    owner = self_class(receiver, scope)
    if owner is not None:  # `self.helper()`, `cls.helper()`
        return None if _is_static(scope.node) else spelled.full(owner)
    found_in, bindings = scope.lookup(receiver.value)
    if found_in is None:
        return None
    binding = _single(bindings)
    if binding is not None and binding[0] in (CLASS, IMPORT):  # `Repo.get()`
        return _name_target(spelled, receiver.value, scope)
    return _binding_class(spelled, binding, found_in)


def _binding_class(spelled: ModuleNames, binding: Any, scope: Scope) -> Optional[str]:
    """The class an assignment, annotation or parameter gives a name."""
    if binding is None:
        return None
    kind, payload = binding
    if kind == VALUE and isinstance(payload, cst.Call):
        return class_name(spelled, payload.func, scope)
    if kind == ANNOTATED:
        annotation, value = payload
        found = class_name(spelled, annotation, scope)
        if found is None and isinstance(value, cst.Call):
            found = class_name(spelled, value.func, scope)
        return found
    if kind == PARAM and payload.annotation is not None:
        return class_name(spelled, payload.annotation.annotation, scope)
    return None


def class_name(spelled: ModuleNames, expr: Any, scope: Scope) -> Optional[str]:
    """`Repo`, `repo.Repo`, `"Repo"`, `Optional[Repo]`, `Repo | None` -> a dotted name."""
    if isinstance(expr, cst.SimpleString) and expr.value[:1] in "'\"":
        try:
            expr = cst.parse_expression(expr.value.strip("'\""))
        except Exception:
            return None
    if isinstance(expr, cst.Subscript):
        outer = names.resolve(expr.value, scope)
        if outer not in _OPTIONAL_WRAPPERS or len(expr.slice) != 1:
            return None
        inner = expr.slice[0].slice
        return class_name(spelled, inner.value, scope) if isinstance(inner, cst.Index) else None
    if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.BitOr):
        left, right = expr.left, expr.right
        if _is_none(right):
            return class_name(spelled, left, scope)
        return class_name(spelled, right, scope) if _is_none(left) else None
    if isinstance(expr, cst.Name):
        return _name_target(spelled, expr.value, scope)
    if isinstance(expr, cst.Attribute):
        resolved = names.resolve(expr, scope)
        return spelled.imported(resolved) if resolved is not None else None
    return None


def _is_none(expr: Any) -> bool:
    return isinstance(expr, cst.Name) and expr.value == "None"


def _is_static(node: Any) -> bool:
    return any(
        isinstance(d.decorator, cst.Name) and d.decorator.value == "staticmethod"
        for d in getattr(node, "decorators", ())
    )
