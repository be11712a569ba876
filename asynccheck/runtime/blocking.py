"""Run-time detection of blocking calls made on a loop's thread while a callback runs.

Audit hooks (PEP 578) see most blocking calls: `time.sleep` (3.13+; a wrapper before that),
`socket.connect`, `socket.getaddrinfo`, `subprocess.Popen`, `open`, ... They fire *before* the
call, in the calling thread. The hook is process-wide and cannot be removed, so it returns after
one dict lookup for the events we do not watch, and after one more for threads that do not run a
monitored loop: calls from `to_thread`/executor threads cost two lookups and are never reported.
A loop's thread makes such calls only from a callback (also one uvloop's libuv calls directly,
like a protocol's `data_received`), so every call it makes while its loop runs is reported.
A blocking call is named for what the user's code called (`requests.get`, not the
`socket.getaddrinfo` it starts with), and timed until that call returns.

The hook sees the start of a call, not its end. For the duration we watch the frame of the
user's code that made the call: `sys.settrace` plus `frame.f_trace` with opcode events, so the
first opcode that frame runs after the call returns stops the clock; tracing is then switched
off again. That costs something only while a blocking call is in flight on the loop thread. If
a tracer is already installed (a debugger, coverage), we do not touch it: the call is then
closed by the next checkpoint (the next such call or the end of the loop iteration) and its
duration marked as an upper bound (`time.sleep` is timed from its argument).

Where no audit event exists, targeted wrappers do the same job (`WRAPPERS`).
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import sys
import threading
import time
from dataclasses import dataclass
from types import FrameType
from typing import Any, Callable

from asynccheck.runtime.probe import LoopProbe, SeenBlocking
from asynccheck.runtime.report import BlockingCall
from asynccheck.runtime.sites import (
    Site,
    callback_frames,
    file_kind,
    is_asyncio_file,
    is_machinery,
    pick_location,
    site_of,
)

logger = logging.getLogger("asynccheck")
_perf = time.perf_counter
_get_ident = threading.get_ident

# thread id -> probe of the loop running on that thread (only loops with detection on)
_by_thread: dict[int, LoopProbe] = {}


def _always(label: str) -> Callable[[tuple[Any, ...]], str | None]:
    return lambda args: label


def _blocking_socket(label: str) -> Callable[[tuple[Any, ...]], str | None]:
    """asyncio connects non-blocking sockets itself: only a blocking socket is a finding."""

    def describe(args: tuple[Any, ...]) -> str | None:
        try:
            return None if args[0].gettimeout() == 0.0 else label
        except Exception:
            return label

    return describe


def _open(args: tuple[Any, ...]) -> str | None:
    return None if isinstance(args[0], int) else "open"


# audit event -> describe(args) giving the call's name, or None when it is not blocking
EVENTS: dict[str, Callable[[tuple[Any, ...]], str | None]] = {
    "time.sleep": _always("time.sleep"),
    "socket.connect": _blocking_socket("socket.connect"),
    "socket.sendto": _blocking_socket("socket.sendto"),
    "socket.getaddrinfo": _always("socket.getaddrinfo"),
    "socket.gethostbyname": _always("socket.gethostbyname"),
    "socket.gethostbyaddr": _always("socket.gethostbyaddr"),
    "socket.getnameinfo": _always("socket.getnameinfo"),
    "subprocess.Popen": _always("subprocess.Popen"),
    "os.system": _always("os.system"),
    "os.posix_spawn": _always("os.posix_spawn"),
    "open": _open,
    "urllib.Request": _always("urllib.request.urlopen"),
    "http.client.connect": _always("http.client.connect"),
    "sqlite3.connect": _always("sqlite3.connect"),
    "shutil.copyfile": _always("shutil.copyfile"),
    "shutil.rmtree": _always("shutil.rmtree"),
    "builtins.input": _always("input"),
}


@dataclass(frozen=True)
class Wrapper:
    """A function without an audit event, replaced by a timing wrapper while monitoring."""

    module: str
    attr: str  # "sleep" or "Class.method"
    label: str
    needed: Callable[[], bool] = lambda: True
    # returns True when this particular call cannot block (e.g. the future is already done)
    harmless: Callable[..., bool] | None = None


WRAPPERS: tuple[Wrapper, ...] = (
    # The audit event "time.sleep" exists from 3.13 on.
    Wrapper("time", "sleep", "time.sleep", needed=lambda: sys.version_info < (3, 13)),
    Wrapper(
        "concurrent.futures._base",
        "Future.result",
        "concurrent.futures.Future.result",
        harmless=lambda self, *a, **k: self.done(),
    ),
)


class Pending:
    """A blocking call in flight on the loop thread, waiting for its frame to resume."""

    __slots__ = ("frame", "labels", "location", "probe", "stack", "start", "task", "traced")

    def __init__(
        self,
        probe: LoopProbe,
        label: str,
        frame: FrameType | None,
        stack: tuple[Site, ...],
        task: Any,
    ) -> None:
        self.probe = probe
        self.labels = [label]
        self.frame: FrameType | None = frame
        self.stack = stack
        self.location = pick_location(stack)
        self.task = task
        self.start = _perf()
        self.traced = False

    def finish(self, end: float, exact: bool, duration: float | None = None) -> None:
        probe = self.probe
        if probe.pending is self:
            probe.pending = None
        if self.traced:
            _untrace(self.frame)
        self.frame = None
        call = " -> ".join(self.labels)
        if duration is None:
            duration = end - self.start
        with contextlib.suppress(Exception):  # runs inside the loop: must never raise
            record(probe, call, duration, self.task, self.stack, self.start, exact)


def record(
    probe: LoopProbe,
    call: str,
    duration: float,
    task: Any,
    stack: tuple[Site, ...],
    start: float,
    exact: bool,
) -> None:
    if probe.running:
        probe.seen_blocking.append(SeenBlocking(start, start + duration, call))
    probe.recorder.add_blocking(
        BlockingCall(
            call=call,
            duration_ms=duration * 1000.0,
            task=task.get_name() if task is not None else None,
            location=pick_location(stack),
            stack=stack,
            at_s=probe.recorder.since_start(start),
            exact=exact,
            pid=os.getpid(),
        )
    )


def public_name(frame: FrameType) -> str | None:
    """`requests.get` for the frame of `requests.api.get`: the name the user's code called,
    so a blocking call is named for what it waited on, not for its first system call."""
    module = frame.f_globals.get("__name__")
    code = frame.f_code
    if not isinstance(module, str) or code.co_name.startswith("<"):
        return None
    qualname = getattr(code, "co_qualname", code.co_name)
    top = sys.modules.get(module.partition(".")[0])
    exported = getattr(top, code.co_name, None)
    if "." not in qualname and getattr(exported, "__code__", None) is code:
        return f"{top.__name__}.{code.co_name}"  # type: ignore[union-attr]
    return f"{module}.{qualname}"


def _called_name(frames: list[FrameType], watch: FrameType | None) -> str | None:
    """The package or stdlib function the user's frame `watch` called, if it is Python code."""
    if watch is None:
        return None
    try:
        i = frames.index(watch)
    except ValueError:
        return None
    if i == 0:
        return None  # the user's frame called C directly: the audit event names it
    return public_name(frames[i - 1])


