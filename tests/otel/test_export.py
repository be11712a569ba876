"""Where the numbers go: span events and log records in the stalled request's trace,
Prometheus through OpenTelemetry's own exporter, and `opentelemetry-instrument`."""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
import textwrap
import time
import urllib.request
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from asynccheck.otel import EventLoopInstrumentor, names

from .conftest import instrument

ROOT = Path(__file__).resolve().parents[2]


def serve_slowly() -> None:
    time.sleep(0.08)


async def request(tracer: object, name: str, slow: bool) -> None:
    with tracer.start_as_current_span(name):  # type: ignore[attr-defined]
        await asyncio.sleep(0.01)
        if slow:
            serve_slowly()
        await asyncio.sleep(0.01)


def test_slow_callback_becomes_an_event_on_its_own_requests_span() -> None:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("test")
    instrumentor, _ = instrument(span_events=True)

    async def main() -> None:  # two requests at once, only one of them slow
        await asyncio.gather(
            request(tracer, "GET /fast", False), request(tracer, "GET /slow", True)
        )

    try:
        asyncio.run(main())
    finally:
        instrumentor.uninstrument()
    spans = {s.name: s for s in exporter.get_finished_spans()}
    assert spans["GET /fast"].events == ()
    [event] = spans["GET /slow"].events
    assert event.name == "asyncio.slow_callback"
    assert event.attributes[names.FUNCTION] == "serve_slowly"
    assert 0.075 <= event.attributes["asyncio.callback.duration"] <= 0.12
    assert event.attributes[names.BLOCKING_CALL] == "time.sleep"


def test_slow_callback_log_record_carries_the_trace_context() -> None:
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider

    tracer = TracerProvider().get_tracer("test")
    seen: list[tuple[str, int]] = []

    class TraceIds(logging.Handler):  # what OpenTelemetry's LoggingHandler reads
        def emit(self, record: logging.LogRecord) -> None:
            ctx = trace.get_current_span().get_span_context()
            seen.append((record.getMessage(), ctx.trace_id))

    handler = TraceIds()
    logging.getLogger("asynccheck.otel.slow_callbacks").addHandler(handler)
    instrumentor, _ = instrument(log_records=True)
    trace_ids: list[int] = []

    async def main() -> None:
        with tracer.start_as_current_span("GET /slow") as span:
            trace_ids.append(span.get_span_context().trace_id)
            await asyncio.sleep(0.01)
            serve_slowly()
            await asyncio.sleep(0.01)

    try:
        asyncio.run(main())
    finally:
        instrumentor.uninstrument()
        logging.getLogger("asynccheck.otel.slow_callbacks").removeHandler(handler)
    [(message, trace_id)] = seen
    assert "held the event loop" in message and "test_export.py" in message
    assert trace_id == trace_ids[0] != 0


def test_prometheus_scrape_through_opentelemetrys_exporter() -> None:
    pytest.importorskip("opentelemetry.exporter.prometheus")
    from opentelemetry.exporter.prometheus import PrometheusMetricReader
    from opentelemetry.sdk.metrics import MeterProvider
    from prometheus_client import start_http_server

    reader = PrometheusMetricReader()
    provider = MeterProvider(metric_readers=[reader])
    server, thread = start_http_server(0, addr="127.0.0.1")
    instrumentor = EventLoopInstrumentor()
    instrumentor.instrument(meter_provider=provider, slow_callback_ms=50)
    try:

        async def main() -> None:
            await asyncio.sleep(0.03)
            serve_slowly()
            await asyncio.sleep(0.03)

        asyncio.run(main())
        port = server.server_address[1]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
            text = response.read().decode()
    finally:
        instrumentor.uninstrument()
        server.shutdown()
        server.server_close()
        thread.join(5)
        provider.shutdown()
    assert "asyncio_eventloop_delay_seconds_bucket{" in text
    [line] = [
        s for s in text.splitlines() if s.startswith("asyncio_eventloop_slow_callbacks_total{")
    ]
    assert 'code_function_name="serve_slowly"' in line and line.endswith(" 1.0")
    assert 'asyncio_eventloop_time_seconds_total{asyncio_eventloop_state="active"' in text


def test_registered_as_an_opentelemetry_instrumentor() -> None:
    [entry] = [
        e
        for e in entry_points(group="opentelemetry_instrumentor")
        if e.value.startswith("asynccheck")
    ]
    assert entry.load() is EventLoopInstrumentor


def test_opentelemetry_instrument_turns_it_on_with_no_code_change(tmp_path: Path) -> None:
    """The app sets its meter provider itself, after the instrumentors loaded (the API's proxy
    meter hands the instruments over); settings come from the environment."""
    script = shutil_which("opentelemetry-instrument")
    app = tmp_path / "app.py"
    app.write_text(
        textwrap.dedent(
            """
            import asyncio, time
            from opentelemetry import metrics
            from opentelemetry.sdk.metrics import MeterProvider
            from opentelemetry.sdk.metrics.export import InMemoryMetricReader

            reader = InMemoryMetricReader()
            metrics.set_meter_provider(MeterProvider(metric_readers=[reader]))

            def handler():
                time.sleep(0.06)

            async def main():
                await asyncio.sleep(0.02)
                handler()
                await asyncio.sleep(0.02)

            asyncio.run(main())
            for rm in reader.get_metrics_data().resource_metrics:
                for sm in rm.scope_metrics:
                    for m in sm.metrics:
                        if m.name == "asyncio.eventloop.slow_callbacks":
                            for p in m.data.data_points:
                                print(p.attributes["code.function.name"], p.value)
            """
        )
    )
    env = dict(os.environ)
    env.update(
        {
            "ASYNCCHECK_SLOW_CALLBACK_MS": "40",
            "OTEL_METRICS_EXPORTER": "none",
            "OTEL_TRACES_EXPORTER": "none",
            "OTEL_LOGS_EXPORTER": "none",
            "PYTHONPATH": str(ROOT),
        }
    )
    done = subprocess.run(
        [script, sys.executable, str(app)],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["handler", "1"], done.stderr


def shutil_which(name: str) -> str:
    import shutil

    found = shutil.which(name) or str(Path(sys.executable).with_name(name))
    if not Path(found).exists():
        pytest.skip(f"{name} is not installed")
    return found
