"""Slow callbacks are attributed to the right task, coroutine, file and line."""

from __future__ import annotations

import asyncio
import collections
import os
import time

import pytest

from asynccheck.runtime.loop import TimingEventLoop
from asynccheck.runtime.recorder import Recorder

from .conftest import line_of, needs_312, run_monitored

THIS = os.path.abspath(__file__)


def spin(seconds: float) -> int:
    n = 0
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        n += 1
    return n


async def sleeper() -> None:
    time.sleep(0.2)


async def burner() -> None:
    spin(0.2)


def test_time_sleep_is_attributed_to_its_task_and_line() -> None:
    async def main() -> None:
        await asyncio.create_task(sleeper(), name="sleepy")

    report = run_monitored(main)
    [cb] = report.slow_callbacks
    assert 180 <= cb.duration_ms < 400
    assert cb.task == "sleepy"
    assert cb.coroutine == "sleeper"
    assert (cb.location.file, cb.location.line) == (THIS, line_of(sleeper, "time.sleep"))
    assert cb.location.function == "sleeper"
    assert cb.blocking_call == "time.sleep"
    assert cb.task_created_at is not None
    assert cb.task_created_at.line == line_of(main, "create_task")
    assert cb.samples >= 1


def test_cpu_bound_loop_is_attributed_to_the_innermost_user_frame() -> None:
    async def main() -> None:
        await asyncio.create_task(burner(), name="burner")

    report = run_monitored(main)
    [cb] = report.slow_callbacks
    assert cb.task == "burner" and cb.coroutine == "burner"
    assert cb.location.function == "spin"
    assert line_of(spin, "n = 0") < cb.location.line <= line_of(spin, "n += 1")
    assert [s.function for s in cb.stack][-2:] == ["burner", "spin"]
    assert cb.blocking_call is None


def test_fast_callbacks_are_not_reported() -> None:
    async def main() -> None:
        for _ in range(50):
            await asyncio.sleep(0)
        spin(0.02)

    report = run_monitored(main)
    assert report.slow_callbacks == ()
    assert report.loops == 1


def test_two_slow_callbacks_in_one_iteration_are_split() -> None:
    async def a() -> None:
        time.sleep(0.15)

    async def b() -> None:
        spin(0.25)

    async def main() -> None:
        await asyncio.gather(asyncio.create_task(a(), name="A"), asyncio.create_task(b(), name="B"))

    report = run_monitored(main)
    by_task = {cb.task: cb for cb in report.slow_callbacks}
    assert set(by_task) == {"A", "B"}
    assert report.slow_callbacks[0].task == "B"  # longest first
    assert 120 <= by_task["A"].duration_ms <= 200
    assert 220 <= by_task["B"].duration_ms <= 330


def test_call_later_handle_without_a_task() -> None:
    def tick() -> None:
        spin(0.15)

    async def main() -> None:
        asyncio.get_running_loop().call_later(0.01, tick)
        await asyncio.sleep(0.3)

    [cb] = run_monitored(main).slow_callbacks
    assert cb.task is None and cb.coroutine is None
    assert cb.callback.startswith("<TimerHandle") and "tick" in cb.callback
    assert cb.location.function == "spin"
    assert cb.stack[0].function == "tick"


