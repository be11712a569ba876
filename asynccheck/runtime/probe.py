"""Per-loop state: which callback runs, since when, and what it cost once it ends.

How a loop is timed (the hooks live in loop.py; the numbers are from bench/runtime_overhead.py):
- **Bursts.** The loop thread stamps when `select()` returns (`burst_start`) and when it is next
  entered: one burst is the callbacks of one loop iteration. Two `perf_counter()` calls per
  iteration, nothing per callback: this is all a loop whose iterations stay short ever pays.
- **Callbacks, exactly, when it matters.** A burst that runs past `flip_after` (a tenth of the
  threshold, 2-10 ms) is switched to per-callback timing by the watchdog thread: it changes the
  class of the loop's ready queue to one whose `popleft()` stamps each handle as it starts, so
  every later callback of the burst is timed on its own by the loop thread itself, including
  time inside C calls that hold the GIL. The burst end switches it back. The callback that was
  running when the switch came is timed from the burst start: an upper bound, off by at most
  `flip_after` plus one GIL switch interval.
- **Where the time went.** The watchdog samples the loop thread's stack while a burst is older
  than half the threshold; a callback's samples are those taken between its start and end,
  each weighted by the time since the previous one (a sample taken late, because a C call held
  the GIL, stands for that whole wait).

A callback at least as long as the threshold becomes a `SlowCallback`; a burst that held the
loop that long although its callbacks were each shorter becomes a `Stall`.
"""

from __future__ import annotations

import asyncio
import contextvars
import dataclasses
import itertools
import logging
import os
import threading
import weakref
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from asynccheck.runtime.describe import coroutine_name, describe_callback, task_coroutine
from asynccheck.runtime.ids import identity
from asynccheck.runtime.recorder import Recorder, Settings, current_recorder
from asynccheck.runtime.report import CallbackGroup, LagPoint, SlowCallback, Stall
from asynccheck.runtime.serving import request_of_task
from asynccheck.runtime.sites import UNKNOWN_SITE, Site, file_kind, site_of_ref

logger = logging.getLogger("asynccheck")
MAX_STACK = 40  # frames kept per sample, innermost first
_SERIALS = itertools.count(1)


@dataclass(frozen=True)
class Sample:
    """One look at the loop thread's stack during a long burst."""

    t: float
    stack: tuple[Site, ...]  # outermost first, asynccheck's and the profiler's frames left out
    location: Site
    late: float = 0.0  # how much later than planned the watchdog got the GIL
    task: Any = None  # the loop's current task then: an eager task (3.12+) runs inside the
    # callback that created it, and may be done and gone by the time the callback ends
    coroutine: str | None = None  # its coroutine's name (a done task forgets its coroutine)
    request: str | None = None  # the web request its frames were serving (serving.py)


@dataclass(frozen=True)
class SeenBlocking:
    """A blocking call seen on the loop thread, to name it on the slow callback it was in."""

    start: float
    end: float
    call: str


@dataclass
class _Ended:
    """A callback of the current burst that ran at least `floor_s`, kept to explain a stall."""

    start: float
    end: float
    handle: Any
    slow: bool


def task_of(handle: Any) -> Any:
    """The task whose step or wake-up `handle` runs, else None."""
    cb = getattr(handle, "_callback", handle)
    owner = getattr(cb, "__self__", None)
    return owner if isinstance(owner, asyncio.Future) and hasattr(owner, "get_coro") else None


def callback_site(handle: Any) -> Site:
    """Where a callback is defined: its function, or its task's coroutine (for grouping)."""
    task = task_of(handle)
    if task is not None:
        coro = task_coroutine(task)
        code = getattr(coro, "cr_code", None) or getattr(coro, "gi_code", None)
        frame = getattr(coro, "cr_frame", None)
        if code is not None:
            line = frame.f_lineno if frame is not None else code.co_firstlineno
            return Site(code.co_filename, line, code.co_name)
    cb = getattr(handle, "_callback", handle)
    cb = getattr(cb, "func", cb)  # functools.partial
    code = getattr(getattr(cb, "__func__", cb), "__code__", None)
    if code is not None:
        return Site(code.co_filename, code.co_firstlineno, code.co_name)
    return Site("<builtin>", 0, describe_callback(handle).strip("<>"))


