"""A `Recorder` that keeps nothing: what the loops report becomes OpenTelemetry measurements.

The monitor's probes already time every loop (runtime/probe.py); this recorder is where they
deliver, in place of a report. Slow callbacks and blocking calls are counted by where the time
went; active and idle time are read from the probes when a reader collects; the delay is
measured by a timer on each loop (`delay.DelaySampler`). Memory is bounded by the number of
loops alive and the cardinality limit, never by time or traffic.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from asynccheck.otel import names
from asynccheck.otel.cardinality import Attributes, BoundedAttributes
from asynccheck.otel.delay import DelaySampler
from asynccheck.otel.events import SlowCallbackEvents
from asynccheck.otel.safe import guarded, log_once
from asynccheck.runtime.recorder import Recorder, Settings
from asynccheck.runtime.report import BlockingCall, LagPoint, Leak, SlowCallback, Stall
from asynccheck.runtime.sites import Site

logger = logging.getLogger("asynccheck.otel")
_MAIN = threading.main_thread().name
_NO_ATTRIBUTES: Attributes = {}


@dataclass(frozen=True)
class MetricsOptions:
    slow_callback_ms: float = 100.0
    detect_blocking: bool = True
    delay_resolution_s: float = 0.1  # how often each loop's delay timer fires
    cardinality_limit: int = 100
    span_events: bool = False  # a slow callback becomes an event on its task's current span
    log_records: bool = False  # ... and/or a warning log record in the callback's context


def thread_attributes(thread: str) -> Attributes:
    """`thread.name`, only where the loop is not on the main thread."""
    return _NO_ATTRIBUTES if thread == _MAIN else {names.THREAD: thread}


def _code_attributes(site: Site, thread: str) -> dict[str, object]:
    return {
        names.FUNCTION: site.function,
        names.FILE: site.file,
        names.LINE: site.line,
        **thread_attributes(thread),
    }


class _Totals:
    """Loop time per thread: what stopped loops ran, plus what running loops report live."""

    def __init__(self) -> None:
        self.finished: dict[str, tuple[float, float]] = {}  # thread -> (busy, watched)
        self.shown: dict[str, tuple[float, float]] = {}  # last values reported: never go down
        self.last_seen: dict[str, tuple[float, float]] = {}  # for the utilization gauge


class MetricsRecorder(Recorder):
    """Receives from every observed loop (see `install.observe_loops`) and measures."""

    def __init__(self, meter: Any, options: MetricsOptions) -> None:
        super().__init__(
            Settings(
                slow_callback_ms=options.slow_callback_ms,
                detect_blocking=options.detect_blocking,
                log=False,
                watch_leaks=False,
            )
        )
        self.options = options
        self._probes: weakref.WeakKeyDictionary[Any, DelaySampler] = weakref.WeakKeyDictionary()
        self._totals = _Totals()
        self._slow_sets = BoundedAttributes(options.cardinality_limit)
        self._blocking_sets = BoundedAttributes(options.cardinality_limit)
        self._events = SlowCallbackEvents(options.span_events, options.log_records)
        self._make_instruments(meter)

    def _make_instruments(self, meter: Any) -> None:
        self.delay = _histogram(meter)
        self.slow_count = meter.create_counter(
            names.SLOW_CALLBACKS,
            unit="{callback}",
            description="Callbacks that held the event loop past the slow-callback threshold, "
            "by where the time went",
        )
        self.slow_time = meter.create_counter(
            names.SLOW_CALLBACK_TIME,
            unit="s",
            description="Time the event loop spent in slow callbacks, by where the time went",
        )
        self.blocking_count = meter.create_counter(
            names.BLOCKING_CALLS,
            unit="{call}",
            description="Blocking calls made on an event loop's thread, by call and caller",
        )
        self.blocking_time = meter.create_counter(
            names.BLOCKING_CALL_TIME,
            unit="s",
            description="Time the event loop spent in blocking calls, by call and caller",
        )
        meter.create_observable_counter(
            names.TIME,
            callbacks=[guarded("observing loop time", self._observe_time)],
            unit="s",
            description="Time event loops spent running callbacks (active) or waiting (idle)",
        )
        meter.create_observable_gauge(
            names.UTILIZATION,
            callbacks=[guarded("observing loop utilization", self._observe_utilization)],
            unit="1",
            description="Share of time the event loop ran callbacks since the last collection",
        )

    # -- what the probes deliver -------------------------------------------------------------
    def add_loop(self, serial: int) -> None:
        """Nothing to count: a service making a loop per request must not grow a set."""

    def add_note(self, note: str) -> None:
        logger.debug("%s", note)

    def add_slow(self, slow: SlowCallback, context: Any = None) -> None:
        site = slow.location
        attrs = self._slow_sets.get(
            (site, slow.thread), lambda: _code_attributes(site, slow.thread)
        )
        _add(self.slow_count, 1, attrs, "counting a slow callback")
        _add(self.slow_time, slow.duration_ms / 1000.0, attrs, "timing a slow callback")
        self._events.emit(slow, context)

    def add_blocking(self, call: BlockingCall) -> None:
        site = call.location
        thread = threading.current_thread().name  # recorded on the loop's own thread

        def make() -> dict[str, object]:
            return {names.BLOCKING_CALL: call.call, **_code_attributes(site, thread)}

        attrs = self._blocking_sets.get((call.call, site, thread), make)
        _add(self.blocking_count, 1, attrs, "counting a blocking call")
        _add(self.blocking_time, call.duration_ms / 1000.0, attrs, "timing a blocking call")

    def add_stall(self, stall: Stall) -> None:
        """Stalls are in the delay histogram already (the loop was late for its timer)."""

    def add_lag(self, point: LagPoint) -> None:
        """The delay histogram is the timeline here."""

    def add_leak(self, leak: Leak, key: str | None = None) -> None:
        """Leaks are for reports; metrics leave them alone (and keep nothing)."""

    # -- loops starting and stopping ---------------------------------------------------------
    def loop_started(self, loop: Any, probe: Any) -> None:
        try:
            sampler = DelaySampler(
                loop,
                self.delay,
                thread_attributes(probe.thread_name),
                self.options.delay_resolution_s,
            )
            with self._lock:
                self._probes[probe] = sampler
            sampler.start()
        except Exception:  # runs as the loop starts: must never stop it
            log_once("starting the loop's delay timer")

    def loop_stopped(self, probe: Any) -> None:
        try:
            with self._lock:
                sampler = self._probes.pop(probe, None)
                busy, watched = probe.busy_s(time.perf_counter())
                old = self._totals.finished.get(probe.thread_name, (0.0, 0.0))
                self._totals.finished[probe.thread_name] = (old[0] + busy, old[1] + watched)
            probe.busy_total = probe.timed_total = probe.run_total = 0.0  # counted now
            if sampler is not None:
                sampler.stop()
        except Exception:
            log_once("stopping the loop's delay timer")

    def live_probes(self) -> list[Any]:
        with self._lock:
            return list(self._probes)

    def reset_after_fork(self) -> None:
        """A forked child's loops are its own; the parent's threads are gone."""
        super().reset_after_fork()
        self._probes = weakref.WeakKeyDictionary()
        self._totals = _Totals()

    # -- what readers collect ----------------------------------------------------------------
    def _by_thread(self) -> dict[str, tuple[float, float]]:
        now = time.perf_counter()
        with self._lock:
            totals = dict(self._totals.finished)
            probes = list(self._probes)
        for probe in probes:
            busy, watched = probe.busy_s(now)
            old = totals.get(probe.thread_name, (0.0, 0.0))
            totals[probe.thread_name] = (old[0] + busy, old[1] + watched)
        return totals

    def _observe_time(self, options: Any) -> Iterator[Any]:
        from opentelemetry.metrics import Observation

        shown = self._totals.shown
        for thread, (busy, watched) in self._by_thread().items():
            last = shown.get(thread, (0.0, 0.0))
            busy = max(busy, last[0])
            idle = max(watched - busy, last[1])
            shown[thread] = (busy, idle)
            base = thread_attributes(thread)
            yield Observation(busy, {**base, names.STATE: "active"})
            yield Observation(idle, {**base, names.STATE: "idle"})

    def _observe_utilization(self, options: Any) -> Iterator[Any]:
        from opentelemetry.metrics import Observation

        last_seen = self._totals.last_seen
        for thread, (busy, watched) in self._by_thread().items():
            before = last_seen.get(thread, (0.0, 0.0))
            last_seen[thread] = (busy, watched)
            span = watched - before[1]
            if span > 0:
                share = (busy - before[0]) / span
                yield Observation(min(max(share, 0.0), 1.0), thread_attributes(thread))


def _histogram(meter: Any) -> Any:
    description = "How late each event loop ran a timer due on it: how long ready work waited"
    try:  # the bucket advice needs opentelemetry-api 1.23+
        return meter.create_histogram(
            names.DELAY,
            unit="s",
            description=description,
            explicit_bucket_boundaries_advisory=list(names.DELAY_BUCKETS),
        )
    except TypeError:
        return meter.create_histogram(names.DELAY, unit="s", description=description)


def _add(counter: Any, value: float, attrs: Attributes, doing: str) -> None:
    try:
        counter.add(value, attrs)
    except Exception:
        log_once(doing)
