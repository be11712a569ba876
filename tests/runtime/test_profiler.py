"""The profile: sampled per sample (not per call) by default, folded as it goes, drawn by
pyinstrument's renderers."""

from __future__ import annotations

import asyncio
import json
import sys
import time

import pytest
from pyinstrument.low_level.stat_profile import get_frame_info
from pyinstrument.session import Session

from asynccheck.runtime.profiler import (
    FoldedRecords,
    ProfileOptions,
    ProfileSession,
    console_tree,
    frame_info,
    html_page,
    speedscope_json,
    trim_session,
)


def checksum(rounds: int) -> int:
    total = 0
    for i in range(rounds):
        total = (total * 31 + i) % 1_000_003
    return total


async def short_task(i: int) -> None:
    checksum(200 + i % 7)
    await asyncio.sleep(0)


async def many_short_tasks(seconds: float) -> int:
    """Short tasks at a steady rate, like a server's requests: the same few stacks, over and
    over."""
    made = 0
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        await asyncio.gather(*(short_task(made + i) for i in range(50)))
        made += 50
        await asyncio.sleep(0.001)
    return made


def profile(seconds: float, options: ProfileOptions) -> tuple[ProfileSession, Session, int]:
    profiler = ProfileSession(options)
    profiler.start()
    tasks = asyncio.run(many_short_tasks(seconds))
    return profiler, profiler.stop("test"), tasks


@pytest.mark.parametrize(
    "options",
    [ProfileOptions(interval=0.001), ProfileOptions(interval=0.001, async_mode="enabled")],
    ids=["signal-sampler", "pyinstrument-async"],
)
def test_memory_stays_flat_identical_stacks_are_folded_as_they_arrive(
    options: ProfileOptions,
) -> None:
    """pyinstrument kept one record per sample (a server grew ~32 MB a minute); folded, the
    records are bounded by the distinct stacks, however long the run."""
    profiler, session, tasks = profile(2.0, options)
    held = profiler.held_records()  # what was kept in memory while the program ran
    assert tasks > 1000
    assert held.samples == session.sample_count
    assert held.samples > 150, "too few samples to say anything"
    assert len(held) == len({stack for stack, _ in held})  # one record per distinct stack
    assert len(held) * 3 < held.samples
    # and the session handed over is as small, with all of the time
    assert len(session.frame_records) <= len(held)
    assert sum(t for _, t in session.frame_records) == pytest.approx(
        sum(t for _, t in held), rel=0.25
    )


def burn(seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


async def busy_then_idle() -> None:
    for _ in range(1000):  # short callbacks back to back: half a second of Python
        burn(0.0005)
        await asyncio.sleep(0)
    await asyncio.sleep(0.5)  # then half a second of waiting in select()


def seconds_in(session: Session, function: str) -> float:
    return sum(
        t for stack, t in session.frame_records if any(f.startswith(function) for f in stack)
    )


def test_short_callbacks_are_charged_to_their_own_lines_not_to_select() -> None:
    """A sampling thread gets the GIL when the loop lets go of it, in select(): it would charge
    every short callback's time to select. The default sampler does not."""
    profiler = ProfileSession(ProfileOptions(interval=0.001))
    profiler.start()
    asyncio.run(busy_then_idle())
    session = profiler.stop()
    busy, idle = seconds_in(session, "burn\x00"), seconds_in(session, "select\x00")
    assert profiler.sampler == ("signal" if sys.platform != "win32" else "pyinstrument")
    assert busy > 0.2 and idle > 0.2, (busy, idle)
    assert 0.4 < busy / (busy + idle) < 0.8, (busy, idle)


def test_folded_records_sum_time_per_stack_and_count_samples() -> None:
    records = FoldedRecords()
    for stack, t in [(["T", "a", "b"], 1.0), (["T", "a", "c"], 2.0), (["T", "a", "b"], 0.5)]:
        records.append((stack, t))
    assert list(records) == [(("T", "a", "b"), 1.5), (("T", "a", "c"), 2.0)]
    assert records.samples == 3


def test_each_call_path_is_one_node_of_the_tree() -> None:
    t, a, b, c = (f"{name}\x00/app.py\x00{i}" for i, name in enumerate("Tabc"))
    raw = FoldedRecords()
    # interleaved as a loop runs them: a>b, a>c, a>b (different lines), a>c
    for stack, secs in [
        ([t, a, b + "\x01l5"], 1.0),
        ([t, a, c], 2.0),
        ([t, a, b + "\x01l6"], 0.5),
        ([t, a, c], 1.0),
    ]:
        raw.append((stack, secs))
    session = Session(raw, 0.0, 4.5, 0.001, 0.001, raw.samples, [t], "t", 4.5, [], [])
    root = trim_session(session).root_frame()
    assert root is not None
    [node_a] = [f for f in root.children if f.function == "a"]
    times = {f.function: f.time for f in node_a.children}
    assert times == {"b": pytest.approx(1.5), "c": pytest.approx(3.0)}


def test_every_renderer_draws_the_folded_profile() -> None:
    _, session, _ = profile(1.0, ProfileOptions(interval=0.001))
    tree = console_tree(session)
    assert "checksum" in tree and "short_task" in tree
    assert "asynccheck" not in tree.split("\n", 6)[-1]  # our frames are trimmed
    scope = json.loads(speedscope_json(session))
    assert any(f["name"] == "checksum" for f in scope["shared"]["frames"])
    assert "checksum" in html_page(session)


def test_only_the_profiled_thread_is_sampled() -> None:
    _, session, _ = profile(0.5, ProfileOptions(interval=0.001))
    roots = {stack[0] for stack, _ in session.frame_records}
    assert len(roots) == 1 and next(iter(roots)).startswith("MainThread\x00<thread>")


def test_frame_strings_are_pyinstruments_own() -> None:
    class Handler:
        def handle(self) -> str:
            frame = sys._getframe()
            return get_frame_info(frame) + "|" + frame_info(frame.f_code, frame.f_lineno)

    theirs, ours = Handler().handle().split("|")
    assert ours == theirs

    def plain() -> tuple[str, str]:
        __tracebackhide__ = True  # pyinstrument hides such frames
        frame = sys._getframe()
        return get_frame_info(frame), frame_info(frame.f_code, frame.f_lineno)

    theirs, ours = plain()
    assert ours == theirs and ours.endswith("\x01h1")


def test_default_costs_per_sample_and_await_attribution_is_an_option() -> None:
    assert not ProfileOptions().uses_pyinstrument
    assert ProfileOptions(async_mode="enabled").uses_pyinstrument
    assert ProfileOptions(sampler="pyinstrument").uses_pyinstrument


def test_stop_is_idempotent() -> None:
    assert ProfileSession().stop() is None  # never started
    profiler = ProfileSession(ProfileOptions(interval=0.001))
    profiler.start()
    asyncio.run(many_short_tasks(0.1))
    first = profiler.stop("once")
    assert profiler.stop("twice") is first and not profiler.is_running
