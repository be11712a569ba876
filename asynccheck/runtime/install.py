"""Putting `TimingEventLoop` under a program: `loop_factory`, `monitor()` and the policy.

`monitor()` does not use event-loop policies at all: `asyncio.run` (3.9+) and `asyncio.Runner`
without a `loop_factory` (3.11+) both create their loop with `asyncio.events.new_event_loop()`,
so replacing that one function for the scope of the `with` block reaches every loop they make,
on every version, with none of the deprecation warnings the policy classes raise from 3.14 on.
The policy (`TimingEventLoopPolicy`) is still offered for code that sets a policy itself on
3.9-3.13; it is created on first access, so importing this module never touches the deprecated
names.
"""

from __future__ import annotations

import asyncio
import asyncio.events
import contextlib
import sys
import threading
import tracemalloc
from collections.abc import Iterator
from typing import Any, Callable

from asynccheck.runtime import leaks
from asynccheck.runtime.loop import TimingEventLoop, uvloop_loop_class
from asynccheck.runtime.recorder import (
    DEFAULT_SLOW_MS,
    Recorder,
    Settings,
    pop_recorder,
    push_recorder,
)
from asynccheck.runtime.report import Report

# TimingEventLoopPolicy is also public; it is made on first access (see __getattr__).
__all__ = ["Monitor", "loop_factory", "monitor", "uvloop_factory"]


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

    def report(self, **fields: Any) -> Report:
        """Freeze what was seen so far; `fields` fill in argv, exit_code, profile_* ..."""
        return self.recorder.report(**fields)


_patch_lock = threading.Lock()


def _replace(owner: Any, name: str, value: Any, undo: list[Callable[[], None]]) -> None:
    old = getattr(owner, name)
    setattr(owner, name, value)
    undo.append(lambda: setattr(owner, name, old))


@contextlib.contextmanager
def monitor(
    *,
    slow_callback_ms: float = DEFAULT_SLOW_MS,
    detect_blocking: bool = True,
    trace_leaks: bool = False,
    use_uvloop: bool = False,
    log: bool = True,
) -> Iterator[Monitor]:
    """Every `asyncio.run()` / `asyncio.Runner()` / `asyncio.new_event_loop()` in the block
    gets a timing loop; `uvloop.run()` and `uvloop.new_event_loop()` too when `use_uvloop`.

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
    started_tracing = False
    if trace_leaks:
        leaks.track_allocations()
        if not tracemalloc.is_tracing():
            # 10 frames: with 25, tracemalloc under pyinstrument's sampler made a 1 s program
            # take 3 minutes; the common resource types get exact sites from leaks.py anyway.
            tracemalloc.start(10)
            started_tracing = True

    cls = uvloop_loop_class() if use_uvloop else TimingEventLoop

    def new_event_loop() -> asyncio.AbstractEventLoop:
        return cls(recorder=recorder)

    undo: list[Callable[[], None]] = []
    with _patch_lock:
        _replace(asyncio.events, "new_event_loop", new_event_loop, undo)
        _replace(asyncio, "new_event_loop", new_event_loop, undo)
        if use_uvloop:
            import uvloop

            _replace(uvloop, "new_event_loop", new_event_loop, undo)
            # uvloop.run() binds its default factory at definition: swap the default itself.
            defaults = getattr(uvloop.run, "__kwdefaults__", None)
            if defaults and "loop_factory" in defaults:
                old_factory = defaults["loop_factory"]
                defaults["loop_factory"] = new_event_loop
                undo.append(lambda: defaults.__setitem__("loop_factory", old_factory))
    push_recorder(recorder)
    try:
        yield Monitor(recorder)
    finally:
        pop_recorder(recorder)
        with _patch_lock:
            for step in reversed(undo):
                step()
        if trace_leaks:
            leaks.untrack_allocations()
        if started_tracing:
            tracemalloc.stop()


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
