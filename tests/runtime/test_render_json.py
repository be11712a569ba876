"""The JSON report of the new runtime data (stalls, hotspots, who and where per callback), and the
synthetic reports the renderer tests share: built as values, no loop is run."""

from __future__ import annotations

import json
import random
from pathlib import Path

import jsonschema
import pytest

from asynccheck.runtime.render import render
from asynccheck.runtime.report import (
    BlockingCall,
    CallbackGroup,
    Hotspot,
    LagPoint,
    Leak,
    Report,
    Site,
    SlowCallback,
    Stall,
)

SCHEMA = json.loads((Path(__file__).parent / "report.schema.json").read_text())


def site(i: int) -> Site:
    return Site(f"/srv/app/handlers/h{i}.py", 10 + i, f"handler_{i}")


def slow(where: Site, duration_ms: float, at_s: float = 0.0, **fields: object) -> SlowCallback:
    main = Site("/srv/app/main.py", 3, "main")
    return SlowCallback(
        duration_ms=duration_ms,
        callback="<Handle Task.__step()>",
        task=fields.pop("task", f"Task-{int(at_s * 1000)}"),  # type: ignore[arg-type]
        coroutine=fields.pop("coroutine", where.function),  # type: ignore[arg-type]
        location=where,
        stack=(main, where),
        at_s=at_s,
        **fields,  # type: ignore[arg-type]
    )


def hotspots(callbacks: list[SlowCallback]) -> tuple[Hotspot, ...]:
    """What the recorder makes of these callbacks: grouped by location, ranked by total."""
    groups: dict[Site, list[SlowCallback]] = {}
    for cb in callbacks:
        groups.setdefault(cb.location, []).append(cb)
    spots = []
    for where, members in groups.items():
        longest = max(members, key=lambda c: c.duration_ms)
        spots.append(
            Hotspot(
                where,
                len(members),
                sum(c.duration_ms for c in members),
                longest.duration_ms,
                longest.blocking_call,
                f"task {longest.task!r} {longest.coroutine}()",
            )
        )
    return tuple(sorted(spots, key=Hotspot.sort_key))


def report_of(callbacks: list[SlowCallback], **fields: object) -> Report:
    kept = tuple(sorted(callbacks, key=SlowCallback.sort_key))
    values: dict[str, object] = {
        "argv": ("app.py",),
        "wall_s": 60.0,
        "loops": 1,
        "slow_callbacks": kept,
        "hotspots": hotspots(callbacks),
        "slow_callbacks_seen": len(kept),
        "processes": (812,),
    }
    values.update(fields)
    return Report(**values)  # type: ignore[arg-type]


def stall(duration_ms: float, start_s: float, *groups: CallbackGroup, pid: int = 812) -> Stall:
    return Stall(duration_ms, start_s, groups, pid=pid)


def group(where: Site, count: int, total_ms: float, max_ms: float) -> CallbackGroup:
    return CallbackGroup(where, f"<Handle {where.function}()>", None, count, total_ms, max_ms)


def service_report(sites: int = 3, callbacks: int = 1200, lag_points: int = 20_000) -> Report:
    """A service under load: `callbacks` slow callbacks over `sites` sites (a few of them
    carry most of the time), `lag_points` long loop iterations, a few stalls, no profile."""
    rnd = random.Random(9)
    cbs = [
        slow(
            site(min(int(rnd.expovariate(0.25)), sites - 1) if i >= sites else i),
            round(100 + rnd.random() * 250, 3),
            round(rnd.random() * 60, 6),
            task=f"Task-{i}",
            request=f"GET /orders/{i}",
            blocking_call="time.sleep" if i % 3 == 0 else None,
            pid=812,
        )
        for i in range(callbacks)
    ]
    lag = tuple(
        LagPoint(round(i * 60 / lag_points, 6), round(rnd.expovariate(1 / 8), 3))
        for i in range(lag_points)
    )
    stalls = tuple(
        stall(150.0 + k, 10.0 * k, group(site(0), 20, 120.0, 8.0), group(site(1), 3, 30.0, 12.0))
        for k in range(4)
    )
    return report_of(cbs, loop_lag=lag, stalls=stalls[::-1])


def full_report() -> Report:
    """Every field of every new record set to something other than its default."""
    a, b = site(1), site(2)
    cbs = [
        slow(
            a,
            251.25,
            1.5,
            blocking_call="time.sleep",
            task_created_at=Site("/srv/app/main.py", 30, "main"),
            samples=12,
            thread="worker-1",
            pid=815,
            request="GET /orders",
            gil_held_ms=40.125,
        ),
        slow(b, 120.0, 2.25, task=None, coroutine=None, pid=812),
    ]
    return report_of(
        cbs,
        exit_code=3,
        threshold_ms=100.0,
        blocking_calls=(BlockingCall("time.sleep", 250.5, "Task-1", a, (a,), 2, 1.5, False, 815),),
        leaks=(
            Leak("task", "Task-9 poll()", b, 812),
            Leak("resource", "unclosed socket", None, 815),
        ),
        loop_lag=(LagPoint(1.5, 260.0, "Task-1"), LagPoint(2.25, 125.0)),
        loops=2,
        stalls=(
            Stall(180.5, 3.0, (group(a, 20, 150.0, 9.5), group(b, 2, 30.5, 16.0)), "worker-1", 815),
        ),
        slow_callbacks_seen=7,
        processes=(812, 815),
        notes=("1 loop ran in a thread started before monitoring",),
        profile_html="profile.html",
    )


def test_json_round_trips_every_new_field() -> None:
    report = full_report()
    data = json.loads(render(report, "json"))
    assert Report.from_json(data) == report
    assert Report.from_json(report.to_json()) == report
    assert data["slow_callbacks"][0]["request"] == "GET /orders"
    assert data["stalls"][0]["callbacks"][0]["count"] == 20
    assert data["processes"] == [812, 815] and data["slow_callbacks_seen"] == 7


def test_json_of_the_new_keys_matches_the_schema() -> None:
    data = full_report().to_json()
    jsonschema.validate(data, SCHEMA)
    assert {"stalls", "hotspots", "slow_callbacks_seen", "processes", "notes"} <= set(
        SCHEMA["properties"]
    )
    for record, key in [("slow_callbacks", "gil_held_ms"), ("blocking_calls", "pid")]:
        assert key in data[record][0]


@pytest.mark.parametrize(
    ("path", "bad"),
    [
        (("stalls", 0, "callbacks", 0, "count"), "20"),
        (("hotspots", 0, "total_ms"), None),
        (("slow_callbacks", 0, "pid"), -1),
        (("slow_callbacks", 0, "request"), 7),
        (("leaks", 0, "pid"), "812"),
        (("notes",), "one note"),
    ],
)
def test_the_schema_describes_the_new_keys(path: tuple[object, ...], bad: object) -> None:
    data = full_report().to_json()
    target = data
    for step in path[:-1]:
        target = target[step]  # type: ignore[index]
    target[path[-1]] = bad  # type: ignore[index]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, SCHEMA)


def test_a_report_from_before_the_new_keys_still_loads_and_renders() -> None:
    old = full_report().to_json()
    for key in ("stalls", "hotspots", "slow_callbacks_seen", "processes", "notes"):
        del old[key]
    report = Report.from_json(old)
    assert report.hotspots == () and len(report.slow_callbacks) == 2
    text = render(report, "text", profile_tree=False)
    assert "Hotspots: where the time went, by total (2 sites)" in text  # grouped by the renderer
