"""AC201–AC205: async resources (sessions, clients, pools, files) that are never closed.

One pass over the file's calls (memoized on the context) finds the constructors of
`catalog.RESOURCE_TYPES` and what happens to each result: bound to a local, discarded,
chained, passed on, entered with `with`/`async with`, or handed away. Whether a bound local
is closed on every path is the function's flow view's question (`lint/flow.py`), asked only
for functions that construct a resource or await an aiohttp request.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Optional

from asynccheck.lint import names
from asynccheck.lint.context import RawFinding
from asynccheck.lint.cst import cst
from asynccheck.lint.facts import dotted, self_class
from asynccheck.lint.flow import flow_view, statements_of, takes_ownership
from asynccheck.lint.scopes import ANNOTATED, DEF, IMPORT, PARAM, VALUE, WITH
from asynccheck.lint.walk import children
from asynccheck.rules.base import Example, Rule
from asynccheck.rules.catalog import (
    AIOHTTP_REQUESTS,
    AIOHTTP_SESSIONS,
    ASYNC_ONLY_CONTEXT_MANAGERS,
    PASS_THROUGH_AWAITS,
    POOLING_KINDS,
    RESOURCE_TYPES,
    RESPONSE_RELEASES,
)

if TYPE_CHECKING:
    from asynccheck.lint.context import FileContext
    from asynccheck.lint.facts import Site
    from asynccheck.lint.scopes import Scope

_KNOWN = frozenset(
    (*names.KNOWN_NAMES, *RESOURCE_TYPES, *AIOHTTP_SESSIONS, *ASYNC_ONLY_CONTEXT_MANAGERS)
)
_CONFIGURED = ("configured", None)
_RESOURCE_MODULES = frozenset(
    n.partition(".")[0] for n in (*RESOURCE_TYPES, *ASYNC_ONLY_CONTEXT_MANAGERS)
)
_FUNCTIONS = ("function", "async")
_MAX_DEPTH = 4

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


def _known(ctx: FileContext) -> frozenset[str]:
    extra = ctx.settings.resource_types
    return _KNOWN | extra if extra else _KNOWN


def _resource_type(name: Optional[str], ctx: FileContext) -> Optional[tuple[str, Optional[int]]]:
    if name is None:
        return None
    found = RESOURCE_TYPES.get(name)
    if found is None and name in ctx.settings.resource_types:
        return _CONFIGURED
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
    known = _known(ctx)
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
        entry = _resource_type(call, ctx)
        if entry is None or call is None:
            continue
        kind, element = entry
        use, target, binding = _use_of(ctx, site, element)
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


def _use_of(ctx: FileContext, site: Site, element: Optional[int]) -> tuple[str, Optional[str], Any]:
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
    if scope.kind not in _FUNCTIONS:
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


class UnclosedResource(Rule):
    """An `aiohttp.ClientSession`, a database connection or pool, an `aiofiles` file or a
    stream writer holds sockets and buffers until it is closed. Left to the garbage
    collector it leaks connections, prints `Unclosed client session` and can hold the
    server's resources for minutes. `async with` closes it on every path; otherwise close it
    in a `finally`. A close at the end of the happy path is not enough: an exception before
    it leaks the resource.

    Not flagged when the object escapes to an owner: returned, yielded, stored on `self` or
    in a container or global, handed to an exit stack, to a constructor that keeps it
    (`Client(session)`), to a helper of the module that closes it, or to a task."""

    code = "AC201"
    name = "unclosed-resource"
    message = "{call}() is not closed on every path; use `async with` or close it in `finally`"
    references = (
        "https://docs.aiohttp.org/en/stable/client_advanced.html#graceful-shutdown",
        "https://docs.python.org/3/library/contextlib.html#contextlib.AsyncExitStack",
    )
    bad = (
        Example(
            """
            import aiohttp

            async def fetch(url):
                session = aiohttp.ClientSession()
                async with session.get(url) as r:
                    return await r.text()
            """
        ),
        Example(
            """
            import asyncpg

            async def count(dsn):
                conn = await asyncpg.connect(dsn)
                n = await conn.fetchval("select count(*) from t")
                await conn.close()
                return n
            """
        ),
        Example(
            """
            import asyncio

            async def ping(host):
                reader, writer = await asyncio.open_connection(host, 80)
                writer.write(b"PING\\r\\n")
                return await reader.readline()
            """
        ),
        Example(
            """
            import aiohttp

            async def start():
                aiohttp.ClientSession()
            """
        ),
        Example(
            """
            import httpx

            async def f(url, quick):
                client = httpx.AsyncClient()
                if quick:
                    return None
                try:
                    return await client.get(url)
                finally:
                    await client.aclose()
            """
        ),
    )
    good = (
        Example(
            """
            import aiohttp

            async def fetch(url):
                async with aiohttp.ClientSession() as session:
                    async with session.get(url) as r:
                        return await r.text()
            """
        ),
        Example(
            """
            import asyncpg

            async def count(dsn):
                conn = await asyncpg.connect(dsn)
                try:
                    return await conn.fetchval("select count(*) from t")
                finally:
                    await conn.close()
            """
        ),
        Example(
            """
            import aiohttp

            class Api:
                async def start(self):
                    self.session = aiohttp.ClientSession()

                async def stop(self):
                    await self.session.close()
            """
        ),
        Example(
            """
            import aiohttp

            async def make_client(token):
                session = aiohttp.ClientSession(headers={"token": token})
                await session.get("/login")
                return session
            """
        ),
        Example(
            """
            import aiohttp

            async def main(stack):
                session = aiohttp.ClientSession()
                await stack.enter_async_context(session)
                return Client(session)
            """
        ),
        Example(
            """
            import aiohttp

            @pytest.fixture
            async def session():
                s = aiohttp.ClientSession()
                yield s
                await s.close()
            """
        ),
        Example(
            """
            import aiohttp

            async def setup(entry):
                session = aiohttp.ClientSession()
                entry.async_on_unload(session.close)
                return True
            """
        ),
    )

    def check(self, ctx: FileContext) -> Iterable[RawFinding]:
        for resource in resource_sites(ctx):
            site = resource.site
            if resource.use == DISCARDED:
                leaks = True
            elif resource.use == BOUND and resource.target is not None:
                view = flow_view(ctx, site.scope.node)
                leaks = view.leak(resource.binding, resource.target) is not None
            else:
                leaks = False
            if leaks:
                message = self.message.format(call=names.display_name(resource.call))
                yield RawFinding(self.code, message, site.node, site.stmt)


class ResourceNotAsyncWith(Rule):
    """A resource constructed in the middle of an expression (`await
    aiohttp.ClientSession().get(url)`, `fetch(aiohttp.ClientSession())`) has no name, so
    nothing can ever close it: every call leaks a session and its connection pool. Create
    it with `async with` and use the bound name."""

    code = "AC202"
    name = "resource-not-async-with"
    message = "{call}() used inline can never be closed; create it with `async with` and reuse it"
    references = ("https://docs.aiohttp.org/en/stable/client_quickstart.html#make-a-request",)
    bad = (
        Example(
            """
            import aiohttp

            async def fetch(url):
                r = await aiohttp.ClientSession().get(url)
                return await r.text()
            """
        ),
        Example(
            """
            import httpx

            async def f(url):
                return await fetch(httpx.AsyncClient(), url)
            """
        ),
        Example(
            """
            from aiohttp import ClientSession

            async def f(url):
                async with ClientSession().get(url) as r:
                    return r.status
            """
        ),
    )
    good = (
        Example(
            """
            import aiohttp

            async def fetch(url):
                async with aiohttp.ClientSession() as s:
                    async with s.get(url) as r:
                        return await r.text()
            """
        ),
        Example(
            """
            import aiohttp, contextlib

            async def f(stack: contextlib.AsyncExitStack):
                return await stack.enter_async_context(aiohttp.ClientSession())
            """
        ),
        Example(
            """
            import aiohttp

            def make_client():
                return Client(session=aiohttp.ClientSession())
            """
        ),
        Example(
            """
            import aiohttp

            async def f(sessions):
                sessions.append(aiohttp.ClientSession())
            """
        ),
    )

    def check(self, ctx: FileContext) -> Iterable[RawFinding]:
        for resource in resource_sites(ctx):
            if resource.use in (CHAINED, ARGUMENT):
                site = resource.site
                message = self.message.format(call=names.display_name(resource.call))
                yield RawFinding(self.code, message, site.node, site.stmt)


class UnreleasedResponse(Rule):
    """An aiohttp response holds its pooled connection until it is released: by `async
    with`, `resp.release()`/`close()`, or reading the body to the end (`await resp.text()`,
    `json()`, `read()`). A path that returns or raises before that keeps the connection out
    of the pool until the garbage collector finds the response; under load the pool runs
    dry and requests queue. Prefer `async with session.get(url) as resp:`."""

    code = "AC203"
    name = "unreleased-response"
    message = (
        "response of {call}() is not released on every path; use `async with {call}(...) as resp`"
    )
    references = (
        "https://docs.aiohttp.org/en/stable/client_reference.html#aiohttp.ClientResponse.release",
    )
    bad = (
        Example(
            """
            import aiohttp

            async def status(session: aiohttp.ClientSession, url):
                resp = await session.get(url)
                return resp.status
            """
        ),
        Example(
            """
            import aiohttp

            async def fetch(url):
                async with aiohttp.ClientSession() as session:
                    resp = await session.post(url, json={})
                    if resp.status != 200:
                        return None
                    return await resp.json()
            """
        ),
        Example(
            """
            import aiohttp

            class Api:
                def __init__(self):
                    self._session = aiohttp.ClientSession()

                async def ping(self, url):
                    await self._session.head(url)
            """
        ),
    )
    good = (
        Example(
            """
            import aiohttp

            async def status(session: aiohttp.ClientSession, url):
                async with session.get(url) as resp:
                    return resp.status
            """
        ),
        Example(
            """
            import aiohttp

            async def fetch(session: aiohttp.ClientSession, url):
                resp = await session.get(url)
                try:
                    return resp.status
                finally:
                    resp.release()
            """
        ),
        Example(
            """
            import aiohttp

            async def fetch(session: aiohttp.ClientSession, url):
                resp = await session.get(url)
                return await resp.json()
            """
        ),
        Example(
            """
            import httpx

            async def fetch(client: httpx.AsyncClient, url):
                resp = await client.get(url)
                return resp.status_code
            """
        ),
        Example(
            """
            import aiohttp

            async def fetch(session: aiohttp.ClientSession, url):
                resp = await session.get(url)
                return resp
            """
        ),
    )

    def check(self, ctx: FileContext) -> Iterable[RawFinding]:
        for site in _response_sites(ctx):
            call = f"{ctx.code_for(site.node.func.value)}.{site.node.func.attr.value}"
            if len(call) > 40 or "\n" in call:
                call = f"session.{site.node.func.attr.value}"
            use, target, binding = _use_of(ctx, site, None)
            if use == DISCARDED:
                leaks = True
            elif use == BOUND and target is not None:
                view = flow_view(ctx, site.scope.node)
                # explicit paths only: a raise on the way is rare and the connection is
                # still released when the response is collected
                leaks = (
                    view.leak(binding, target, RESPONSE_RELEASES, implicit=False, handed=True)
                    is not None
                )
            else:
                leaks = False
            if leaks:
                yield RawFinding(self.code, self.message.format(call=call), site.node, site.stmt)


def _response_sites(ctx: FileContext) -> Iterator[Site]:
    for site in ctx.facts.calls:
        func = site.node.func
        if (
            site.awaited
            and isinstance(func, cst.Attribute)
            and func.attr.value in AIOHTTP_REQUESTS
            and site.scope.kind in _FUNCTIONS
            and is_aiohttp_session(func.value, site.scope, ctx)
        ):
            yield site


def is_aiohttp_session(expr: Any, scope: Scope, ctx: FileContext, depth: int = 0) -> bool:
    """`expr` is statically an aiohttp session: made here, handed out by a known factory,
    or annotated so (a name, a parameter, or `self.x` of the enclosing class)."""
    if depth > _MAX_DEPTH:
        return False
    if isinstance(expr, cst.Call):
        return resolve(expr.func, scope, _known(ctx)) in AIOHTTP_SESSIONS
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
    known = _known(ctx)
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


class ResourceInLoop(Rule):
    """A session, client or pool exists to reuse connections: keep-alive, TLS sessions,
    DNS cache. Creating one per loop iteration pays a new TCP and TLS handshake every time
    and can exhaust sockets. Create it once, before the loop, and reuse it."""

    code = "AC204"
    name = "resource-in-loop"
    message = "{call}() is created on every loop iteration; create it once before the loop"
    references = ("https://docs.aiohttp.org/en/stable/client_quickstart.html#make-a-request",)
    bad = (
        Example(
            """
            import aiohttp

            async def fetch_all(urls):
                for url in urls:
                    async with aiohttp.ClientSession() as session:
                        async with session.get(url) as r:
                            print(await r.text())
            """
        ),
        Example(
            """
            import httpx

            async def poll(url):
                while True:
                    async with httpx.AsyncClient() as client:
                        await client.get(url)
            """
        ),
        Example(
            """
            import asyncpg

            async def load(dsns):
                for dsn in dsns:
                    pool = await asyncpg.create_pool(dsn)
                    try:
                        await pool.execute("select 1")
                    finally:
                        await pool.close()
            """
        ),
    )
    good = (
        Example(
            """
            import aiohttp

            async def fetch_all(urls):
                async with aiohttp.ClientSession() as session:
                    for url in urls:
                        async with session.get(url) as r:
                            print(await r.text())
            """
        ),
        Example(
            """
            import aiofiles

            async def concat(paths):
                for p in paths:
                    async with aiofiles.open(p) as f:
                        print(await f.read())
            """
        ),
        Example(
            """
            import aiohttp

            async def fetch_all(urls):
                for url in urls:
                    def make():
                        return aiohttp.ClientSession()
                    register(make)
            """
        ),
    )

    def check(self, ctx: FileContext) -> Iterable[RawFinding]:
        for resource in resource_sites(ctx):
            if resource.in_loop:
                site = resource.site
                message = self.message.format(call=names.display_name(resource.call))
                yield RawFinding(self.code, message, site.node, site.stmt)


class SyncWithOnAsyncResource(Rule):
    """`aiohttp.ClientSession`, `asyncio.Lock`, `asyncio.timeout()` and the other async
    context managers implement `__aenter__`/`__aexit__` only. A plain `with` raises
    `TypeError` (or `AttributeError: __enter__`) at run time, on a path tests may not cover.
    Use `async with`."""

    code = "AC205"
    name = "sync-with-on-async-resource"
    message = "{call} is an async context manager; use `async with`, not `with`"
    site_types = ("With",)
    references = ("https://docs.python.org/3/reference/compound_stmts.html#async-with",)
    bad = (
        Example(
            """
            import aiohttp

            async def f(url):
                with aiohttp.ClientSession() as s:
                    pass
            """
        ),
        Example(
            """
            import asyncio

            class Cache:
                def __init__(self):
                    self._lock = asyncio.Lock()

                async def get(self, key):
                    with self._lock:
                        return self._data[key]
            """
        ),
        Example(
            """
            import asyncio

            async def f():
                with asyncio.timeout(5):
                    await g()
            """
        ),
        Example(
            """
            import aiohttp

            async def f(session: aiohttp.ClientSession, url):
                with session.get(url) as r:
                    return r.status
            """
        ),
    )
    good = (
        Example(
            """
            import aiohttp

            async def f(url):
                async with aiohttp.ClientSession() as s:
                    pass
            """
        ),
        Example(
            """
            import threading

            lock = threading.Lock()

            def f():
                with lock:
                    pass
            """
        ),
        Example(
            """
            import asyncio

            async def f():
                lock = asyncio.Lock()
                async with lock:
                    pass
            """
        ),
        Example(
            """
            import anyio

            async def f():
                with anyio.fail_after(5):
                    await g()
            """
        ),
    )

    def check(self, ctx: FileContext) -> Iterable[RawFinding]:
        known = _known(ctx)
        for site in ctx.sites("With"):
            if site.node.asynchronous is not None:
                continue
            for item in site.node.items:
                name = _async_only(item.item, site.scope, ctx, known)
                if name is not None:
                    message = self.message.format(call=name)
                    yield RawFinding(self.code, message, item.item, site.stmt)


def _async_only(expr: Any, scope: Scope, ctx: FileContext, known: frozenset[str]) -> Optional[str]:
    """How the message names `expr` when it is an async-only context manager."""
    if isinstance(expr, cst.Call):
        func = expr.func
        name = resolve(func, scope, known)
        if name in ASYNC_ONLY_CONTEXT_MANAGERS or _resource_type(name, ctx) == _CONFIGURED:
            return f"{names.display_name(name or '')}()"
        if (
            isinstance(func, cst.Attribute)
            and func.attr.value in AIOHTTP_REQUESTS
            and is_aiohttp_session(func.value, scope, ctx)
        ):
            return f"aiohttp session.{func.attr.value}()"
        return None
    if isinstance(expr, cst.Name):
        _found, bindings = scope.lookup(expr.value)
        values = [p for kind, p in bindings if kind == VALUE]
    elif isinstance(expr, cst.Attribute):
        owner = self_class(expr.value, scope)
        if owner is None:
            return None
        values = [
            p for kind, p in owner.bindings.get(f"self.{expr.attr.value}", ()) if kind == VALUE
        ]
    else:
        return None
    for value in values:
        if isinstance(value, cst.Call):
            name = resolve(value.func, scope, known)
            if name in ASYNC_ONLY_CONTEXT_MANAGERS:
                return f"{ctx.code_for(expr)} ({names.display_name(name or '')}())"
    return None
