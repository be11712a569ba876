"""Opt-in: a slow callback also becomes an event on the span that was current in it, and/or a
log record emitted in its context, so the trace of a stalled request shows the stall and a
log pipeline correlates it (OpenTelemetry's logging handler reads the trace context there)."""

from __future__ import annotations

import contextvars
import logging
from typing import Any

from asynccheck.otel import names
from asynccheck.otel.safe import log_once
from asynccheck.runtime.report import SlowCallback

EVENT_NAME = "asyncio.slow_callback"
DURATION = "asyncio.callback.duration"  # seconds
logger = logging.getLogger("asynccheck.otel.slow_callbacks")


def event_attributes(slow: SlowCallback) -> dict[str, Any]:
    site = slow.location
    attrs: dict[str, Any] = {
        DURATION: slow.duration_ms / 1000.0,
        names.FUNCTION: site.function,
        names.FILE: site.file,
        names.LINE: site.line,
    }
    optional = {
        "asyncio.task.name": slow.task,
        "asyncio.coroutine": slow.coroutine,
        names.BLOCKING_CALL: slow.blocking_call,
        "asyncio.request": slow.request,
        names.THREAD: slow.thread,
    }
    attrs.update({k: v for k, v in optional.items() if v is not None})
    return attrs


class SlowCallbackEvents:
    def __init__(self, span_events: bool, log_records: bool) -> None:
        self.span_events = span_events
        self.log_records = log_records

    def emit(self, slow: SlowCallback, context: contextvars.Context | None) -> None:
        if not (self.span_events or self.log_records):
            return
        try:
            if context is None:
                self._emit(slow)
            else:
                try:
                    context.run(self._emit, slow)
                except RuntimeError:  # that context is entered right now (uvloop): we are in it
                    self._emit(slow)
        except Exception:
            log_once("reporting a slow callback as an event")

    def _emit(self, slow: SlowCallback) -> None:
        """Runs inside the callback's own context: its span is the current one."""
        attrs = event_attributes(slow)
        if self.span_events:
            from opentelemetry import trace

            span = trace.get_current_span()
            if span.is_recording():
                span.add_event(EVENT_NAME, attributes=attrs)
        if self.log_records:
            logger.warning(
                "%s held the event loop for %.1f ms at %s:%d",
                f"task {slow.task}" if slow.task else slow.callback,
                slow.duration_ms,
                slow.location.file,
                slow.location.line,
                extra=attrs,
            )
