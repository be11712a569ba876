"""Putting the timing machinery under a program: `monitor()`, `loop_factory` and the policy.

`monitor()` observes **every loop that runs inside it**, whoever made it: it patches the
methods every loop runs through (`run_forever`, `run_until_complete`, `create_task`,
`call_exception_handler`, `close`) on `asyncio.BaseEventLoop` and on `uvloop.Loop` (now, or
when uvloop is first imported), and `loop.run_monitored` instruments a loop for as long as it
runs. So `asyncio.run`, `asyncio.Runner`, a loop class given as a factory (uvicorn's
`loop="asyncio"` hands over `asyncio.SelectorEventLoop` itself), `uvloop.run`, a loop in another
thread, and loops kept across monitors (pytest-asyncio's) are all seen, on every version, with
none of the deprecation warnings of the policy classes. The patches are undone on exit, and a
loop is left as it was when its `run_forever` returns.

The policy (`TimingEventLoopPolicy`) is still offered for code that sets a policy itself on
3.9-3.13; it is created on first access, so importing this module never touches the deprecated
names.
"""

from __future__ import annotations

import asyncio
import asyncio.events
import contextlib
import importlib.abc
import importlib.machinery
import os
import sys
import threading
from collections.abc import Iterator, Sequence
from types import ModuleType
from typing import Any, Callable

from asynccheck.runtime import blocking, leaks
from asynccheck.runtime.loop import (
    TimingEventLoop,
    close_monitored,
    create_task_monitored,
    exception_handler_monitored,
    run_monitored,
    run_until_complete_monitored,
    uvloop_loop_class,
)
from asynccheck.runtime.recorder import (
    DEFAULT_SLOW_MS,
    Recorder,
    Settings,
    all_recorders,
    pop_recorder,
    push_recorder,
)
from asynccheck.runtime.report import Report

# TimingEventLoopPolicy is also public; it is made on first access (see __getattr__).
__all__ = ["Monitor", "loop_factory", "monitor", "observe_loops", "uvloop_factory"]


def loop_factory() -> asyncio.AbstractEventLoop:
    """`asyncio.run(main(), loop_factory=asynccheck.loop_factory)` (3.12+), or `Runner(...)`.

    The loop records into the innermost active `monitor()`, else into a process-wide recorder,
    and logs each slow callback on the "asynccheck" logger either way.
    """
    return TimingEventLoop()


def uvloop_factory() -> asyncio.AbstractEventLoop:
    """Like `loop_factory`, on uvloop (which must be installed)."""
    return uvloop_loop_class()()


class Monitor:
    """What `with monitor() as m:` gives: the live recorder and, at any time, a `Report`."""

    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder

    def report(self, *, collect_garbage: bool = True, **fields: Any) -> Report:
        """Freeze what was seen so far; `fields` fill in argv, exit_code, profile_* ...

        `collect_garbage` first runs a full collection, so that unclosed objects kept alive
        by reference cycles report themselves as leaks."""
        if collect_garbage and self.recorder.loops:
            leaks.collect_garbage_into(self.recorder)
        return self.recorder.report(**fields)


# -- the patches -------------------------------------------------------------------------------
def _run_forever(orig: Callable[[Any], None]) -> Callable[[Any], None]:
    def run_forever(self: Any) -> None:
        __tracebackhide__ = True
        if getattr(type(self), "_ac_always", False):
            return orig(self)
        return run_monitored(self, lambda: orig(self))

    return run_forever


