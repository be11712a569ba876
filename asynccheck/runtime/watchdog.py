"""One background thread that looks at loops stuck in a long burst of callbacks.

It is shared by every monitored loop in the process. For each loop it does two things, and only
while a burst runs long (probe.py says why these and what they cost):
- once a burst is older than `flip_after` (2-10 ms), it switches on per-callback timing for the
  rest of that burst, noting which callback was running;
- once a burst is older than half the threshold, it samples the loop thread's stack every
  `sample_every`, so a slow callback can say where its time went.
Between bursts it wakes every `flip_after` to notice the next long one, except while every
loop waits in select(): then it sleeps until one returns from it (`Watchdog._park`, `unpark`),
so an idle service costs nothing (measured: 33 ms of CPU in 3 s idle before, 1.3 ms parked).
It ends after a while with no loop to watch. After a fork the child gets a fresh watchdog (the parent's thread and
lock do not exist there).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import sys
import threading
import time
from time import sleep as _sleep  # bound before blocking.py may wrap time.sleep

from asynccheck.runtime.describe import coroutine_name
from asynccheck.runtime.helper_thread import start_helper_thread
from asynccheck.runtime.probe import MAX_STACK, NEVER, LoopProbe, Sample
from asynccheck.runtime.serving import request_of_frame
from asynccheck.runtime.sites import callback_frames, is_machinery, pick_location, site_of

_IDLE_EXIT_S = 2.0  # the thread ends after this long with no loop to watch
_SWITCH_S = 0.005  # sys.getswitchinterval(): a GIL hand-over takes this long when all is well
_perf = time.perf_counter
# How long after its planned wake-up a loop thread hands the GIL to the watchdog, and at most
# how long it waits for it to look (see `let_in`).
_HANDOFF_GRACE_S = 0.001
_HANDOFF_MAX_S = 0.002
_PARK_MAX_S = 1.0  # a parked watchdog still wakes this often (to end when no loop is left)


class Watchdog:
    _instance: Watchdog | None = None
    _instance_lock = threading.Lock()

    def __init__(self) -> None:
        self._probes: set[LoopProbe] = set()
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self.looked = threading.Event()  # set after each look: see `let_in`

    @classmethod
    def shared(cls) -> Watchdog:
        with cls._instance_lock:
            if cls._instance is None:
                cls._instance = cls()
            return cls._instance

    def add(self, probe: LoopProbe) -> None:
        with self._cond:
            self._probes.add(probe)
            probe.watchdog_looked = self.looked
            probe.watchdog_due = _perf() + _HANDOFF_GRACE_S  # the thread may be starting
            if self._thread is None or not self._thread.is_alive():
                self._thread = start_helper_thread(self._run, "asynccheck-watchdog")
            self._cond.notify()

    def remove(self, probe: LoopProbe) -> None:
        with self._cond:
            self._probes.discard(probe)
            probe.watchdog_due = NEVER

    def _run(self) -> None:
        idle_since: float | None = None
        planned: float | None = None
        waited = _RunQueueClock()
        while True:
            with self._cond:
                probes = list(self._probes)
                if not probes:
                    now = _perf()
                    idle_since = idle_since or now
                    if now - idle_since > _IDLE_EXIT_S:
                        self._thread = None
                        waited.close()
                        return
                    self._cond.wait(0.5)
                    planned = None
                    continue
            idle_since = None
            now = _perf()
            # Woken this much later than planned: either the loop thread held the GIL (a C
            # call), or the OS gave this thread no CPU; the kernel tells the second apart.
            # Look first: reading the kernel's numbers releases the GIL, and the loop thread
            # would finish the very callback that kept this thread waiting.
            late = max(0.0, now - planned - _SWITCH_S) if planned is not None else 0.0
            wake = now + 0.05
            for p in probes:
                with contextlib.suppress(Exception):  # never take the program down
                    wake = min(wake, look(p, now, late))
            # The kernel's numbers only while a burst is old enough to be sampled, once a look:
            # each read lets go of the GIL, and a callback running pure Python gives it back
            # only after a switch interval (reading before the switch made it 30-50 ms late).
            if any(_sampled(p, now) for p in probes):
                waited_for_cpu = waited.advance()
                if late > 0.0:
                    _discount(probes, now, waited_for_cpu)
            else:
                waited.clear()
            if all(_parkable(p) for p in probes) and self._park(probes):
                # Woken by a loop whose burst began just now: the first look that can find
                # anything to do is `flip_after` later.
                wake = _perf() + min(p.flip_after for p in probes)
            planned = wake
            sleep = max(wake - _perf(), 0.001)
            for p in probes:
                p.watchdog_due = now + sleep + _HANDOFF_GRACE_S
            self.looked.set()
            _sleep(sleep)

    def _park(self, probes: list[LoopProbe]) -> bool:
        """Sleep until a loop wakes up (`unpark`), rather than look every `flip_after` at
        loops that wait for I/O: an idle service costs nothing. The loop thread sets its
        `waiting` (in select) before it reads `parked`, and this thread sets `parked` before it
        reads `waiting`, under the lock `unpark` takes: no wake-up can be lost."""
        with self._cond:
            for p in probes:
                p.parked = True
            if all(p.waiting for p in probes):
                for p in probes:
                    p.watchdog_due = NEVER
                self.looked.set()
                self._cond.wait(_PARK_MAX_S)
                parked = True
            else:
                parked = False
            for p in probes:
                p.parked = False
        return parked

    def unpark(self) -> None:
        with self._cond:
            self._cond.notify()


def unpark(probe: LoopProbe) -> None:
    """Called by a loop thread whose select() returned while the watchdog was parked (once
    per park: the watchdog looks again and sets its own timer)."""
    probe.parked = False
    Watchdog.shared().unpark()


def _parkable(probe: LoopProbe) -> bool:
    """A loop of asyncio's found waiting in select() (not handing the GIL over between two
    bursts, see `let_in`). Not uvloop's: its heartbeat needs looks to see I/O callbacks libuv
    runs itself."""
    return probe.switch_on is not None and probe.waiting


def let_in(probe: LoopProbe) -> None:
    """Called by a loop thread between two callbacks once the watchdog is due: wait (GIL
    released) until it has looked. A loop that runs short callbacks back to back lets go of the
    GIL in every `select(0)` and takes it back at once: a thread that wakes up wanting the GIL
    then waits for it for as long as the loop stays busy, and each release wakes it for nothing
    (measured: 0-2 looks in 0.9 s, and 5% more CPU for 100 tasks x sleep(0)). Handing it over
    here costs one wait of tens of microseconds per look."""
    probe.watchdog_due = NEVER  # once per look: the watchdog sets it again
    looked = probe.watchdog_looked
    if looked is not None:
        looked.clear()
        looked.wait(_HANDOFF_MAX_S)


def _discount(probes: list[LoopProbe], now: float, waited_for_cpu: float) -> None:
    """Samples just taken were late partly because the OS gave this thread no CPU: only the
    rest is time the loop thread held the GIL."""
    if waited_for_cpu <= 0.0:
        return
    for p in probes:
        samples = p.samples
        if samples and samples[-1].t == now and samples[-1].late > 0.0:
            last = samples[-1]
            samples[-1] = dataclasses.replace(last, late=max(0.0, last.late - waited_for_cpu))


def _sampled(probe: LoopProbe, now: float) -> bool:
    start = probe.burst_start
    return start is not None and now - start >= probe.sample_after - probe.sample_every


class _RunQueueClock:
    """How long this thread waited for a CPU (Linux schedstat) between two `advance()`s. One
    `pread` of a file opened once: one hand-over of the GIL a read."""

    def __init__(self) -> None:
        self.fd: int | None = None
        with contextlib.suppress(OSError, AttributeError):
            self.fd = os.open(f"/proc/self/task/{threading.get_native_id()}/schedstat", os.O_RDONLY)
        self.marked: float | None = None

    def read(self) -> float | None:
        if self.fd is None:
            return None
        try:
            return int(os.pread(self.fd, 64, 0).split()[1]) / 1e9
        except (OSError, ValueError, IndexError):
            self.close()  # not Linux, or no schedstat: stop asking
            return None

    def advance(self) -> float:
        """The wait since the last `advance()` (0 after `clear()`); marks now."""
        before, self.marked = self.marked, self.read()
        if before is None or self.marked is None:
            return 0.0
        return max(0.0, self.marked - before)

    def clear(self) -> None:
        self.marked = None

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def look(probe: LoopProbe, now: float, late: float) -> float:
    """Switch timing on or sample, as the probe's burst needs; return when to look again."""
    start = probe.burst_start
    if start is None:
        due = probe.beat_due  # uvloop: a late heartbeat is a loop busy outside timed callbacks
        if due is not None and probe.switch_on is None:
            if now - due >= probe.sample_after:
                take_sample(probe, None, now, late)
                return now + probe.sample_every
            # Nothing to see before the beat is that late: a callback that starts meanwhile
            # delays the beat too, so it is still sampled before it reaches the threshold.
            return max(now + 0.001, due + probe.sample_after)
        return now + probe.flip_after
    age = now - start
    wake = now + 0.05
    if probe.switch_on is not None and probe.flipped_for != start:
        if age >= probe.flip_after:
            _switch_on(probe, start)
        else:
            wake = start + probe.flip_after
    if age >= probe.sample_after:
        take_sample(probe, start, now, late)
        return min(wake, now + probe.sample_every)
    return min(wake, start + probe.sample_after)


