"""The flow view of one function: where its paths go, and what happens to a local on them.

Built lazily, once per function and only for the functions a selected rule asks about
(memoized on the file's context), from the function's own statements: nothing here walks
the file again.

The model is a structured interpretation, not a graph. Executing a block from a set of
states yields, for each way out of the block (fall through, `return`, `raise`, `break`,
`continue`), the set of states it can leave with. States are three bits (the local is not
yet bound, bound and open, closed or handed away), so a set of states is a small int and
loops reach their fixed point in a few rounds.

- `if`/`elif`/`else`, `match` (a case list without an irrefutable case may match nothing),
  `with`/`async with` (the body runs; exceptions leave it as they came), nested `def` and
  `class` (a definition, its body does not run).
- `for`/`while` (also `async for`), with `else`, `break` and `continue`: the body runs zero
  or more times (once or more over a non-empty literal or `range(3)`; `while True` only ends
  by `break`); `else` runs when the loop ends normally.
- `try`/`except`/`else`/`finally`, also `except*`: exceptions raised in the body go to every
  handler; they also leave the statement unless a handler catches everything (bare,
  `BaseException` or `Exception`). `finally` runs on every way out and keeps it, unless
  it leaves by its own `return`/`raise`/`break`/`continue`.
- `raise` and calls that never return (`sys.exit()`, `os._exit()`, a helper of the module that
  always raises, another library's `reraise(exc)` / `raise_...(exc)`) end a path as a raise.
- Implicit exceptions (optional): a statement with a call or an `await` in it may raise
  before it completes, with the state it had before (a close or hand-off counts as done).

Two questions are answered on this model:

- `handler_exits(handler)`: the ways out of an `except` body. A way other than raise (falling
  off the end, `return`, `break`, `continue`) swallows the exception (AC301, AC302).
- `leak(stmt, name)`: a resource bound to `name` at `stmt`; is there a way out of the function
  on which it is still open? Each use of the name is classified once (`Use`): closed
  (`x.close()`/`aclose()`/`release()` called or referenced as a callback, `async with x`),
  handed away (returned, yielded, assigned or stored anywhere, put in a container, captured
  by a nested `def`/`lambda`, passed to a call that takes ownership) or only used. The
  innermost `if` around a close closes it as a whole (`if s is not None: await s.close()`,
  `if owns_session: await s.close()`: the test says when there is something to close).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Optional

from asynccheck.lint import names
from asynccheck.lint.callgraph import method_scope
from asynccheck.lint.cst import cst
from asynccheck.lint.facts import dotted
from asynccheck.lint.scopes import DEF
from asynccheck.lint.walk import children

if TYPE_CHECKING:
    from asynccheck.lint.context import FileContext
    from asynccheck.lint.scopes import Scope

# Ways out of a block, as indices into an outcome list.
NEXT, RETURN, RAISE, BREAK, CONTINUE = range(5)

# Small statements that end the path through them, and where it goes.
_JUMPS = {"Return": RETURN, "Raise": RAISE, "Break": BREAK, "Continue": CONTINUE}
KIND_NAMES = ("end", "return", "raise", "break", "continue")

# States of the tracked local, as bits.
UNBOUND, OPEN, DONE = 1, 2, 4

# What a statement does to the tracked local.
BIND, CLOSE, WHOLE = 1, 2, 3  # WHOLE: a compound statement that closes it as a unit

# What one use of a name does.
USED, CLOSED, ESCAPED, REBOUND = "used", "closed", "escaped", "rebound"

CLOSE_METHODS = frozenset(
    ("close", "aclose", "release", "terminate", "disconnect", "shutdown", "stop", "__aexit__")
)
# Calls that keep what they are given: exit stacks, callbacks, containers, task starters.
# How a classmethod or method spells its own class: `return cls(client=client)`.
_OWN_CLASS = frozenset(("cls", "self.__class__", "klass"))
OWNERSHIP_CALLS = frozenset(
    (
        "enter_async_context", "enter_context", "push_async_callback", "push_async_exit",
        "push", "callback", "append", "appendleft", "add", "extend", "insert", "put",
        "put_nowait", "setdefault", "update", "register", "setattr", "create_task",
        "ensure_future", "run_coroutine_threadsafe", "add_done_callback", "call_soon",
        "call_later", "call_at", "call_soon_threadsafe", "async_create_task",
        "async_create_background_task", "create_background_task", "async_add_job",
        "add_job", "async_on_unload", "async_on_remove", "add_signal_handler", "start_soon",
        "spawn", "partial", "attach", "set", "set_result", "__setitem__", "aclosing",
        "closing",
    )
)  # fmt: skip
# Task starters whose coroutine argument runs later, owning what it was given.
TASK_STARTERS = frozenset(
    (
        "create_task", "ensure_future", "run_coroutine_threadsafe", "async_create_task",
        "async_create_background_task", "create_background_task", "async_add_job",
        "add_job", "start_soon", "spawn", "async_run_hass_job",
    )
)  # fmt: skip
# A function named like this keeps what it is given (`client = create_client(session)`).
_KEEPER = re.compile(
    r"^(async_)?(create|make|build|new|init|setup|set_up|connect|open|attach|wrap|register"
    r"|start|spawn|bind|from)(_|$)|(client|api|session|connection|connector|pool|hub"
    r"|bridge|transport|stream)$",
    re.IGNORECASE,
)
# Return annotations that promise the function never returns.
_NEVER = frozenset(
    ("typing.NoReturn", "typing.Never", "typing_extensions.NoReturn", "typing_extensions.Never")
)
NORETURN_CALLS = frozenset(
    ("sys.exit", "os._exit", "os.abort", "builtins.exit", "builtins.quit", "pytest.fail",
     "pytest.skip", "pytest.exit")
)  # fmt: skip
_KNOWN = frozenset((*names.KNOWN_NAMES, *NORETURN_CALLS))
# A function of another library named for re-raising what it is given (`six.reraise(tp,
# exc, tb)`, trio's `raise_single_exception_from_group(exc)`, `raise_(exc)`): it does not
# return. Not the conditional ones (`resp.raise_for_status()`, `raise_if_error(r)`).
_RERAISER = re.compile(r"^_*(re)?raise(_|$)")
_CONDITIONAL = re.compile(r"_(if|for|on|when|unless|status)(_|$)")
_BROAD = frozenset(("BaseException", "Exception"))
_NESTED = frozenset(("FunctionDef", "Lambda", "ClassDef"))
_MAX_HELPER_DEPTH = 3

Outcome = list[int]


def _zeros() -> Outcome:
    return [0, 0, 0, 0, 0]


@dataclass(eq=False)
class Use:
    """One occurrence of a name in the function (attribute names and keywords left out)."""

    node: Any
    chain: Any  # ancestors as cons cells: (parent, (grandparent, (...))) or None
    owner: Any  # the small or compound statement it belongs to
    enclosing: tuple[Any, ...]  # compound statements around the owner, outermost first
    nested: bool  # inside a nested def/lambda/class: runs later, if at all

    def ancestors(self) -> Iterable[Any]:
        chain = self.chain
        while chain is not None:
            yield chain[0]
            chain = chain[1]


@dataclass(eq=False)
class FlowView:
    """The flow view of one function (or module) body."""

    node: Any
    scope: Scope
    ctx: Any = None
    order: dict[int, int] = field(default_factory=dict)  # id(statement) -> source order
    _uses: Optional[dict[str, list[Use]]] = None
    _may_raise: dict[int, bool] = field(default_factory=dict)
    _always_raises: Optional[bool] = None

    # --- AC301/AC302 --------------------------------------------------------------------
    def handler_exits(self, handler: Any) -> frozenset[str]:
        """The ways out of an `except` body: {"end", "return", "raise", ...}."""
        run = _Run(self, {}, implicit=False)
        out = run.block(handler.body, UNBOUND)
        return frozenset(KIND_NAMES[kind] for kind in range(5) if out[kind])

    # --- AC201/AC203/AC305 --------------------------------------------------------------
    def uses(self, name: str) -> list[Use]:
        if self._uses is None:
            self._uses = _collect_uses(self)
        return self._uses.get(name, [])

    def classify(
        self, use: Use, closers: frozenset[str] = CLOSE_METHODS, handed: bool = False
    ) -> str:
        """CLOSED, ESCAPED, REBOUND or USED. `handed`: any call it is passed to takes it
        (a response handed to a parser is read there)."""
        return _classify(self, use, closers, 0, handed)

    def leak(
        self,
        stmt: Any,
        name: str,
        closers: frozenset[str] = CLOSE_METHODS,
        implicit: bool = True,
        handed: bool = False,
    ) -> Optional[str]:
        """How the function can end with the local bound at `stmt` still open ("end",
        "return", "raise"), or None when every path closes it or hands it away.

        `implicit`: a statement with a call may raise, so a close outside `finally` is not
        enough. Not applied to a local that is handed away somewhere (a factory that builds,
        logs in and returns a session): the paths that matter there are the explicit ones.
        """
        effects: dict[int, int] = {}
        escaped = False
        binding_in: tuple[Any, ...] = ()
        guarded: list[Any] = []
        for use in self.uses(name):
            what = self.classify(use, closers, handed)
            if use.owner is stmt and what == REBOUND:
                binding_in = use.enclosing
                continue
            escaped = escaped or what == ESCAPED
            if what in (CLOSED, ESCAPED, REBOUND):
                effects[id(use.owner)] = CLOSE
            if what == CLOSED:
                guard = next((s for s in reversed(use.enclosing) if isinstance(s, cst.If)), None)
                if guard is not None:
                    guarded.append(guard)
        # `if s is not None: await s.close()`, `if owns_session: await s.close()`: an `if`
        # that closes it is taken to close it whenever it needs closing (not an `if` that
        # also holds the binding: that one is followed inside)
        for guard in guarded:
            if not any(guard is outer for outer in binding_in):
                effects[id(guard)] = WHOLE
        effects[id(stmt)] = BIND
        out = _Run(self, effects, implicit and not escaped).block(self.node.body, UNBOUND)
        for kind in (NEXT, RETURN, RAISE):
            if out[kind] & OPEN:
                return KIND_NAMES[kind]
        return None

    def may_raise(self, node: Any) -> bool:
        """A call or an await in the statement (or the header of a compound statement)."""
        key = id(node)
        found = self._may_raise.get(key)
        if found is None:
            found = _contains_call(_header_parts(node))
            self._may_raise[key] = found
        return found

    def noreturn(self, stmt: Any) -> bool:
        """`sys.exit()`, or a helper of this module or class that always raises
        (`self._convert_error(exc)` in a handler re-raises as another exception)."""
        value = stmt.value if isinstance(stmt, cst.Expr) else None
        if isinstance(value, cst.Await):
            value = value.expression  # `await self._fail(exc)`: an async helper that raises
        if not isinstance(value, cst.Call):
            return False
        if names.resolve(value.func, self.scope, _KNOWN) in NORETURN_CALLS:
            return True
        definition = local_definition(self, value.func)
        if definition is None:
            return _named_reraiser(value)
        if definition is self.node or self.ctx is None:
            return False
        returns = definition.returns
        if returns is not None and names.resolve(returns.annotation, self.scope) in _NEVER:
            return True  # `-> NoReturn`: its author says so
        return flow_view(self.ctx, definition).always_raises()

    def always_raises(self) -> bool:
        """Every way out of the function is a raise (memoized; a recursive helper is not)."""
        if self._always_raises is None:
            self._always_raises = False  # while it is being worked out
            out = _Run(self, {}, implicit=False).block(self.node.body, UNBOUND)
            self._always_raises = bool(out[RAISE]) and not any(out[kind] for kind in (NEXT, RETURN))
        return self._always_raises


def _named_reraiser(call: Any) -> bool:
    """A call, given something to raise, of a function defined elsewhere whose name says it
    raises it (`six.reraise(*info)`, `raise_single_exception_from_group(exc)`)."""
    name = dotted(call.func)
    last = name.rpartition(".")[2] if name is not None else ""
    return (
        bool(call.args) and _RERAISER.match(last) is not None and _CONDITIONAL.search(last) is None
    )


def flow_view(ctx: FileContext, node: Any) -> FlowView:
    """The flow view of a function (its def node), built once per file and function."""
    views: dict[int, FlowView] = ctx.memo("flow-views", lambda _ctx: {})
    view = views.get(id(node))
    if view is None:
        scope = ctx.facts.scopes.get(id(node), ctx.facts.module_scope)
        view = FlowView(node, scope, ctx)
        views[id(node)] = view
    return view


# --- the interpretation ------------------------------------------------------------------
class _Run:
    """One interpretation of a body: the effects on the tracked local, by statement id."""

    def __init__(self, view: FlowView, effects: dict[int, int], implicit: bool) -> None:
        self.view = view
        self.effects = effects
        self.implicit = implicit

    def block(self, body: Any, mask: int) -> Outcome:
        if isinstance(body, cst.SimpleStatementSuite):  # `except E: pass` on one line
            return self.stmt(body, mask)
        out = _zeros()
        statements = body.body if isinstance(body, cst.BaseSuite) else body
        for stmt in statements:
            if not mask:
                break
            step = self.stmt(stmt, mask)
            for kind in (RETURN, RAISE, BREAK, CONTINUE):
                out[kind] |= step[kind]
            mask = step[NEXT]
        out[NEXT] |= mask
        return out

    def apply(self, node: Any, mask: int) -> tuple[int, int]:
        """The state after `node`'s own effect, and the state if it raises part-way."""
        effect = self.effects.get(id(node))
        if effect is None:
            return mask, mask
        if effect == BIND:
            return OPEN, mask
        after = (mask & ~OPEN) | (DONE if mask & OPEN else 0)
        return after, after

    def small(self, stmt: Any, mask: int, out: Outcome) -> int:
        """Run one small statement; returns the state after it (0 when it never falls through)."""
        after, on_raise = self.apply(stmt, mask)
        name = type(stmt).__name__
        ends = _JUMPS.get(name)
        if ends is None and name == "Expr" and self.view.noreturn(stmt):
            ends = RAISE  # `sys.exit()`, `os._exit()`: the path stops here
        if ends is not None:
            out[ends] |= after
            return 0
        if self.implicit and self.view.may_raise(stmt):
            out[RAISE] |= on_raise
        return after

    def stmt(self, stmt: Any, mask: int) -> Outcome:
        kind = type(stmt)
        if kind is cst.SimpleStatementLine or kind is cst.SimpleStatementSuite:
            out = _zeros()
            for small in stmt.body:
                mask = self.small(small, mask, out)
                if not mask:
                    return out
            out[NEXT] |= mask
            return out
        handler = _compound().get(kind)
        if handler is None or self.effects.get(id(stmt)) == WHOLE:
            # a small statement of a one-line suite, a nested def or class, or a compound
            # statement that closes the local as a whole
            out = _zeros()
            out[NEXT] = self.small(stmt, mask, out)
            return out
        after, on_raise = self.apply(stmt, mask)
        out = handler(self, stmt, after)
        if self.implicit and self.view.may_raise(stmt):
            out[RAISE] |= on_raise
        return out

    # --- compound statements: called with the state after the header's own effect ------
    def if_(self, stmt: Any, mask: int) -> Outcome:
        out = self.block(stmt.body, mask)
        orelse = stmt.orelse
        if orelse is None:
            out[NEXT] |= mask
        else:
            other = (
                self.stmt(orelse, mask)
                if isinstance(orelse, cst.If)
                else self.block(orelse.body, mask)
            )
            _merge(out, other)
        return out

    def loop(self, stmt: Any, mask: int) -> Outcome:
        endless = isinstance(stmt, cst.While) and _always_true(stmt.test)
        entry = mask
        while True:
            body = self.block(stmt.body, entry)
            grown = entry | body[NEXT] | body[CONTINUE]
            if grown == entry:
                break
            entry = grown
        out = _zeros()
        out[RETURN], out[RAISE] = body[RETURN], body[RAISE]
        if endless:
            finished = 0
        elif _runs_once(stmt):  # `for i in range(3): raise` never ends normally
            finished = body[NEXT] | body[CONTINUE]
        else:
            finished = entry
        if stmt.orelse is not None and finished:
            _merge(out, self.block(stmt.orelse.body, finished))
        else:
            out[NEXT] |= finished
        out[NEXT] |= body[BREAK]
        return out

    def try_(self, stmt: Any, mask: int) -> Outcome:
        body = self.block(stmt.body, mask)
        raised = body[RAISE]
        out = _zeros()
        for kind in (RETURN, BREAK, CONTINUE):
            out[kind] = body[kind]
        catches_all = False
        for handler in stmt.handlers:
            catches_all = catches_all or _catches_all(handler)
            if raised:
                _merge(out, self.block(handler.body, raised))
        if not catches_all:
            out[RAISE] |= raised
        if stmt.orelse is not None and body[NEXT]:
            _merge(out, self.block(stmt.orelse.body, body[NEXT]))
        else:
            out[NEXT] |= body[NEXT]
        if stmt.finalbody is None:
            return out
        final = _zeros()
        for kind in range(5):
            if out[kind]:
                step = self.block(stmt.finalbody.body, out[kind])
                final[kind] |= step[NEXT]
                for other in (RETURN, RAISE, BREAK, CONTINUE):
                    final[other] |= step[other]
        return final

    def with_(self, stmt: Any, mask: int) -> Outcome:
        return self.block(stmt.body, mask)

    def match(self, stmt: Any, mask: int) -> Outcome:
        out = _zeros()
        exhaustive = False
        for case in stmt.cases:
            _merge(out, self.block(case.body, mask))
            if case.guard is None and _irrefutable(case.pattern):
                exhaustive = True
        if not exhaustive:
            out[NEXT] |= mask
        return out


