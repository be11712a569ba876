"""The metric and attribute names asynccheck publishes: a contract, documented in
docs/loop-health.md. Attribute names follow OpenTelemetry's semantic conventions where one
exists (`code.*`, `thread.name`)."""

from __future__ import annotations

DELAY = "asyncio.eventloop.delay"
TIME = "asyncio.eventloop.time"
UTILIZATION = "asyncio.eventloop.utilization"
SLOW_CALLBACKS = "asyncio.eventloop.slow_callbacks"
SLOW_CALLBACK_TIME = "asyncio.eventloop.slow_callbacks.time"
BLOCKING_CALLS = "asyncio.eventloop.blocking_calls"
BLOCKING_CALL_TIME = "asyncio.eventloop.blocking_calls.time"

STATE = "asyncio.eventloop.state"
BLOCKING_CALL = "asyncio.blocking_call"
FUNCTION = "code.function.name"
FILE = "code.file.path"
LINE = "code.line.number"
THREAD = "thread.name"

OTHER = "other"  # the function name of what did not fit under the cardinality limit

# Delay buckets in seconds: from the timer's own resolution up to a loop frozen for seconds.
DELAY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
