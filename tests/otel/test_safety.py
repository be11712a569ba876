"""Safe to leave on: bounded cardinality, nothing raised into the program, everything undone,
fork-safe."""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import time
from pathlib import Path
from typing import Any

import pytest

from asynccheck.otel import EventLoopInstrumentor, names
from asynccheck.otel.cardinality import BoundedAttributes

from .conftest import Metrics, instrument


def _make_hogs(count: int, folder: Path) -> list[Any]:
    """`count` distinct functions (distinct sites) in a real file, each holding the loop."""
    path = folder / "hogs.py"
    path.write_text(
        "import time\n" + "".join(f"def hog_{i}():\n    time.sleep(0.012)\n" for i in range(count))
    )
    namespace: dict[str, Any] = {}
    exec(compile(path.read_text(), str(path), "exec"), namespace)
    return [namespace[f"hog_{i}"] for i in range(count)]


def test_cardinality_is_bounded_and_nothing_is_dropped(tmp_path: Path) -> None:
    hogs = _make_hogs(130, tmp_path)
    instrumentor, metrics = instrument(slow_callback_ms=10, cardinality_limit=100)

    async def main() -> None:
        for hog in hogs:
            hog()
            await asyncio.sleep(0)

    try:
        asyncio.run(main())
    finally:
        instrumentor.uninstrument()
    got = metrics.collect()
    counts = got.of(names.SLOW_CALLBACKS)
    assert len(counts) == 100
    assert sum(p.value for p in counts) == 130
    [other] = got.of(names.SLOW_CALLBACKS, {names.FUNCTION: names.OTHER})
    assert other.value == 31 and other.attributes == {names.FUNCTION: names.OTHER}
    assert len(got.of(names.BLOCKING_CALLS)) == 100


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