def _merge(into: Outcome, other: Outcome) -> None:
    for kind in range(5):
        into[kind] |= other[kind]


def _type_names(expr: Any) -> list[str]:
    if isinstance(expr, cst.Tuple):
        return [n for element in expr.elements for n in _type_names(element.value)]
    text = dotted(expr)
    return [text.rpartition(".")[2]] if text else []


def _catches_all(handler: Any) -> bool:
    return handler.type is None or any(n in _BROAD for n in _type_names(handler.type))


def _always_true(test: Any) -> bool:
    if isinstance(test, cst.Name):
        return test.value == "True"
    return isinstance(test, cst.Integer) and test.value not in ("0", "0x0")


def _runs_once(stmt: Any) -> bool:
    """A `for` over a non-empty literal (`[1, 2]`, `"ab"`, `{k: v}`) or `range(<n > 0>)`:
    its body runs at least once."""
    if not isinstance(stmt, cst.For):
        return False
    it = stmt.iter
    if isinstance(it, (cst.List, cst.Tuple, cst.Set)):
        return any(isinstance(e, cst.Element) for e in it.elements)
    if isinstance(it, cst.Dict):
        return any(isinstance(e, cst.DictElement) for e in it.elements)
    if isinstance(it, cst.SimpleString):
        return len(it.value.strip("bBrRuU")) > 2
    if isinstance(it, cst.Call) and isinstance(it.func, cst.Name) and it.func.value == "range":
        bounds = [a.value for a in it.args]
        if not bounds or len(bounds) > 2 or any(a.keyword or a.star for a in it.args):
            return False
        if not all(isinstance(b, cst.Integer) for b in bounds):
            return False
        values = [int(b.value, 0) for b in bounds]
        return values[0] > 0 if len(values) == 1 else values[0] < values[1]
    return False


