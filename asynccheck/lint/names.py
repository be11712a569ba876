"""What a name or expression refers to, from the file's own imports and assignments.

No libcst QualifiedNameProvider (8x the parse on Home Assistant's helpers): a file's imports
and the bindings the walk collected are enough to spell `t.sleep` as `time.sleep`.
"""

from __future__ import annotations

import builtins
from typing import Any, Optional, Protocol

from asynccheck.lint.cst import cst
from asynccheck.lint.facts import dotted, self_class
from asynccheck.lint.scopes import ANNOTATED, IMPORT, NONE, PARAM, VALUE, WITH, Scope
from asynccheck.lint.walk import descendants
from asynccheck.rules.catalog import (
    ANNOTATION_TYPES,
    ATTRIBUTE_RESULTS,
    CATALOGUE_MODULES,
    CONSTRUCTORS,
    IN_MEMORY_BUFFERS,
    IN_MEMORY_DATABASES,
    IN_MEMORY_FILE_ARGUMENTS,
    IN_MEMORY_MARKERS,
    KNOWN_NAMES,
    METHOD_RESULTS,
    NO_WAIT_FLAGS,
    SIZED_CONSTRUCTORS,
)

BUILTIN_NAMES = frozenset(dir(builtins))
_MAX_DEPTH = 8


class Reach(Protocol):
    """Where in its function an expression is read: which bindings of a local reach it
    there (`lint.flow.reach`). Without one, every binding of the name counts."""

    def reaching(self, scope: Scope, bindings: list[tuple[str, Any]]) -> list[tuple[str, Any]]: ...

    def moved_to(self, payload: Any) -> Optional[Reach]: ...


def resolve_name(name: str, scope: Scope, known: frozenset[str] = KNOWN_NAMES) -> Optional[str]:
    """The fully qualified name a bare name stands for here, or None if it is not an import.

    A name also bound to anything but an import (or `None`, the optional-import idiom) is
    shadowed and resolves to nothing: precision before recall.
    """
    found_in, bindings = scope.lookup(name)
    if found_in is None:
        return _resolve_unbound(name, scope, known)
    target: Optional[str] = None
    for kind, payload in bindings:
        if kind == NONE:
            continue
        if kind != IMPORT or (target is not None and payload != target):
            return None
        target = payload
    return target


def _resolve_unbound(name: str, scope: Scope, known: frozenset[str]) -> Optional[str]:
    for module in scope.module().star_imports:
        candidate = f"{module}.{name}"
        if candidate in known:
            return candidate
    if name in BUILTIN_NAMES:
        return f"builtins.{name}"
    if name in CATALOGUE_MODULES:  # a pasted snippet that never imports the module
        return name
    return None


def resolve(expr: Any, scope: Scope, known: frozenset[str] = KNOWN_NAMES) -> Optional[str]:
    """`t.sleep` -> `time.sleep` when `import time as t`; None for anything else."""
    chain = dotted(expr)
    if chain is None:
        return None
    head, _, rest = chain.partition(".")
    base = resolve_name(head, scope, known)
    if base is None:
        return None
    return f"{base}.{rest}" if rest else base


def type_of(expr: Any, scope: Scope, depth: int = 0, at: Optional[Reach] = None) -> Optional[str]:
    """The catalogue type key of `expr` when it is statically known (`open(p)` -> "file").

    `at`: where `expr` is read, so that a local rebound later keeps its type up to the
    rebinding (`p = Path(p)` ... `p.read_text()` ... `p = str(p)`)."""
    if depth > _MAX_DEPTH:
        return None
    if isinstance(expr, cst.Call):
        return _type_of_call(expr, scope, depth, at)
    if isinstance(expr, cst.Name):
        return _type_of_name(expr.value, scope, depth, at)
    if isinstance(expr, cst.Attribute):
        owner_class = self_class(expr.value, scope)
        if owner_class is not None:
            return _type_of_bindings(
                owner_class.bindings.get(f"self.{expr.attr.value}", ()), owner_class, depth
            ) or _type_of_bindings(
                _class_annotations(owner_class, expr.attr.value), owner_class, depth
            )
        owner = type_of(expr.value, scope, depth + 1, at)
        return ATTRIBUTE_RESULTS.get((owner, expr.attr.value)) if owner else None
    if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.Divide):
        return "path" if type_of(expr.left, scope, depth + 1, at) == "path" else None
    return None


def _type_of_call(call: Any, scope: Scope, depth: int, at: Optional[Reach] = None) -> Optional[str]:
    name = resolve(call.func, scope)
    if name is not None and name in CONSTRUCTORS:
        sized = SIZED_CONSTRUCTORS.get(name)
        if sized is not None and _argument_given(call, *sized[:2]):
            return sized[2]
        if opens_in_memory(call, name):
            return "memory-db"
        return CONSTRUCTORS[name]
    if isinstance(call.func, cst.Attribute):
        owner = type_of(call.func.value, scope, depth + 1, at)
        if owner is not None:
            return METHOD_RESULTS.get((owner, call.func.attr.value))
    return None


def _argument(call: Any, position: int, keyword: str) -> Any:
    """The expression passed for a parameter, by position or keyword, or None."""
    value = None
    positional = [arg for arg in call.args if arg.keyword is None and not arg.star]
    if len(positional) > position:
        value = positional[position].value
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == keyword:
            value = arg.value
    return value


def _argument_given(call: Any, position: int, keyword: str) -> bool:
    """The argument is passed and is not the literal 0 (`Queue(maxsize=0)` is unbounded)."""
    value = _argument(call, position, keyword)
    return value is not None and not (isinstance(value, cst.Integer) and value.value == "0")


