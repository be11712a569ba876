"""The mutable collector behind a `Report`: loops, hooks and the watchdog append; `report()` freezes.

One `Recorder` may be shared by many loops (every `asyncio.run` under one `monitor()`), and it
is written from the loop threads and the watchdog thread, so appends take a lock.
"""

from __future__ import annotations

import dataclasses
import heapq
import itertools
import logging
import os
import threading
import time
from dataclasses import dataclass
from typing import Any

from asynccheck.runtime.report import (
    BlockingCall,
    Hotspot,
    LagPoint,
    Leak,
    Report,
    SlowCallback,
    Stall,
)
from asynccheck.runtime.sites import Site

logger = logging.getLogger("asynccheck")

DEFAULT_SLOW_MS = 100.0
MAX_LAG_POINTS = 20_000  # a timeline needs shape, not every point of a day-long run
# A service profiled for an hour may have thousands of slow callbacks: every one is counted in
# its hotspot, and the longest ones are kept whole (stack and all), so memory stays flat.
MAX_SLOW_KEPT = 500
MAX_STALLS_KEPT = 200


@dataclass(frozen=True)
class Settings:
    """What to watch. Shared by the loop, the watchdog and the blocking-call hook."""

    slow_callback_ms: float = DEFAULT_SLOW_MS
    detect_blocking: bool = True
    trace_leaks: bool = False
    log: bool = True  # log each slow callback on the "asynccheck" logger, like asyncio's debug mode
    watch_leaks: bool = True  # note unclosed resources and pending tasks (off for metrics)

    @property
    def threshold_s(self) -> float:
        return self.slow_callback_ms / 1000.0

    @property
    def lag_note_s(self) -> float:
        """Iterations at least this long are drawn on the timeline (not reported)."""
        return min(self.threshold_s / 4.0, 0.010)


class Recorder:
    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings()
        self.started = time.perf_counter()
        self._lock = threading.Lock()
        self._clear()

    def _clear(self) -> None:
        self._order = itertools.count()
        # min-heaps of (duration, order, item): the shortest kept one is dropped first
        self._slow: list[tuple[float, int, SlowCallback]] = []
        self._slow_seen = 0
        self._hotspots: dict[Site, _HotspotTotals] = {}
        self._stalls: list[tuple[float, int, Stall]] = []
        self._blocking: dict[tuple[str, str, int], BlockingCall] = {}
        self._leaks: list[Leak] = []
        self._leak_keys: set[tuple[str, str]] = set()
        self._lag: list[LagPoint] = []
        self._loop_ids: set[int] = set()
        self._notes: list[str] = []

    def reset_after_fork(self) -> None:
        """In a forked child: a fresh lock, and nothing of what the parent saw."""
        self._lock = threading.Lock()
        self.started = time.perf_counter()
        self._clear()

    def since_start(self, t: float) -> float:
        return t - self.started

    def add_loop(self, serial: int) -> None:
        """A loop ran while this recorder was its destination (counted once per loop)."""
        with self._lock:
            self._loop_ids.add(serial)

    def loop_started(self, loop: Any, probe: Any) -> None:
        """A loop began running with this recorder as its destination (`probe` is its
        `LoopProbe`); subclasses that follow loops live (metrics) override this."""

    def loop_stopped(self, probe: Any) -> None:
        """The loop of `probe` stopped running (or stopped being watched)."""

    @property
    def loops(self) -> int:
        return len(self._loop_ids)

    def add_note(self, note: str) -> None:
        with self._lock:
            if note not in self._notes:
                self._notes.append(note)

    def add_slow(self, slow: SlowCallback, context: Any = None) -> None:
        """`context`: the contextvars of the callback that ran (its task's), when known."""
        with self._lock:
            self._slow_seen += 1
            _keep(self._slow, slow.duration_ms, next(self._order), slow, MAX_SLOW_KEPT)
            totals = self._hotspots.get(slow.location)
            if totals is None:
                totals = self._hotspots[slow.location] = _HotspotTotals()
            totals.add(slow)
        if self.settings.log:
            who = f"task {slow.task} ({slow.coroutine})" if slow.task else slow.callback
            logger.warning(
                "%s held the event loop for %.1f ms at %s:%d",
                who,
                slow.duration_ms,
                slow.location.file,
                slow.location.line,
            )

    def add_stall(self, stall: Stall) -> None:
        with self._lock:
            _keep(self._stalls, stall.duration_ms, next(self._order), stall, MAX_STALLS_KEPT)

    def add_lag(self, point: LagPoint) -> None:
        with self._lock:
            self._lag.append(point)
            if len(self._lag) >= MAX_LAG_POINTS:
                # A long run keeps its whole timeline at half the resolution: of each two
                # neighbouring points the longer one stays, so no spike is lost.
                lag = sorted(self._lag, key=lambda p: p.at_s)
                self._lag = [
                    max(pair, key=lambda p: p.duration_ms) for pair in zip(lag[::2], lag[1::2])
                ]
                if len(lag) % 2:
                    self._lag.append(lag[-1])

    def add_blocking(self, call: BlockingCall) -> None:
        key = (call.call, call.location.file, call.location.line)
        with self._lock:
            old = self._blocking.get(key)
            if old is None:
                self._blocking[key] = call
            else:
                longest = call if call.duration_ms > old.duration_ms else old
                self._blocking[key] = BlockingCall(
                    call=longest.call,
                    duration_ms=longest.duration_ms,
                    task=longest.task,
                    location=longest.location,
                    stack=longest.stack,
                    count=old.count + 1,
                    at_s=old.at_s,
                    exact=longest.exact,
                    pid=longest.pid,
                )

    def add_leak(self, leak: Leak, key: str | None = None) -> None:
        """Add once per (kind, key): the same object may be seen by two detectors."""
        if not leak.pid:
            leak = dataclasses.replace(leak, pid=os.getpid())
        k = (leak.kind, key if key is not None else leak.what)
        with self._lock:
            if k in self._leak_keys:
                return
            self._leak_keys.add(k)
            self._leaks.append(leak)

    def report(
        self,
        *,
        argv: tuple[str, ...] = (),
        exit_code: int = 0,
        wall_s: float | None = None,
        profile_session: Any = None,
        profile_html: str | None = None,
        profile_speedscope: str | None = None,
    ) -> Report:
        """Freeze what was seen so far (`install.Monitor.report` collects garbage first, so
        that unclosed objects kept alive by cycles report themselves as leaks)."""
        with self._lock:
            slow = tuple(sorted((e[2] for e in self._slow), key=SlowCallback.sort_key))
            stalls = tuple(sorted((e[2] for e in self._stalls), key=Stall.sort_key))
            hotspots = tuple(
                sorted(
                    (t.freeze(site) for site, t in self._hotspots.items()),
                    key=Hotspot.sort_key,
                )
            )
            blocking = tuple(sorted(self._blocking.values(), key=BlockingCall.sort_key))
            leaks = tuple(sorted(self._leaks, key=Leak.sort_key))
            lag = tuple(sorted(self._lag, key=lambda p: p.at_s))
            seen, notes = self._slow_seen, tuple(self._notes)
        return Report(
            argv=tuple(argv),
            exit_code=exit_code,
            wall_s=wall_s if wall_s is not None else time.perf_counter() - self.started,
            threshold_ms=self.settings.slow_callback_ms,
            slow_callbacks=slow,
            blocking_calls=blocking,
            leaks=leaks,
            loop_lag=lag,
            loops=len(self._loop_ids),
            stalls=stalls,
            hotspots=hotspots,
            slow_callbacks_seen=seen,
            processes=(os.getpid(),),
            notes=notes,
            profile_html=profile_html,
            profile_speedscope=profile_speedscope,
            profile_session=profile_session,
        )