def _irrefutable(pattern: Any) -> bool:
    if isinstance(pattern, cst.MatchAs):
        return pattern.pattern is None or _irrefutable(pattern.pattern)
    if isinstance(pattern, cst.MatchOr):
        return any(_irrefutable(p.pattern) for p in pattern.patterns)
    return False


def _compound_table() -> dict[type, Callable[[_Run, Any, int], Outcome]]:
    table: dict[str, Callable[[_Run, Any, int], Outcome]] = {
        "If": _Run.if_,
        "For": _Run.loop,
        "While": _Run.loop,
        "Try": _Run.try_,
        "TryStar": _Run.try_,
        "With": _Run.with_,
        "Match": _Run.match,
    }
    return {getattr(cst, n): fn for n, fn in table.items() if hasattr(cst, n)}


_COMPOUND: dict[type, Callable[[_Run, Any, int], Outcome]] = {}


def _compound() -> dict[type, Callable[[_Run, Any, int], Outcome]]:
    """Built on first use: the node classes come from libcst, which is imported lazily."""
    if not _COMPOUND:
        _COMPOUND.update(_compound_table())
    return _COMPOUND


# --- statements and their parts ----------------------------------------------------------
# Fields of compound statements that hold code run as part of the statement's header.
_HEADER_FIELDS: dict[str, tuple[str, ...]] = {
    "If": ("test",),
    "While": ("test",),
    "For": ("target", "iter"),
    "With": ("items",),
    "Match": ("subject",),
    "Try": (),
    "TryStar": (),
    "FunctionDef": ("decorators", "params", "returns"),
    "ClassDef": ("decorators", "bases", "keywords"),
}
# Fields holding blocks of statements.
_BLOCK_FIELDS: dict[str, tuple[str, ...]] = {
    "If": ("body", "orelse"),
    "While": ("body", "orelse"),
    "For": ("body", "orelse"),
    "With": ("body",),
    "Try": ("body", "handlers", "orelse", "finalbody"),
    "TryStar": ("body", "handlers", "orelse", "finalbody"),
    "Match": ("cases",),
}


