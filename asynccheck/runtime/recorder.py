"""The mutable collector behind a `Report`: loops, hooks and the watchdog append; `report()` freezes.

One `Recorder` may be shared by many loops (every `asyncio.run` under one `monitor()`), and it
is written from the loop threads and the watchdog thread, so appends take a lock.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

from asynccheck.runtime.report import BlockingCall, LagPoint, Leak, Report, SlowCallback

logger = logging.getLogger("asynccheck")

DEFAULT_SLOW_MS = 100.0
MAX_LAG_POINTS = 20_000  # a timeline needs shape, not every point of a day-long run


@dataclass(frozen=True)
class Settings:
    """What to watch. Shared by the loop, the watchdog and the blocking-call hook."""

    slow_callback_ms: float = DEFAULT_SLOW_MS
    detect_blocking: bool = True
    trace_leaks: bool = False
    log: bool = True  # log each slow callback on the "asynccheck" logger, like asyncio's debug mode

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
        self._slow: list[SlowCallback] = []
        self._blocking: dict[tuple[str, str, int], BlockingCall] = {}
        self._leaks: list[Leak] = []
        self._leak_keys: set[tuple[str, str]] = set()
        self._lag: list[LagPoint] = []
        self._loop_ids: set[int] = set()

    def since_start(self, t: float) -> float:
        return t - self.started

    def add_loop(self, loop_id: int) -> None:
        """A loop ran while this recorder was its destination (counted once per loop)."""
        with self._lock:
            self._loop_ids.add(loop_id)

    @property
    def loops(self) -> int:
        return len(self._loop_ids)

    def add_slow(self, slow: SlowCallback) -> None:
        with self._lock:
            self._slow.append(slow)
        if self.settings.log:
            who = f"task {slow.task} ({slow.coroutine})" if slow.task else slow.callback
            logger.warning(
                "asynccheck: %s held the event loop for %.1f ms at %s:%d",
                who,
                slow.duration_ms,
                slow.location.file,
                slow.location.line,
            )

    def add_lag(self, point: LagPoint) -> None:
        with self._lock:
            if len(self._lag) < MAX_LAG_POINTS:
                self._lag.append(point)

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
                )

    def add_leak(self, leak: Leak, key: str | None = None) -> None:
        """Add once per (kind, key): the same object may be seen by two detectors."""
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
        collect_garbage: bool = True,
    ) -> Report:
        """Freeze what was seen. `collect_garbage` first runs a full collection so that
        unclosed objects kept alive by reference cycles report themselves as leaks."""
        if collect_garbage and self._loop_ids:
            from asynccheck.runtime.leaks import collect_garbage_into

            collect_garbage_into(self)
        with self._lock:
            slow = tuple(sorted(self._slow, key=SlowCallback.sort_key))
            blocking = tuple(sorted(self._blocking.values(), key=BlockingCall.sort_key))
            leaks = tuple(sorted(self._leaks, key=Leak.sort_key))
            lag = tuple(sorted(self._lag, key=lambda p: p.at_s))
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
            profile_html=profile_html,
            profile_speedscope=profile_speedscope,
            profile_session=profile_session,
        )


# The recorder of the innermost active `monitor()`; loops made outside any monitor use the
# process-wide default one (`asynccheck.loop_factory` in a service with no monitor scope).
_active: list[Recorder] = []
_default: Recorder | None = None


def push_recorder(recorder: Recorder) -> None:
    _active.append(recorder)


def pop_recorder(recorder: Recorder) -> None:
    if recorder in _active:
        _active.remove(recorder)


def current_recorder() -> Recorder:
    global _default
    if _active:
        return _active[-1]
    if _default is None:
        _default = Recorder()
    return _default
