"""What a monitored loop leaves behind: pending tasks, unclosed resources, lost exceptions.

Three sources, each at the moment it is reliable:
- tasks still pending when the main coroutine returned: `asyncio.run`/`Runner` cancels them in
  `runners._cancel_all_tasks`, which calls `run_until_complete` on the loop; the loop notes
  them right then (and again at `close()`, for loops closed by hand);
- unclosed objects: their `__del__` warns with `ResourceWarning` (transports, sockets, files,
  aiohttp's "Unclosed client session"). Those are ignored by default, so while a loop runs
  we let them through, catch them in `warnings._showwarnmsg` (which carries the object, for
  tracemalloc) and collect garbage at close so cycles speak up before the report is made.
  A program that records warnings itself and asks for these (`assertWarns`, `pytest.warns`)
  gets them too;
- task exceptions never retrieved, and tasks destroyed while pending: asyncio passes those to
  `loop.call_exception_handler`, which `TimingEventLoop` overrides.
"""

from __future__ import annotations

import asyncio
import gc
import importlib
import itertools
import os
import sys
import threading
import tracemalloc
import warnings
import weakref
from typing import Any, Callable

from asynccheck.runtime.describe import describe_task
from asynccheck.runtime.probe import LoopProbe
from asynccheck.runtime.recorder import Recorder, current_recorder, pop_recorder, push_recorder
from asynccheck.runtime.report import Leak
from asynccheck.runtime.sites import Site, file_kind, frames_outward, pick_location, site_of

_MESSAGES = {
    "Task exception was never retrieved": "exception",
    "Task was destroyed but it is pending!": "task",
    "Unclosed client session": "resource",
    "Unclosed connector": "resource",
}


def note_pending_tasks(loop: asyncio.AbstractEventLoop, probe: LoopProbe) -> None:
    """Record every task of `loop` that is not done: the main coroutine has already returned."""
    current = asyncio.current_task(loop) if loop.is_running() else None
    for task in asyncio.all_tasks(loop):
        if task is current or task.done():
            continue
        probe.recorder.add_leak(
            Leak("task", describe_task(task), probe.task_site(id(task))), key=f"id:{id(task)}"
        )


def note_exception_context(probe: LoopProbe, context: dict[str, Any]) -> bool:
    """Record a leak from an exception-handler context; True if it was one of ours."""
    kind = _MESSAGES.get(str(context.get("message", "")))
    if kind is None:
        return False
    task = context.get("task") or context.get("future")
    obj = context.get("client_session") or context.get("connector")
    if task is not None:
        what = describe_task(task)
        exc = context.get("exception")
        if kind == "exception" and exc is not None:
            what = f"{what} raised {type(exc).__name__}: {exc}"
        probe.recorder.add_leak(Leak(kind, what, probe.task_site(id(task))), key=f"id:{id(task)}")
    elif obj is not None:
        probe.recorder.add_leak(
            Leak(kind, f"{context['message']} {obj!r}", allocation_site(obj)), key=f"id:{id(obj)}"
        )
    return True


# Constructors whose call sites are recorded under --trace-leaks. tracemalloc alone is not
# enough: on 3.11 `get_object_traceback` returns None for any object with a managed __dict__
# (transports, sessions), so for these we note the caller of __init__ ourselves.
RESOURCE_TYPES: tuple[tuple[str, str], ...] = (
    ("asyncio.selector_events", "_SelectorTransport"),
    ("asyncio.sslproto", "_SSLProtocolTransport"),
    ("asyncio.streams", "StreamWriter"),
    ("socket", "socket"),
    ("aiohttp.client", "ClientSession"),
    ("aiohttp.connector", "BaseConnector"),
)

_sites: dict[int, tuple[Any, Site | None]] = {}
_undo: list[tuple[type, Any]] = []


def _tracking_init(orig: Callable[..., None]) -> Callable[..., None]:
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        orig(self, *args, **kwargs)
        try:
            ref: Any = weakref.ref(self)
        except TypeError:
            ref = None
        _sites[id(self)] = (ref, _user_caller())
        if len(_sites) > 4096:
            for k in [k for k, (r, _) in _sites.items() if r is not None and r() is None]:
                del _sites[k]

    __init__.__wrapped__ = orig  # type: ignore[attr-defined]
    return __init__


def _user_caller() -> Site | None:
    """The innermost user frame of the code constructing the object (else the nearest one)."""
    stack = [
        site_of(f)
        for f in itertools.islice(frames_outward(sys._getframe(2)), 40)
        if file_kind(f.f_code.co_filename) != "asynccheck"
    ]
    return pick_location(tuple(reversed(stack))) if stack else None


def track_allocations() -> None:
    """Start recording where RESOURCE_TYPES objects are made (for --trace-leaks)."""
    if _undo:
        return
    for module, name in RESOURCE_TYPES:
        mod = sys.modules.get(module)
        if mod is None:
            try:
                mod = importlib.import_module(module)
            except ImportError:
                continue
        cls = getattr(mod, name, None)
        if isinstance(cls, type) and "__init__" in cls.__dict__:
            orig = cls.__dict__["__init__"]
            cls.__init__ = _tracking_init(orig)  # type: ignore[misc]
            _undo.append((cls, orig))


def untrack_allocations() -> None:
    while _undo:
        cls, orig = _undo.pop()
        cls.__init__ = orig  # type: ignore[misc]
    _sites.clear()


def allocation_site(obj: Any) -> Site | None:
    """Where `obj` was made: noted by `track_allocations`, else from tracemalloc.

    Both are on only with --trace-leaks (`monitor(trace_leaks=True)`).
    """
    entry = _sites.get(id(obj))
    if entry is not None and (entry[0] is None or entry[0]() in (obj, None)):
        return entry[1]
    if not tracemalloc.is_tracing():
        return None
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
