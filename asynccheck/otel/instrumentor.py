"""`EventLoopInstrumentor`: event-loop health as OpenTelemetry metrics, on for a whole process.

    from asynccheck.otel import EventLoopInstrumentor
    EventLoopInstrumentor().instrument(meter_provider=provider, slow_callback_ms=100)

Every loop that runs afterwards is observed (asyncio's, uvloop's, in any thread), and so is
the loop `instrument()` is called from, if any (an application's startup hook). It is also an
entry point of the `opentelemetry_instrumentor` group: `opentelemetry-instrument python app.py`
turns it on with no code change, configured by environment variables then.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
from collections.abc import Collection
from typing import Any, Callable

from opentelemetry.instrumentation.instrumentor import BaseInstrumentor
from opentelemetry.metrics import get_meter

from asynccheck import __version__
from asynccheck.otel.metrics import MetricsOptions, MetricsRecorder
from asynccheck.otel.safe import log_once
from asynccheck.runtime.install import observe_loops
from asynccheck.runtime.loop import attach, detach, probe_of

logger = logging.getLogger("asynccheck.otel")

# Settings for `opentelemetry-instrument`, which passes no arguments. Arguments win.
ENVIRONMENT = {
    "slow_callback_ms": ("ASYNCCHECK_SLOW_CALLBACK_MS", float),
    "detect_blocking": ("ASYNCCHECK_DETECT_BLOCKING", lambda v: v.lower() not in _FALSE),
    "delay_resolution_s": ("ASYNCCHECK_DELAY_RESOLUTION_MS", lambda v: float(v) / 1000.0),
    "span_events": ("ASYNCCHECK_SPAN_EVENTS", lambda v: v.lower() not in _FALSE),
    "log_records": ("ASYNCCHECK_LOG_RECORDS", lambda v: v.lower() not in _FALSE),
}
_FALSE = {"", "0", "false", "no", "off"}


def options_from(kwargs: dict[str, Any], environ: Any = os.environ) -> MetricsOptions:
    """Keyword arguments, else the environment, else the defaults; a bad value is an error
    for an argument and a logged warning for the environment (the app must still start)."""
    chosen: dict[str, Any] = {}
    for name, (variable, parse) in ENVIRONMENT.items():
        if kwargs.get(name) is not None:
            chosen[name] = kwargs[name]
        elif variable in environ:
            try:
                chosen[name] = parse(environ[variable])
            except ValueError:
                logger.warning("ignoring %s=%r", variable, environ[variable])
    if kwargs.get("cardinality_limit") is not None:
        chosen["cardinality_limit"] = kwargs["cardinality_limit"]
    options = MetricsOptions(**chosen)
    if options.slow_callback_ms <= 0 or options.delay_resolution_s <= 0:
        raise ValueError("slow_callback_ms and the delay resolution must be positive")
    if options.cardinality_limit < 1:
        raise ValueError("cardinality_limit must be at least 1")
    return options


class EventLoopInstrumentor(BaseInstrumentor):  # type: ignore[misc]
    """Loop delay, utilization, active/idle time, slow callbacks and blocking calls as metrics.

    `instrument()` takes: `meter_provider` (default: the global one), `slow_callback_ms`
    (100), `detect_blocking` (True), `delay_resolution_s` (0.1), `cardinality_limit` (100
    attribute sets per metric), `span_events` and `log_records` (False: a slow callback also
    becomes a span event / a log record in its own trace context).
    """

    _recorder: MetricsRecorder | None = None
    _stop: Callable[[], None] | None = None

    def instrumentation_dependencies(self) -> Collection[str]:
        return ()  # asyncio is always there

    def _instrument(self, **kwargs: Any) -> None:
        options = options_from(kwargs)  # a wrong argument is the caller's error: raise it
        try:
            meter = get_meter(
                "asynccheck.otel",
                __version__,
                meter_provider=kwargs.get("meter_provider"),
                schema_url="https://opentelemetry.io/schemas/1.26.0",
            )
            recorder = MetricsRecorder(meter, options)
        except Exception:  # a broken meter provider must not stop the application's start
            log_once("creating the event-loop instruments")
            return
        self._recorder = recorder
        self._stop = observe_loops(recorder, outermost=True)
        _attach_running_loop()

    def _uninstrument(self, **kwargs: Any) -> None:
        stop, self._stop = self._stop, None
        recorder, self._recorder = self._recorder, None
        if stop is not None:
            stop()
        if recorder is not None:
            for probe in recorder.live_probes():
                _detach_on_its_thread(probe)

    @property
    def recorder(self) -> MetricsRecorder | None:
        """What receives the loops' events while instrumented (for tests and diagnostics)."""
        return self._recorder


def _attach_running_loop() -> None:
    """`instrument()` called from a callback: watch this loop too, from now on."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return
    probe = probe_of(loop)
    if not probe.running:
        try:
            attach(loop, probe)
        except Exception:
            log_once("watching the running loop")


def _detach_on_its_thread(probe: Any) -> None:
    loop = probe.loop_ref()
    if loop is None or not probe.running:
        return
    if probe.thread_id == threading.get_ident() or not loop.is_running():
        detach(probe)
        return
    with contextlib.suppress(RuntimeError):  # closed meanwhile
        loop.call_soon_threadsafe(_detach_if_running, probe)


def _detach_if_running(probe: Any) -> None:
    if probe.running:
        detach(probe)
