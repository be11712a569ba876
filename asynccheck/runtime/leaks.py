"""What a monitored loop leaves behind: pending tasks, unclosed resources, lost exceptions.

Three sources, each at the moment it is reliable:
- tasks still pending when the main coroutine returned: `asyncio.run`/`Runner` cancels them in
  `runners._cancel_all_tasks`, which calls `run_until_complete` on the loop; the loop notes
  them right then (and again at `close()`, for loops closed by hand);
- unclosed objects: their `__del__` warns with `ResourceWarning` (transports, sockets, files,
  aiohttp's "Unclosed client session"). Those are ignored by default, so while a loop runs
  we let them through, catch them in `warnings._showwarnmsg` (which carries the object) and
  collect garbage at report time so cycles speak up before the report is made. A program
  that records warnings itself and asks for these (`assertWarns`, `pytest.warns`) gets them
  too;
- task exceptions never retrieved, and tasks destroyed while pending: asyncio passes those to
  `loop.call_exception_handler`, which the monitored loop hands to `note_exception_context`.

Where a leaked object was made comes from two places:
- `track_allocations()`, on whenever anything is monitored: the constructors in
  `RESOURCE_TYPES` (asyncio transports and stream writers, sockets, aiohttp sessions,
  connectors and connections, subprocesses, event loops) note where they were called from
  (`sites.user_creation_site`: the user's line in the callback that made them, as for tasks).
  Nothing is paid anywhere else. Measured with `bench/runtime_overhead.py --sites` on a slow
  shared VM: +11 us per `socket.socket()` (which itself costs 11 us there), +18 us per aiohttp
  `ClientSession()` (session and connector; 70 us); an aiohttp server that takes a new
  connection for every request spent 3% more CPU per request, within that machine's noise;
- `start_tracing()`, for `--trace-leaks`: tracemalloc, for any other object (files, ...). It
  traces one frame per allocation, the line that made the object. tracemalloc costs per
  allocation and per frame (each frame's line number is looked up in its code's line table):
  a callback making 1.4M small objects took 0.47 s untraced, 35 s with the 10 frames used
  before (22 s under the old profile), 2.8 s with one (2.3-4.4 s run to run;
  `bench/runtime_overhead.py --trace-leaks`). The blocking detector's `settrace` and the profiler only add to that per
  allocation; the frames were the cost.
"""

from __future__ import annotations

import asyncio
import gc
import importlib
import os
import sys
import threading
import tracemalloc
import warnings
import weakref
from typing import Any, Callable, Protocol

from asynccheck.runtime.describe import describe_task
from asynccheck.runtime.ids import identity
from asynccheck.runtime.recorder import Recorder, current_recorder, pop_recorder, push_recorder
from asynccheck.runtime.report import Leak
from asynccheck.runtime.sites import Site, file_kind, user_creation_site


class TaskSites(Protocol):
    """What the leak notes need from a loop's probe: its recorder and where tasks were made."""

    @property
    def recorder(self) -> Recorder: ...

    def task_site(self, task_id: int | None) -> Site | None: ...


# loop.call_exception_handler messages that report a leak, by kind
_MESSAGES = {
    "Task exception was never retrieved": "exception",
    "Task was destroyed but it is pending!": "task",
    "Unclosed client session": "resource",
    "Unclosed connector": "resource",
    "Unclosed connection": "resource",
    "Unclosed response": "resource",
}
# the context key that holds the unclosed object, for the resource messages
_OBJECT_KEYS = ("client_session", "connector", "client_connection", "client_response")


def note_pending_tasks(loop: asyncio.AbstractEventLoop, probe: TaskSites) -> None:
    """Record every task of `loop` that is not done: the main coroutine has already returned."""
    current = asyncio.current_task(loop) if loop.is_running() else None
    for task in asyncio.all_tasks(loop):
        if task is current or task.done():
            continue
        probe.recorder.add_leak(
            Leak("task", describe_task(task), probe.task_site(identity(task))), key=f"id:{id(task)}"
        )


