"""Per-loop instrumentation state: when the running iteration began, what the watchdog saw.

The loop thread pays for two `perf_counter()` calls per loop iteration and nothing per callback:
it stamps `busy_start` when `select()` returns and checks the elapsed time when the next
`select()` begins (measured: ~1.008x on a callback-heavy bench; timing every `Handle._run`
costs ~1.17x). Only an iteration that runs long is looked at closely: the watchdog thread
samples the loop thread's stack while it is still running (`take_sample`) and, when the
iteration ends, `end_iteration` turns those samples into `SlowCallback`s.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import threading
import weakref
from collections import Counter
from dataclasses import dataclass
from types import FrameType
from typing import Any

from asynccheck.runtime.describe import coroutine_name, describe_callback
from asynccheck.runtime.recorder import Recorder, Settings, current_recorder
from asynccheck.runtime.report import LagPoint, SlowCallback
from asynccheck.runtime.sites import (
    UNKNOWN_SITE,
    Site,
    file_kind,
    frames_outward,
    is_asyncio_file,
    pick_location,
    site_of,
)

logger = logging.getLogger("asynccheck")
MAX_STACK = 40
_EVENTS_FILE = os.path.abspath(asyncio.events.__file__)
# asyncio frames that sit *outside* the callback: walking outward from the running frame stops
# at the first of these. Handle._run (events.py) is where a callback is entered.
_OUTER_MACHINERY = frozenset({"_run", "_run_once", "run_forever", "run_until_complete", "run"})


@dataclass(frozen=True)
class Sample:
    """One look at the loop thread's stack during a long iteration."""

    iteration: float  # the iteration's busy_start: identifies it
    t: float
    key: tuple[int, int]  # (id of the handle, id of the current task): one callback
    callback: str
    task: str | None
    task_id: int | None
    task_obj: Any  # held until the iteration ends: an eager task (3.12+) is named after its
    # first step, and may be done and gone by the time the iteration is attributed
    coroutine: str | None
    stack: tuple[Site, ...]  # outermost first
    location: Site


@dataclass(frozen=True)
class SeenBlocking:
    """A blocking call seen during the current iteration, to name it on the slow callback."""

    iteration: float
    t: float
    end: float
    call: str
    task_id: int | None


def callback_frames(frame: FrameType | None) -> tuple[list[FrameType], Any]:
    """Frames from the innermost outward up to the callback's entry, and the running handle."""
    frames: list[FrameType] = []
    for f in frames_outward(frame):
        code = f.f_code
        if code.co_name in _OUTER_MACHINERY and is_asyncio_file(code.co_filename):
            handle = None
            if code.co_name == "_run" and code.co_filename == _EVENTS_FILE:
                try:
                    handle = f.f_locals.get("self")
                except Exception:
                    handle = None
            return frames, handle
        frames.append(f)
    return frames, None