def _heaviest_task(samples: list[Sample], start: float) -> Sample | None:
    """A sample of the task most of the sampled time went to, if the samples saw one."""
    weights: dict[int, float] = defaultdict(float)
    seen: dict[int, Sample] = {}
    previous = start
    for s in samples:
        if s.task is not None:
            weights[identity(s.task)] += s.t - previous
            seen[identity(s.task)] = s
        previous = s.t
    return seen[max(weights, key=weights.__getitem__)] if weights else None


NEVER = float("inf")  # a time that never comes


class LoopProbe:
    """What one loop is doing now. Written by the loop thread; the watchdog reads it, samples
    the stack and switches on per-callback timing."""

    def __init__(
        self, loop: asyncio.AbstractEventLoop, recorder: Recorder | None, settings: Settings
    ) -> None:
        self.loop_ref = weakref.ref(loop)
        self.serial = next(_SERIALS)  # counts loops in a report (ids of closed loops are reused)
        self._recorder = recorder
        self.configure(settings)
        self.burst_start: float | None = None  # not None while the loop runs callbacks
        self.running = False  # inside a monitored run_forever
        self.permanent = False  # a TimingEventLoop: instrumented for life, its own settings
        self.catching = False  # holds a reference on leaks.CATCHER
        self.switch_on: Any = None  # set by loop.py: turns per-callback timing on (asyncio)
        self.ready_swap: Any = None  # loop.ReadySwap: the loop's ready deque and its stand-in
        self.timed_total = 0.0  # uvloop: seconds spent in timed callbacks, ever
        self.busy_total = 0.0  # seconds the loop ran callbacks (bursts; uvloop: untimed ones)
        self.run_total = 0.0  # seconds it was watched, up to its last detach
        self.attached_at = 0.0
        self.undo: Any = None  # loop.py: leaves the loop as it was
        self.started_for: Any = None  # the recorder told the loop started
        self.beat_due: float | None = None  # uvloop: when the heartbeat is due
        self.beat_timed = 0.0  # uvloop: timed_total when the beat was scheduled
        # When the watchdog next wants the GIL, and how it says it had it (watchdog.let_in).
        self.watchdog_due = NEVER
        self.watchdog_looked: threading.Event | None = None
        self.parked = False  # the watchdog sleeps until this loop's select() returns
        self.waiting = False  # the loop thread is in select() (asyncio's loops)
        self.undo_early: Any = None  # uvloop: instrumented before run_forever (create_task)
        self.interrupted = False  # run_until_complete left by an exception, its future pending
        self.timing = False  # per-callback timing is on for the current burst
        self.last_was_long = False  # the previous burst ran past flip_after
        self.flip: tuple[float, Any] | None = None  # (burst, handle running at the switch)
        self.flipped_for: float | None = None  # the burst the watchdog switched, once each
        self.cb_start: float | None = None  # the running callback's start (timing on only)
        self.cb_handle: Any = None
        self.ended: list[_Ended] = []
        self.short_count = 0  # timed callbacks under floor_s since the last burst ended
        self.samples: list[Sample] = []
        self.seen_blocking: list[SeenBlocking] = []
        self.pending: Any = None  # blocking.Pending: a blocking call in flight on the loop thread
        self.suppress = False  # True while asynccheck itself is on the loop thread's stack
        self.thread_id: int | None = None
        self.thread_name = "MainThread"
        # identity(task) -> (weak ref, where it was created). Keyed by id, not a WeakKeyDictionary:
        # a garbage cycle clears weak refs before a task's __del__ reports "exception never
        # retrieved", and that is exactly when the creation site is wanted.
        self.task_sites: dict[int, tuple[Any, tuple[Any, int] | None]] = {}
        self._sites_prune_at = 1024

    def configure(self, settings: Settings) -> None:
        self.settings = s = settings
        self.threshold_s = s.threshold_s
        self.note_s = s.lag_note_s
        self.flip_after = min(max(s.threshold_s / 10.0, 0.002), 0.010)
        self.floor_s = min(s.threshold_s / 20.0, 0.001)
        # Sampling from half the threshold on, every quarter threshold (at most 25 ms): any
        # callback at least as long as the threshold is then sampled at least once.
        self.sample_after = s.threshold_s / 2.0
        self.sample_every = min(0.025, s.threshold_s / 4.0)

    @property
    def recorder(self) -> Recorder:
        """The loop's own recorder, or (for a loop made without one) the active monitor's.

        pytest-asyncio may keep one loop for a whole module; each test's monitor gets what
        happened during that test.
        """
        return self._recorder or current_recorder()

    def attach_thread(self) -> None:
        self.thread_id = threading.get_ident()
        self.thread_name = threading.current_thread().name

    # -- task creation sites ---------------------------------------------------------------
    def note_task(self, task: Any, site: tuple[Any, int] | None) -> None:
        """Remember where `task` was made: (code, line), a `Site` only when reported."""
        try:
            ref = weakref.ref(task)
        except TypeError:
            return
        self.task_sites[identity(task)] = (ref, site)
        if len(self.task_sites) > self._sites_prune_at:
            for k in [k for k, (r, _) in self.task_sites.items() if r() is None]:
                del self.task_sites[k]
            self._sites_prune_at = max(1024, 2 * len(self.task_sites))

    def task_site(self, task_id: int | None) -> Site | None:
        if task_id is None:
            return None
        entry = self.task_sites.get(task_id)
        return site_of_ref(entry[1]) if entry else None

    # -- loop thread: callbacks and bursts -------------------------------------------------
    def callback_ended(
        self, start: float, end: float, handle: Any, request: str | None = None
    ) -> None:
        """A callback of at least `floor_s` ended (per-callback timing on)."""
        slow = end - start >= self.threshold_s
        self.ended.append(_Ended(start, end, handle, slow))
        if slow:
            try:
                context = getattr(handle, "_context", None)  # asyncio's Handle; uvloop's
                # run_timed calls this inside the callback's own context
                self.recorder.add_slow(
                    self._slow_callback(start, end, handle, request),
                    context if context is not None else contextvars.copy_context(),
                )
            except Exception:  # a bug here must not stop the user's event loop
                logger.debug("attributing a callback failed", exc_info=True)

    def untimed_stretch(self, start: float, end: float, since: float) -> None:
        """uvloop ran something it does not schedule through Python (an I/O callback) for
        `end - start`, at some time after `since` (when its heartbeat was due)."""
        self.ended.append(_Ended(start, end, None, True))
        self.busy_total += end - start
        try:
            slow = self._slow_callback(start, end, None, None, look_from=since)
            self.recorder.add_slow(
                dataclasses.replace(slow, callback="<I/O callback run by uvloop>")
            )
        except Exception:
            logger.debug("attributing an untimed stretch failed", exc_info=True)

    def busy_s(self, now: float) -> tuple[float, float]:
        """(seconds running callbacks, seconds watched) since the probe was made."""
        busy = self.busy_total + self.timed_total
        if not self.running:
            return busy, self.run_total
        start = self.burst_start
        if start is not None:
            busy += max(0.0, now - start)  # the burst (uvloop: the callback) running now
        return busy, self.run_total + (now - self.attached_at)

    def burst_ended(self, start: float, end: float, timed: bool = True) -> None:
        """The loop is about to wait for I/O again (uvloop: its heartbeat ran late); `start`
        is when it last could have waited. `timed`: per-callback timing was on for some of
        the burst (False: the watchdog never got to switch it on, so nothing in it was split)."""
        duration = end - start
        ended = [e for e in self.ended if e.end > start]
        try:
            if duration >= self.note_s:
                top = max(ended, key=lambda e: e.end - e.start) if ended else None
                task = task_of(top.handle) if top is not None and top.slow else None
                self.recorder.add_lag(
                    LagPoint(
                        self.recorder.since_start(start),
                        duration * 1000.0,
                        task.get_name() if task is not None else None,
                    )
                )
            slow = sum(e.end - e.start for e in ended if e.slow)
            if duration - slow >= self.threshold_s:
                self.recorder.add_stall(self._stall(start, end, ended, timed))
        except Exception:
            logger.debug("attributing a burst failed", exc_info=True)
        finally:
            self.forget_before(end)

    def forget_before(self, t: float) -> None:
        """Drop what was kept to explain a burst that ended by `t`."""
        self.short_count = 0
        self.ended = [e for e in self.ended if e.end > t] if self.ended else self.ended
        self.samples = [s for s in self.samples if s.t > t] if self.samples else self.samples
        if self.seen_blocking:
            self.seen_blocking = [b for b in self.seen_blocking if b.end > t]

    # -- building the findings ---------------------------------------------------------------
    def _slow_callback(
        self,
        start: float,
        end: float,
        handle: Any,
        request: str | None,
        look_from: float | None = None,
    ) -> SlowCallback:
        first = start if look_from is None else look_from  # where samples and calls may be
        samples = sorted((s for s in self.samples if first <= s.t <= end), key=lambda s: s.t)
        # Each sample stands for the time since the previous one (or the callback's start): a
        # sample the watchdog could only take once a C call released the GIL gets that wait.
        weights: dict[Site, float] = defaultdict(float)
        previous = first
        for s in samples:
            weights[s.location] += s.t - previous
            previous = s.t
        if weights:
            location = max(weights, key=lambda loc: (weights[loc], file_kind(loc.file) == "user"))
            stack = next(s.stack for s in reversed(samples) if s.location == location)
        else:  # never sampled (a short burst's last callback): name the function that ran
            location = callback_site(handle) if handle is not None else UNKNOWN_SITE
            stack = (location,) if location is not UNKNOWN_SITE else ()
        blocking = [b for b in self.seen_blocking if first <= b.start < end]
        worst = max(blocking, key=lambda b: min(b.end, end) - b.start) if blocking else None
        heaviest = _heaviest_task(samples, start)
        task = heaviest.task if heaviest is not None else task_of(handle)
        coroutine = heaviest.coroutine if heaviest is not None else None
        if request is None:
            request = next((s.request for s in samples if s.request is not None), None)
        if request is None and task is not None:
            request = request_of_task(task)
        return SlowCallback(
            duration_ms=(end - start) * 1000.0,
            callback=describe_callback(handle),
            task=task.get_name() if task is not None else None,
            coroutine=coroutine or (coroutine_name(task) if task is not None else None),
            location=location,
            stack=stack,
            blocking_call=worst.call if worst is not None else None,
            task_created_at=self.task_site(identity(task)) if task is not None else None,
            at_s=self.recorder.since_start(start),
            samples=len(samples),
            thread=self.thread_name,
            pid=os.getpid(),
            request=request,
            gil_held_ms=sum(s.late for s in samples) * 1000.0,
        )

    def _stall(self, start: float, end: float, ended: list[_Ended], timed: bool = True) -> Stall:
        groups: dict[tuple[Site, str], list[float]] = {}
        tasks: dict[tuple[Site, str], str | None] = {}
        timed_s = 0.0
        for e in ended:
            key = (callback_site(e.handle), describe_callback(e.handle))
            groups.setdefault(key, []).append(e.end - e.start)
            task = task_of(e.handle)
            tasks.setdefault(key, task.get_name() if task is not None else None)
            timed_s += e.end - e.start
        callbacks = [
            CallbackGroup(site, name, tasks[(site, name)], len(d), sum(d) * 1000, max(d) * 1000)
            for (site, name), d in groups.items()
        ]
        rest = (end - start) - timed_s
        if rest >= self.floor_s:
            callbacks.append(self._untimed_rest(rest, timed))
        callbacks.sort(key=lambda c: -c.total_ms)
        return Stall(
            duration_ms=(end - start) * 1000.0,
            start_s=self.recorder.since_start(start),
            callbacks=tuple(callbacks),
            thread=self.thread_name,
            pid=os.getpid(),
        )

    def _untimed_rest(self, rest: float, timed: bool) -> CallbackGroup:
        """What no callback's own timing explains: short callbacks and the loop's own work, or,
        when timing never came on, all of the burst (say so: it may be one long callback)."""
        if not timed:
            what = (
                "callbacks not timed one by one (the watchdog did not run in time: short of CPU?)"
            )
            return CallbackGroup(
                Site("<loop>", 0, what), "<untimed callbacks>", None, 0, rest * 1000, rest * 1000
            )
        floor_ms = self.floor_s * 1000
        return CallbackGroup(
            Site("<loop>", 0, f"callbacks under {floor_ms:g} ms each, and loop work"),
            "<shorter callbacks and loop work>",
            None,
            self.short_count,
            rest * 1000,
            min(rest * 1000, floor_ms) if self.short_count else 0.0,
        )