def _keep(heap: list[Any], size: float, order: int, item: Any, limit: int) -> None:
    entry = (size, order, item)
    if len(heap) < limit:
        heapq.heappush(heap, entry)
    elif size > heap[0][0]:
        heapq.heapreplace(heap, entry)


class _HotspotTotals:
    """Running totals of the slow callbacks whose time went to one site."""

    __slots__ = ("blocking_call", "count", "example", "max_ms", "total_ms")

    def __init__(self) -> None:
        self.count = 0
        self.total_ms = 0.0
        self.max_ms = 0.0
        self.blocking_call: str | None = None
        self.example = ""

    def add(self, slow: SlowCallback) -> None:
        self.count += 1
        self.total_ms += slow.duration_ms
        if slow.duration_ms >= self.max_ms:
            self.max_ms = slow.duration_ms
            self.blocking_call = slow.blocking_call or self.blocking_call
            who = f"task {slow.task!r} {slow.coroutine}()" if slow.task else slow.callback
            self.example = f"{who} serving {slow.request}" if slow.request else who

    def freeze(self, site: Site) -> Hotspot:
        return Hotspot(
            site, self.count, self.total_ms, self.max_ms, self.blocking_call, self.example
        )


# The recorder of the innermost active `monitor()`; loops made outside any monitor use the
# process-wide default one (`asynccheck.loop_factory` in a service with no monitor scope).
_active: list[Recorder] = []
_default: Recorder | None = None


def push_recorder(recorder: Recorder, *, outermost: bool = False) -> None:
    """Make `recorder` the destination of loops; `outermost`: only while no other monitor is
    active (metrics left on for a process yield to `asynccheck profile`'s report)."""
    if outermost:
        _active.insert(0, recorder)
    else:
        _active.append(recorder)


def pop_recorder(recorder: Recorder) -> None:
    if recorder in _active:
        _active.remove(recorder)


def all_recorders() -> list[Recorder]:
    """Every recorder a loop may be writing to now (to reset them in a forked child)."""
    return [*_active, *([_default] if _default is not None else [])]


def current_recorder() -> Recorder:
    global _default
    if _active:
        return _active[-1]
    if _default is None:
        _default = Recorder()
    return _default
