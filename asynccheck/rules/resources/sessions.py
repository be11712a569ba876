"""Is an expression an aiohttp `ClientSession`: constructed, bound to one, a parameter or
attribute annotated as one (also `Optional[...]`), or a `self.x` the class's methods bind to
one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from asynccheck.lint import names
from asynccheck.lint.cst import cst
from asynccheck.lint.facts import self_class
from asynccheck.lint.scopes import ANNOTATED, DEF, PARAM, VALUE, WITH
from asynccheck.rules.catalog import AIOHTTP_SESSIONS
from asynccheck.rules.resources.sites import known_names, resolve

if TYPE_CHECKING:
    from asynccheck.lint.context import FileContext
    from asynccheck.lint.scopes import Scope


_MAX_DEPTH = 4


def is_aiohttp_session(expr: Any, scope: Scope, ctx: FileContext, depth: int = 0) -> bool:
    """`expr` is statically an aiohttp session: made here, handed out by a known factory,
    or annotated so (a name, a parameter, or `self.x` of the enclosing class)."""
    if depth > _MAX_DEPTH:
        return False
    if isinstance(expr, cst.Call):
        return resolve(expr.func, scope, known_names(ctx)) in AIOHTTP_SESSIONS
    if isinstance(expr, cst.Name):
        found_in, bindings = scope.lookup(expr.value)
        return found_in is not None and _bindings_are_session(bindings, found_in, ctx, depth)
    if isinstance(expr, cst.Attribute):
        owner = self_class(expr.value, scope)
        if owner is None:
            return False
        attr = expr.attr.value
        bindings = [
            *owner.bindings.get(f"self.{attr}", ()),
            *((k, p) for k, p in owner.bindings.get(attr, ()) if k == ANNOTATED),
        ]
        return _bindings_are_session(bindings, owner, ctx, depth)
    return False


def _bindings_are_session(bindings: Any, scope: Scope, ctx: FileContext, depth: int) -> bool:
    for kind, payload in bindings:
        if kind in (VALUE, WITH) and is_aiohttp_session(payload, scope, ctx, depth + 1):
            return True
        if (
            kind == VALUE
            and scope.kind == "class"
            and isinstance(payload, cst.Name)
            and _method_parameter_is_session(payload.value, scope, ctx, depth)
        ):
            return True  # `self._session = session`, `session: ClientSession` a parameter
        if kind == ANNOTATED:
            annotation, value = payload
            if _annotated_session(annotation, scope, ctx) or (
                value is not None and is_aiohttp_session(value, scope, ctx, depth + 1)
            ):
                return True
        if (
            kind == PARAM
            and payload.annotation is not None
            and _annotated_session(payload.annotation.annotation, scope, ctx)
        ):
            return True
    return False


def _method_parameter_is_session(name: str, owner: Scope, ctx: FileContext, depth: int) -> bool:
    """A method of the class takes `name` as a parameter annotated as a session."""
    for bindings in owner.bindings.values():
        for kind, payload in bindings:
            if kind != DEF:
                continue
            method = ctx.facts.scopes.get(id(payload))
            params = method.bindings.get(name, ()) if method is not None else ()
            if any(k == PARAM for k, _ in params) and _bindings_are_session(
                params, method, ctx, depth + 1
            ):
                return True
    return False


def _annotated_session(annotation: Any, scope: Scope, ctx: FileContext) -> bool:
    """`ClientSession`, `aiohttp.ClientSession | None`, `Optional[ClientSession]`."""
    known = known_names(ctx)
    if isinstance(annotation, cst.BinaryOperation):
        return _annotated_session(annotation.left, scope, ctx) or _annotated_session(
            annotation.right, scope, ctx
        )
    if isinstance(annotation, cst.Subscript):
        if names.resolve(annotation.value, scope, known) in ("typing.Optional",):
            return any(
                isinstance(e.slice, cst.Index) and _annotated_session(e.slice.value, scope, ctx)
                for e in annotation.slice
            )
        return False
    if isinstance(annotation, cst.SimpleString):
        text = annotation.evaluated_value if hasattr(annotation, "evaluated_value") else ""
        return isinstance(text, str) and text.rpartition(".")[2] == "ClientSession"
    return names.resolve(annotation, scope, known) in AIOHTTP_SESSIONS