def note_exception_context(probe: TaskSites, context: dict[str, Any]) -> bool:
    """Record a leak from an exception-handler context; True if it was one of ours."""
    kind = _MESSAGES.get(str(context.get("message", "")))
    if kind is None:
        return False
    task = context.get("task") or context.get("future")
    obj = next((context[k] for k in _OBJECT_KEYS if context.get(k) is not None), None)
    if task is not None:
        what = describe_task(task)
        exc = context.get("exception")
        if kind == "exception" and exc is not None:
            what = f"{what} raised {type(exc).__name__}: {exc}"
        probe.recorder.add_leak(
            Leak(kind, what, probe.task_site(identity(task))), key=f"id:{id(task)}"
        )
    elif obj is not None:
        probe.recorder.add_leak(
            Leak(kind, f"{context['message']} {obj!r}", allocation_site(obj)), key=f"id:{id(obj)}"
        )
    return True


# -- where objects are made ----------------------------------------------------------------------
# Constructors whose callers are noted whenever monitoring is on. tracemalloc cannot stand in
# for this on 3.11: `get_object_traceback` returns None for any object with a managed __dict__
# (transports, sessions), and it is far too slow to leave on.
RESOURCE_TYPES: tuple[tuple[str, str], ...] = (
    ("asyncio.selector_events", "_SelectorTransport"),
    ("asyncio.proactor_events", "_ProactorBasePipeTransport"),
    ("asyncio.unix_events", "_UnixReadPipeTransport"),
    ("asyncio.unix_events", "_UnixWritePipeTransport"),
    ("asyncio.base_subprocess", "BaseSubprocessTransport"),
    ("asyncio.sslproto", "_SSLProtocolTransport"),
    ("asyncio.streams", "StreamWriter"),
    ("asyncio.base_events", "BaseEventLoop"),
    ("socket", "socket"),
    ("subprocess", "Popen"),
    ("aiohttp.client", "ClientSession"),
    ("aiohttp.connector", "BaseConnector"),
    ("aiohttp.connector", "Connection"),
)


class _SiteTable:
    """identity(object) -> (weak reference, type, where it was made).

    Keyed by id, not weakly by the object: a garbage cycle clears weak references before its
    objects' `__del__` warns, and that is exactly when the creation site is wanted; the type
    must match too. Entries of dead objects are dropped in sweeps whose cost is spread over
    the insertions (a sweep when the table doubles), not by weak-reference callbacks: one per
    object made costs more than the sweeps. A dead entry cannot name a newer object: any
    tracked object made at the same address replaces it."""

    def __init__(self) -> None:
        self.by_id: dict[int, tuple[Any, type, Site | None]] = {}
        self.sweep_at = 4096

    def add(self, obj: object, site: Site | None) -> None:
        by_id = self.by_id
        by_id[identity(obj)] = (weakref.ref(obj), type(obj), site)
        if len(by_id) > self.sweep_at:
            self.sweep()

    def sweep(self) -> None:
        """Drop the entries of dead objects (any thread may be adding meanwhile)."""
        by_id = self.by_id
        for key, entry in list(by_id.items()):
            if entry[0]() is None and by_id.get(key) is entry:
                by_id.pop(key, None)
        self.sweep_at = max(4096, 2 * len(by_id))

    def site(self, obj: object) -> Site | None:
        entry = self.by_id.get(identity(obj))
        if entry is None or entry[1] is not type(obj):
            return None
        alive = entry[0]()
        return entry[2] if alive is obj or alive is None else None


_SITES = _SiteTable()


def _tracking_init(orig: Callable[..., None]) -> Callable[..., None]:
    # Everything it needs is bound here: this runs for every socket and transport made.
    table, by_id, ref, getframe, ident = _SITES, _SITES.by_id, weakref.ref, sys._getframe, identity

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        orig(self, *args, **kwargs)
        try:
            by_id[ident(self)] = (ref(self), type(self), user_creation_site(getframe(1)))
            if len(by_id) > table.sweep_at:
                table.sweep()
        except Exception:  # bookkeeping must never break the user's constructor
            pass

    __init__.__wrapped__ = orig  # type: ignore[attr-defined]
    __init__.__name__ = "__init__"
    __init__.__qualname__ = getattr(orig, "__qualname__", "__init__")
    return __init__


