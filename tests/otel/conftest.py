"""The real OpenTelemetry SDK with an in-memory reader, and the instrumentor on it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

pytest.importorskip("opentelemetry.sdk.metrics")

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from asynccheck.otel import EventLoopInstrumentor


@dataclass(frozen=True)
class Point:
    metric: str
    attributes: dict[str, Any]
    value: Any  # a number, or the histogram data point itself


@dataclass(frozen=True)
class Collected:
    """One collection: every observable callback ran once for it, as for one export."""

    points: list[Point]

    def of(self, metric: str, wanted: dict[str, Any] | None = None) -> list[Point]:
        """Points of `metric` whose attributes include `wanted`."""
        wanted = wanted or {}
        return [
            p
            for p in self.points
            if p.metric == metric and all(p.attributes.get(k) == v for k, v in wanted.items())
        ]


class Metrics:
    def __init__(self, reader: InMemoryMetricReader) -> None:
        self.reader = reader

    def collect(self) -> Collected:
        data = self.reader.get_metrics_data()
        found: list[Point] = []
        for resource in data.resource_metrics if data else ():
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    for p in metric.data.data_points:
                        value = getattr(p, "value", p)
                        found.append(Point(metric.name, dict(p.attributes), value))
        return Collected(found)


def instrument(**options: Any) -> tuple[EventLoopInstrumentor, Metrics]:
    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader])
    options.setdefault("slow_callback_ms", 50)
    options.setdefault("delay_resolution_s", 0.02)  # enough ticks in a test's short run
    instrumentor = EventLoopInstrumentor()
    instrumentor.instrument(meter_provider=provider, **options)
    return instrumentor, Metrics(reader)


@pytest.fixture
def metrics() -> Iterator[Metrics]:
    instrumentor, found = instrument()
    try:
        yield found
    finally:
        instrumentor.uninstrument()
