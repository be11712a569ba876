"""The app's own OpenTelemetry set-up, as a service has it: a global meter provider (here with
an in-memory reader), made after `opentelemetry-instrument` loaded the instrumentors. At exit,
every data point is written to $ASYNCCHECK_OTEL_OUT/metrics-PID.json for the test to read.
Imported by the test servers only when $ASYNCCHECK_OTEL_OUT is set."""

from __future__ import annotations

import atexit
import json
import os

from opentelemetry import metrics
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

OUT = os.environ["ASYNCCHECK_OTEL_OUT"]
reader = InMemoryMetricReader()
metrics.set_meter_provider(MeterProvider(metric_readers=[reader]))


def _point(metric: str, p: object) -> dict[str, object]:
    value = getattr(p, "value", None)
    if value is None:  # a histogram
        value = {"count": p.count, "sum": p.sum, "max": p.max}  # type: ignore[attr-defined]
    return {"metric": metric, "attributes": dict(p.attributes), "value": value}  # type: ignore[attr-defined]


@atexit.register
def dump() -> None:
    data = reader.get_metrics_data()
    points = [
        _point(m.name, p)
        for rm in (data.resource_metrics if data else ())
        for sm in rm.scope_metrics
        for m in sm.metrics
        for p in m.data.data_points
    ]
    path = os.path.join(OUT, f"metrics-{os.getpid()}.json")
    with open(path, "w") as f:
        json.dump({"pid": os.getpid(), "points": points}, f)