class SlowEcho(asyncio.Protocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        time.sleep(0.15)
        self.transport.write(data)  # type: ignore[attr-defined]


def test_protocol_data_received_over_a_real_socket() -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(SlowEcho, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"ping")
        assert await reader.readexactly(4) == b"ping"
        writer.close()
        await writer.wait_closed()
        server.close()
        await server.wait_closed()

    [cb] = run_monitored(main).slow_callbacks
    assert cb.task is None
    assert "_read_ready" in cb.callback and "SlowEcho" in cb.callback
    assert cb.location.function == "data_received"
    assert cb.location.line == line_of(SlowEcho.data_received, "time.sleep")
    assert cb.blocking_call == "time.sleep"


@needs_312
def test_eager_task_is_attributed_to_itself() -> None:
    async def eager_work() -> None:
        spin(0.15)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        loop.set_task_factory(asyncio.eager_task_factory)  # type: ignore[attr-defined]
        task = asyncio.create_task(eager_work(), name="eager-one")
        await task

    [cb] = run_monitored(main).slow_callbacks
    assert cb.task == "eager-one"
    assert cb.coroutine.endswith("eager_work")
    assert cb.location.function == "spin"


def test_threshold_is_configurable_per_loop() -> None:
    async def main() -> None:
        spin(0.2)  # long enough to be sampled even on a loaded machine

    loop = TimingEventLoop(slow_callback_ms=30)
    try:
        loop.run_until_complete(main())
    finally:
        loop.close()
    report = loop.report()
    assert any(cb.location.function == "spin" for cb in report.slow_callbacks)


def test_a_timing_loop_run_many_times_is_instrumented_once_and_times_each_run() -> None:
    """A TimingEventLoop keeps its hooks between runs (asyncio.run runs its loop three times):
    they are put on once, and every run's slow callbacks are split and timed alike."""

    async def pair() -> None:
        await asyncio.gather(asyncio.create_task(burner(), name="B"), sleeper())

    loop = TimingEventLoop(recorder=Recorder(), slow_callback_ms=50)
    try:
        for _ in range(3):
            loop.run_until_complete(pair())
            select, depth = loop._selector.select, 0  # type: ignore[attr-defined]
            while hasattr(select, "__wrapped__"):
                select, depth = select.__wrapped__, depth + 1
            assert depth == 1
            assert type(loop._ready) is collections.deque  # type: ignore[attr-defined]
    finally:
        loop.close()
    durations = sorted(cb.duration_ms for cb in loop.report().slow_callbacks)
    assert len(durations) == 6, durations
    assert all(170 <= d <= 280 for d in durations), durations


def test_long_bursts_put_their_stand_in_queue_back_and_lose_no_handle() -> None:
    """During a long burst the loop's ready deque is read through `TimedReady`; handles added
    meanwhile, through the loop or straight to the deque fetched before, all run."""
    ran: list[int] = []

    async def main() -> None:
        loop = asyncio.get_running_loop()
        queue = loop._ready  # type: ignore[attr-defined]
        for i in range(200):
            loop.call_soon(ran.append, i)
        spin(0.08)  # the watchdog switches per-callback timing on meanwhile
        assert type(loop._ready).__name__ == "TimedReady"  # type: ignore[attr-defined]
        loop.call_soon(ran.append, 200)
        queue.append(asyncio.Handle(ran.append, (201,), loop))
        await asyncio.sleep(0)  # the next burst, a crowd after a long one: timed from its start
        await asyncio.sleep(0)  # and a short one after it: not timed
        assert len(ran) == 202
        assert type(loop._ready) is collections.deque  # type: ignore[attr-defined]
        assert loop._ready is queue  # type: ignore[attr-defined]

    run_monitored(main, slow_callback_ms=50)
    assert ran == list(range(202))


def test_loop_lag_points_cover_the_slow_iteration() -> None:
    async def main() -> None:
        await asyncio.create_task(sleeper(), name="sleepy")

    report = run_monitored(main)
    [cb] = report.slow_callbacks
    assert any(
        abs(p.at_s - cb.at_s) < 0.05 and p.duration_ms >= cb.duration_ms - 1
        for p in report.loop_lag
    )
    assert 0 <= cb.at_s <= report.wall_s


def test_a_burst_the_watchdog_never_split_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    """A machine so short of CPU that the watchdog thread never ran during a long burst: the
    burst is one untimed stall, and the report says its callbacks were not timed one by one
    (never that they were each short)."""
    from asynccheck.runtime.watchdog import Watchdog

    monkeypatch.setattr(Watchdog, "add", lambda self, probe: None)
    monkeypatch.setattr(Watchdog, "remove", lambda self, probe: None)

    async def main() -> None:
        await asyncio.sleep(0.01)
        time.sleep(0.15)
        await asyncio.sleep(0.01)

    report = run_monitored(main, detect_blocking=False)
    assert report.slow_callbacks == ()
    [stall] = report.stalls
    assert 140 <= stall.duration_ms <= 200
    [group] = stall.callbacks
    assert group.callback == "<untimed callbacks>"
    assert "not timed one by one" in group.location.function
    assert group.total_ms == pytest.approx(stall.duration_ms, abs=2)


def test_an_idle_loop_parks_the_watchdog_and_its_next_burst_is_still_split(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """While the loop waits for I/O the watchdog sleeps (an idle service costs nothing); the
    select() that returns wakes it, in time to split the next long burst."""
    from asynccheck.runtime import watchdog

    looks: list[float] = []
    real_look = watchdog.look

    def counting_look(probe: object, now: float, late: float) -> float:
        looks.append(now)
        return real_look(probe, now, late)  # type: ignore[arg-type]

    monkeypatch.setattr(watchdog, "look", counting_look)
    idle: list[float] = []

    async def a() -> None:
        time.sleep(0.15)

    async def b() -> None:
        spin(0.25)

    async def main() -> None:
        await asyncio.sleep(0.05)
        start = time.perf_counter()
        await asyncio.sleep(0.5)  # idle: polling every flip_after (10 ms) would be ~50 looks
        idle.extend([start, time.perf_counter()])
        await asyncio.gather(asyncio.create_task(a(), name="A"), asyncio.create_task(b(), name="B"))

    report = run_monitored(main)
    assert len([t for t in looks if idle[0] + 0.05 <= t <= idle[1] - 0.01]) <= 3
    by_task = {cb.task: cb for cb in report.slow_callbacks}
    assert 120 <= by_task["A"].duration_ms <= 200
    assert 220 <= by_task["B"].duration_ms <= 330
