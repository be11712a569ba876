"""Which calls on the loop's thread block: one classification pass per file (memoized on
the context) looks each call up in the catalogue (or the config's `blocking-calls`) and rules
out what does not block there: a call handed to a thread, a lazy iterator advanced in one, a
non-blocking socket, a future already done, a thread already finished.

`classify_call` asks the same of one call wherever it is made: AC110 and the project step
ask it about calls in plain helpers.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Optional

from asynccheck.lint import names
from asynccheck.lint.cst import cst
from asynccheck.lint.facts import dotted
from asynccheck.lint.flow import flow_view, local_definition, reach, statements_of
from asynccheck.lint.scopes import VALUE
from asynccheck.lint.walk import descendants
from asynccheck.rules.catalog import (
    ANY_METHOD,
    ANY_METHOD_MODULES,
    ASYNC_FILE_WRAPPERS,
    BLOCKING_CALLS,
    BLOCKING_METHOD_NAMES,
    BLOCKING_METHODS,
    EAGER_SINCE,
    FILE_WRITES,
    FLUSHING_METHODS,
    FUTURE_RESOLVERS,
    KNOWN_NAMES,
    LAZY_DISK_CALLS,
    LAZY_PATH_METHODS,
    OFFLOADING_CALLS,
    READINESS_CHECKS,
    TYPE_NAMES,
)

if TYPE_CHECKING:
    from asynccheck.lint.context import FileContext
    from asynccheck.lint.facts import Site


_RECEIVER_TEXT_LIMIT = 40
_NON_BLOCKING_SOCKET_CALLS = frozenset(("setblocking", "settimeout"))


@dataclass(frozen=True)
class BlockingSite:
    site: Site
    code: str
    call: str  # how the call reads in the message: "time.sleep", "f.read"


def blocking_sites(ctx: FileContext) -> list[BlockingSite]:
    """Every call on the loop's thread that the catalogue (or the config) calls blocking."""
    return ctx.memo("blocking-sites", _classify)


def _classify(ctx: FileContext) -> list[BlockingSite]:
    found = []
    for site in ctx.facts.calls:
        if site.scope.runs_on_loop:
            blocking = classify_call(ctx, site)
            if blocking is not None:
                found.append(blocking)
    return _outermost(found)


def _outermost(found: list[BlockingSite]) -> list[BlockingSite]:
    """One finding for `open(p).read()`, on the whole chain: the inner `open(p)` is the
    receiver of the outer call, whose finding (and thread hand-off) covers it."""
    receivers = set()
    for blocking in found:
        inner = blocking.site.node.func
        while isinstance(inner, (cst.Attribute, cst.Call)):
            inner = inner.value if isinstance(inner, cst.Attribute) else inner.func
            if isinstance(inner, cst.Call):
                receivers.add(id(inner))
    if not receivers:
        return found
    return [b for b in found if id(b.site.node) not in receivers]


def classify_call(ctx: FileContext, site: Site) -> Optional[BlockingSite]:
    """What the catalogue (or the config) says about one call, wherever it is made.

    The scope is not checked: AC110 asks the same question about calls in plain helpers.
    """
    blocking = _catalogue_verdict(ctx, site)
    if blocking is None or _handed_off(ctx, blocking):
        return None
    return blocking