class _AllocationTracking:
    """Reference-counted `__init__` wrappers on RESOURCE_TYPES: every monitor (nested,
    concurrent, in threads) shares one set, put in by the first and taken out by the last."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.users = 0
        self.undo: list[tuple[type, Any]] = []

    def acquire(self) -> None:
        with self.lock:
            self.users += 1
            if self.users == 1:
                self._wrap()

    def release(self) -> None:
        with self.lock:
            if self.users == 0:
                return
            self.users -= 1
            if self.users == 0:
                while self.undo:
                    cls, orig = self.undo.pop()
                    cls.__init__ = orig  # type: ignore[misc]
                # Live objects keep their sites: a report made after the monitor (and the
                # garbage collection it runs) still names them. Dead ones go.
                _SITES.sweep()

    def wrap_late_imports(self) -> None:
        """Wrap the types of libraries imported since (a loop starting calls this)."""
        if self.users and len(self.undo) < len(RESOURCE_TYPES):
            with self.lock:
                if self.users:
                    self._wrap()

    def _wrap(self) -> None:
        wrapped = {cls for cls, _ in self.undo}
        for module, name in RESOURCE_TYPES:
            mod = sys.modules.get(module)
            if mod is None:
                if module.partition(".")[0] not in _STDLIB:
                    continue  # not imported by the program: importing it is not ours to do
                try:
                    mod = importlib.import_module(module)
                except ImportError:
                    continue
            cls = getattr(mod, name, None)
            if isinstance(cls, type) and "__init__" in cls.__dict__ and cls not in wrapped:
                orig = cls.__dict__["__init__"]
                cls.__init__ = _tracking_init(orig)  # type: ignore[misc]
                self.undo.append((cls, orig))


# Importing these costs next to nothing; aiohttp costs 0.3 s and is imported only by the program.
_STDLIB = frozenset({"asyncio", "socket", "subprocess"})
_TRACKING = _AllocationTracking()


def track_allocations() -> None:
    """Start noting where RESOURCE_TYPES objects are made (call once per monitor; cheap)."""
    _TRACKING.acquire()


def track_late_imports() -> None:
    """Also note where objects of RESOURCE_TYPES imported since tracking began are made."""
    _TRACKING.wrap_late_imports()


def untrack_allocations() -> None:
    """Undo one `track_allocations()`; the last one removes the constructor wrappers."""
    _TRACKING.release()


def tracking_allocations() -> bool:
    return _TRACKING.users > 0


# One frame: the line that made the object. See the module docstring for the cost of more.
TRACE_FRAMES = 1


class _Tracing:
    """Reference-counted tracemalloc for --trace-leaks. A program that traces allocations
    itself keeps its own settings, and its tracing is never stopped by us."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.users = 0
        self.started = False

    def acquire(self) -> None:
        with self.lock:
            self.users += 1
            if self.users == 1 and not tracemalloc.is_tracing():
                tracemalloc.start(TRACE_FRAMES)
                self.started = True

    def release(self) -> None:
        with self.lock:
            if self.users == 0:
                return
            self.users -= 1
            if self.users == 0 and self.started:
                tracemalloc.stop()
                self.started = False


_TRACING = _Tracing()


def start_tracing() -> None:
    """--trace-leaks: trace allocations, so that any object reported unclosed has a site."""
    _TRACING.acquire()


def stop_tracing() -> None:
    _TRACING.release()


def allocation_site(obj: Any) -> Site | None:
    """Where `obj` was made: noted by `track_allocations`, else from tracemalloc (when
    `start_tracing` is on, or the program traces allocations itself)."""
    site = _SITES.site(obj)
    if site is not None or not tracemalloc.is_tracing():
        return site
    tb = tracemalloc.get_object_traceback(obj)
    if tb is None:
        return None
    frames = list(tb)  # oldest first
    for wanted in ("user", "package"):
        for fr in reversed(frames):
            if file_kind(fr.filename) == wanted:
                return Site(fr.filename, fr.lineno, "?")
    return Site(frames[-1].filename, frames[-1].lineno, "?") if frames else None


