"""The ways to put the timing loop under a program: Runner, loop_factory, monitor(), policy."""

from __future__ import annotations

import asyncio
import collections
import sys
import threading
import time
import warnings

import pytest

import asynccheck
from asynccheck.runtime.install import monitor
from asynccheck.runtime.loop import TimingEventLoop

from .conftest import line_of


async def blocked() -> str:
    time.sleep(0.15)
    return type(asyncio.get_running_loop()).__name__


def test_public_names_are_exported() -> None:
    assert asynccheck.TimingEventLoop is TimingEventLoop
    assert asynccheck.monitor is monitor
    assert callable(asynccheck.loop_factory)
    assert asynccheck.Report.__name__ == "Report"


@pytest.mark.skipif(sys.version_info < (3, 11), reason="asyncio.Runner is 3.11+")
def test_runner_with_loop_factory_records_into_the_active_monitor() -> None:
    with monitor(log=False) as mon, asyncio.Runner(loop_factory=asynccheck.loop_factory) as runner:
        assert runner.run(blocked()) == "TimingEventLoop"
    [cb] = mon.report().slow_callbacks
    assert cb.location.line == line_of(blocked, "time.sleep")


@pytest.mark.skipif(sys.version_info < (3, 12), reason="asyncio.run(loop_factory=) is 3.12+")
def test_asyncio_run_with_loop_factory() -> None:
    with monitor(log=False) as mon:
        assert asyncio.run(blocked(), loop_factory=asynccheck.loop_factory) == "TimingEventLoop"
    assert len(mon.report().slow_callbacks) == 1


def test_loop_factory_without_monitor_logs_the_slow_callback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    loop = asynccheck.loop_factory()
    try:
        with caplog.at_level("WARNING", logger="asynccheck"):
            assert loop.run_until_complete(blocked()) == "TimingEventLoop"
    finally:
        loop.close()
    [record] = [r for r in caplog.records if r.name == "asynccheck"]
    assert "(blocked) held the event loop for" in record.getMessage()
    assert not record.getMessage().startswith("asynccheck")  # the logger's name says it once
    assert f"test_install.py:{line_of(blocked, 'time.sleep')}" in record.getMessage()


def test_monitor_observes_loops_it_did_not_make_and_then_restores_them() -> None:
    before = {n: asyncio.BaseEventLoop.__dict__[n] for n in ("run_forever", "create_task", "close")}
    with monitor(log=False) as mon:
        asyncio.run(blocked())
        loop = asyncio.new_event_loop()  # made, never run
        loop.close()
        by_class = asyncio.SelectorEventLoop()  # a class as the factory (uvicorn, loop="asyncio")
        by_class.run_until_complete(blocked())
        assert isinstance(by_class._ready, collections.deque)
        by_class.close()
    after = {n: asyncio.BaseEventLoop.__dict__[n] for n in ("run_forever", "create_task", "close")}
    assert after == before
    assert type(by_class._ready) is collections.deque  # left as it was once it stopped
    report = mon.report()
    assert len(report.slow_callbacks) == 2
    assert report.loops == 2  # loops that ran: the second one never did


def test_a_loop_in_another_thread_is_observed_with_its_thread_name() -> None:
    def serve() -> None:
        asyncio.run(blocked())

    with monitor(log=False) as mon:
        worker = threading.Thread(target=serve, name="side-loop")
        worker.start()
        worker.join()
    [cb] = mon.report().slow_callbacks
    assert cb.thread == "side-loop"
    assert cb.location.line == line_of(blocked, "time.sleep")


def test_nested_monitors_each_see_their_own_runs() -> None:
    with monitor(log=False) as outer:
        with monitor(log=False) as inner:
            asyncio.run(blocked())
        asyncio.run(blocked())
    assert len(inner.report().slow_callbacks) == 1
    assert len(outer.report().slow_callbacks) == 1


@pytest.mark.skipif(sys.version_info >= (3, 14), reason="policies are deprecated from 3.14")
def test_policy_on_313_and_older_warns_nothing() -> None:
    from asynccheck.runtime import install

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        policy_cls = install.TimingEventLoopPolicy
        old = asyncio.get_event_loop_policy()
        asyncio.set_event_loop_policy(policy_cls())
        try:
            with monitor(log=False) as mon:
                pass  # the policy alone, without monitor's patching, must do the work
            loop = asyncio.new_event_loop()
            assert isinstance(loop, TimingEventLoop)
            loop.close()
        finally:
            asyncio.set_event_loop_policy(old)
    assert mon.report().loops == 0


def test_uvloop_as_the_base_loop() -> None:
    pytest.importorskip("uvloop")

    async def main() -> str:
        await asyncio.sleep(0.05)
        return await asyncio.create_task(blocked(), name="on-uv")

    with monitor(log=False, use_uvloop=True) as mon:
        name = asyncio.run(main())
    assert name == "Loop"
    [cb] = mon.report().slow_callbacks
    assert cb.task == "on-uv"
    assert cb.location.line == line_of(blocked, "time.sleep")
    assert cb.duration_ms >= 100


def test_uvloop_run_is_observed_without_asking() -> None:
    uvloop = pytest.importorskip("uvloop")

    async def main() -> str:
        await asyncio.sleep(0.05)
        return await asyncio.create_task(blocked(), name="on-uv")

    with monitor(log=False) as mon:
        name = uvloop.run(main())
    assert name == "Loop"
    [cb] = mon.report().slow_callbacks
    assert cb.task == "on-uv"
    assert cb.location.line == line_of(blocked, "time.sleep")
    assert cb.duration_ms >= 100
