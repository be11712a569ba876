"""`TimingEventLoop`: the platform's default event loop, timed per iteration.

How it times (see probe.py for the numbers): the loop's selector `select()` is wrapped, so the
loop thread stamps the start of each burst of callbacks and checks its length when the loop
next waits for I/O. That is two `perf_counter()` calls per iteration and nothing per callback.
A shared watchdog thread samples the stack of any iteration that runs past half the threshold,
which names the callback, its task and the line where the time went. Overriding `_run_once`
would give exact per-callback times, but it is a private method whose body changes between
Python versions, and timing each `Handle._run` costs ~17% on callback-heavy code.

uvloop has no Python-level selector to wrap; `uvloop_loop_class()` builds the same loop on
`uvloop.Loop` with a heartbeat instead (a `call_later` every quarter threshold; a late beat is
a blocked loop).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import sys
import time
from typing import Any, Callable

from asynccheck.runtime import blocking, leaks
from asynccheck.runtime.probe import LoopProbe
from asynccheck.runtime.recorder import Recorder, Settings, current_recorder
from asynccheck.runtime.report import Report
from asynccheck.runtime.sites import creation_site
from asynccheck.runtime.watchdog import Watchdog

__all__ = ["TimingEventLoop", "uvloop_loop_class"]

_perf = time.perf_counter

if sys.platform == "win32":  # pragma: no cover - the default loop there is the proactor
    _DefaultLoop: type[asyncio.AbstractEventLoop] = asyncio.ProactorEventLoop
else:
    _DefaultLoop = asyncio.SelectorEventLoop


def _timed_select(select: Callable[..., Any], probe: LoopProbe) -> Callable[..., Any]:
    """The selector's `select`, stamping where each burst of callbacks starts and ends."""

    def timed_select(timeout: float | None = None) -> Any:
        __tracebackhide__ = True  # pytest and pyinstrument hide this frame
        start = probe.busy_start
        if start is not None:
            end = _perf()
            if probe.pending is not None:
                probe.pending.finish(end, exact=False)
            if end - start >= probe.note_s:
                probe.end_iteration(start, end)
        probe.busy_start = None
        try:
            return select(timeout)
        finally:
            probe.busy_start = _perf()

    return timed_select


class _Instrumented:
    """What every monitored loop does, whatever its base class: leaks, task sites, the report."""

    _ac_probe: LoopProbe

    def _ac_setup(
        self,
        recorder: Recorder | None,
        slow_callback_ms: float | None,
        detect_blocking: bool | None,
        trace_leaks: bool | None,
    ) -> None:
        base = recorder or current_recorder()
        overrides = {
            k: v
            for k, v in (
                ("slow_callback_ms", slow_callback_ms),
                ("detect_blocking", detect_blocking),
                ("trace_leaks", trace_leaks),
            )
            if v is not None
        }
        settings: Settings = dataclasses.replace(base.settings, **overrides)
        self._ac_settings = settings
        # Without an explicit recorder the loop follows whichever monitor() is active.
        self._ac_probe = LoopProbe(self, recorder, settings)  # type: ignore[arg-type]
        self._ac_catching = False

    # -- running ----------------------------------------------------------------------------
    def _ac_start(self) -> None:
        probe = self._ac_probe
        probe.recorder.add_loop(id(self))
        probe.attach_thread()
        if not self._ac_catching:
            leaks.CATCHER.acquire()
            self._ac_catching = True
        if self._ac_settings.detect_blocking:
            blocking.attach(probe)
        Watchdog.shared().add(probe)

    def _ac_stop(self) -> None:
        probe = self._ac_probe
        Watchdog.shared().remove(probe)
        if self._ac_settings.detect_blocking:
            blocking.detach(probe)

    def run_until_complete(self, future: Any) -> Any:
        __tracebackhide__ = True
        # asyncio.run()/Runner cancel the tasks main() left pending from this function; seen
        # from here, they are exactly the tasks that were still pending when main() returned.
        if sys._getframe(1).f_code.co_name == "_cancel_all_tasks":
            with contextlib.suppress(Exception):  # bookkeeping must not break the shutdown
                leaks.note_pending_tasks(self, self._ac_probe)  # type: ignore[arg-type]
        return super().run_until_complete(future)  # type: ignore[misc]

    def create_task(self, coro: Any, *args: Any, **kwargs: Any) -> Any:
        task = super().create_task(coro, *args, **kwargs)  # type: ignore[misc]
        self._ac_probe.note_task(task, creation_site(sys._getframe(1)))
        return task

    def call_exception_handler(self, context: dict[str, Any]) -> None:
        with contextlib.suppress(Exception):
            leaks.note_exception_context(self._ac_probe, context)
        super().call_exception_handler(context)  # type: ignore[misc]

    def close(self) -> None:
        closing = not self.is_closed() and not self.is_running()  # type: ignore[attr-defined]
        if closing:
            with contextlib.suppress(Exception):
                leaks.note_pending_tasks(self, self._ac_probe)  # type: ignore[arg-type]
        super().close()  # type: ignore[misc]
        if closing and self._ac_catching:
            # Objects kept alive by cycles warn later, when the recorder's report() collects
            # garbage: a full collection costs 10-50 ms, too much for every loop close.
            leaks.CATCHER.release()
            self._ac_catching = False

    # -- results ----------------------------------------------------------------------------
    def report(self) -> Report:
        """The report of this loop's recorder (shared with every loop of the same monitor)."""
        return self._ac_probe.recorder.report()