def _catalogue_verdict(ctx: FileContext, site: Site) -> Optional[BlockingSite]:
    known = ctx.memo("blocking-known-names", _known_names)
    extra = ctx.settings.blocking_calls
    scope = site.scope
    func = site.node.func
    name = names.resolve(func, scope, known)
    if name is not None:
        code = BLOCKING_CALLS.get(name) or ("AC109" if name in extra else None)
        if code is not None and (
            names.opens_in_memory(site.node, name)
            or names.passes_no_wait_flag(site.node, name, scope)
        ):
            return None
        if code is not None and (not site.awaited or code == "AC101"):
            return BlockingSite(site, code, names.display_name(name))
    if site.awaited or not isinstance(func, cst.Attribute):
        return None
    if func.attr.value not in BLOCKING_METHOD_NAMES and not ctx.memo(
        "any-method-types", _may_hold_any_method_types
    ):
        return None  # `x.update()`: no receiver type makes it block here
    receiver_type = names.type_of(func.value, scope, at=reach(ctx, scope, site.stmt))
    entry = BLOCKING_METHODS.get(receiver_type) if receiver_type else None
    if entry is None or (func.attr.value not in entry[1] and entry[1] != ANY_METHOD):
        return None
    if _asks_not_to_wait(site.node):
        return None
    receiver = ctx.code_for(func.value)
    if receiver_type in ("socket", "ssl-socket") and (id(scope), receiver) in ctx.memo(
        "non-blocking-receivers", _non_blocking_receivers
    ):
        return None
    if _returns_at_once(ctx, site, receiver, receiver_type):
        return None
    if len(receiver) > _RECEIVER_TEXT_LIMIT or "\n" in receiver:
        receiver = TYPE_NAMES.get(receiver_type, receiver_type)
    return BlockingSite(site, entry[0], f"{receiver}.{func.attr.value}")


# Arguments that make a waiting method return at once: `thread.join(timeout=0)`,
# `lock.acquire(False)`, `q.get(block=False)`.
_NO_WAIT_KEYWORDS = {
    "timeout": ("0", "0.0"),
    "blocking": ("False",),
    "block": ("False",),
    "wait": ("False",),  # `executor.shutdown(wait=False)`
}
_NO_WAIT_FIRST_ARGUMENT = {"acquire": "False", "get": "False"}


def _may_hold_any_method_types(ctx: FileContext) -> bool:
    """The file names a module whose objects block in any method (`urllib3`)."""
    return any(module in ctx.source for module in ANY_METHOD_MODULES)


def _asks_not_to_wait(call: Any) -> bool:
    for arg in call.args:
        keyword = arg.keyword.value if arg.keyword is not None else None
        value = getattr(arg.value, "value", None)
        if keyword in _NO_WAIT_KEYWORDS and value in _NO_WAIT_KEYWORDS[keyword]:
            return True
    no_wait = _NO_WAIT_FIRST_ARGUMENT.get(call.func.attr.value)
    first = call.args[0] if call.args else None
    return (
        no_wait is not None
        and first is not None
        and first.keyword is None
        and no_wait == getattr(first.value, "value", None)
    )


_OFFLOADING_METHODS = frozenset(("run_in_executor",))


def _handed_off(ctx: FileContext, blocking: BlockingSite) -> bool:
    """The call's result goes where the waiting happens off the loop: a file opened for an
    async wrapper (`await anyio.wrap_file(open(p))`), or a lazy iterator handed to a thread
    (`await asyncio.to_thread(list, path.glob("*"))`, which reads in the thread)."""
    wrapped, threaded = ctx.memo("handed-off-arguments", _handed_off_arguments)
    node = blocking.site.node
    if id(node) in wrapped:
        return True
    if not _reads_lazily(ctx, blocking):
        return False
    return id(node) in threaded or _advanced_in_thread(ctx, blocking.site, threaded)


def _reads_lazily(ctx: FileContext, blocking: BlockingSite) -> bool:
    """The call only makes an iterator; the disk is read as it is advanced (`os.walk`,
    `Path.glob`, `Path.iterdir()` before 3.13)."""
    if blocking.call in LAZY_DISK_CALLS:
        return True
    func = blocking.site.node.func
    if not isinstance(func, cst.Attribute) or func.attr.value not in LAZY_PATH_METHODS:
        return False
    eager_since = EAGER_SINCE.get(func.attr.value)
    return eager_since is None or ctx.settings.target_version < eager_since


