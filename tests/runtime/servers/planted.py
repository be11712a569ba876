"""The slow work the test servers plant, each piece timed by itself (see truth.py).

Every line where a piece spends its time carries a `# planted: KIND` marker; the tests find
the line by that marker and expect the profiler to name exactly it as the location.

Handlers call `PLANTED[kind](path)` from inside the request's own task step, so what the loop
sees is the truth: a handler step that takes as long as its planted work (plus the framework's
few microseconds). `burst` and `pair` schedule plain callbacks that run in the next iteration.
"""

from __future__ import annotations

import asyncio
import gc
import json
import sqlite3
import time
from typing import Callable

from truth import record

_perf = time.perf_counter

SLEEP_S = 0.2
BURST_N = 20  # twenty 30 ms callbacks in one iteration: a 600 ms stall, no slow callback
BURST_S = 0.03
PAIR_S = (0.15, 0.25)  # two slow callbacks in one iteration: two entries, never one 400 ms
DUMPS_TARGET_S = 0.2


def _make_big(target_s: float) -> list[dict[str, object]]:
    """A list that `json.dumps` takes about `target_s` to encode, here and now.

    Dicts of ints, floats and strings: the C encoder runs the whole time without releasing the
    GIL (no sampler thread can look in), and the dicts stay untracked by the GC, so the fast
    routes never pay for a collection walking it.
    """

    def make(n: int) -> list[dict[str, object]]:
        return [
            {"id": i, "name": f"item-{i}", "score": i * 0.5, "ok": True, "tag": "abcdefghij"}
            for i in range(n)
        ]

    sample = make(5_000)
    took = min(_timed(lambda: json.dumps(sample)) for _ in range(3))
    return make(max(5_000, int(len(sample) * target_s / max(took, 1e-6))))


def _timed(fn: Callable[[], object]) -> float:
    t0 = _perf()
    fn()
    return _perf() - t0


BIG = _make_big(DUMPS_TARGET_S)
gc.freeze()  # what exists now is never collected: fast routes stay fast, whatever the load


def sleep(path: str) -> None:
    t0 = _perf()
    time.sleep(SLEEP_S)  # planted: sleep
    record("sleep", path, (_perf() - t0) * 1000)


def dumps(path: str) -> None:
    t0 = _perf()
    json.dumps(BIG)  # planted: dumps
    record("dumps", path, (_perf() - t0) * 1000)


def spin(seconds: float) -> int:
    end = _perf() + seconds
    n = 0
    while _perf() < end:  # planted: busy
        n += 1  # planted: busy
    return n


def busy(path: str) -> None:
    t0 = _perf()
    spin(SLEEP_S)
    record("busy", path, (_perf() - t0) * 1000)


def sqlite_sleep(path: str) -> None:
    """A fast blocking call first, then the one that takes the time: blame the second."""
    t0 = _perf()
    sqlite3.connect(":memory:").close()
    time.sleep(SLEEP_S)  # planted: sqlite-sleep
    record("sqlite-sleep", path, (_perf() - t0) * 1000)


def _burst_one(path: str) -> None:
    t0 = _perf()
    time.sleep(BURST_S)  # planted: burst
    record("burst", path, (_perf() - t0) * 1000)


def burst(path: str) -> None:
    loop = asyncio.get_running_loop()
    for _ in range(BURST_N):
        loop.call_soon(_burst_one, path)


def _pair_short(path: str) -> None:
    t0 = _perf()
    time.sleep(PAIR_S[0])  # planted: pair-short
    record("pair-short", path, (_perf() - t0) * 1000)


def _pair_long(path: str) -> None:
    t0 = _perf()
    time.sleep(PAIR_S[1])  # planted: pair-long
    record("pair-long", path, (_perf() - t0) * 1000)


def pair(path: str) -> None:
    loop = asyncio.get_running_loop()
    loop.call_soon(_pair_short, path)
    loop.call_soon(_pair_long, path)


# route name (the path without its slash) -> the work its handler does in its own task step
PLANTED: dict[str, Callable[[str], None]] = {
    "sleep": sleep,
    "dumps": dumps,
    "busy": busy,
    "sqlite-sleep": sqlite_sleep,
    "burst": burst,
    "pair": pair,
}
FAST_ROUTES = ("/fast", "/fast/json")
