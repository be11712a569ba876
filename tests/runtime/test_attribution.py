"""One entry per callback: callbacks that share a loop iteration are timed on their own, time
inside C calls that hold the GIL included, and many short ones together make one stall."""

from __future__ import annotations

import asyncio
import json
import time

import pytest

from .conftest import line_of, run_monitored


def spin(seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


def within(measured_ms: float, truth_s: float) -> bool:
    """The issue's tolerance: within 15 % or 10 ms of the truth, whichever is looser."""
    truth_ms = truth_s * 1000
    return abs(measured_ms - truth_ms) <= max(0.15 * truth_ms, 10.0)


def test_twenty_short_callbacks_in_one_iteration_are_one_stall_not_one_slow_callback() -> None:
    truth: list[float] = []

    def chunk() -> None:
        t0 = time.perf_counter()
        spin(0.03)
        truth.append(time.perf_counter() - t0)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        for _ in range(20):
            loop.call_soon(chunk)
        await asyncio.sleep(0.01)

    report = run_monitored(main)
    assert report.slow_callbacks == ()  # no callback held the loop for 100 ms on its own
    [stall] = report.stalls
    assert within(stall.duration_ms, sum(truth))
    top = stall.callbacks[0]
    assert top.location.function.endswith("chunk")
    # Twenty callbacks already queued when the iteration began: each is timed from the start.
    assert top.count == 20
    assert within(top.max_ms, max(truth))


def test_callbacks_of_one_iteration_each_get_their_own_duration() -> None:
    truth: dict[str, float] = {}

    def work(name: str, seconds: float) -> None:
        t0 = time.perf_counter()
        spin(seconds)
        truth[name] = time.perf_counter() - t0

    async def main() -> None:
        loop = asyncio.get_running_loop()
        loop.call_soon(work, "first", 0.15)
        loop.call_soon(work, "second", 0.25)
        await asyncio.sleep(0.01)

    report = run_monitored(main)
    assert len(report.slow_callbacks) == 2
    second, first = report.slow_callbacks
    assert within(first.duration_ms, truth["first"]) and within(second.duration_ms, truth["second"])
    assert first.at_s < second.at_s
    assert "work" in first.callback and "work" in second.callback


BIG = [
    {"id": i, "name": f"item-{i}", "tags": ["a", "b", "c"], "v": i * 0.5} for i in range(600_000)
]


def test_a_c_call_holding_the_gil_is_charged_to_its_own_callback() -> None:
    truth: dict[str, float] = {}

    async def dump() -> None:
        t0 = time.perf_counter()
        json.dumps(BIG)  # holds the GIL: no thread can sample meanwhile
        truth["dump"] = time.perf_counter() - t0

    async def neighbour() -> None:
        t0 = time.perf_counter()
        spin(0.12)
        truth["neighbour"] = time.perf_counter() - t0

    async def main() -> None:
        await asyncio.gather(
            asyncio.create_task(neighbour(), name="neighbour"),
            asyncio.create_task(dump(), name="dump"),
        )

    report = run_monitored(main)
    if truth["dump"] < 0.1:
        pytest.skip("json.dumps was too fast on this machine to make a slow callback")
    by_task = {cb.task: cb for cb in report.slow_callbacks}
    assert set(by_task) == {"neighbour", "dump"}
    assert within(by_task["dump"].duration_ms, truth["dump"])
    assert within(by_task["neighbour"].duration_ms, truth["neighbour"])
    assert by_task["dump"].location.function == "dump"
    # The line after the C call, where the first sample lands once the GIL is free; when the
    # callback ends before any sample (seen on 3.9), the coroutine's own line.
    assert by_task["dump"].location.line in range(
        line_of(dump, "async def dump"), line_of(dump, 'truth["dump"]') + 1
    )
