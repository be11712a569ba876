"""Safe to leave on: bounded cardinality, nothing raised into the program, everything undone,
fork-safe."""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import time
from typing import Any

import pytest

from asynccheck.otel import EventLoopInstrumentor, names
from asynccheck.otel.cardinality import BoundedAttributes
from asynccheck.runtime.report import BlockingCall, SlowCallback
from asynccheck.runtime.sites import Site

from .conftest import Metrics, instrument


def test_cardinality_is_bounded_and_nothing_is_dropped() -> None:
    """130 distinct sites (fed straight to the recorder: timing is tested elsewhere)."""
    instrumentor, metrics = instrument(cardinality_limit=100)
    recorder = instrumentor.recorder
    assert recorder is not None
    try:
        for i in range(130):
            site = Site(f"/srv/app/module_{i}.py", i + 1, f"handler_{i}")
            recorder.add_slow(
                SlowCallback(
                    duration_ms=120.0,
                    callback="<Handle>",
                    task=None,
                    coroutine=None,
                    location=site,
                    stack=(site,),
                )
            )
            recorder.add_blocking(
                BlockingCall(
                    call="time.sleep", duration_ms=110.0, task=None, location=site, stack=(site,)
                )
            )
    finally:
        instrumentor.uninstrument()
    got = metrics.collect()
    for metric in (names.SLOW_CALLBACKS, names.BLOCKING_CALLS):
        counts = got.of(metric)
        assert len(counts) == 100
        assert sum(p.value for p in counts) == 130
        [other] = got.of(metric, {names.FUNCTION: names.OTHER})
        assert other.value == 31 and other.attributes == {names.FUNCTION: names.OTHER}
    spent = got.of(names.SLOW_CALLBACK_TIME)
    assert len(spent) == 100 and sum(p.value for p in spent) == pytest.approx(130 * 0.12)


def test_bounded_attributes_make_each_set_once() -> None:
    sets = BoundedAttributes(limit=3)
    first = sets.get("a", lambda: {"x": 1})
    assert sets.get("a", lambda: {"x": 2}) is first
    sets.get("b", lambda: {"x": 3})
    assert sets.get("c", lambda: {"x": 4}) == {names.FUNCTION: names.OTHER}
    assert len(sets) == 2
    with pytest.raises(ValueError):
        BoundedAttributes(limit=0)


class _BrokenInstrument:
    def add(self, *args: Any, **kwargs: Any) -> None:
        raise RuntimeError("exporter is down")

    record = add


class _BrokenMeter:
    def create_counter(self, *args: Any, **kwargs: Any) -> _BrokenInstrument:
        return _BrokenInstrument()

    create_histogram = create_counter

    def create_observable_counter(self, *args: Any, **kwargs: Any) -> None:
        return None

    create_observable_gauge = create_observable_counter


class _BrokenProvider:
    def get_meter(self, *args: Any, **kwargs: Any) -> _BrokenMeter:
        return _BrokenMeter()


def test_a_broken_meter_provider_never_reaches_the_program(
    caplog: pytest.LogCaptureFixture,
) -> None:
    instrumentor = EventLoopInstrumentor()
    instrumentor.instrument(meter_provider=_BrokenProvider(), slow_callback_ms=20)

    async def main() -> str:
        for _ in range(3):
            time.sleep(0.03)
            await asyncio.sleep(0.03)
        return "done"

    try:
        with caplog.at_level(logging.WARNING, logger="asynccheck.otel"):
            assert asyncio.run(main()) == "done"
    finally:
        instrumentor.uninstrument()
    failures = [r for r in caplog.records if "failed; ignoring it" in r.getMessage()]
    # each kind of failure once, not once per slow callback or tick
    assert failures
    assert len({r.getMessage() for r in failures}) == len(failures)


