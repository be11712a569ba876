"""Each metric against a truth planted and measured in the test, on real loops."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from asynccheck.otel import names

from .conftest import Metrics, instrument


def hold_loop(seconds: float) -> None:
    time.sleep(seconds)


def spin(seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


async def main_with_one_hog() -> float:
    await asyncio.sleep(0.05)
    start = time.perf_counter()
    hold_loop(0.2)
    held = time.perf_counter() - start
    await asyncio.sleep(0.1)
    return held


def test_slow_callback_counted_where_the_time_went(metrics: Metrics) -> None:
    asyncio.run(main_with_one_hog())
    got = metrics.collect()
    [count] = got.of(names.SLOW_CALLBACKS)
    assert count.value == 1
    assert count.attributes[names.FUNCTION] == "hold_loop"
    assert count.attributes[names.FILE] == __file__
    assert count.attributes[names.LINE] == hold_loop.__code__.co_firstlineno + 1
    assert names.THREAD not in count.attributes  # the main thread's loop
    [spent] = got.of(names.SLOW_CALLBACK_TIME)
    assert 0.19 <= spent.value <= 0.26


def test_blocking_call_named_with_its_caller(metrics: Metrics) -> None:
    asyncio.run(main_with_one_hog())
    got = metrics.collect()
    [count] = got.of(names.BLOCKING_CALLS, {names.BLOCKING_CALL: "time.sleep"})
    assert count.value == 1
    assert count.attributes[names.FUNCTION] == "hold_loop"
    [spent] = got.of(names.BLOCKING_CALL_TIME)
    assert 0.19 <= spent.value <= 0.25


def test_delay_shows_how_long_ready_work_waited(metrics: Metrics) -> None:
    held = asyncio.run(main_with_one_hog())
    got = metrics.collect()
    [delay] = got.of(names.DELAY)
    histogram = delay.value
    assert histogram.count >= 5  # a tick every 20 ms while the loop was free
    assert held - 0.03 <= histogram.max <= held + 0.01  # the tick due during the hold
    assert histogram.min < 0.005  # and the free loop ran its timers on time
    assert list(histogram.explicit_bounds) == list(names.DELAY_BUCKETS)


def test_active_idle_and_utilization_match_a_planted_duty_cycle(metrics: Metrics) -> None:
    async def main() -> tuple[float, float]:
        busy = 0.0
        start = time.perf_counter()
        for _ in range(10):  # 10 x (30 ms busy, 30 ms waiting)
            t = time.perf_counter()
            spin(0.03)
            busy += time.perf_counter() - t
            await asyncio.sleep(0.03)
        return busy, time.perf_counter() - start

    busy, wall = asyncio.run(main())
    got = metrics.collect()
    [active] = got.of(names.TIME, {names.STATE: "active"})
    [idle] = got.of(names.TIME, {names.STATE: "idle"})
    assert busy <= active.value <= busy + 0.05
    assert active.value + idle.value == pytest.approx(wall, abs=0.05)
    [utilization] = got.of(names.UTILIZATION)
    assert utilization.value == pytest.approx(busy / wall, abs=0.08)
    # collected again with no loop running: the counters stay, the gauge has nothing new
    again = metrics.collect()
    assert again.of(names.TIME, {names.STATE: "active"})[0].value == active.value
    assert again.of(names.UTILIZATION) == []


def test_uvloop() -> None:
    uvloop = pytest.importorskip("uvloop")
    instrumentor, metrics = instrument()
    try:
        held = uvloop.run(main_with_one_hog())
    finally:
        instrumentor.uninstrument()
    got = metrics.collect()
    [count] = got.of(names.SLOW_CALLBACKS)
    assert (count.value, count.attributes[names.FUNCTION]) == (1, "hold_loop")
    [delay] = got.of(names.DELAY)
    assert held - 0.03 <= delay.value.max <= held + 0.01
    [active] = got.of(names.TIME, {names.STATE: "active"})
    assert held <= active.value <= held + 0.05


def test_instrument_called_inside_a_running_loop() -> None:
    """An application's startup hook: the loop already running is watched from then on."""
    found: list[Metrics] = []
    instrumentors: list[object] = []

    async def main() -> None:
        instrumentor, metrics = instrument()
        instrumentors.append(instrumentor)
        found.append(metrics)
        await asyncio.sleep(0.05)
        hold_loop(0.15)
        await asyncio.sleep(0.05)

    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(main())
        [count] = found[0].collect().of(names.SLOW_CALLBACKS)
        assert (count.value, count.attributes[names.FUNCTION]) == (1, "hold_loop")
        assert found[0].collect().of(names.DELAY)[0].value.max >= 0.12
    finally:
        loop.close()
        instrumentors[0].uninstrument()  # type: ignore[attr-defined]
    assert type(loop._ready).__name__ == "deque"  # type: ignore[attr-defined]


def test_loop_in_a_thread_is_named(metrics: Metrics) -> None:
    thread = threading.Thread(target=asyncio.run, args=(main_with_one_hog(),), name="ingest")
    thread.start()
    thread.join(10)
    got = metrics.collect()
    [count] = got.of(names.SLOW_CALLBACKS)
    assert count.attributes[names.THREAD] == "ingest"
    assert got.of(names.TIME, {names.THREAD: "ingest", names.STATE: "active"})
    assert got.of(names.DELAY)[0].attributes == {names.THREAD: "ingest"}


def test_many_loops_leave_nothing_behind(metrics: Metrics) -> None:
    from asynccheck.otel import EventLoopInstrumentor

    for _ in range(50):
        asyncio.run(asyncio.sleep(0))
    got = metrics.collect()
    recorder = EventLoopInstrumentor().recorder
    assert recorder is not None
    assert recorder.live_probes() == []
    assert recorder.loops == 0  # not even a set of loop ids grows
    assert len(got.of(names.TIME)) == 2  # active and idle of the main thread, no more