def _header_parts(node: Any) -> list[Any]:
    name = type(node).__name__
    fields = _HEADER_FIELDS.get(name)
    if fields is None:
        return [node]
    parts: list[Any] = []
    for field_name in fields:
        value = getattr(node, field_name, None)
        if isinstance(value, (tuple, list)):
            parts.extend(value)
        elif value is not None:
            parts.append(value)
    return parts


_CALLISH = frozenset(("Call", "Await", "Yield", "Assert"))


def _contains_call(nodes: Sequence[Any]) -> bool:
    stack = list(nodes)
    while stack:
        node = stack.pop()
        name = type(node).__name__
        if name in _CALLISH:
            return True
        if name in ("Lambda", "FunctionDef", "ClassDef"):
            continue
        stack.extend(children(node))
    return False


def statements_of(block: Any) -> Sequence[Any]:
    """The statements of an IndentedBlock, a one-line suite, Else or Finally."""
    body = getattr(block, "body", ())
    if isinstance(body, cst.BaseSuite):
        body = body.body
    return body  # type: ignore[no-any-return]


def sub_blocks(stmt: Any) -> Iterable[tuple[Any, Sequence[Any]]]:
    """The blocks of statements a compound statement holds, in source order, each with its
    `except` or `case` clause (None for the others); an `elif` is a block of one `if`."""
    for field_name in _BLOCK_FIELDS.get(type(stmt).__name__, ()):
        value = getattr(stmt, field_name, None)
        if value is None:
            continue
        if field_name == "orelse" and isinstance(value, cst.If):
            yield None, [value]
        elif field_name in ("handlers", "cases"):
            for clause in value:
                yield clause, statements_of(clause)
        else:
            yield None, statements_of(value)


