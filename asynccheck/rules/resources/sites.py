"""What the code does with each resource it constructs.

One pass over the file's calls (memoized on the context) finds the constructors of
`catalog.RESOURCE_TYPES` and what happens to each result: bound to a local, discarded,
chained, passed on, entered with `with`/`async with`, or handed away. Whether a bound local
is closed on every path is the function's flow view's question (`lint/flow.py`), asked by
the rules only for functions that construct a resource or await an aiohttp request.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Optional

from asynccheck.lint import names
from asynccheck.lint.cst import cst
from asynccheck.lint.facts import dotted
from asynccheck.lint.flow import flow_view, statements_of, takes_ownership
from asynccheck.lint.scopes import IMPORT
from asynccheck.lint.walk import children
from asynccheck.rules.catalog import (
    AIOHTTP_SESSIONS,
    ASYNC_ONLY_CONTEXT_MANAGERS,
    PASS_THROUGH_AWAITS,
    PASS_THROUGH_METHODS,
    POOLING_KINDS,
    RESOURCE_TYPES,
)

if TYPE_CHECKING:
    from asynccheck.lint.context import FileContext
    from asynccheck.lint.facts import Site
    from asynccheck.lint.scopes import Scope


_KNOWN = frozenset(
    (*names.KNOWN_NAMES, *RESOURCE_TYPES, *AIOHTTP_SESSIONS, *ASYNC_ONLY_CONTEXT_MANAGERS)
)
CONFIGURED = ("configured", None)
_RESOURCE_MODULES = frozenset(
    n.partition(".")[0] for n in (*RESOURCE_TYPES, *ASYNC_ONLY_CONTEXT_MANAGERS)
)
FUNCTIONS = ("function", "async")


# What the code does with a constructor's result.
BOUND = "bound"  # bound to a local name: the flow view decides
DISCARDED = "discarded"  # an expression statement
CHAINED = "chained"  # `ClientSession().get(u)`
ARGUMENT = "argument"  # `fetch(ClientSession())`, to a call that does not keep it
ASYNC_WITH = "async-with"
SYNC_WITH = "sync-with"
KEPT = "kept"  # stored, returned, yielded, handed to an owner: not ours to close


@dataclass(frozen=True)
class ResourceSite:
    site: Site
    call: str  # the constructor, as resolved
    kind: str
    use: str  # BOUND | DISCARDED | CHAINED | ARGUMENT | ASYNC_WITH | SYNC_WITH | KEPT | ""
    target: Optional[str] = None  # the local name, when bound
    binding: Any = None  # the small statement that binds it
    in_loop: bool = False


def resource_sites(ctx: FileContext) -> list[ResourceSite]:
    return ctx.memo("resource-sites", _find_resources)


def known_names(ctx: FileContext) -> frozenset[str]:
    extra = ctx.settings.resource_types
    return _KNOWN | extra if extra else _KNOWN


def resource_type(name: Optional[str], ctx: FileContext) -> Optional[tuple[str, Optional[int]]]:
    if name is None:
        return None
    found = RESOURCE_TYPES.get(name)
    if found is None and name in ctx.settings.resource_types:
        return CONFIGURED
    return found


def resolve(func: Any, scope: Scope, known: frozenset[str]) -> Optional[str]:
    """`names.resolve`, and a pasted snippet's unimported `aiohttp.ClientSession()` (a
    module of the resource table that the file never binds) taken at its word."""
    name = names.resolve(func, scope, known)
    if name is not None:
        return name
    text = dotted(func)
    if text is None:
        return None
    head = text.partition(".")[0]
    if head in _RESOURCE_MODULES and scope.lookup(head)[0] is None:
        return text
    return None


def _last_parts(ctx: FileContext) -> frozenset[str]:
    """Last name parts of every resource constructor, and local names imported as one
    (`from aiohttp import ClientSession as CS`): only calls spelled so are resolved."""
    wanted = {n.rpartition(".")[2] for n in (*RESOURCE_TYPES, *ctx.settings.resource_types)}
    aliases = set()
    for scope in (ctx.facts.module_scope, *ctx.facts.scopes.values()):
        for local, bindings in scope.bindings.items():
            if any(k == IMPORT and str(p).rpartition(".")[2] in wanted for k, p in bindings):
                aliases.add(local)
    return frozenset(wanted | aliases)


def _find_resources(ctx: FileContext) -> list[ResourceSite]:
    known = known_names(ctx)
    spelled = _last_parts(ctx)
    found = []
    for site in ctx.facts.calls:
        func = site.node.func
        if isinstance(func, cst.Attribute):
            if func.attr.value not in spelled:
                continue
        elif not isinstance(func, cst.Name) or func.value not in spelled:
            continue
        call = resolve(func, site.scope, known)
        entry = resource_type(call, ctx)
        if entry is None or call is None:
            continue
        kind, element = entry
        use, target, binding = use_of(ctx, site, element)
        in_loop = kind in POOLING_KINDS and _in_loop(ctx, site)
        found.append(ResourceSite(site, call, kind, use, target, binding, in_loop))
    return found


def _chain(site: Site) -> list[Any]:
    """The ancestors of the call inside its statement, innermost first."""
    stmt = site.stmt
    if stmt is None:
        return []
    if isinstance(stmt, cst.SimpleStatementLine):
        roots: list[Any] = list(stmt.body)
    else:
        roots = [stmt]
    target = site.node
    stack: list[tuple[Any, Any]] = [(root, None) for root in roots]
    while stack:
        node, above = stack.pop()
        if node is target:
            out = []
            while above is not None:
                out.append(above[0])
                above = above[1]
            return out
        if type(node).__name__ in ("FunctionDef", "ClassDef", "Lambda") and node is not stmt:
            continue
        link = (node, above)
        stack.extend((child, link) for child in children(node))
    return []


def use_of(ctx: FileContext, site: Site, element: Optional[int]) -> tuple[str, Optional[str], Any]:
    """What happens to the constructor's result, from the call's ancestors."""
    chain = _chain(site)
    node: Any = site.node
    index = 0
    while index < len(chain):
        if isinstance(chain[index], cst.Await):
            node = chain[index]
            index += 1
        elif _passed_through(chain, index, site.scope):
            node = chain[index + 1]  # `asyncio.wait_for(open_connection(...), t)`
            index += 2
        else:
            break
    parent = chain[index] if index < len(chain) else None
    kind = type(parent).__name__
    if kind == "Expr":
        return DISCARDED, None, None
    if kind == "Attribute":
        return CHAINED, None, None
    if kind == "WithItem":
        stmt = chain[index + 1] if index + 1 < len(chain) else None
        is_async = isinstance(stmt, cst.With) and stmt.asynchronous is not None
        return (ASYNC_WITH if is_async else SYNC_WITH), None, None
    if kind == "Arg":
        call = chain[index + 1] if index + 1 < len(chain) else None
        if isinstance(call, cst.Call):
            view = flow_view(ctx, site.scope.node)
            above = _cons(chain[index + 2 :])
            if takes_ownership(view, call, parent, above, 0):
                return KEPT, None, None
        return ARGUMENT, None, None
    if kind in ("Assign", "AnnAssign") and parent.value is node:
        return _binding(site, parent, element)
    if kind in ("Return", "Yield", "Element", "DictElement", "NamedExpr", "StarredElement"):
        return KEPT, None, None
    return "", None, None  # a context this rule does not follow: no finding


def _passed_through(chain: list[Any], index: int, scope: Scope) -> bool:
    """`chain[index]` is the awaitable argument of a call that hands back its result."""
    arg = chain[index]
    call = chain[index + 1] if index + 1 < len(chain) else None
    if not isinstance(arg, cst.Arg) or not isinstance(call, cst.Call):
        return False
    if isinstance(call.func, cst.Attribute) and call.func.attr.value in PASS_THROUGH_METHODS:
        keyword: Optional[str] = PASS_THROUGH_METHODS[call.func.attr.value]
    else:
        keyword = PASS_THROUGH_AWAITS.get(names.resolve(call.func, scope) or "")
    if keyword is None:
        return False
    if arg.keyword is not None:
        return arg.keyword.value == keyword
    return not arg.star and call.args[0] is arg


def _cons(items: list[Any]) -> Any:
    chain = None
    for item in reversed(items):
        chain = (item, chain)
    return chain


def _binding(site: Site, stmt: Any, element: Optional[int]) -> tuple[str, Optional[str], Any]:
    scope = site.scope
    if scope.kind not in FUNCTIONS:
        return KEPT, None, None  # module or class level: lives as long as the program
    targets = [t.target for t in stmt.targets] if isinstance(stmt, cst.Assign) else [stmt.target]
    if len(targets) != 1:
        return KEPT, None, None  # `a = b = ClientSession()`: followed no further
    target = targets[0]
    if element is not None:
        if not isinstance(target, (cst.Tuple, cst.List)) or len(target.elements) <= element:
            return KEPT, None, None
        target = target.elements[element].value
    if not isinstance(target, cst.Name):
        return KEPT, None, None  # `self.session = ...`, `cache[k] = ...`
    name = target.value
    if name in scope.global_names:
        return KEPT, None, None
    return BOUND, name, stmt


def _in_loop(ctx: FileContext, site: Site) -> bool:
    """The call's statement is in a `for`/`while` body of its own function (or module).

    Not a `while` loop that sleeps: a reconnect or poll loop (`while True: async with
    ClientSession() as s: ... await asyncio.sleep(backoff)`) makes one session per
    connection or per poll, not one per request."""
    scope = site.scope
    while scope.kind == "lambda" and scope.parent is not None:
        scope = scope.parent
    owner = scope.node
    looped: dict[int, dict[int, Any]] = ctx.memo("resource-loop-statements", lambda _ctx: {})
    inside = looped.get(id(owner))
    if inside is None:
        inside = {}
        _mark_loops(statements_of(owner) if scope.kind != "module" else owner.body, None, inside)
        looped[id(owner)] = inside
    loop = inside.get(id(site.stmt))
    if loop is None:
        return False
    return not (isinstance(loop, cst.While) and _sleeps(loop))


def _sleeps(loop: Any) -> bool:
    stack = list(statements_of(loop))
    while stack:
        node = stack.pop()
        if type(node).__name__ in ("FunctionDef", "ClassDef", "Lambda"):
            continue
        if isinstance(node, cst.Call):
            func = node.func
            name = (
                func.attr.value if isinstance(func, cst.Attribute) else getattr(func, "value", "")
            )
            if name == "sleep":
                return True
        stack.extend(children(node))
    return False


def _mark_loops(statements: Iterable[Any], loop: Any, out: dict[int, Any]) -> None:
    """Map each statement inside a loop body to its innermost loop."""
    for stmt in statements:
        if loop is not None:
            out[id(stmt)] = loop
        kind = type(stmt).__name__
        if kind in ("FunctionDef", "ClassDef", "SimpleStatementLine"):
            continue
        if kind in ("For", "While"):
            _mark_loops(statements_of(stmt), stmt, out)
            if stmt.orelse is not None:
                _mark_loops(statements_of(stmt.orelse), loop, out)
        elif kind == "If":
            _mark_loops(statements_of(stmt), loop, out)
            orelse = stmt.orelse
            if orelse is not None:
                nested = [orelse] if isinstance(orelse, cst.If) else statements_of(orelse)
                _mark_loops(nested, loop, out)
        elif kind in ("Try", "TryStar"):
            _mark_loops(statements_of(stmt), loop, out)
            for handler in stmt.handlers:
                _mark_loops(statements_of(handler), loop, out)
            for extra in (stmt.orelse, stmt.finalbody):
                if extra is not None:
                    _mark_loops(statements_of(extra), loop, out)
        elif kind == "With":
            _mark_loops(statements_of(stmt), loop, out)
        elif kind == "Match":
            for case in stmt.cases:
                _mark_loops(statements_of(case), loop, out)