def test_a_meter_provider_that_cannot_make_a_meter_leaves_the_program_alone(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class NoMeters:
        def get_meter(self, *args: Any, **kwargs: Any) -> Any:
            raise RuntimeError("misconfigured")

    instrumentor = EventLoopInstrumentor()
    with caplog.at_level(logging.WARNING, logger="asynccheck.otel"):
        instrumentor.instrument(meter_provider=NoMeters())
    try:
        assert instrumentor.recorder is None
        assert asyncio.run(asyncio.sleep(0, "still runs")) == "still runs"
    finally:
        instrumentor.uninstrument()
    assert any("creating the event-loop instruments" in r.getMessage() for r in caplog.records)
    with pytest.raises(ValueError):  # a wrong argument, though, is the caller's to see
        EventLoopInstrumentor().instrument(slow_callback_ms=-1)
    EventLoopInstrumentor().uninstrument()


def test_a_failing_observable_callback_yields_nothing(caplog: pytest.LogCaptureFixture) -> None:
    from asynccheck.otel.safe import guarded

    def observe(options: Any) -> Any:
        raise ZeroDivisionError
        yield  # pragma: no cover

    with caplog.at_level(logging.WARNING, logger="asynccheck.otel"):
        assert guarded("observing something odd", observe)(None) == []
        assert guarded("observing something odd", observe)(None) == []
    assert len([r for r in caplog.records if "observing something odd" in r.getMessage()]) == 1


def test_uninstrument_restores_everything(metrics: Metrics) -> None:
    loop_class_methods = {
        name: asyncio.BaseEventLoop.__dict__[name] for name in ("run_forever", "close")
    }
    assert loop_class_methods["run_forever"].__qualname__.startswith("_run_forever")
    EventLoopInstrumentor().uninstrument()
    assert asyncio.BaseEventLoop.run_forever.__qualname__ == "BaseEventLoop.run_forever"

    async def main() -> None:
        time.sleep(0.08)
        await asyncio.sleep(0)

    asyncio.run(main())
    assert metrics.collect().of(names.SLOW_CALLBACKS) == []
    EventLoopInstrumentor().instrument(meter_provider=None)  # for the fixture's uninstrument


def test_uninstrument_from_another_thread_leaves_a_running_loop_plain() -> None:
    instrumentor, metrics = instrument()
    loop = asyncio.new_event_loop()

    async def main() -> type:
        await asyncio.sleep(0.05)
        await loop.run_in_executor(None, instrumentor.uninstrument)
        await asyncio.sleep(0.05)  # the detach runs on this thread, between callbacks
        time.sleep(0.08)  # no longer watched
        await asyncio.sleep(0)
        return type(loop._ready)  # type: ignore[attr-defined]

    try:
        assert loop.run_until_complete(main()).__name__ == "deque"
    finally:
        loop.close()
    assert metrics.collect().of(names.SLOW_CALLBACKS) == []


def _child(conn: Any) -> None:
    async def main() -> None:
        await asyncio.sleep(0.03)
        time.sleep(0.1)
        await asyncio.sleep(0.03)

    asyncio.run(main())
    recorder = EventLoopInstrumentor().recorder
    conn.send(recorder is not None and recorder._slow_sets and len(recorder._slow_sets))
    conn.close()


def test_a_forked_worker_is_watched_and_the_parent_is_unharmed(metrics: Metrics) -> None:
    if "fork" not in multiprocessing.get_all_start_methods():
        pytest.skip("no fork here")
    ctx = multiprocessing.get_context("fork")
    parent_end, child_end = ctx.Pipe()
    workers = [ctx.Process(target=_child, args=(child_end,)) for _ in range(3)]
    for w in workers:
        w.start()
    results = [parent_end.recv() for _ in workers]
    for w in workers:
        w.join(20)
        assert w.exitcode == 0
    assert results == [1, 1, 1]  # each child counted its own slow callback
    assert metrics.collect().of(names.SLOW_CALLBACKS) == []  # none of them in the parent


def test_a_monitor_inside_takes_the_events_and_metrics_resume_after(metrics: Metrics) -> None:
    """`asynccheck profile` of a service that has the instrumentor on: the report is whole."""
    from asynccheck.runtime.install import monitor

    async def main() -> None:
        await asyncio.sleep(0.01)
        time.sleep(0.08)
        await asyncio.sleep(0.01)

    with monitor(log=False, slow_callback_ms=50) as mon:
        asyncio.run(main())
    assert len(mon.report().slow_callbacks) == 1
    assert metrics.collect().of(names.SLOW_CALLBACKS) == []
    asyncio.run(main())
    [count] = metrics.collect().of(names.SLOW_CALLBACKS)
    assert count.value == 1


def test_settings_from_arguments_then_the_environment() -> None:
    from asynccheck.otel.instrumentor import options_from

    environ = {
        "ASYNCCHECK_SLOW_CALLBACK_MS": "250",
        "ASYNCCHECK_DELAY_RESOLUTION_MS": "50",
        "ASYNCCHECK_DETECT_BLOCKING": "off",
        "ASYNCCHECK_SPAN_EVENTS": "1",
    }
    options = options_from({"slow_callback_ms": 80}, environ)
    assert options.slow_callback_ms == 80  # the argument wins
    assert options.delay_resolution_s == 0.05
    assert (options.detect_blocking, options.span_events, options.log_records) == (
        False,
        True,
        False,
    )
    # a bad value in the environment must not stop the application: default, and a warning
    assert options_from({}, {"ASYNCCHECK_SLOW_CALLBACK_MS": "fast"}).slow_callback_ms == 100
    with pytest.raises(ValueError):
        options_from({"delay_resolution_s": 0}, {})
