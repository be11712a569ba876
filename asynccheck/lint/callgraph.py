"""The module's own functions as a call graph, read from the one walk's call sites.

No second walk: every call is already a `Site` that knows its scope, and `facts.scopes` maps
each def to its scope. This module only answers two questions, memoized per file:
which calls a scope makes itself (`calls_by_scope`), and which of the module's own defs a
call runs (`local_callee`): `helper()`, `self.method()`, `cls.method()`, `Class.method()`,
`api.method()` on an instance of a module class (`api = Api()`, `api: Api`), nested defs,
and `Class()` for a class whose `__init__` the module defines.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional

from asynccheck.lint.cst import cst
from asynccheck.lint.facts import self_class
from asynccheck.lint.scopes import ANNOTATED, CLASS, DEF, PARAM, VALUE, Scope

if TYPE_CHECKING:
    from asynccheck.lint.context import FileContext
    from asynccheck.lint.facts import Site

_MAX_BASES_DEPTH = 8


def calls_by_scope(ctx: FileContext) -> dict[int, list[tuple[int, Site]]]:
    """id(scope) -> (source order, site) of every call made directly in that scope."""
    return ctx.memo("callgraph-calls-by-scope", _calls_by_scope)


def _calls_by_scope(ctx: FileContext) -> dict[int, list[tuple[int, Site]]]:
    table: dict[int, list[tuple[int, Site]]] = {}
    for index, site in enumerate(ctx.facts.calls):  # the walk yields calls in source order
        key = id(site.scope)
        bucket = table.get(key)
        if bucket is None:
            table[key] = [(index, site)]
        else:
            bucket.append((index, site))
    return table


def local_callee(ctx: FileContext, site: Site) -> Optional[Scope]:
    """The scope of the module's own def that this call runs, or None when unsure.

    A name bound more than once, or to anything but one def (an import fallback, a
    parameter, an assignment), is not followed: precision before recall.
    """
    func = site.node.func
    scopes = ctx.facts.scopes
    if isinstance(func, cst.Name):
        _, bindings = site.scope.lookup(func.value)
        node = _single(bindings)
        if node is None:
            return None
        if isinstance(node, cst.ClassDef):  # `Config()` runs `Config.__init__`
            owner = scopes.get(id(node))
            return method_scope(owner, "__init__", scopes) if owner is not None else None
        return scopes.get(id(node))
    if not isinstance(func, cst.Attribute) or not isinstance(func.value, cst.Name):
        return None
    attr = func.attr.value
    owner = _receiver_class(func.value, site.scope, scopes)
    if owner is None or f"self.{attr}" in owner.bindings:  # an instance attribute wins
        return None
    return method_scope(owner, attr, scopes)


def _single(bindings: list[tuple[str, Any]]) -> Any:
    """The def or class node when the name has exactly that one binding."""
    if len(bindings) != 1:
        return None
    kind, payload = bindings[0]
    return payload if kind in (DEF, CLASS) else None


def _receiver_class(receiver: Any, scope: Scope, scopes: dict[int, Scope]) -> Optional[Scope]:
    """The class scope for `self`/`cls` in a method, or for a module class named directly."""
    owner = self_class(receiver, scope)
    if owner is not None:
        return None if _is_staticmethod(scope.node) else owner
    found_in, bindings = scope.lookup(receiver.value)
    if found_in is None or len(bindings) != 1:
        return None
    kind, payload = bindings[0]
    if kind == CLASS:
        return scopes.get(id(payload))
    # An instance of a module class: `api = Api()`, `api: Api`, a parameter `api: Api`.
    if kind == VALUE and isinstance(payload, cst.Call):
        return _module_class(payload.func, found_in, scopes)
    if kind == ANNOTATED:
        return _module_class(payload[0], found_in, scopes)  # (annotation, value)
    if kind == PARAM and payload.annotation is not None:
        return _module_class(payload.annotation.annotation, found_in, scopes)
    return None


def _module_class(expr: Any, scope: Scope, scopes: dict[int, Scope]) -> Optional[Scope]:
    """The class scope when `expr` names one class the module defines (`Api`, `"Api"`)."""
    if isinstance(expr, cst.SimpleString) and expr.value[:1] in "'\"":
        name = expr.value.strip("'\"")
    elif isinstance(expr, cst.Name):
        name = expr.value
    else:
        return None
    _, bindings = scope.lookup(name)
    node = _single(bindings)
    return scopes.get(id(node)) if isinstance(node, cst.ClassDef) else None


def _is_staticmethod(node: Any) -> bool:
    """A staticmethod's first parameter is not `self`."""
    for decorator in getattr(node, "decorators", ()):
        expr = decorator.decorator
        if isinstance(expr, cst.Name) and expr.value == "staticmethod":
            return True
    return False


def method_scope(owner: Scope, attr: str, scopes: dict[int, Scope]) -> Optional[Scope]:
    """`attr` defined in the class body, else in its bases when they are module classes
    (`Mixin` or a generic `Mixin[T]`)."""
    found, _ = _lookup_method(owner, attr, scopes, 0)
    return found


def _lookup_method(
    owner: Scope, attr: str, scopes: dict[int, Scope], depth: int
) -> tuple[Optional[Scope], bool]:
    """(the def's scope or None, whether the answer is certain).

    A base the module does not define makes the answer uncertain: the attribute might come
    from it, so the search stops there (depth first, like the MRO of simple hierarchies).
    """
    bindings = owner.bindings.get(attr)
    if bindings:
        node = _single(bindings)
        return (scopes.get(id(node)) if isinstance(node, cst.FunctionDef) else None), True
    if depth >= _MAX_BASES_DEPTH or owner.parent is None:
        return None, False
    for base in owner.node.bases:
        value = base.value.value if isinstance(base.value, cst.Subscript) else base.value
        if not isinstance(value, cst.Name):
            return None, False
        _, base_bindings = owner.parent.lookup(value.value)
        node = _single(base_bindings)
        base_scope = scopes.get(id(node)) if isinstance(node, cst.ClassDef) else None
        if base_scope is None:
            return None, False
        found, certain = _lookup_method(base_scope, attr, scopes, depth + 1)
        if found is not None or not certain or attr in base_scope.bindings:
            return found, certain
    return None, True
