"""Event-loop health as OpenTelemetry metrics: `EventLoopInstrumentor` (extra `asynccheck[otel]`).

The metric names, units and attributes are in `names.py` and docs/loop-health.md.
"""

from __future__ import annotations

try:
    from asynccheck.otel.instrumentor import EventLoopInstrumentor
except ImportError as error:  # pragma: no cover - exercised without the extra installed
    if not (error.name or "").startswith("opentelemetry"):
        raise
    raise ImportError(
        "asynccheck.otel needs OpenTelemetry: pip install 'asynccheck[otel]'", name=error.name
    ) from error

__all__ = ["EventLoopInstrumentor"]
