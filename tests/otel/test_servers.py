"""Real servers on 127.0.0.1 under `opentelemetry-instrument`, with no code change for
asynccheck: the planted slow work (servers/planted.py measures itself) must come out of the
metrics exactly, and the fast requests around it must not."""

from __future__ import annotations

import json
import signal
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from asynccheck.otel import names
from tests.runtime.harness import SERVERS, Server

pytestmark = pytest.mark.slow
pytest.importorskip("opentelemetry.sdk.metrics")

PLANTED_FILE = str(SERVERS / "planted.py")
SLEEP_LINE = next(
    i
    for i, line in enumerate(Path(PLANTED_FILE).read_text().splitlines(), 1)
    if line.endswith("# planted: sleep")
)


def _import_lines() -> range:
    """planted.py's lines above its first route: what runs when it is imported."""
    lines = Path(PLANTED_FILE).read_text().splitlines()
    return range(1, next(i for i, line in enumerate(lines, 1) if line.startswith("def sleep(")))


# uvicorn imports the app inside its running loop, and planted.py builds the /dumps payload at
# import (`BIG = _make_big(...)`, ~0.2 s): a real slow callback of each worker, not a request's.
IMPORT_WORK = _import_lines()
# `opentelemetry-instrument python ...`, as the console script runs it
INSTRUMENT = [
    "-c",
    "import sys; sys.argv[0] = 'opentelemetry-instrument'; "
    "from opentelemetry.instrumentation.auto_instrumentation import run; run()",
    sys.executable,
]


def serve(target: list[str], tmp: Path, name: str) -> Server:
    out = tmp / f"{name}-metrics"
    out.mkdir()
    server = Server(
        [*INSTRUMENT, *target],
        tmp,
        profile=False,
        name=name,
        env={
            "ASYNCCHECK_OTEL_OUT": str(out),
            "ASYNCCHECK_SLOW_CALLBACK_MS": "100",
            "ASYNCCHECK_DELAY_RESOLUTION_MS": "20",
            "OTEL_METRICS_EXPORTER": "none",
            "OTEL_TRACES_EXPORTER": "none",
            "OTEL_LOGS_EXPORTER": "none",
        },
    )
    server.metrics_dir = out  # type: ignore[attr-defined]
    return server


def dumps(server: Server) -> list[dict[str, Any]]:
    """Each process's data points, as servers/otel_setup.py wrote them at exit."""
    return [json.loads(p.read_text()) for p in sorted(server.metrics_dir.glob("*.json"))]  # type: ignore[attr-defined]


def points(dump: dict[str, Any], metric: str) -> list[dict[str, Any]]:
    return [p for p in dump["points"] if p["metric"] == metric]


def check_planted_sleeps(server: Server, planted: int) -> None:
    run = server.stop(signal.SIGINT)
    truth = run.truth_of("sleep")
    assert len(truth) == planted, run.describe()
    per_pid = Counter(e["pid"] for e in truth)
    found = dumps(server)
    assert found, run.describe()
    for dump in found:
        slow = points(dump, names.SLOW_CALLBACKS)
        at_import = [p for p in slow if p["attributes"][names.LINE] in IMPORT_WORK]
        assert len(at_import) <= 1 and all(p["value"] == 1 for p in at_import)
        slow = [p for p in slow if p not in at_import]
        expected = per_pid.get(dump["pid"], 0)
        if not expected:
            assert slow == [], "only the planted work is slow"
            continue
        [count] = slow  # one site: the planted line, nothing charged to the fast routes
        assert count["attributes"] == {
            names.FUNCTION: "sleep",
            names.FILE: PLANTED_FILE,
            names.LINE: SLEEP_LINE,
        }
        assert count["value"] == expected
        [spent] = [
            p
            for p in points(dump, names.SLOW_CALLBACK_TIME)
            if p["attributes"] == count["attributes"]
        ]
        truth_s = sum(e["duration_ms"] for e in truth if e["pid"] == dump["pid"]) / 1000
        assert spent["value"] == pytest.approx(truth_s, rel=0.15)
        [blocking] = [
            p
            for p in points(dump, names.BLOCKING_CALLS)
            if p["attributes"][names.FILE] == PLANTED_FILE  # (otel_setup's own open() too)
        ]
        assert blocking["attributes"][names.BLOCKING_CALL] == "time.sleep"
        assert blocking["value"] == expected
        [delay] = points(dump, names.DELAY)
        longest = max(e["duration_ms"] for e in truth if e["pid"] == dump["pid"]) / 1000
        # Two planted sleeps may run back to back in one worker: the loop is then late by
        # both, so the bound is this process's total planted time, not its longest sleep.
        import_s = sum(
            p["value"]
            for p in points(dump, names.SLOW_CALLBACK_TIME)
            if p["attributes"][names.LINE] in IMPORT_WORK
        )
        assert 0.5 * longest <= delay["value"]["max"] <= max(truth_s, import_s) + 0.05
        active = [p for p in points(dump, names.TIME) if p["attributes"][names.STATE] == "active"]
        assert active and active[0]["value"] >= truth_s
    assert sum(per_pid.values()) == planted


@pytest.mark.parametrize("how", ["run_app", "uvloop"])
def test_aiohttp_server(tmp_path: Path, how: str) -> None:
    flags = {"run_app": [], "uvloop": ["--uvloop"]}[how]
    with serve(["aiohttp_app.py", "--port", "{port}", *flags], tmp_path, how) as server:
        server.drive(planted=["/sleep"] * 3, fast=400, concurrency=8)
        check_planted_sleeps(server, 3)


def test_uvicorn_workers(tmp_path: Path) -> None:
    """Each worker process is watched and reports its own loop."""
    target = ["-m", "uvicorn", "starlette_app:app", "--port", "{port}", "--workers", "2"]
    with serve(target, tmp_path, "uvicorn") as server:
        server.drive(planted=["/sleep"] * 4, planted_concurrency=2, fast=400, concurrency=8)
        check_planted_sleeps(server, 4)
        assert len(dumps(server)) >= 2  # both workers wrote their metrics
