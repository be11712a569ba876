"""Sync code the event loop itself runs: where blocking calls stop the loop as surely as in
an `async def`.

The callbacks of `asyncio.Protocol` subclasses (and the buffered, datagram and subprocess
kinds, also through a base class of the module), and the functions handed to the loop's
`call_soon` / `call_later` / `call_at` / `call_soon_threadsafe` / `add_reader` /
`add_writer` / `add_signal_handler` and to a future's `add_done_callback`. Their scopes are
marked `loop_callback`, so `Scope.runs_on_loop` holds there and AC1xx/AC110 look inside.
Read from the one walk's facts; nothing is walked again.
"""

from __future__ import annotations

from typing import Any, Optional

from asynccheck.lint import names
from asynccheck.lint.callgraph import method_scope
from asynccheck.lint.cst import cst
from asynccheck.lint.facts import Facts, self_class
from asynccheck.lint.scopes import CLASS, DEF, Scope

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


def mark_on_loop(facts: Facts) -> None:
    """Mark the scopes of protocol callbacks and of callbacks handed to the loop."""
    for scope in facts.scopes.values():
        if scope.kind == "class" and _is_protocol(scope, facts, 0):
            for name in PROTOCOL_CALLBACKS:
                method = method_scope(scope, name, facts.scopes)
                if method is not None and method.kind == "function":
                    method.loop_callback = True
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


def _is_protocol(scope: Scope, facts: Facts, depth: int) -> bool:
    parent = scope.parent
    if parent is None or depth > _MAX_BASES_DEPTH:
        return False
    for base in scope.node.bases:
        if names.resolve(base.value, parent) in PROTOCOL_BASES:
            return True
        base_scope = _local_class(base.value, parent, facts)
        if base_scope is not None and _is_protocol(base_scope, facts, depth + 1):
            return True
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