def _clause_headers(clause: Any) -> list[Any]:
    """What an `except` clause (type, name) or a `case` (pattern, guard) evaluates."""
    if clause is None:
        return []
    if isinstance(clause, cst.MatchCase):
        parts = [clause.pattern, clause.guard]
    else:
        parts = [clause.type, clause.name]
    return [part for part in parts if part is not None]


def _collect_uses(view: FlowView) -> dict[str, list[Use]]:
    """Every read or write of a name in the function, with its statement and ancestors."""
    found: dict[str, list[Use]] = {}
    order = view.order

    def expression(
        root: Any, owner: Any, enclosing: tuple[Any, ...], nested: bool, chain: Any = None
    ) -> None:
        stack: list[tuple[Any, Any, bool]] = [(root, chain, nested)]
        while stack:
            node, chain, inner = stack.pop()
            name = type(node).__name__
            if name == "Name":
                parent = chain[0] if chain else None
                if not _is_label(node, parent):
                    found.setdefault(node.value, []).append(
                        Use(node, chain, owner, enclosing, inner)
                    )
                continue
            if name in _NESTED and node is not root:
                inner = True
            link = (node, chain)
            for child in children(node):
                stack.append((child, link, inner))

    def block(statements: Iterable[Any], enclosing: tuple[Any, ...]) -> None:
        for stmt in statements:
            statement(stmt, enclosing)

    def statement(stmt: Any, enclosing: tuple[Any, ...]) -> None:
        order[id(stmt)] = len(order)
        name = type(stmt).__name__
        if name in ("SimpleStatementLine", "SimpleStatementSuite"):
            for small in stmt.body:
                order[id(small)] = len(order)
                expression(small, small, enclosing, False)
            return
        if name in ("FunctionDef", "ClassDef"):
            expression(stmt, stmt, enclosing, True)
            return
        above = (stmt, None)  # a header's parent is its statement: `async with x` reads so
        for part in _header_parts(stmt):
            expression(part, stmt, enclosing, False, above)
        inner = (*enclosing, stmt)
        for clause, statements in sub_blocks(stmt):
            for header in _clause_headers(clause):
                expression(header, stmt, inner, False, above)
            block(statements, inner)

    block(statements_of(view.node), ())
    return found