def _advanced_in_thread(ctx: FileContext, site: Site, threaded: set[int]) -> bool:
    """`it = path.iterdir()` on the loop, then only `await asyncio.to_thread(list, it)` (or a
    lambda handed to a thread) reads it."""
    assign = site.parent
    if not (
        isinstance(assign, cst.Assign)
        and len(assign.targets) == 1
        and isinstance(assign.targets[0].target, cst.Name)
    ):
        return False
    name = assign.targets[0].target.value
    uses = [
        use
        for use in flow_view(ctx, site.scope.node).uses(name)
        if use.node is not assign.targets[0].target
    ]
    return bool(uses) and all(
        id(use.node) in threaded or any(id(a) in threaded for a in use.ancestors()) for use in uses
    )


def _handed_off_arguments(ctx: FileContext) -> tuple[set[int], set[int]]:
    """The first arguments of async file wrappers, and every argument of a call that runs
    its callable in a thread (`asyncio.to_thread`, `loop.run_in_executor`)."""
    wrapped: set[int] = set()
    threaded: set[int] = set()
    for site in ctx.facts.calls:
        func, args = site.node.func, site.node.args
        if not args:
            continue
        if isinstance(func, cst.Attribute) and func.attr.value in _OFFLOADING_METHODS:
            threaded.update(id(arg.value) for arg in args)
            continue
        name = names.resolve(func, site.scope)
        if name in ASYNC_FILE_WRAPPERS:
            wrapped.add(id(args[0].value))
        elif name in OFFLOADING_CALLS:
            threaded.update(id(arg.value) for arg in args)
    return wrapped, threaded


def _known_names(ctx: FileContext) -> frozenset[str]:
    extra = ctx.settings.blocking_calls
    return KNOWN_NAMES | extra if extra else KNOWN_NAMES


def _non_blocking_receivers(ctx: FileContext) -> set[tuple[int, str]]:
    """Sockets in non-blocking mode in a scope: switched there (`sock.setblocking(False)`),
    or used in a `try` that expects `BlockingIOError` (the socket was switched elsewhere)."""
    receivers = _guarded_receivers(ctx)
    for site in ctx.facts.calls:
        func = site.node.func
        if (
            isinstance(func, cst.Attribute)
            and func.attr.value in _NON_BLOCKING_SOCKET_CALLS
            and site.node.args
            and ctx.code_for(site.node.args[0].value).strip() in ("False", "0", "0.0")
        ):
            receivers.add((id(site.scope), ctx.code_for(func.value)))
    return receivers


_FUTURE_AWAITERS = frozenset(("asyncio.wrap_future", "asyncio.futures.wrap_future"))
_AWAITED = "await"  # the receiver was awaited (as a future) in the function


def _returns_at_once(ctx: FileContext, site: Site, receiver: str, receiver_type: str) -> bool:
    """A method that waits only in a state the code has ruled out: a future or queue it
    checked first (`if fut.done()`, `while not q.empty()`), a future it awaited, a `seek()`
    with no write pending, a `join()` of a thread whose last act resolved an awaited future."""
    method = site.node.func.attr.value
    if receiver_type == "file" and method in FLUSHING_METHODS:
        return not _write_pending(ctx, site, receiver)
    checked = ctx.memo("receiver-checks", _receiver_checks).get((id(site.scope), receiver), ())
    if receiver_type == "future" and _AWAITED in checked:
        return True
    if any(check in checked for check in READINESS_CHECKS.get(receiver_type, ())):
        return True
    return receiver_type == "thread" and method == "join" and _thread_done(ctx, site)


def _receiver_checks(ctx: FileContext) -> dict[tuple[int, str], set[str]]:
    """Per (scope, receiver): the methods called on it, and `await` when it was awaited as a
    future (`await asyncio.wrap_future(fut)`, `await fut`)."""
    found: dict[tuple[int, str], set[str]] = {}
    for site in ctx.facts.calls:
        func = site.node.func
        if isinstance(func, cst.Attribute):
            found.setdefault((id(site.scope), ctx.code_for(func.value)), set()).add(func.attr.value)
        if site.node.args and names.resolve(func, site.scope) in _FUTURE_AWAITERS:
            key = (id(site.scope), ctx.code_for(site.node.args[0].value))
            found.setdefault(key, set()).add(_AWAITED)
    return found


