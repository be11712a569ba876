"""One background thread that samples the stacks of loops stuck in a long iteration.

It is shared by every monitored loop in the process and sleeps most of the time: while a
loop's iterations stay short it wakes about twice per threshold (every 50 ms at the default
100 ms); only an iteration older than half the threshold is sampled.
"""

from __future__ import annotations

import contextlib
import threading
import time
from time import sleep as _sleep  # bound before blocking.py may wrap time.sleep

from asynccheck.runtime.probe import LoopProbe

_IDLE_EXIT_S = 2.0  # the thread ends after this long with no loop to watch


class Watchdog:
    _instance: Watchdog | None = None
    _instance_lock = threading.Lock()

    def __init__(self) -> None:
        self._probes: set[LoopProbe] = set()
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None

    @classmethod
    def shared(cls) -> Watchdog:
        with cls._instance_lock:
            if cls._instance is None:
                cls._instance = cls()
            return cls._instance

    def add(self, probe: LoopProbe) -> None:
        with self._cond:
            self._probes.add(probe)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="asynccheck-watchdog", daemon=True
                )
                self._thread.start()
            self._cond.notify()

    def remove(self, probe: LoopProbe) -> None:
        with self._cond:
            self._probes.discard(probe)

    def _run(self) -> None:
        idle_since: float | None = None
        while True:
            with self._cond:
                probes = list(self._probes)
                if not probes:
                    now = time.perf_counter()
                    idle_since = idle_since or now
                    if now - idle_since > _IDLE_EXIT_S:
                        self._thread = None
                        return
                    self._cond.wait(0.5)
                    continue
            idle_since = None
            now = time.perf_counter()
            wake = now + min(p.sample_after for p in probes)
            for p in probes:
                start = p.busy_start
                if start is None:
                    continue
                if now - start >= p.sample_after:
                    with contextlib.suppress(Exception):  # never take the program down
                        p.take_sample(start, now)
                    wake = min(wake, now + p.sample_every)
                else:
                    wake = min(wake, start + p.sample_after)
            delay = wake - time.perf_counter()
            _sleep(max(delay, 0.002))