def _is_label(node: Any, parent: Any) -> bool:
    """A Name that is not a variable: an attribute, a keyword, a parameter, a def's name."""
    if parent is None:
        return False
    kind = type(parent).__name__
    if kind == "Attribute":
        return parent.attr is node
    if kind == "Arg":
        return parent.keyword is node
    return kind in ("Param", "FunctionDef", "ClassDef", "ImportAlias", "NameItem")


# --- what one use does ---------------------------------------------------------------------
_PASS_THROUGH = frozenset(("BooleanOperation", "IfExp", "Await"))
_CONTAINERS = frozenset(("Element", "DictElement", "StarredElement", "StarredDictElement"))
_STORES = frozenset(("Return", "Yield", "Assign", "AnnAssign", "AugAssign", "NamedExpr", "From"))


def _classify(
    view: FlowView, use: Use, closers: frozenset[str], depth: int, handed: bool = False
) -> str:
    if use.nested:
        return ESCAPED  # a nested def or lambda that runs later holds it
    chain = use.chain
    node = use.node
    parent = chain[0] if chain else None
    if isinstance(parent, cst.Attribute):
        return CLOSED if parent.attr.value in closers else USED
    while parent is not None and type(parent).__name__ in _PASS_THROUGH:
        if isinstance(parent, cst.Await):
            return USED  # `await x`: x is awaited, not kept
        node, chain = parent, chain[1]
        parent = chain[0] if chain else None
    kind = type(parent).__name__
    if kind in ("For", "CompFor"):
        return REBOUND if parent.target is node else USED
    if kind in ("AssignTarget", "AsName") or (kind == "NamedExpr" and parent.target is node):
        return REBOUND
    if kind in _STORES:
        return ESCAPED
    if kind in _CONTAINERS:
        container = chain[1][0] if chain[1] else None
        outer = chain[1][1][0] if container is not None and chain[1][1] else None
        if type(outer).__name__ in ("AssignTarget", "For", "AsName"):
            return REBOUND
        return ESCAPED
    if kind == "Arg":
        call = chain[1][0] if chain[1] else None
        if isinstance(call, cst.Call):
            if handed or takes_ownership(view, call, parent, chain[1][1], depth, closers):
                return ESCAPED
            return USED
        return USED
    if kind == "WithItem":
        with_stmt = chain[1][0] if chain[1] else None
        if isinstance(with_stmt, cst.With) and with_stmt.asynchronous is not None:
            return CLOSED
        return USED
    return USED


