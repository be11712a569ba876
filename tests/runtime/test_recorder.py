"""The recorder aggregates as it goes: a service profiled for hours keeps flat memory, every
slow callback still counts in its hotspot, and no spike leaves the timeline."""

from __future__ import annotations

from asynccheck.runtime.recorder import MAX_LAG_POINTS, MAX_SLOW_KEPT, Recorder, Settings
from asynccheck.runtime.report import CallbackGroup, LagPoint, SlowCallback, Stall
from asynccheck.runtime.sites import Site

SITES = [Site("/srv/app.py", line, f"handler{line}") for line in (10, 20, 30)]


def slow(i: int) -> SlowCallback:
    site = SITES[i % 3]
    return SlowCallback(
        duration_ms=100.0 + (i % 97),
        callback="<Handle Task.__step()>",
        task=f"Task-{i}",
        coroutine=site.function,
        location=site,
        stack=(site,),
        request=f"GET /{site.function}",
    )


def test_every_slow_callback_counts_but_only_the_longest_are_kept_whole() -> None:
    recorder = Recorder(Settings(log=False))
    for i in range(10_000):
        recorder.add_slow(slow(i))
    report = recorder.report()
    assert report.slow_callbacks_seen == 10_000
    assert len(report.slow_callbacks) == MAX_SLOW_KEPT
    assert report.slow_callbacks[0].duration_ms == 196.0  # the longest survive
    assert sum(h.count for h in report.hotspots) == 10_000
    assert {h.location for h in report.hotspots} == set(SITES)
    totals = {h.location: h.total_ms for h in report.hotspots}
    expected = {site: 0.0 for site in SITES}
    for i in range(10_000):
        expected[SITES[i % 3]] += 100.0 + (i % 97)
    assert totals == expected
    assert [h.total_ms for h in report.hotspots] == sorted(totals.values(), reverse=True)
    top = report.hotspots[0]
    assert top.example.endswith(f"serving GET /{top.location.function}")


def test_a_long_timeline_keeps_its_spikes_at_a_lower_resolution() -> None:
    recorder = Recorder(Settings(log=False))
    n = MAX_LAG_POINTS * 5
    for i in range(n):
        recorder.add_lag(LagPoint(i * 0.01, 500.0 if i == n // 3 else 5.0))
    lag = recorder.report().loop_lag
    assert len(lag) < MAX_LAG_POINTS
    assert max(p.duration_ms for p in lag) == 500.0
    assert lag[0].at_s == 0.0 and lag[-1].at_s >= (n - 2) * 0.01


def test_stalls_keep_the_longest() -> None:
    recorder = Recorder(Settings(log=False))
    group = CallbackGroup(SITES[0], "<Handle tick()>", None, 20, 600.0, 30.0)
    for i in range(1_000):
        recorder.add_stall(Stall(100.0 + i, i * 1.0, (group,)))
    stalls = recorder.report().stalls
    assert len(stalls) <= 200
    assert stalls[0].duration_ms == 1099.0


def test_a_forked_child_starts_empty() -> None:
    recorder = Recorder(Settings(log=False))
    recorder.add_slow(slow(1))
    recorder.add_note("something")
    recorder.reset_after_fork()
    report = recorder.report()
    assert report.slow_callbacks == () and report.hotspots == () and report.notes == ()