class LoopProbe:
    """What one loop is doing now. Written by the loop thread, read by the watchdog."""

    def __init__(
        self, loop: asyncio.AbstractEventLoop, recorder: Recorder | None, settings: Settings
    ) -> None:
        self.loop_ref = weakref.ref(loop)
        self._recorder = recorder
        self.settings = s = settings
        self.threshold_s = s.threshold_s
        self.note_s = s.lag_note_s
        # Sampling from half the threshold on, every quarter threshold (at most 25 ms): any
        # callback at least as long as the threshold is then sampled at least once.
        self.sample_after = s.threshold_s / 2.0
        self.sample_every = min(0.025, s.threshold_s / 4.0)
        self.busy_start: float | None = None  # not None while the loop runs callbacks
        self.thread_id: int | None = None
        self.samples: list[Sample] = []
        self.seen_blocking: list[SeenBlocking] = []
        self.pending: Any = None  # blocking.Pending: a blocking call in flight on the loop thread
        self.suppress = False  # True while asynccheck itself is on the loop thread's stack
        # id(task) -> (weak ref, where it was created). Keyed by id, not a WeakKeyDictionary:
        # a garbage cycle clears weak refs before a task's __del__ reports "exception never
        # retrieved", and that is exactly when the creation site is wanted.
        self.task_sites: dict[int, tuple[Any, Site | None]] = {}
        self._sites_prune_at = 1024

    @property
    def recorder(self) -> Recorder:
        """The loop's own recorder, or (for a loop made without one) the active monitor's.

        pytest-asyncio may keep one loop for a whole module; each test's monitor gets what
        happened during that test.
        """
        return self._recorder or current_recorder()

    # -- task creation sites ---------------------------------------------------------------
    def note_task(self, task: Any, site: Site | None) -> None:
        try:
            ref = weakref.ref(task)
        except TypeError:
            return
        self.task_sites[id(task)] = (ref, site)
        if len(self.task_sites) > self._sites_prune_at:
            for k in [k for k, (r, _) in self.task_sites.items() if r() is None]:
                del self.task_sites[k]
            self._sites_prune_at = max(1024, 2 * len(self.task_sites))

    def task_site(self, task_id: int | None) -> Site | None:
        if task_id is None:
            return None
        entry = self.task_sites.get(task_id)
        return entry[1] if entry else None

    # -- watchdog side -----------------------------------------------------------------------
    def take_sample(self, start: float, now: float) -> None:
        """Runs on the watchdog thread while the loop thread is inside a long iteration."""
        tid = self.thread_id
        if tid is None:
            return
        frame = sys._current_frames().get(tid)
        if frame is None or self.busy_start != start:
            return
        frames, handle = callback_frames(frame)
        del frame
        stack = tuple(
            site_of(f)
            for f in reversed(frames[:MAX_STACK])
            if file_kind(f.f_code.co_filename) != "asynccheck"
        )
        del frames
        loop = self.loop_ref()
        task = None
        if loop is not None:
            try:
                task = asyncio.current_task(loop)
            except Exception:
                task = None
        self.samples.append(
            Sample(
                iteration=start,
                t=now,
                key=(id(handle), id(task)),
                callback=describe_callback(handle),
                task=task.get_name() if task is not None else None,
                task_id=id(task) if task is not None else None,
                task_obj=task,
                coroutine=coroutine_name(task) if task is not None else None,
                stack=stack,
                location=pick_location(stack),
            )
        )

    # -- loop side -------------------------------------------------------------------------
    def end_iteration(self, start: float, end: float) -> None:
        """Runs on the loop thread when an iteration of at least `note_s` ends."""
        try:
            self._end_iteration(start, end)
        except Exception:  # a bug here must not stop the user's event loop
            logger.debug("asynccheck: attributing an iteration failed", exc_info=True)

    def _end_iteration(self, start: float, end: float) -> None:
        samples = [s for s in self.samples if s.iteration == start]
        self.samples = []
        seen = [b for b in self.seen_blocking if b.iteration == start]
        self.seen_blocking = []
        duration = end - start
        at = self.recorder.since_start(start)
        if duration < self.threshold_s:
            self.recorder.add_lag(LagPoint(at, duration * 1000.0, None))
            return
        slow = self._attribute(samples, seen, start, end)
        for cb in slow:
            self.recorder.add_slow(cb)
        top = max(slow, key=lambda c: c.duration_ms) if slow else None
        self.recorder.add_lag(LagPoint(at, duration * 1000.0, top.task if top else None))

    def _attribute(
        self, samples: list[Sample], seen: list[SeenBlocking], start: float, end: float
    ) -> list[SlowCallback]:
        """Split the iteration between the callbacks the watchdog saw running, in order.

        Consecutive samples of the same (handle, task) are one callback; its share runs from
        the previous callback's last sample (or the iteration start) to its own last sample
        (or the iteration end, for the last one).
        """
        at = self.recorder.since_start(start)
        if not samples:
            return [
                SlowCallback(
                    duration_ms=(end - start) * 1000.0,
                    callback="<loop iteration; not sampled: the GIL was held throughout>",
                    task=None,
                    coroutine=None,
                    location=UNKNOWN_SITE,
                    stack=(),
                    at_s=at,
                )
            ]
        groups: list[list[Sample]] = []
        for s in samples:
            if groups and groups[-1][-1].key == s.key:
                groups[-1].append(s)
            else:
                groups.append([s])
        spans: list[tuple[float, float]] = []
        begin = start
        for i, g in enumerate(groups):
            if i == len(groups) - 1:
                finish = end
            else:  # between this group's last sample and the next one's first
                lo, hi = g[-1].t, groups[i + 1][0].t
                ends = [b.end for b in seen if b.task_id == g[-1].task_id and lo <= b.end <= hi]
                finish = max(ends) if ends else (lo + hi) / 2.0
            spans.append((begin, finish))
            begin = finish
        chosen = [i for i, (b, f) in enumerate(spans) if f - b >= self.threshold_s]
        if not chosen:  # several callbacks shared the time: name the one seen most
            best = max(range(len(groups)), key=lambda i: len(groups[i]))
            chosen = [best]
            spans[best] = (start, end)
        return [self._slow_callback(groups[i], spans[i], seen) for i in chosen]

    def _slow_callback(
        self, group: list[Sample], span: tuple[float, float], seen: list[SeenBlocking]
    ) -> SlowCallback:
        counts = Counter(s.location for s in group)
        location = max(counts, key=lambda loc: (counts[loc], file_kind(loc.file) == "user"))
        last = next(s for s in reversed(group) if s.location == location)
        first = group[0]
        blocking = next(
            (b.call for b in seen if span[0] <= b.t <= span[1] and b.task_id == first.task_id),
            None,
        )
        task = first.task_obj
        return SlowCallback(
            duration_ms=(span[1] - span[0]) * 1000.0,
            callback=first.callback,
            task=task.get_name() if task is not None else first.task,
            coroutine=first.coroutine,
            location=location,
            stack=last.stack,
            blocking_call=blocking,
            task_created_at=self.task_site(first.task_id),
            at_s=self.recorder.since_start(span[0]),
            samples=len(group),
        )

    def attach_thread(self) -> None:
        self.thread_id = threading.get_ident()
