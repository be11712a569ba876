"""Putting a `LoopProbe` on a running loop, whatever made the loop.

Two kinds of loop, two hooks (probe.py explains the timing and its costs):
- asyncio's own loops (`BaseEventLoop`: selector and proactor loops, their subclasses, uvicorn's
  `loop="asyncio"`, aiohttp's): the selector's `select()` is wrapped to stamp each burst, and for
  a long burst the watchdog puts a `TimedReady` in place of the loop's ready deque, so
  `popleft()` stamps each callback only then.
- uvloop: libuv runs the ready queue in C, out of reach. The loop's `call_soon`, `call_later`,
  `call_at` and `call_soon_threadsafe` are replaced on the instance, so every callback scheduled
  through them (task steps and wake-ups, future callbacks, the program's own) runs inside
  `run_timed`. I/O callbacks that libuv calls directly are covered by a heartbeat: a beat that
  comes late by the threshold, with no timed callback to explain it, is a slow callback too.

`run_monitored()` is what every monitored `run_forever` does: `TimingEventLoop` calls it, and
`install.monitor()` patches it into `BaseEventLoop` and `uvloop.Loop` so that a loop made by
anyone (a class given as a loop factory, `uvicorn.Server.run`, a thread's own loop) is observed
while it runs, and left as it was afterwards.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import dataclasses
import sys
import time
from dataclasses import dataclass
from typing import Any, Callable

from asynccheck.runtime import blocking, leaks
from asynccheck.runtime.probe import LoopProbe
from asynccheck.runtime.recorder import Recorder, Settings, current_recorder
from asynccheck.runtime.report import Report
from asynccheck.runtime.sites import user_creation_ref
from asynccheck.runtime.watchdog import Watchdog, let_in, unpark

__all__ = ["TimingEventLoop", "attach", "detach", "run_monitored", "uvloop_loop_class"]

_perf = time.perf_counter

if sys.platform == "win32":  # pragma: no cover - the default loop there is the proactor
    _DefaultLoop: type[asyncio.AbstractEventLoop] = asyncio.ProactorEventLoop
else:
    _DefaultLoop = asyncio.SelectorEventLoop


# -- asyncio's loops: bursts at select(), callbacks at popleft() in long bursts -------------
class TimedReady:
    """Stands in for a loop's ready queue during a long burst: each popleft() ends one callback
    and starts the next. It wraps the loop's own deque, never a copy, so a handle appended
    by anyone (through this, or straight to a deque fetched earlier) is never lost. Outside
    long bursts the loop has its exact deque back: a deque subclass there cost 5 % on
    100 tasks x sleep(0) (CPython specialises method calls on exact built-in types only)."""

    __slots__ = ("probe", "queue")

    def __init__(self, queue: collections.deque, probe: LoopProbe) -> None:  # type: ignore[type-arg]
        self.queue = queue
        self.probe = probe

    def popleft(self) -> Any:
        now = _perf()
        probe = self.probe
        _close_callback(probe, now)
        handle = self.queue.popleft()
        probe.cb_handle = handle
        probe.cb_start = _perf()  # not `now`: attributing the last one is not this one's time
        return handle

    def append(self, handle: Any) -> None:
        self.queue.append(handle)

    def __len__(self) -> int:
        return len(self.queue)

    def __bool__(self) -> bool:
        return bool(self.queue)

    def __iter__(self) -> Any:
        return iter(self.queue)

    def __getattr__(self, name: str) -> Any:  # clear(), extend(), ...: the deque's own
        return getattr(self.queue, name)


@dataclass
class ReadySwap:
    """Puts a loop's `TimedReady` in place for a long burst and its deque back after it. The
    watchdog thread switches on (`on`); only the loop thread switches off (`off`)."""

    loop: Any
    queue: collections.deque  # type: ignore[type-arg]
    timed: TimedReady

    def on(self) -> None:
        self.loop._ready = self.timed
        self.timed.probe.timing = True

    def off(self) -> None:
        self.loop._ready = self.queue


def _close_callback(probe: LoopProbe, now: float) -> None:
    """End the running callback at `now`; the next one starts when this returns."""
    flip = probe.flip
    if flip is not None:  # the watchdog switched timing on while this callback ran
        probe.flip = None
        start, handle = (flip[0], flip[1]) if flip[0] == probe.burst_start else (None, None)
    else:
        start, handle = probe.cb_start, probe.cb_handle
    if probe.pending is not None:
        probe.pending.finish(now, exact=False)
    probe.cb_start = None
    probe.cb_handle = None
    if start is not None:
        if now - start >= probe.floor_s:
            probe.callback_ended(start, now, handle)
        else:
            probe.short_count += 1


def _end_burst(probe: LoopProbe, swap: ReadySwap | None, now: float) -> None:
    start = probe.burst_start
    if start is None:
        return
    timed = probe.timing or probe.flip is not None
    if timed:
        _close_callback(probe, now)
        if swap is not None:
            swap.off()
        probe.timing = False
    probe.burst_start = None
    probe.busy_total += now - start
    probe.last_was_long = now - start >= probe.flip_after
    if now - start >= probe.note_s:
        probe.burst_ended(start, now, timed)
    elif probe.ended or probe.samples or probe.seen_blocking:
        probe.forget_before(now)


# Callbacks already queued when a burst begins (the ones an earlier burst scheduled). From this
# many on, right after a long burst, the burst is timed callback by callback from its start: a
# watchdog switching timing on later would merge the first ones. Only then: a Python popleft()
# per callback made a loop of short callbacks (100 tasks of sleep(0)) 1.8x slower.
TIME_AT_ONCE = 16


def _timed_select(
    select: Callable[..., Any], probe: LoopProbe, swap: ReadySwap
) -> Callable[..., Any]:
    queue = swap.queue

    def timed_select(timeout: float | None = None) -> Any:
        __tracebackhide__ = True  # pytest and pyinstrument hide this frame
        if probe.burst_start is not None:
            now = _perf()
            _end_burst(probe, swap, now)
            if now >= probe.watchdog_due:
                let_in(probe)
        probe.waiting = True
        try:
            return select(timeout)
        finally:
            probe.waiting = False
            probe.burst_start = start = _perf()
            if probe.parked:  # the watchdog sleeps until a loop wakes: this one did
                unpark(probe)
            if probe.last_was_long and len(queue) >= TIME_AT_ONCE:  # a crowd, on a slow loop
                swap.on()
                probe.flipped_for = start

    timed_select.__wrapped__ = select  # type: ignore[attr-defined]
    return timed_select


def _instrument_asyncio(loop: Any, probe: LoopProbe) -> Callable[[], None] | None:
    selector = getattr(loop, "_selector", None) or getattr(loop, "_proactor", None)
    queue = getattr(loop, "_ready", None)
    if selector is None or type(queue) is not collections.deque:
        return None
    swap = ReadySwap(loop, queue, TimedReady(queue, probe))
    select = selector.select
    selector.select = _timed_select(select, probe, swap)
    probe.switch_on = swap.on
    probe.ready_swap = swap

    def undo() -> None:
        with contextlib.suppress(Exception):
            del selector.select
        if getattr(loop, "_ready", None) is swap.timed:
            swap.off()
        probe.switch_on = None
        probe.ready_swap = None

    return undo


# -- uvloop: every callback scheduled through the loop's methods runs in run_timed ----------
def run_timed(probe: LoopProbe, callback: Callable[..., Any], args: tuple[Any, ...]) -> Any:
    __tracebackhide__ = True
    start = _perf()
    probe.burst_start = start  # on uvloop a "burst" is one timed callback (see beat())
    try:
        return callback(*args)
    finally:
        end = _perf()
        probe.burst_start = None
        probe.timed_total += end - start
        if probe.pending is not None:
            probe.pending.finish(end, exact=False)
        if end - start >= probe.floor_s:
            probe.callback_ended(start, end, callback)
        else:
            probe.short_count += 1
        if end >= probe.watchdog_due:
            let_in(probe)


def _instrument_uvloop(loop: Any, probe: LoopProbe) -> Callable[[], None]:
    cls = type(loop)
    call_soon, call_later, call_at = cls.call_soon, cls.call_later, cls.call_at
    threadsafe = cls.call_soon_threadsafe

    def timed_call_soon(callback: Any, *args: Any, context: Any = None) -> Any:
        return call_soon(loop, run_timed, probe, callback, args, context=context)

    def timed_call_soon_threadsafe(callback: Any, *args: Any, context: Any = None) -> Any:
        return threadsafe(loop, run_timed, probe, callback, args, context=context)

    def timed_call_later(delay: float, callback: Any, *args: Any, context: Any = None) -> Any:
        return call_later(loop, delay, run_timed, probe, callback, args, context=context)

    def timed_call_at(when: float, callback: Any, *args: Any, context: Any = None) -> Any:
        return call_at(loop, when, run_timed, probe, callback, args, context=context)

    loop.call_soon = timed_call_soon
    loop.call_soon_threadsafe = timed_call_soon_threadsafe
    loop.call_later = timed_call_later
    loop.call_at = timed_call_at
    interval = probe.threshold_s / 4.0
    beat_handle: list[Any] = []

    def beat() -> None:
        # uvloop shows no loop iterations, but a timer tells how responsive the loop was: a
        # beat late by the threshold means the loop ran without waiting for that long. What
        # timed callbacks do not explain was libuv calling an I/O callback directly.
        now = _perf()
        due, timed = probe.beat_due, probe.beat_timed
        if due is not None and now - due >= probe.note_s:
            untimed = (now - due) - (probe.timed_total - timed)
            if untimed >= probe.threshold_s:
                probe.untimed_stretch(now - untimed, now, due - interval)
            probe.burst_ended(due, now)
        else:
            probe.forget_before(now)
        probe.beat_due = now + interval
        probe.beat_timed = probe.timed_total
        beat_handle[:] = [call_later(loop, interval, beat)]

    probe.beat_due = _perf() + interval
    probe.beat_timed = probe.timed_total
    beat_handle.append(call_later(loop, interval, beat))

    def undo() -> None:
        for name in ("call_soon", "call_soon_threadsafe", "call_later", "call_at"):
            loop.__dict__.pop(name, None)
        for h in beat_handle:
            h.cancel()
        probe.beat_due = None
        probe.forget_before(_perf())

    return undo


def _is_uvloop(loop: Any) -> bool:
    return type(loop).__module__.split(".")[0] == "uvloop" or any(
        c.__module__.split(".")[0] == "uvloop" for c in type(loop).__mro__[1:]
    )


# -- what every monitored loop does ----------------------------------------------------------
def probe_of(loop: Any, settings: Settings | None = None) -> LoopProbe:
    """The loop's probe, made on first use with the active monitor's settings."""
    probe: LoopProbe | None = getattr(loop, "_ac_probe", None)
    if probe is None:
        probe = LoopProbe(loop, None, settings or current_recorder().settings)
        loop._ac_probe = probe
    elif not probe.permanent and settings is None:
        probe.configure(current_recorder().settings)  # a loop kept across monitors (pytest)
    return probe


def run_monitored(loop: Any, run_forever: Callable[[], None]) -> None:
    """Run `run_forever()` of `loop` with its probe attached; leave the loop as it was."""
    __tracebackhide__ = True
    probe = probe_of(loop)
    if probe.running:  # run_forever inside run_forever: asyncio raises; let it
        return run_forever()
    attach(loop, probe)
    try:
        run_forever()
    finally:
        if probe.running:  # not detached meanwhile (an OpenTelemetry `uninstrument()`)
            detach(probe)
    return None


def attach(loop: Any, probe: LoopProbe) -> None:
    """Instrument `loop` and start watching it. Called on the loop's thread: as its
    `run_forever` begins, or from a callback of a loop that is already running."""
    probe.running = True
    recorder = probe.recorder
    recorder.add_loop(probe.serial)
    probe.attach_thread()
    undo = probe.undo  # a TimingEventLoop stays instrumented between runs
    if undo is None and probe.undo_early is None:
        undo = _instrument_uvloop(loop, probe) if _is_uvloop(loop) else None
        if undo is None:
            undo = _instrument_asyncio(loop, probe)
    if undo is None and probe.undo_early is None:
        recorder.add_note(
            f"a {type(loop).__name__} ran, but asynccheck cannot time its callbacks "
            "(no selector or ready queue it knows)"
        )
    probe.undo = undo
    if probe.settings.watch_leaks:
        leaks.track_late_imports()  # aiohttp imported after the monitor began
        if not probe.catching:
            leaks.CATCHER.acquire()
            probe.catching = True
    if probe.settings.detect_blocking:
        blocking.attach(probe)
    Watchdog.shared().add(probe)
    probe.attached_at = now = _perf()
    if undo is not None and probe.switch_on is not None:
        probe.burst_start = now
    probe.started_for = recorder
    recorder.loop_started(loop, probe)


def detach(probe: LoopProbe) -> None:
    """Stop watching the loop and leave it as it was (any thread may call this once the loop
    has stopped; from another thread, only for a loop whose probe is not timing a burst)."""
    probe.running = False
    Watchdog.shared().remove(probe)
    now = _perf()
    _end_burst(probe, probe.ready_swap, now)
    probe.run_total += now - probe.attached_at
    if probe.settings.detect_blocking:
        blocking.detach(probe)
    if not probe.permanent:
        undo, probe.undo = probe.undo, None
        if undo is not None:
            undo()
        _undo_early(probe)
    recorder, probe.started_for = probe.started_for, None
    if recorder is not None:
        recorder.loop_stopped(probe)


def _undo_early(probe: LoopProbe) -> None:
    undo, probe.undo_early = probe.undo_early, None
    if undo is not None:
        undo()


def run_until_complete_monitored(loop: Any, future: Any, run: Callable[[Any], Any]) -> Any:
    __tracebackhide__ = True
    probe: LoopProbe | None = getattr(loop, "_ac_probe", None)
    if sys._getframe(2).f_code.co_name == "_cancel_all_tasks":
        # asyncio.run()/Runner cancel the tasks main() left pending from this function; seen
        # from here, they are the tasks still pending when main() returned, unless the run
        # was interrupted (Ctrl-C, SIGTERM): then main() itself is among them, and not a leak.
        if probe is not None and not probe.interrupted:
            with contextlib.suppress(Exception):  # bookkeeping must not break the shutdown
                leaks.note_pending_tasks(loop, probe)
        return run(future)
    if _is_uvloop(loop):
        _instrument_early(loop)
    try:
        return run(future)
    except BaseException:
        probe = getattr(loop, "_ac_probe", None)
        if probe is not None and not getattr(future, "done", lambda: True)():
            probe.interrupted = True
        raise


def _instrument_early(loop: Any) -> None:
    """uvloop schedules a task's first step when it is made, before run_forever: time it too
    (asyncio.Runner makes the main task before run_until_complete)."""
    if loop.is_running():
        return
    probe = probe_of(loop)
    if probe.undo_early is None and not probe.running and "call_soon" not in loop.__dict__:
        probe.undo_early = _instrument_uvloop(loop, probe)


def create_task_monitored(
    loop: Any, coro: Any, args: tuple[Any, ...], kwargs: dict[str, Any], create: Any
) -> Any:
    probe: LoopProbe | None = getattr(loop, "_ac_probe", None)
    if probe is None:
        if not _is_uvloop(loop) or loop.is_running():
            return create(coro, *args, **kwargs)
        _instrument_early(loop)
        probe = loop._ac_probe
    task = create(coro, *args, **kwargs)
    probe.note_task(task, user_creation_ref(sys._getframe(2)))
    return task


def exception_handler_monitored(loop: Any, context: dict[str, Any]) -> None:
    probe: LoopProbe | None = getattr(loop, "_ac_probe", None)
    if probe is not None:
        with contextlib.suppress(Exception):
            leaks.note_exception_context(probe, context)


def close_monitored(loop: Any, close: Callable[[], None]) -> None:
    probe: LoopProbe | None = getattr(loop, "_ac_probe", None)
    closing = probe is not None and not loop.is_closed() and not loop.is_running()
    if closing:
        with contextlib.suppress(Exception):
            leaks.note_pending_tasks(loop, probe)
    if probe is not None and probe.running and not loop.is_running():
        detach(probe)  # attached while it ran (a late OpenTelemetry `instrument()`)
    if probe is not None and not probe.permanent:
        _undo_early(probe)
    close()
    if closing and probe is not None and probe.catching:
        # Objects kept alive by cycles warn later, when the report collects garbage: a full
        # collection costs 10-50 ms, too much for every loop close.
        leaks.CATCHER.release()
        probe.catching = False


class _Instrumented:
    """The methods of a loop class that is always monitored (`TimingEventLoop` and its uvloop
    twin), with per-loop settings; `install.monitor()` patches the same into other loops."""

    _ac_probe: LoopProbe
    _ac_always = True  # install.monitor()'s patches leave these loops to their own methods

    def _ac_setup(self, recorder: Recorder | None, **overrides: Any) -> None:
        base = recorder or current_recorder()
        chosen = {k: v for k, v in overrides.items() if v is not None}
        settings = dataclasses.replace(base.settings, **chosen)
        probe = LoopProbe(self, recorder, settings)  # type: ignore[arg-type]
        probe.permanent = True
        self._ac_probe = probe

    def run_forever(self) -> None:
        __tracebackhide__ = True
        run_monitored(self, super().run_forever)  # type: ignore[misc]

    def run_until_complete(self, future: Any) -> Any:
        __tracebackhide__ = True
        return run_until_complete_monitored(self, future, super().run_until_complete)  # type: ignore[misc]

    def create_task(self, coro: Any, *args: Any, **kwargs: Any) -> Any:
        return create_task_monitored(self, coro, args, kwargs, super().create_task)  # type: ignore[misc]

    def call_exception_handler(self, context: dict[str, Any]) -> None:
        exception_handler_monitored(self, context)
        super().call_exception_handler(context)  # type: ignore[misc]

    def close(self) -> None:
        close_monitored(self, super().close)  # type: ignore[misc]

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
        self._ac_setup(
            recorder,
            slow_callback_ms=slow_callback_ms,
            detect_blocking=detect_blocking,
            trace_leaks=trace_leaks,
        )


_uvloop_class: type[asyncio.AbstractEventLoop] | None = None


def uvloop_loop_class() -> type[asyncio.AbstractEventLoop]:
    """`TimingEventLoop`'s twin on uvloop (ImportError when uvloop is not installed)."""
    global _uvloop_class
    if _uvloop_class is not None:
        return _uvloop_class
    import uvloop

    class TimingUVLoop(_Instrumented, uvloop.Loop):  # type: ignore[misc,valid-type]
        """uvloop, with every scheduled callback timed and a heartbeat for the rest."""

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
            self._ac_setup(
                recorder,
                slow_callback_ms=slow_callback_ms,
                detect_blocking=detect_blocking,
                trace_leaks=trace_leaks,
            )

    _uvloop_class = TimingUVLoop
    return TimingUVLoop