class TimingEventLoop(_Instrumented, _DefaultLoop):  # type: ignore[misc,valid-type]
    """The default event loop, plus slow-callback attribution, blocking calls and leaks.

    Keyword arguments override the active `monitor()`'s settings for this loop only:
    `TimingEventLoop(slow_callback_ms=50)`, or `functools.partial(TimingEventLoop, ...)` as a
    `loop_factory`.
    """

    def __init__(
        self,
        *args: Any,
        recorder: Recorder | None = None,
        slow_callback_ms: float | None = None,
        detect_blocking: bool | None = None,
        trace_leaks: bool | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self._ac_setup(recorder, slow_callback_ms, detect_blocking, trace_leaks)
        selector = self._selector  # type: ignore[attr-defined]
        selector.select = _timed_select(selector.select, self._ac_probe)

    def run_forever(self) -> None:
        __tracebackhide__ = True
        probe = self._ac_probe
        self._ac_start()
        probe.busy_start = _perf()
        try:
            super().run_forever()
        finally:
            start, probe.busy_start = probe.busy_start, None
            end = _perf()
            if probe.pending is not None:
                probe.pending.finish(end, exact=False)
            if start is not None and end - start >= probe.note_s:
                probe.end_iteration(start, end)
            self._ac_stop()


_uvloop_class: type[asyncio.AbstractEventLoop] | None = None


def uvloop_loop_class() -> type[asyncio.AbstractEventLoop]:
    """`TimingEventLoop`'s twin on uvloop (ImportError when uvloop is not installed)."""
    global _uvloop_class
    if _uvloop_class is not None:
        return _uvloop_class
    import uvloop

    class TimingUVLoop(_Instrumented, uvloop.Loop):  # type: ignore[misc,valid-type]
        """uvloop, timed by a heartbeat: libuv's poll is out of Python's reach."""

        def __init__(
            self,
            *args: Any,
            recorder: Recorder | None = None,
            slow_callback_ms: float | None = None,
            detect_blocking: bool | None = None,
            trace_leaks: bool | None = None,
            **kwargs: Any,
        ) -> None:
            super().__init__(*args, **kwargs)
            self._ac_setup(recorder, slow_callback_ms, detect_blocking, trace_leaks)
            self._ac_interval = self._ac_probe.threshold_s / 4.0
            self._ac_beat_handle: asyncio.TimerHandle | None = None

        def _ac_beat(self) -> None:
            # busy_start holds when this beat was due: the loop was blocked from then on.
            probe = self._ac_probe
            now = _perf()
            due = probe.busy_start
            if probe.pending is not None:
                probe.pending.finish(now, exact=False)
            if due is not None and now - due >= probe.note_s:
                probe.end_iteration(due, now)
            probe.busy_start = now + self._ac_interval
            self._ac_beat_handle = self.call_later(self._ac_interval, self._ac_beat)

        def run_forever(self) -> None:
            __tracebackhide__ = True
            probe = self._ac_probe
            self._ac_start()
            probe.busy_start = _perf() + self._ac_interval
            self._ac_beat_handle = self.call_later(self._ac_interval, self._ac_beat)
            try:
                super().run_forever()
            finally:
                if self._ac_beat_handle is not None:
                    self._ac_beat_handle.cancel()
                    self._ac_beat_handle = None
                due, probe.busy_start = probe.busy_start, None
                now = _perf()
                if probe.pending is not None:
                    probe.pending.finish(now, exact=False)
                if due is not None and now - due >= probe.note_s:
                    probe.end_iteration(due, now)
                self._ac_stop()

    _uvloop_class = TimingUVLoop
    return TimingUVLoop