def passes_no_wait_flag(call: Any, name: str, scope: Scope) -> bool:
    """`os.waitpid(pid, os.WNOHANG)`, also through a constant of the module
    (`_NUMERIC = socket.AI_NUMERICHOST | socket.AI_NUMERICSERV`)."""
    parameter = NO_WAIT_FLAGS.get(name)
    if parameter is None:
        return False
    position, keyword, flag = parameter
    value = _argument(call, position, keyword)
    if isinstance(value, cst.Name):
        _scope, bindings = scope.lookup(value.value)
        values = [p for kind, p in bindings if kind == VALUE]
        value = values[0] if len(values) == 1 and len(bindings) == 1 else value
    return value is not None and any(
        isinstance(node, (cst.Name, cst.Attribute)) and _last_name(node) == flag
        for node in descendants([value])
    )


def _last_name(node: Any) -> str:
    return node.attr.value if isinstance(node, cst.Attribute) else node.value  # type: ignore[no-any-return]


def opens_in_memory(call: Any, name: str) -> bool:
    """`sqlite3.connect(":memory:")` and its URI forms: a database with no file behind it;
    `tarfile.open(fileobj=io.BytesIO(data))`: an archive read from memory."""
    buffer = IN_MEMORY_FILE_ARGUMENTS.get(name)
    if buffer is not None:
        value = _argument(call, *buffer)
        return isinstance(value, cst.Call) and dotted(value.func) in IN_MEMORY_BUFFERS
    parameter = IN_MEMORY_DATABASES.get(name)
    if parameter is None:
        return False
    value = _argument(call, *parameter)
    text = getattr(value, "value", None) if isinstance(value, cst.SimpleString) else None
    return text is not None and any(marker in text for marker in IN_MEMORY_MARKERS)


def _type_of_name(name: str, scope: Scope, depth: int, at: Optional[Reach] = None) -> Optional[str]:
    found_in, bindings = scope.lookup(name)
    if found_in is None or not bindings:
        return None
    if at is not None and found_in is scope:
        bindings = at.reaching(scope, bindings)
    return _type_of_bindings(bindings, found_in, depth, at if found_in is scope else None)


def _class_annotations(owner: Scope, attr: str) -> list[tuple[str, Any]]:
    """`session: requests.Session` in the class body also types `self.session`."""
    return [(kind, p) for kind, p in owner.bindings.get(attr, ()) if kind == ANNOTATED]


def _type_of_bindings(
    bindings: Any, found_in: Scope, depth: int, at: Optional[Reach] = None
) -> Optional[str]:
    """The one type every binding agrees on, or None."""
    result: Optional[str] = None
    for kind, payload in bindings:
        if kind == NONE:
            continue
        moved = at.moved_to(payload) if at is not None else None
        this = _type_of_binding(kind, payload, found_in, depth + 1, moved)
        if this is None or (result is not None and this != result):
            return None
        result = this
    return result


def _type_of_binding(
    kind: str, payload: Any, scope: Scope, depth: int, at: Optional[Reach] = None
) -> Optional[str]:
    if kind in (VALUE, WITH):
        return type_of(payload, scope, depth, at)
    if kind == ANNOTATED:
        annotation, value = payload
        return annotation_type(annotation, scope) or (
            type_of(value, scope, depth, at) if value is not None else None
        )
    if kind == PARAM and payload.annotation is not None:
        return annotation_type(payload.annotation.annotation, scope)
    return None


def annotation_type(annotation: Any, scope: Scope) -> Optional[str]:
    """`IO[str]`, `Optional[TextIO]`, `socket.socket | None`, `"httpx.Client | None"` -> the
    type key, if known."""
    if isinstance(annotation, cst.SimpleString):
        annotation = _parsed_annotation(annotation)
        if annotation is None:
            return None
    if isinstance(annotation, cst.Subscript):
        outer = resolve(annotation.value, scope)
        if outer == "typing.Optional" and len(annotation.slice) == 1:
            inner = annotation.slice[0].slice
            if isinstance(inner, cst.Index):
                return annotation_type(inner.value, scope)
        annotation = annotation.value
    elif isinstance(annotation, cst.BinaryOperation) and isinstance(annotation.operator, cst.BitOr):
        left, right = annotation.left, annotation.right
        if isinstance(right, cst.Name) and right.value == "None":
            return annotation_type(left, scope)
        if isinstance(left, cst.Name) and left.value == "None":
            return annotation_type(right, scope)
        return None
    name = resolve(annotation, scope)
    return ANNOTATION_TYPES.get(name) if name else None


def _parsed_annotation(text: Any) -> Any:
    """A string annotation (a forward reference) as an expression, or None."""
    value = text.evaluated_value
    if not isinstance(value, str) or len(value) > 200:
        return None
    try:
        return cst.parse_expression(value)
    except Exception:  # libcst's ParserSyntaxError: not an expression, so no type
        return None


def module_alias(scope: Scope, module: str) -> Optional[str]:
    """The module-level name bound to `import module` (`aio` for `import asyncio as aio`)."""
    top = scope.module()
    for name, bindings in top.bindings.items():
        if all(kind == IMPORT and payload == module for kind, payload in bindings):
            return name
    return None


def is_free(scope: Scope, name: str) -> bool:
    """Nothing binds `name` at module level, so an import of it may be added."""
    return name not in scope.module().bindings and name not in BUILTIN_NAMES


def display_name(qualified: str) -> str:
    """How a resolved name reads in a message: builtins lose their module."""
    return qualified[len("builtins.") :] if qualified.startswith("builtins.") else qualified