def _run_until_complete(orig: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    def run_until_complete(self: Any, future: Any) -> Any:
        __tracebackhide__ = True
        if getattr(type(self), "_ac_always", False):
            return orig(self, future)
        return run_until_complete_monitored(self, future, lambda f: orig(self, f))

    return run_until_complete


def _create_task(orig: Callable[..., Any]) -> Callable[..., Any]:
    def create_task(self: Any, coro: Any, *args: Any, **kwargs: Any) -> Any:
        if getattr(type(self), "_ac_always", False):
            return orig(self, coro, *args, **kwargs)
        return create_task_monitored(
            self, coro, args, kwargs, lambda c, *a, **k: orig(self, c, *a, **k)
        )

    return create_task


def _call_exception_handler(orig: Callable[[Any, Any], None]) -> Callable[[Any, Any], None]:
    def call_exception_handler(self: Any, context: dict[str, Any]) -> None:
        if not getattr(type(self), "_ac_always", False):
            exception_handler_monitored(self, context)
        orig(self, context)

    return call_exception_handler


def _close(orig: Callable[[Any], None]) -> Callable[[Any], None]:
    def close(self: Any) -> None:
        if getattr(type(self), "_ac_always", False):
            return orig(self)
        return close_monitored(self, lambda: orig(self))

    return close


_PATCHES: dict[str, Callable[[Any], Any]] = {
    "run_forever": _run_forever,
    "run_until_complete": _run_until_complete,
    "create_task": _create_task,
    "call_exception_handler": _call_exception_handler,
    "close": _close,
}


class _Patcher:
    """Reference-counted patches of loop classes: nested and concurrent monitors share them."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.users = 0
        self._undo: list[Callable[[], None]] = []
        self._hook: _UvloopHook | None = None

    def acquire(self) -> None:
        with self.lock:
            self.users += 1
            if self.users > 1:
                return
            self.patch_class(asyncio.BaseEventLoop)
            uvloop = sys.modules.get("uvloop")
            if uvloop is not None:
                self.patch_uvloop(uvloop)
            else:
                self._hook = _UvloopHook(self)
                sys.meta_path.insert(0, self._hook)

    def release(self) -> None:
        with self.lock:
            self.users -= 1
            if self.users > 0:
                return
            if self._hook is not None:
                # (sys.meta_path is None when a monitor never closed is ended at interpreter exit)
                with contextlib.suppress(ValueError, AttributeError):
                    sys.meta_path.remove(self._hook)
                self._hook = None
            while self._undo:
                self._undo.pop()()

    def patch_class(self, cls: type) -> None:
        for name, make in _PATCHES.items():
            own = cls.__dict__.get(name)  # None: inherited (uvloop.Loop gets them from C)
            setattr(cls, name, make(getattr(cls, name)))
            self._undo.append(_restorer(cls, name, own))

    def patch_uvloop(self, uvloop: ModuleType) -> None:
        loop_cls = getattr(uvloop, "Loop", None)
        if isinstance(loop_cls, type) and not self.patched(loop_cls):
            self.patch_class(loop_cls)

    @staticmethod
    def patched(cls: type) -> bool:
        return getattr(cls.__dict__.get("run_forever"), "__qualname__", "").startswith(
            "_run_forever"
        )


def _restorer(cls: type, name: str, own: Any) -> Callable[[], None]:
    def restore() -> None:
        if own is not None:
            setattr(cls, name, own)
        else:
            with contextlib.suppress(AttributeError):
                delattr(cls, name)

    return restore


class _UvloopHook(importlib.abc.MetaPathFinder):
    """Patches `uvloop.Loop` as soon as a monitored program imports uvloop."""

    def __init__(self, patcher: _Patcher) -> None:
        self.patcher = patcher

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != "uvloop":
            return None
        sys.meta_path.remove(self)  # find the real spec without us
        try:
            spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        finally:
            sys.meta_path.insert(0, self)
        if spec is None or spec.loader is None:
            return None
        loader = spec.loader
        exec_module = loader.exec_module
        patcher = self.patcher

        def exec_and_patch(module: ModuleType) -> None:
            exec_module(module)
            with patcher.lock:
                if patcher.users > 0:
                    patcher.patch_uvloop(module)

        loader.exec_module = exec_and_patch  # type: ignore[method-assign]
        return spec


_PATCHER = _Patcher()


def _replace(owner: Any, name: str, value: Any, undo: list[Callable[[], None]]) -> None:
    old = getattr(owner, name)
    setattr(owner, name, value)
    undo.append(lambda: setattr(owner, name, old))


def observe_loops(recorder: Recorder, *, outermost: bool = False) -> Callable[[], None]:
    """Send what every loop does from now on to `recorder` (below any `monitor()` when
    `outermost`); returns what stops it. For watchers that stay on, such as metrics."""
    _PATCHER.acquire()
    push_recorder(recorder, outermost=outermost)
    done = False

    def stop() -> None:
        nonlocal done
        if not done:
            done = True
            pop_recorder(recorder)
            _PATCHER.release()

    return stop


@contextlib.contextmanager
def monitor(
    *,
    slow_callback_ms: float = DEFAULT_SLOW_MS,
    detect_blocking: bool = True,
    trace_leaks: bool = False,
    use_uvloop: bool = False,
    log: bool = True,
) -> Iterator[Monitor]:
    """Every event loop that runs in the block is observed: `asyncio.run()`, `Runner`, loops
    made by `new_event_loop()` or a class, uvloop's, other threads'. With `use_uvloop`,
    `asyncio.new_event_loop()` (and so `asyncio.run()`) makes uvloop loops.

    >>> with monitor(slow_callback_ms=50) as m:
    ...     asyncio.run(main())
    >>> m.report().slow_callbacks
    """
    recorder = Recorder(
        Settings(
            slow_callback_ms=slow_callback_ms,
            detect_blocking=detect_blocking,
            trace_leaks=trace_leaks,
            log=log,
        )
    )
    leaks.track_allocations()  # creation sites of transports, sockets, sessions: cheap
    if trace_leaks:
        leaks.start_tracing()  # tracemalloc, for any other object reported unclosed
    undo: list[Callable[[], None]] = []
    if use_uvloop:
        import uvloop

        def new_event_loop() -> asyncio.AbstractEventLoop:
            return uvloop.new_event_loop()

        with _PATCHER.lock:
            _replace(asyncio.events, "new_event_loop", new_event_loop, undo)
            _replace(asyncio, "new_event_loop", new_event_loop, undo)
    _PATCHER.acquire()
    push_recorder(recorder)
    try:
        yield Monitor(recorder)
    finally:
        pop_recorder(recorder)
        _PATCHER.release()
        with _PATCHER.lock:
            for step in reversed(undo):
                step()
        leaks.untrack_allocations()
        if trace_leaks:
            leaks.stop_tracing()


def _after_fork_in_child() -> None:
    """A forked child starts with fresh locks and empty recorders: what the parent saw is the
    parent's to report (children's reports are merged by pid)."""
    _PATCHER.lock = threading.Lock()
    blocking.reset_after_fork()
    for recorder in all_recorders():
        recorder.reset_after_fork()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def __getattr__(name: str) -> Any:
    # The policy class is built on first use: on 3.14+ merely touching
    # asyncio.DefaultEventLoopPolicy raises a DeprecationWarning.
    if name == "TimingEventLoopPolicy":
        policy = _make_policy()
        globals()[name] = policy
        return policy
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _make_policy() -> type:
    if sys.version_info >= (3, 14):
        import warnings

        warnings.warn(
            "event loop policies are deprecated since Python 3.14; use "
            "asyncio.run(main(), loop_factory=asynccheck.loop_factory) or asynccheck.monitor()",
            DeprecationWarning,
            stacklevel=3,
        )
    base = asyncio.DefaultEventLoopPolicy

    class TimingEventLoopPolicy(base):  # type: ignore[misc,valid-type]
        """For Python <= 3.13: `asyncio.set_event_loop_policy(TimingEventLoopPolicy())`."""

        _loop_factory = TimingEventLoop

    return TimingEventLoopPolicy