class ResourceWarningCatcher:
    """Routes ResourceWarnings into the current recorder while any monitored loop is alive.

    Reference-counted: the first user installs the hook and the filter, the last removes them.
    The warnings it records are not printed again: they are in the report.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._users = 0
        self._orig: Callable[[Any], None] | None = None
        self._filter: tuple[Any, ...] | None = None

    def acquire(self) -> None:
        with self._lock:
            self._users += 1
            if self._users > 1:
                return
            self._orig = warnings._showwarnmsg  # type: ignore[attr-defined]
            warnings._showwarnmsg = self._show  # type: ignore[attr-defined]
            warnings.filterwarnings("always", category=ResourceWarning)
            self._filter = warnings.filters[0]

    def release(self) -> None:
        with self._lock:
            self._users -= 1
            if self._users > 0:
                return
            if self._orig is not None:
                warnings._showwarnmsg = self._orig  # type: ignore[attr-defined]
                self._orig = None
            if self._filter is not None:
                try:
                    warnings.filters.remove(self._filter)  # type: ignore[arg-type]
                    warnings._filters_mutated()  # type: ignore[attr-defined]
                except (ValueError, AttributeError):
                    pass  # someone (pytest) already restored the filters
                self._filter = None

    def _show(self, msg: Any) -> None:
        recorder = current_recorder()
        orig = self._orig or warnings._showwarnmsg_impl  # type: ignore[attr-defined]
        if issubclass(msg.category, ResourceWarning) and recorder is not None:
            record_resource_warning(recorder, msg)
            if not (_being_recorded() and self._wanted_without_us(msg)):
                return
        orig(msg)

    def _wanted_without_us(self, msg: Any) -> bool:
        """The program's own warning filters, ours left out, would show this warning
        (`assertWarns` and `pytest.warns` set "always"; Python's default ignores it)."""
        text = str(msg.message)
        module = os.path.splitext(os.path.basename(msg.filename or ""))[0]
        for entry in warnings.filters:
            if entry is self._filter:
                continue
            action, message, category, module_re, lineno = entry
            if (
                (message is None or message.match(text))
                and issubclass(msg.category, category)
                and (module_re is None or module_re.match(module))
                and (lineno == 0 or lineno == msg.lineno)
            ):
                return bool(action != "ignore")
        return warnings.defaultaction != "ignore"  # type: ignore[attr-defined]


# What `warnings` shows with when nobody records: `catch_warnings(record=True)` (under
# `assertWarns`, `pytest.warns`, pytest's own capture) swaps it for a list's append.
_SHOW_IMPL = warnings._showwarnmsg_impl  # type: ignore[attr-defined]


def _being_recorded() -> bool:
    """Someone records warnings: those that ask for ResourceWarnings must still get them."""
    return warnings._showwarnmsg_impl is not _SHOW_IMPL  # type: ignore[attr-defined]


def _finalizing_object() -> Any:
    """The `self` of the nearest `__del__` on the stack: asyncio's StreamWriter warns without
    `source=`, but it warns from its own `__del__`."""
    frame = sys._getframe(2)
    for _ in range(12):
        if frame is None:
            return None
        if frame.f_code.co_name == "__del__":
            return frame.f_locals.get("self")
        frame = frame.f_back
    return None


def record_resource_warning(recorder: Recorder, msg: Any) -> None:
    source = getattr(msg, "source", None)
    if source is None:
        source = _finalizing_object()
    text = str(msg.message)
    if source is not None and type(source).__name__ not in text:
        text = f"{type(source).__name__}: {text}"  # "loop is closed" says nothing on its own
    key = f"id:{id(source)}" if source is not None else text
    recorder.add_leak(Leak("resource", text, allocation_site(source)), key=key)


CATCHER = ResourceWarningCatcher()


def collect_garbage_into(recorder: Recorder) -> None:
    """Objects in reference cycles warn only when collected: collect, and catch their warnings.

    Called once per report, not at every loop close: a full collection costs 10-50 ms.
    """
    push_recorder(recorder)
    CATCHER.acquire()
    try:
        gc.collect()
    finally:
        CATCHER.release()
        pop_recorder(recorder)