def takes_ownership(
    view: FlowView,
    call: Any,
    arg: Any,
    above: Any,
    depth: int,
    closers: frozenset[str] = CLOSE_METHODS,
) -> bool:
    """`Client(session)`, `stack.enter_async_context(s)`, `create_task(run(s))`, a helper
    of this module that closes or keeps its parameter."""
    text = dotted(call.func)
    if text is not None:
        parts = text.split(".")
        last = parts[-1]
        if last in OWNERSHIP_CALLS or _KEEPER.search(last):
            return True
        if any(part[:1].isupper() for part in parts) or text in _OWN_CLASS:
            return True  # a class: its constructor or a classmethod keeps it
        if _helper_keeps(view, call, arg, depth, closers):
            return True
    # a coroutine call handed to a task starter: `create_task(worker(session))`
    parent = above[0] if above else None
    if isinstance(parent, cst.Arg) and above[1]:
        outer = above[1][0]
        if isinstance(outer, cst.Call):
            outer_text = dotted(outer.func)
            return outer_text is not None and outer_text.rpartition(".")[2] in TASK_STARTERS
    return False


def local_definition(view: FlowView, func: Any) -> Any:
    """The `def` a call refers to: a function of this module, or a method of the class
    around the function or of a base class defined in this module (`self.helper(...)`);
    None for anything else."""
    if isinstance(func, cst.Name):
        _scope, bindings = view.scope.lookup(func.value)
        return next((p for kind, p in bindings if kind == DEF), None)
    if not (isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name)):
        return None
    owner = view.scope.parent
    if owner is None or owner.kind != "class" or view.ctx is None:
        return None
    found = method_scope(owner, func.attr.value, view.ctx.facts.scopes)
    return found.node if found is not None else None


def _helper_keeps(view: FlowView, call: Any, arg: Any, depth: int, closers: frozenset[str]) -> bool:
    """A function of this module (or a method of this class) that closes or keeps the
    parameter it receives the resource as."""
    ctx = view.ctx
    if ctx is None or depth >= _MAX_HELPER_DEPTH:
        return False
    func = call.func
    definition = local_definition(view, func)
    if definition is None or definition is view.node:
        return False
    param = parameter_for(definition, call, arg, isinstance(func, cst.Attribute))
    if param is None:
        return False
    helper = flow_view(ctx, definition)
    return any(
        _classify(helper, use, closers, depth + 1) in (CLOSED, ESCAPED)
        for use in helper.uses(param)
    )


def parameter_for(definition: Any, call: Any, arg: Any, method: bool) -> Optional[str]:
    params = definition.params
    if arg.keyword is not None:
        return arg.keyword.value  # type: ignore[no-any-return]
    if arg.star:
        return None
    positional = [*params.posonly_params, *params.params]
    if method and positional:
        positional = positional[1:]
    plain = [a for a in call.args if a.keyword is None]
    index = next((i for i, a in enumerate(plain) if a is arg), len(positional))
    return positional[index].name.value if index < len(positional) else None