def _write_pending(ctx: FileContext, site: Site, receiver: str) -> bool:
    """A `write()` on the receiver comes before this call in the function, with no `flush()`
    after it: only then does `seek()` write to the disk."""
    last = None
    for other in ctx.facts.calls:  # in source order
        if other is site:
            break
        func = other.node.func
        if (
            other.scope is site.scope
            and isinstance(func, cst.Attribute)
            and func.attr.value in (*FILE_WRITES, "flush")
            and ctx.code_for(func.value) == receiver
        ):
            last = func.attr.value
    return last in FILE_WRITES


def _thread_done(ctx: FileContext, site: Site) -> bool:
    """`t.join()` after `await fut`, where `t`'s target ends by resolving `fut`
    (`loop.call_soon_threadsafe(fut.set_result, x)` as its last statement): the thread has
    nothing left to do, so the join returns at once."""
    thread = site.node.func.value
    if not isinstance(thread, cst.Name):
        return False
    _scope, bindings = site.scope.lookup(thread.value)
    if len(bindings) != 1 or bindings[0][0] != VALUE or not isinstance(bindings[0][1], cst.Call):
        return False  # one `t = threading.Thread(target=...)`, nothing else
    target = next(
        (a.value for a in bindings[0][1].args if a.keyword and a.keyword.value == "target"), None
    )
    definition = local_definition(flow_view(ctx, site.scope.node), target) if target else None
    if definition is None:
        return False
    resolved = _resolved_last(definition)
    return any(_awaited_before(ctx, site, future) for future in resolved)


def _resolved_last(definition: Any) -> set[str]:
    """The futures the function's last statement resolves (`fut.set_result(...)`, or that
    method handed to `call_soon_threadsafe`)."""
    body = statements_of(definition)
    last = body[-1] if body else None
    if isinstance(last, cst.Try) and last.finalbody is not None:
        last = statements_of(last.finalbody)[-1]
    found = set()
    for node in descendants([last]) if last is not None else ():
        if isinstance(node, cst.Attribute) and node.attr.value in FUTURE_RESOLVERS:
            text = dotted(node.value)
            if text is not None:
                found.add(text)
    return found


def _awaited_before(ctx: FileContext, site: Site, future: str) -> bool:
    """`await fut` (or `await asyncio.wait_for(fut, ...)`) in the function before `site`."""
    for other in ctx.facts.calls:  # in source order
        if other is site:
            break
        if (
            other.scope is site.scope
            and other.awaited
            and any(ctx.code_for(a.value) == future for a in other.node.args)
        ):
            return True
    view = flow_view(ctx, site.scope.node)
    uses = view.uses(future)  # fills view.order
    here = view.order.get(id(site.stmt), -1)
    return any(
        isinstance(parent, cst.Await) and view.order.get(id(use.owner), here) < here
        for use in uses
        for parent in itertools.islice(use.ancestors(), 1)
    )


# What a call on a non-blocking socket raises instead of waiting.
_WOULD_BLOCK_ERRORS = frozenset(
    ("builtins.BlockingIOError", "ssl.SSLWantReadError", "ssl.SSLWantWriteError")
)


def _guarded_receivers(ctx: FileContext) -> set[tuple[int, str]]:
    """Receivers of the method calls in a `try` body whose handler catches BlockingIOError."""
    receivers = set()
    for site in (*ctx.sites("ExceptHandler"), *ctx.sites("ExceptStarHandler")):
        caught = site.node.type
        types = [e.value for e in caught.elements] if isinstance(caught, cst.Tuple) else [caught]
        if not any(names.resolve(t, site.scope) in _WOULD_BLOCK_ERRORS for t in types):
            continue
        for node in descendants(site.parent.body.body):
            if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
                receivers.add((id(site.scope), ctx.code_for(node.func.value)))
    return receivers
