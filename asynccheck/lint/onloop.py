"""Sync code the event loop itself runs: where blocking calls stop the loop as surely as in
an `async def`.

The callbacks of `asyncio.Protocol` subclasses (and the buffered, datagram and subprocess
kinds, also through a base class of the module), and the functions handed to the loop's
`call_soon` / `call_later` / `call_at` / `call_soon_threadsafe` / `add_reader` /
`add_writer` / `add_signal_handler` and to a future's `add_done_callback`. Their scopes are
marked `loop_callback`, so `Scope.runs_on_loop` holds there and AC1xx/AC110 look inside.
Read from the one walk's facts; nothing is walked again.

A class whose protocol base may be defined in another module of the project (`from .base
import BaseProto`) cannot be decided here: `maybe_protocols` lists such classes, and the
checker marks their callbacks when the file is linted in a project, its findings there
becoming questions the project step answers from the base module's summary (where a class
with an asyncio protocol base has a `PROTOCOL_MARK` def).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any, Optional

from asynccheck.lint import names
from asynccheck.lint.callgraph import method_scope
from asynccheck.lint.cst import cst
from asynccheck.lint.facts import Facts, self_class
from asynccheck.lint.scopes import CLASS, DEF, Scope

if TYPE_CHECKING:
    from asynccheck.lint.context import FileContext, RawFinding

PROTOCOL_BASES = frozenset(
    f"asyncio.{module}{name}"
    for module in ("", "protocols.")
    for name in (
        "BaseProtocol", "Protocol", "BufferedProtocol", "DatagramProtocol", "SubprocessProtocol",
    )
)  # fmt: skip
PROTOCOL_CALLBACKS = frozenset(
    (
        "connection_made", "connection_lost", "data_received", "eof_received",
        "pause_writing", "resume_writing", "get_buffer", "buffer_updated",
        "datagram_received", "error_received",
        "pipe_data_received", "pipe_connection_lost", "process_exited",
    )
)  # fmt: skip
# method -> the position of the callback among its arguments
SCHEDULING_METHODS = {
    "call_soon": 0, "call_soon_threadsafe": 0, "add_done_callback": 0,
    "call_later": 1, "call_at": 1, "add_reader": 1, "add_writer": 1, "add_signal_handler": 1,
}  # fmt: skip
_PARTIALS = frozenset(("functools.partial",))
_MAX_BASES_DEPTH = 8
# The name of a def a module's summary gives each class with an asyncio protocol base
# (never an identifier, so no call can name it): `pkg.base.BaseProto.<asyncio-protocol>`
# is found through a subclass's bases exactly when that class is a protocol.
PROTOCOL_MARK = "<asyncio-protocol>"

# A class's protocol callbacks, and the bases (expression, scope to resolve it in) that
# this module cannot see into.
MaybeProtocol = tuple[list[Scope], list[tuple[Any, Scope]]]


def mark_on_loop(facts: Facts, maybe_protocols: bool = False) -> list[MaybeProtocol]:
    """Mark the scopes of protocol callbacks and of callbacks handed to the loop. With
    `maybe_protocols`, return the classes that may be protocols through another module
    (their callbacks are not marked)."""
    maybe: list[MaybeProtocol] = []
    for scope in facts.scopes.values():
        if scope.kind != "class":
            continue
        unseen: Optional[list[tuple[Any, Scope]]] = [] if maybe_protocols else None
        certain = _is_protocol(scope, facts, 0, unseen)
        if certain or unseen:
            methods = _callbacks(scope, facts)
            if certain:
                for method in methods:
                    method.loop_callback = True
            elif methods and unseen:
                maybe.append((methods, unseen))
    for site in facts.calls:
        func = site.node.func
        if not isinstance(func, cst.Attribute):
            continue
        position = SCHEDULING_METHODS.get(func.attr.value)
        if position is None:
            continue
        positional = [arg for arg in site.node.args if arg.keyword is None and not arg.star]
        if len(positional) > position:
            callback = _callback_scope(positional[position].value, site.scope, facts)
            if callback is not None and callback.kind in ("function", "lambda"):
                callback.loop_callback = True
    return [item for item in maybe if not all(m.loop_callback for m in item[0])]


def _callbacks(scope: Scope, facts: Facts) -> list[Scope]:
    found = []
    for name in PROTOCOL_CALLBACKS:
        method = method_scope(scope, name, facts.scopes)
        if method is not None and method.kind == "function":
            found.append(method)
    return found


def _is_protocol(
    scope: Scope, facts: Facts, depth: int, unseen: Optional[list[tuple[Any, Scope]]] = None
) -> bool:
    """Whether the class is an asyncio protocol as far as this module shows; `unseen`
    collects the bases it cannot see into (imported names, not asyncio's)."""
    parent = scope.parent
    if parent is None or depth > _MAX_BASES_DEPTH:
        return False
    for base in scope.node.bases:
        if names.resolve(base.value, parent) in PROTOCOL_BASES:
            return True
        base_scope = _local_class(base.value, parent, facts)
        if base_scope is not None:
            if _is_protocol(base_scope, facts, depth + 1, unseen):
                return True
        elif unseen is not None and isinstance(base.value, (cst.Name, cst.Attribute)):
            unseen.append((base.value, parent))
    return False


def _local_class(expr: Any, scope: Scope, facts: Facts) -> Optional[Scope]:
    if not isinstance(expr, cst.Name):
        return None
    _, bindings = scope.lookup(expr.value)
    if len(bindings) != 1 or bindings[0][0] != CLASS:
        return None
    return facts.scopes.get(id(bindings[0][1]))


def _callback_scope(expr: Any, scope: Scope, facts: Facts) -> Optional[Scope]:
    """The def or lambda `expr` hands over: `cb`, `self._on_done`, `lambda: ...`,
    `functools.partial(cb, ...)`."""
    if isinstance(expr, cst.Lambda):
        return facts.scopes.get(id(expr))
    if isinstance(expr, cst.Call) and names.resolve(expr.func, scope) in _PARTIALS and expr.args:
        return _callback_scope(expr.args[0].value, scope, facts)
    if isinstance(expr, cst.Name):
        _, bindings = scope.lookup(expr.value)
        if len(bindings) == 1 and bindings[0][0] == DEF:
            return facts.scopes.get(id(bindings[0][1]))
        return None
    if isinstance(expr, cst.Attribute):
        owner = self_class(expr.value, scope)
        if owner is not None:
            return method_scope(owner, expr.attr.value, facts.scopes)
    return None


def mark_maybe_protocols(
    ctx: FileContext, maybe: list[MaybeProtocol], module: str, is_package: bool
) -> dict[int, list[str]]:
    """Mark the callbacks of the classes that may be protocols through a base of another
    module; return, by callback scope, what decides it: `<base>.<asyncio-protocol>` for
    each such base, a name the project graph finds when that base is a protocol."""
    from asynccheck.lint.project.summarise import spelled_names
    from asynccheck.lint.project.targets import class_name

    spelled = spelled_names(ctx, module, is_package)
    conditions: dict[int, list[str]] = {}
    for methods, bases in maybe:
        targets = []
        for expr, scope in bases:
            name = class_name(spelled, expr, scope)
            if name is not None and f"{name}.{PROTOCOL_MARK}" not in targets:
                targets.append(f"{name}.{PROTOCOL_MARK}")
        for method in methods if targets else ():
            if method.loop_callback and id(method) not in conditions:
                continue  # on the loop for sure (handed to the loop too)
            method.loop_callback = True
            known = conditions.setdefault(id(method), [])
            known.extend(t for t in targets if t not in known)
    return conditions


def on_condition(
    ctx: FileContext, raw: list[RawFinding], conditions: dict[int, list[str]]
) -> list[RawFinding]:
    """The AC1xx findings in those callbacks become questions: reported once the project
    step finds the class's base a protocol (one question a base that may be)."""
    from asynccheck.lint.project.candidates import with_condition

    out = []
    for item in raw:
        scope = ctx.facts.statement_scopes.get(id(item.stmt))
        targets = conditions.get(id(scope)) if item.code.startswith("AC1") else None
        if not targets:
            out.append(item)
            continue
        for target in targets:
            out.append(dataclasses.replace(item, message=with_condition(item.message, target)))
    return out