# --- where a local is read: the bindings that reach it (types follow assignments) --------
@dataclass(frozen=True)
class _Place:
    order: int  # source order of the statement in its function
    chain: tuple[Any, ...]  # the compound statements around it, outermost first


@dataclass(eq=False)
class _StatementIndex:
    places: dict[int, _Place] = field(default_factory=dict)  # id(statement) -> place
    bound_at: dict[int, int] = field(default_factory=dict)  # id(binding payload) -> id(stmt)


def _index_statements(function: Any) -> _StatementIndex:
    """Every statement of the function (not of nested defs) in source order, and the
    statement each assignment or `with ... as` binding is made by."""
    index = _StatementIndex()

    def block(statements: Iterable[Any], chain: tuple[Any, ...]) -> None:
        for stmt in statements:
            index.places[id(stmt)] = _Place(len(index.places), chain)
            name = type(stmt).__name__
            if name in ("SimpleStatementLine", "SimpleStatementSuite"):
                for small in stmt.body:
                    bound = _bound_payload(small)
                    if bound is not None:
                        index.bound_at[id(bound)] = id(stmt)
                continue
            if name in ("FunctionDef", "ClassDef"):
                index.bound_at[id(stmt)] = id(stmt)
                continue
            if name == "With":
                for item in stmt.items:
                    index.bound_at[id(item.item)] = id(stmt)
            inner = (*chain, stmt)
            for _clause, statements in sub_blocks(stmt):
                block(statements, inner)

    block(statements_of(function), ())
    return index


def _bound_payload(small: Any) -> Any:
    """What the walk stores as the binding's payload (or its first part), if anything."""
    if isinstance(small, cst.Assign):
        return small.value
    if isinstance(small, cst.AnnAssign):
        return small.annotation.annotation
    return None


@dataclass(eq=False)
class LocalReach:
    """A read of locals at one statement of a function (see `names.Reach`)."""

    ctx: Any
    function: Any
    stmt_id: int

    def _index(self) -> _StatementIndex:
        table: dict[int, _StatementIndex] = self.ctx.memo("statement-index", lambda _ctx: {})
        index = table.get(id(self.function))
        if index is None:
            index = table[id(self.function)] = _index_statements(self.function)
        return index

    def reaching(self, scope: Scope, bindings: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
        """The last binding made before this statement, and the ones before it when it is
        made in a block that does not hold this statement (an `if` that may not run); in a
        loop, also the bindings later in the loop (the next round reads them). Any binding
        not placed (a loop target, an import): all of them, as without a reach."""
        if len(bindings) < 2:
            return bindings
        index = self._index()
        here = index.places.get(self.stmt_id)
        if here is None:
            return bindings
        placed = []
        for binding in bindings:
            place = self._place_of(index, binding)
            if place is None:
                return bindings
            placed.append((place, binding))
        around = {id(s) for s in here.chain}
        found = []
        for place, binding in sorted(
            (p for p in placed if p[0].order < here.order), key=lambda p: -p[0].order
        ):
            found.append(binding)
            if not place.chain or id(place.chain[-1]) in around:
                break  # made in a block that holds the read: it ends the earlier types
        loops = {id(s) for s in here.chain if isinstance(s, (cst.For, cst.While))}
        found.extend(
            binding
            for place, binding in placed
            if place.order > here.order and loops & {id(s) for s in place.chain}
        )
        return found or bindings

    def _place_of(self, index: _StatementIndex, binding: tuple[str, Any]) -> Optional[_Place]:
        kind, payload = binding
        if kind == "param":
            return _Place(-1, ())
        key = payload[0] if isinstance(payload, tuple) else payload
        stmt = index.bound_at.get(id(key))
        return index.places.get(stmt) if stmt is not None else None

    def moved_to(self, payload: Any) -> Optional[LocalReach]:
        """The same function, read where `payload` was bound."""
        key = payload[0] if isinstance(payload, tuple) else payload
        stmt = self._index().bound_at.get(id(key))
        return LocalReach(self.ctx, self.function, stmt) if stmt is not None else None


def reach(ctx: FileContext, scope: Scope, stmt: Any) -> Optional[LocalReach]:
    """Where a function reads its locals at `stmt`; None outside functions."""
    if scope.kind not in ("function", "async") or stmt is None:
        return None
    return LocalReach(ctx, scope.node, id(stmt))