def _call_site(
    frame: FrameType | None,
) -> tuple[tuple[Site, ...], FrameType | None, str | None] | None:
    """The callback's frames from the blocking call outward, or None if the loop made the call.

    asyncio's own socket work (`sock_connect` on a non-blocking socket), imports (`open` from
    importlib) and asynccheck itself are not findings: any of them between the call and the
    first user frame means the call is not the user's. asynccheck's constructor wrappers
    (leaks.py notes where a socket or a Popen was made) pass the call through: not ours.
    """
    frames, _ = callback_frames(frame)
    if not frames:  # a C function scheduled directly: loop.call_later(1, time.sleep, 2)
        return (), None, None
    watch: FrameType | None = None
    for f in frames:
        name = f.f_code.co_filename
        if file_kind(name) == "asynccheck" and f.f_code.co_name == "__init__":
            continue
        if is_asyncio_file(name) or name.startswith("<frozen") or file_kind(name) == "asynccheck":
            return None
        if file_kind(name) == "user":
            watch = f
            break
    stack = tuple(
        site_of(f) for f in reversed(frames[:40]) if not is_machinery(f.f_code.co_filename)
    )
    return stack, watch or frames[0], _called_name(frames, watch)


def _current_task(probe: LoopProbe) -> Any:
    loop = probe.loop_ref()
    try:
        return sys.modules["asyncio"].current_task(loop) if loop is not None else None
    except Exception:
        return None


def _audit(event: str, args: tuple[Any, ...]) -> None:
    describe = EVENTS.get(event)
    if describe is None:
        return
    probe = _by_thread.get(_get_ident())
    if probe is None or not probe.running or probe.suppress:
        return
    label = describe(args)
    if label is None:
        return
    probe.suppress = True  # our own sys._getframe & co must not recurse into us
    try:
        _on_event(probe, event, label, args)
    except Exception:  # an exception from an audit hook would abort the user's call
        logger.debug("audit hook failed on %s", event, exc_info=True)
    finally:
        probe.suppress = False


