"""AC101–AC109: calls that block the event loop, made directly inside `async def`.

One classification pass per file (shared by every code in the family, memoized on the
context) looks each call up in the catalogue; each rule keeps the sites of its own code.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Optional

from asynccheck.lint import names
from asynccheck.lint.context import FixPlan, NodeEdit, RawFinding
from asynccheck.lint.cst import cst
from asynccheck.lint.facts import dotted
from asynccheck.lint.finding import SAFE, UNSAFE
from asynccheck.lint.flow import flow_view, local_definition, reach, statements_of
from asynccheck.lint.scopes import VALUE
from asynccheck.lint.walk import descendants
from asynccheck.rules.base import Example, Rule
from asynccheck.rules.catalog import (
    ANY_METHOD,
    ASYNC_FILE_WRAPPERS,
    BLOCKING_CALLS,
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
    return found


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


# Parents under which `await ...` can replace a call without parentheses or changing what a
# comprehension produces.
_STATEMENT_PARENTS = frozenset(("Expr", "Assign", "AnnAssign", "AugAssign", "Return"))
_EXPRESSION_PARENTS = _STATEMENT_PARENTS | frozenset(
    ("Arg", "WithItem", "If", "While", "Comparison", "ComparisonTarget", "UnaryOperation",
     "BooleanOperation", "Element")
)  # fmt: skip


class BlockingCall(Rule):
    """Shared check of AC101–AC109; subclasses carry the metadata and the fix."""

    alternative: ClassVar[str] = ""
    # The message for sync code the loop runs (a protocol callback, a `call_soon` callback),
    # where the advice cannot be to `await`; None when `message` already fits there.
    sync_message: ClassVar[Optional[str]] = None

    def check(self, ctx: FileContext) -> Iterable[RawFinding]:
        for blocking in blocking_sites(ctx):
            if blocking.code != self.code:
                continue
            site = blocking.site
            template = self.message
            if self.sync_message is not None and not site.scope.is_async:
                template = self.sync_message
            yield RawFinding(
                self.code,
                template.format(call=blocking.call),
                site.node,
                site.stmt,
                self.make_fix(ctx, site),
            )

    def make_fix(self, ctx: FileContext, site: Site) -> Optional[FixPlan]:
        return None


class ToThreadFix(BlockingCall):
    """Blocking calls whose unsafe fix runs them in a worker thread."""

    fix_safety = UNSAFE
    fix_title = "Run the call in a worker thread with `await asyncio.to_thread(...)`"
    fix_awaits = True

    def make_fix(self, ctx: FileContext, site: Site) -> Optional[FixPlan]:
        if not _can_await_here(site, _EXPRESSION_PARENTS):
            return None
        asyncio_name, imports = ctx.module_name_for(site.scope, "asyncio")
        if asyncio_name is None:
            return None
        call = site.node
        func = ctx.code_for(call.func)
        # Edits around the arguments, never a rewrite of them: comments and line breaks stay.
        handed = (
            NodeEdit(call.args[0], f"{func}, ", "before")
            if call.args
            else NodeEdit(call, func, "before_end")
        )
        edits = (
            NodeEdit(call, "await ", "before"),
            NodeEdit(call.func, f"{asyncio_name}.to_thread"),
            handed,
            *imports,
        )
        return FixPlan(self.fix_safety, self.fix_title or "", edits)


def _can_await_here(site: Site, parents: frozenset[str]) -> bool:
    return site.scope.is_async and not site.awaited and type(site.parent).__name__ in parents


class BlockingSleep(BlockingCall):
    """The loop runs one callback at a time: `time.sleep(2)` in a coroutine stops every task
    for two seconds. No other request is served and no timeout fires meanwhile.
    `await asyncio.sleep()` suspends only the current task."""

    code = "AC101"
    name = "blocking-sleep"
    message = "{call}() blocks the event loop; use await asyncio.sleep()"
    sync_message = "{call}() blocks the event loop; schedule what follows with loop.call_later()"
    fix_safety = SAFE
    fix_title = "Replace with `await asyncio.sleep(...)`"
    fix_awaits = True
    references = ("https://docs.python.org/3/library/asyncio-dev.html#running-blocking-code",)
    bad = (
        Example(
            "import time\nasync def f():\n    time.sleep(1)",
            fixed="import asyncio\nimport time\nasync def f():\n    await asyncio.sleep(1)",
        ),
        Example(
            "from time import sleep as zz\nasync def f():\n    zz(0.5)",
            fixed="import asyncio\nfrom time import sleep as zz\n"
            "async def f():\n    await asyncio.sleep(0.5)",
        ),
        Example(
            "import asyncio as aio\nimport time as t\n\nasync def retry(delay):\n"
            "    t.sleep(delay)  # back off\n",
            fixed="import asyncio as aio\nimport time as t\n\nasync def retry(delay):\n"
            "    await aio.sleep(delay)  # back off\n",
        ),
        Example("async def snippet():\n    time.sleep(1)\n"),
        Example(
            "import time\nasync def f():\n    def wait():\n        time.sleep(1)\n    wait()\n"
        ),
    )
    good = (
        Example("import asyncio\nasync def f():\n    await asyncio.sleep(1)"),
        Example("import time\ndef f():\n    time.sleep(1)"),
        Example(
            "import asyncio, time\nasync def f():\n    def g():\n        time.sleep(1)\n"
            "    await asyncio.to_thread(g)"
        ),
        Example(
            "import asyncio\nfrom time import sleep\nasync def f():\n"
            "    sleep = asyncio.sleep\n    await sleep(1)"
        ),
        Example(
            "import asyncio, time\nasync def f(loop):\n"
            "    await loop.run_in_executor(None, lambda: time.sleep(1))"
        ),
    )

    def make_fix(self, ctx: FileContext, site: Site) -> Optional[FixPlan]:
        if not _can_await_here(site, _STATEMENT_PARENTS):
            return None
        asyncio_name, imports = ctx.module_name_for(site.scope, "asyncio")
        if asyncio_name is None:
            return None
        edits = (
            NodeEdit(site.node, "await ", "before"),
            NodeEdit(site.node.func, f"{asyncio_name}.sleep"),
            *imports,
        )
        return FixPlan(SAFE, self.fix_title or "", edits)


class BlockingHttp(ToThreadFix):
    """A synchronous HTTP request holds the event loop for the whole round trip: DNS,
    connect, TLS, server time and transfer. Every other task waits, timeouts included.
    Use an async client (aiohttp, httpx.AsyncClient), or run the call in a thread."""

    code = "AC102"
    name = "blocking-http"
    message = "{call}() is a blocking HTTP call; use an async client (aiohttp, httpx.AsyncClient)"
    references = ("https://docs.aiohttp.org/en/stable/client_quickstart.html",)
    bad = (
        Example(
            "import requests\nasync def fetch(url):\n    return requests.get(url, timeout=5)",
            fixed="import asyncio\nimport requests\nasync def fetch(url):\n"
            "    return await asyncio.to_thread(requests.get, url, timeout=5)",
            unsafe=True,
        ),
        Example(
            "import requests\nasync def fetch(url):\n"
            "    with requests.Session() as s:\n        return s.get(url).json()"
        ),
        Example("from urllib.request import urlopen\nasync def f(u):\n    urlopen(u).read()"),
        Example("import httpx\nasync def f(u):\n    r = httpx.post(u, json={})"),
        Example("import urllib3\nhttp = urllib3.PoolManager()\nasync def f(u):\n"
                "    return http.request('GET', u)"),
        Example(
            """
            import requests

            class Api:
                def __init__(self):
                    self.session = None
                    self.session = requests.Session()

                async def user(self, uid):
                    return self.session.get(f"/users/{uid}").json()
            """
        ),
    )  # fmt: skip
    good = (
        Example(
            "import aiohttp\nasync def fetch(session: aiohttp.ClientSession, url):\n"
            "    async with session.get(url) as r:\n        return await r.json()"
        ),
        Example(
            "import httpx\nasync def f(u):\n"
            "    async with httpx.AsyncClient() as c:\n        return await c.get(u)"
        ),
        Example(
            "import asyncio, requests\nasync def f(u):\n"
            "    return await asyncio.to_thread(requests.get, u)"
        ),
        Example("import requests\ndef f(u):\n    return requests.get(u)"),
        Example("async def f(requests):\n    return requests.get('x')"),
        Example(
            """
            import requests

            class Api:
                def __init__(self):
                    self.session = requests.Session()

                async def user(self, session):
                    return session.get("/users")
            """
        ),
    )


class BlockingSubprocess(ToThreadFix):
    """`subprocess.run()` and friends wait for the child process with the loop stopped.
    `asyncio.create_subprocess_exec()` waits without blocking other tasks."""

    code = "AC103"
    name = "blocking-subprocess"
    message = "{call}() blocks the event loop; use asyncio.create_subprocess_exec()"
    references = ("https://docs.python.org/3/library/asyncio-subprocess.html",)
    bad = (
        Example(
            "import subprocess\nasync def f():\n    subprocess.run(['ls'], check=True)",
            fixed="import asyncio\nimport subprocess\nasync def f():\n"
            "    await asyncio.to_thread(subprocess.run, ['ls'], check=True)",
            unsafe=True,
        ),
        Example("import os\nasync def f():\n    os.system('sync')"),
        Example("async def f():\n    out = subprocess.check_output(['git', 'status'])"),
        Example(
            "from subprocess import Popen\nasync def f():\n"
            "    p = Popen(['sleep', '1'])\n    p.wait()"
        ),
    )
    good = (
        Example(
            "import asyncio\nasync def f():\n"
            "    p = await asyncio.create_subprocess_exec('ls')\n    await p.wait()"
        ),
        Example("import subprocess\ndef f():\n    subprocess.run(['ls'])"),
        Example(
            "import asyncio, subprocess\nasync def f():\n"
            "    await asyncio.to_thread(subprocess.run, ['ls'])"
        ),
        Example("async def f(os):\n    os.system('x')"),
    )


class BlockingFileIo(ToThreadFix):
    """Disk reads and writes, and file-system calls like `os.listdir`, block the loop. On a
    slow or network disk that can be seconds. Run them in a thread, or use aiofiles/anyio.

    Not flagged: `os.fdopen(fd)` (it wraps a descriptor already open; reading the file it
    returns is flagged); `seek()` with no write pending (on a file only read, or right
    after `flush()`: a bare lseek); a lazy iterator (`os.walk`, `Path.glob`, `Path.walk`,
    `Path.iterdir()` below 3.13) handed to a thread, or made on the loop and only advanced
    in a thread (`it = p.iterdir()` then `await asyncio.to_thread(list, it)`)."""

    code = "AC104"
    name = "blocking-file-io"
    message = "{call}() does blocking file I/O; use await asyncio.to_thread() or aiofiles"
    sync_message = "{call}() does blocking file I/O on the loop; hand it to loop.run_in_executor()"
    references = ("https://docs.python.org/3/library/asyncio-task.html#asyncio.to_thread",)
    bad = (
        Example(
            "import json\nasync def load(path):\n    with open(path) as f:\n"
            "        return json.load(f)",
            fixed="import asyncio\nimport json\nasync def load(path):\n"
            "    with await asyncio.to_thread(open, path) as f:\n        return json.load(f)",
            unsafe=True,
        ),
        Example("from pathlib import Path\nasync def f():\n    Path('a.txt').read_text()"),
        Example("import shutil\nasync def f(d):\n    shutil.rmtree(d)"),
        Example("from os import path\nasync def f(p):\n    return path.exists(p)"),
        Example("from typing import TextIO\nasync def f(fp: TextIO):\n    return fp.read()"),
        Example(
            "from pathlib import Path\nBASE = Path(__file__).parent\n"
            "async def f():\n    if not (BASE / 'cache').exists():\n        pass"
        ),
    )
    good = (
        Example(
            "import aiofiles\nasync def f(p):\n"
            "    async with aiofiles.open(p) as f:\n        return await f.read()"
        ),
        Example(
            "import asyncio\nfrom pathlib import Path\nasync def f():\n"
            "    return await asyncio.to_thread(Path('a.txt').read_text)"
        ),
        Example("def f(p):\n    with open(p) as f:\n        return f.read()"),
        Example("import os\nasync def f(p):\n    return os.path.join(p, 'x')"),
        Example("async def f(reader):\n    return await reader.read()"),
        Example(
            "from pathlib import Path\nasync def f(p: Path):\n"
            "    return p.with_suffix('.json').name"
        ),
    )


class BlockingSocket(BlockingCall):
    """Blocking socket calls and DNS lookups (`socket.getaddrinfo`) stall every task for a
    network round trip. Use asyncio streams, `loop.sock_*()` or `await loop.getaddrinfo()`."""

    code = "AC105"
    name = "blocking-socket"
    site_types = ("ExceptHandler", "ExceptStarHandler")
    message = "{call}() is a blocking socket call; use asyncio streams or loop.getaddrinfo()"
    references = ("https://docs.python.org/3/library/asyncio-stream.html",)
    bad = (
        Example("import socket\nasync def f(h):\n    return socket.gethostbyname(h)"),
        Example("import socket\nasync def f():\n    s = socket.create_connection(('h', 80))"),
        Example(
            "import socket\nasync def f():\n    s = socket.socket()\n"
            "    s.connect(('h', 80))\n    return s.recv(1024)"
        ),
    )
    good = (
        Example(
            "import asyncio\nasync def f():\n"
            "    r, w = await asyncio.open_connection('h', 80)"
        ),
        Example("import asyncio\nasync def f(h):\n    return await asyncio.get_running_loop().getaddrinfo(h, 80)"),
        Example(
            "import asyncio, socket\nasync def f():\n    s = socket.socket()\n"
            "    s.setblocking(False)\n    await asyncio.get_running_loop().sock_connect(s, ('h', 80))\n"
            "    s.send(b'x')"
        ),
        Example("import socket\ndef f(h):\n    return socket.gethostbyname(h)"),
    )  # fmt: skip


class BlockingDatabase(BlockingCall):
    """Synchronous database drivers block the loop for every query and connection. Use an
    async driver (asyncpg, aiosqlite, redis.asyncio, motor) or run the work in a thread."""

    code = "AC106"
    name = "blocking-database"
    message = "{call}() is a blocking database call; use an async driver (asyncpg, aiosqlite, ...)"
    bad = (
        Example("import sqlite3\nasync def f():\n    db = sqlite3.connect('x.db')"),
        Example("import psycopg2\nasync def f(dsn):\n    return psycopg2.connect(dsn)"),
        Example("import redis\nasync def f():\n    r = redis.Redis()\n"),
        Example("import boto3\nasync def f():\n    s3 = boto3.client('s3')"),
    )
    good = (
        Example("import aiosqlite\nasync def f():\n    async with aiosqlite.connect('x') as db:\n        pass"),
        Example("import redis.asyncio as redis\nasync def f():\n    r = redis.Redis()"),
        Example("import sqlite3\ndef f():\n    return sqlite3.connect('x.db')"),
        Example("import asyncpg\nasync def f(dsn):\n    return await asyncpg.connect(dsn)"),
    )  # fmt: skip


class BlockingInput(BlockingCall):
    """`input()` waits for a human with the loop stopped: nothing else runs until Enter."""

    code = "AC107"
    name = "blocking-input"
    message = "{call}() blocks the event loop waiting for input; use await asyncio.to_thread()"
    sync_message = "{call}() blocks the event loop waiting for input; read it in a thread"
    bad = (
        Example("async def f():\n    name = input('name? ')"),
        Example("import sys\nasync def f():\n    line = sys.stdin.readline()"),
        Example("import getpass\nasync def f():\n    pw = getpass.getpass()"),
    )
    good = (
        Example("import asyncio\nasync def f():\n    name = await asyncio.to_thread(input, 'name? ')"),
        Example("def f():\n    return input()"),
        Example("async def f(input):\n    return input()"),
    )  # fmt: skip


class BlockingWait(BlockingCall):
    """Waiting on a thread primitive (`threading.Lock.acquire`, `queue.Queue.get`,
    `Future.result`, `Thread.join`) parks the loop's only thread until another thread acts;
    if that thread needs the loop, it deadlocks. Use the asyncio primitive instead.

    Not flagged: a wait the code has ruled out: `fut.result()` after `fut.done()` or after
    awaiting it, `q.get()` on a queue checked with `empty()`/`qsize()`, waits that ask not to
    wait (`join(timeout=0)`, `acquire(False)`), and `thread.join()` after awaiting the
    future the thread resolves as its last act (the thread is finishing)."""

    code = "AC108"
    name = "blocking-wait"
    message = "{call}() blocks the event loop while it waits; use the asyncio equivalent"
    bad = (
        Example("import threading\nlock = threading.Lock()\nasync def f():\n    lock.acquire()"),
        Example("import queue\nasync def f():\n    q = queue.Queue()\n    item = q.get()"),
        Example(
            "from concurrent.futures import ThreadPoolExecutor\nasync def f(pool: ThreadPoolExecutor):\n"
            "    with ThreadPoolExecutor() as ex:\n        fut = ex.submit(print)\n        fut.result()"
        ),
        Example("import threading\nasync def f():\n    t = threading.Thread(target=print)\n    t.start()\n    t.join()"),
        Example("import asyncio\nasync def f(coro, loop):\n    asyncio.run_coroutine_threadsafe(coro, loop).result()"),
    )  # fmt: skip
    good = (
        Example("import asyncio\nlock = asyncio.Lock()\nasync def f():\n    async with lock:\n        pass"),
        Example("import asyncio\nasync def f(q: asyncio.Queue):\n    return await q.get()"),
        Example("import threading\nlock = threading.Lock()\ndef f():\n    lock.acquire()"),
        Example("import asyncio, concurrent.futures\nasync def f(fut: concurrent.futures.Future):\n    return await asyncio.wrap_future(fut)"),
    )  # fmt: skip


class ConfiguredBlockingCall(BlockingCall):
    """Calls your project knows to block, listed under `blocking-calls` in
    `[tool.asynccheck]` (for example an SDK's sync client). asynccheck flags them inside
    `async def` like the built-in catalogue."""

    code = "AC109"
    name = "configured-blocking-call"
    message = "{call}() is listed as blocking in blocking-calls; await asyncio.to_thread() it"
    sync_message = (
        "{call}() is listed as blocking in blocking-calls; hand it to loop.run_in_executor()"
    )
    config_keys = ("blocking-calls",)
    example_config = {"blocking-calls": ["mysdk.fetch_all", "mysdk.client.sync_call"]}
    bad = (
        Example("import mysdk\nasync def f():\n    mysdk.fetch_all()"),
        Example("from mysdk import fetch_all as fa\nasync def f():\n    fa()"),
        Example("import mysdk.client\nasync def f():\n    mysdk.client.sync_call(1)"),
    )
    good = (
        Example("import mysdk\ndef f():\n    mysdk.fetch_all()"),
        Example("import asyncio, mysdk\nasync def f():\n    await asyncio.to_thread(mysdk.fetch_all)"),
        Example("import mysdk\nasync def f():\n    await mysdk.fetch_all_async()"),
    )  # fmt: skip