def _frames_now(probe: LoopProbe) -> tuple[list, object] | None:
    tid = probe.thread_id
    if tid is None:
        return None
    frame = sys._current_frames().get(tid)
    if frame is None:
        return None
    return callback_frames(frame)


def _switch_on(probe: LoopProbe, start: float) -> None:
    found = _frames_now(probe)
    if probe.burst_start != start or probe.switch_on is None:
        return
    probe.flipped_for = start
    probe.flip = (start, found[1] if found else None)
    probe.switch_on()


def take_sample(probe: LoopProbe, start: float | None, now: float, late: float) -> None:
    """Runs on the watchdog thread while the loop thread is inside a long burst (`start`), or
    on uvloop while its heartbeat is overdue (`start` None)."""
    found = _frames_now(probe)
    if found is None or probe.burst_start != start:
        return
    frames = found[0]
    stack = tuple(
        site_of(f) for f in reversed(frames[:MAX_STACK]) if not is_machinery(f.f_code.co_filename)
    )
    if not stack:  # between callbacks, or idle inside uvloop's run_forever
        return
    task = _current_task(probe)
    coroutine = coroutine_name(task) if task is not None else None
    request = next((r for r in map(_request_of, frames) if r is not None), None)
    probe.samples.append(Sample(now, stack, pick_location(stack), late, task, coroutine, request))


def _request_of(frame: object) -> str | None:
    try:
        return request_of_frame(frame)
    except Exception:  # a user object's attribute must not stop the sampling
        return None


def _current_task(probe: LoopProbe) -> object:
    loop = probe.loop_ref()
    if loop is None:
        return None
    try:
        return asyncio.current_task(loop)
    except Exception:
        return None


def _after_fork_in_child() -> None:
    """The parent's watchdog thread is gone and its lock may be held: start afresh."""
    old = Watchdog._instance
    Watchdog._instance_lock = threading.Lock()
    Watchdog._instance = None
    if old is not None:
        running = [p for p in old._probes if p.running]
        if running:
            fresh = Watchdog.shared()
            for p in running:
                fresh.add(p)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