def _on_event(probe: LoopProbe, event: str, label: str, args: tuple[Any, ...]) -> None:
    site = _call_site(sys._getframe(2))
    if site is None:
        return
    stack, watch, called = site
    if called is not None:
        label = called
    pending = probe.pending
    if pending is not None:
        if pending.frame is watch:  # one user call, several audit events (connect after DNS)
            if label not in pending.labels:
                pending.labels.append(label)
            return
        pending.finish(_perf(), exact=False)
    pending = Pending(probe, label, watch, stack, _current_task(probe))
    probe.pending = pending
    if event == "time.sleep" and (watch is None or sys.gettrace() is not None):
        # Someone else traces this thread; the argument is as good as a clock here.
        secs = float(args[0]) if args else 0.0
        pending.finish(pending.start + secs, exact=True, duration=secs)
        return
    if watch is not None and sys.gettrace() is None:
        _trace(pending, watch)


def _trace(pending: Pending, frame: FrameType) -> None:
    def local(f: FrameType, event: str, arg: Any) -> None:
        if pending.probe.pending is pending:
            pending.finish(_perf(), exact=True)
        else:
            _untrace(f)
        return None

    pending.traced = True
    frame.f_trace = local
    frame.f_trace_opcodes = True
    sys.settrace(_ignore_new_frames)


def _ignore_new_frames(frame: FrameType, event: str, arg: Any) -> None:
    return None


def _untrace(frame: FrameType | None) -> None:
    if frame is not None:
        frame.f_trace = None
        frame.f_trace_opcodes = False
    if sys.gettrace() is _ignore_new_frames:
        sys.settrace(None)


# -- wrappers ------------------------------------------------------------------------------
_installed: list[tuple[Any, str, Any]] = []  # (owner, name, original)


def _make_wrapper(w: Wrapper, orig: Callable[..., Any]) -> Callable[..., Any]:
    harmless = w.harmless

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        __tracebackhide__ = True  # pytest and pyinstrument hide this frame
        probe = _by_thread.get(_get_ident())
        if (
            probe is None
            or not probe.running
            or probe.suppress
            or (harmless is not None and harmless(*args, **kwargs))
        ):
            return orig(*args, **kwargs)
        site = _call_site(sys._getframe(1))
        if site is None:
            return orig(*args, **kwargs)
        start = _perf()
        probe.suppress = True
        try:
            return orig(*args, **kwargs)
        finally:
            probe.suppress = False
            with contextlib.suppress(Exception):  # never turn the user's call into an error
                label = site[2] or w.label
                record(probe, label, _perf() - start, _current_task(probe), site[0], start, True)

    wrapper.__wrapped__ = orig  # type: ignore[attr-defined]
    wrapper.__name__ = getattr(orig, "__name__", w.label)
    wrapper.__qualname__ = getattr(orig, "__qualname__", w.label)
    wrapper.__doc__ = getattr(orig, "__doc__", None)
    return wrapper


def _install_wrappers() -> None:
    for w in WRAPPERS:
        if not w.needed():
            continue
        try:
            owner: Any = importlib.import_module(w.module)
        except ImportError:
            continue
        *path, name = w.attr.split(".")
        for part in path:
            owner = getattr(owner, part)
        orig = owner.__dict__[name] if isinstance(owner, type) else getattr(owner, name)
        setattr(owner, name, _make_wrapper(w, orig))
        _installed.append((owner, name, orig))


def _remove_wrappers() -> None:
    while _installed:
        owner, name, orig = _installed.pop()
        setattr(owner, name, orig)


# -- attaching loops -------------------------------------------------------------------------
_hook_added = False
_lock = threading.Lock()


def attach(probe: LoopProbe) -> None:
    """Watch `probe`'s thread (call on the loop thread, as the loop starts running)."""
    global _hook_added
    with _lock:
        if not _hook_added:
            sys.addaudithook(_audit)
            _hook_added = True
        if not _by_thread:
            _install_wrappers()
        _by_thread[_get_ident()] = probe


def detach(probe: LoopProbe) -> None:
    with _lock:
        if probe.pending is not None:
            probe.pending.finish(_perf(), exact=False)
        for thread in [t for t, p in _by_thread.items() if p is probe]:
            del _by_thread[thread]  # also from another thread (OpenTelemetry's uninstrument)
        if not _by_thread:
            _remove_wrappers()


def reset_after_fork() -> None:
    """In a forked child: the lock may have been held by a thread that is gone."""
    global _lock
    _lock = threading.Lock()
