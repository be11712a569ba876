"""How one long loop iteration is split between the callbacks the watchdog saw (property-based)."""

from __future__ import annotations

import asyncio

from hypothesis import given, settings
from hypothesis import strategies as st

from asynccheck.runtime.probe import LoopProbe, Sample, SeenBlocking
from asynccheck.runtime.recorder import Recorder, Settings
from asynccheck.runtime.sites import Site


def sample(t: float, key: int) -> Sample:
    site = Site("/app.py", key + 1, f"f{key}")
    return Sample(
        0.0, t, (key, key), f"<Handle f{key}()>", f"T{key}", key, None, f"c{key}", (site,), site
    )


# The probe only keeps a weak reference to its loop; this one is never run.
LOOP = asyncio.new_event_loop()
LOOP.close()

keys_and_gaps = st.lists(
    st.tuples(st.integers(0, 3), st.floats(0.001, 0.2)), min_size=1, max_size=30
)


@settings(max_examples=200, deadline=None)
@given(keys_and_gaps, st.floats(0.0, 0.1))
def test_split_covers_the_iteration_and_respects_the_threshold(
    steps: list[tuple[int, float]], tail: float
) -> None:
    probe = LoopProbe(LOOP, Recorder(), Settings(slow_callback_ms=100, log=False))
    t, samples = 0.0, []
    for key, gap in steps:
        t += gap
        samples.append(sample(t, key))
    end = t + tail
    slow = probe._attribute(samples, [], 0.0, end)
    assert slow, "a long iteration is always reported"
    total = sum(cb.duration_ms for cb in slow)
    assert total <= end * 1000 + 1e-6  # never more time than the iteration had
    if len(slow) > 1 or slow[0].duration_ms < end * 1000 - 1e-6:
        assert all(cb.duration_ms >= 100 - 1e-6 for cb in slow)
    starts = [cb.at_s for cb in slow]
    assert starts == sorted(starts)


def test_a_blocking_call_end_is_the_boundary_between_callbacks() -> None:
    probe = LoopProbe(LOOP, Recorder(), Settings(slow_callback_ms=100, log=False))
    samples = [sample(0.10, 1), sample(0.125, 1), sample(0.30, 2), sample(0.45, 2)]
    seen = [SeenBlocking(0.0, 0.0, 0.2, "time.sleep", 1)]
    first, second = probe._attribute(samples, seen, 0.0, 0.5)
    assert (round(first.duration_ms), first.blocking_call) == (200, "time.sleep")
    assert round(second.duration_ms) == 300 and second.blocking_call is None
