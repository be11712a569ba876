"""A worker forked as a cached run starts, to import libcst and the rules while the run
finds out what changed.

When one file of a big tree changed, importing libcst and the rules is about 40 % of the
run (0.35 s here), and what comes before the first parse (start-up, discovery, the cache
check) needs neither. The worker imports them on another core meanwhile; the few files to
lint are then sent to it, and the run itself never imports libcst. When nothing changed,
the worker is killed unused: a warm run pays for the fork and the kill (2-3 ms), and shares
the machine with the worker's import for its length (HA, warm: 0.01-0.02 s more).

Only where that is safe and pays: a `fork` start (Linux), two CPUs or more, and no other
thread in the process (a fork copies the calling thread alone; a lock another thread held
would never be released in the copy). A worker that died or sent something unreadable is
stopped, and the caller does the work itself.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import select
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any, Optional


def usable() -> bool:
    """Whether a worker can be forked here safely, and would run beside us."""
    if sys.platform != "linux" or not hasattr(os, "sched_getaffinity"):
        return False
    threading = sys.modules.get("threading")  # not imported: no thread was started
    if threading is not None and threading.active_count() > 1:
        return False
    return len(os.sched_getaffinity(0)) >= 2


@dataclass
class Prefork:
    """The parent's end: `call` runs a function in the worker and returns what it returned."""

    pid: int
    _requests: IO[bytes]
    _replies: IO[bytes]

    @classmethod
    def start(cls, warm_up: Callable[[], Any]) -> Optional[Prefork]:
        """Fork a worker that runs `warm_up` (an import), then serves calls; None where
        forking is not `usable`, or failed."""
        if not usable():
            return None
        # else the worker holds a copy of unwritten output, which a write of its own sends
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError, AttributeError):
                stream.flush()
        pipes: list[int] = []
        try:
            requests_read, requests_write = os.pipe()
            pipes += (requests_read, requests_write)
            replies_read, replies_write = os.pipe()
            pipes += (replies_read, replies_write)
            pid = os.fork()
        except OSError:  # out of descriptors or processes: the run does without
            for fd in pipes:
                os.close(fd)
            return None
        if pid == 0:  # the worker: it never returns into the caller's code
            code = 1
            try:
                os.close(requests_write)
                os.close(replies_read)
                _serve(warm_up, os.fdopen(requests_read, "rb"), os.fdopen(replies_write, "wb"))
                code = 0
            finally:
                os._exit(code)
        os.close(requests_read)
        os.close(replies_write)
        return cls(pid, os.fdopen(requests_write, "wb"), os.fdopen(replies_read, "rb"))

    def call(self, function: Callable[..., Any], *args: Any) -> tuple[bool, Any]:
        """(True, `function(*args)` as run in the worker); (False, None) when the worker
        cannot answer (it is stopped then). `function` and `args` must pickle."""
        return self.result() if self.submit(function, *args) else (False, None)

    def submit(self, function: Callable[..., Any], *args: Any) -> bool:
        """Send a call and return at once (`result` waits for it); False when the worker
        cannot take it. One call at a time."""
        if self.pid == 0:
            return False
        try:
            pickle.dump((function, args), self._requests, pickle.HIGHEST_PROTOCOL)
            self._requests.flush()
        except Exception:  # a dead worker (broken pipe), or arguments that do not pickle
            self.stop()
            return False
        return True

    def ready(self) -> bool:
        """Whether `result` would return at once: the worker replied (or is gone)."""
        if self.pid == 0:
            return True
        try:
            return bool(select.select([self._replies], [], [], 0)[0])
        except (OSError, ValueError):
            return True

    def result(self) -> tuple[bool, Any]:
        """What the call sent last returned, as `call` says."""
        if self.pid == 0:
            return False, None
        try:
            ok, value = pickle.load(self._replies)
        except Exception:  # a dead worker (EOF) or a reply that does not load
            ok, value = False, None
        if not ok:
            self.stop()
            return False, None
        return True, value

    def stop(self) -> None:
        """Kill the worker (it holds nothing that needs a clean exit) and reap it."""
        if self.pid == 0:
            return
        pid, self.pid = self.pid, 0
        for stream in (self._requests, self._replies):
            with contextlib.suppress(OSError):
                stream.close()
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)


def _serve(warm_up: Callable[[], Any], requests: IO[bytes], replies: IO[bytes]) -> None:
    """The worker's loop: a call's exception goes back as a failed call (the caller then
    runs it itself, and sees the exception there); the end of the requests ends it."""
    warm_up()
    while True:
        try:
            function, args = pickle.load(requests)
        except EOFError:
            return
        try:
            reply: tuple[bool, Any] = (True, function(*args))
        except Exception:
            reply = (False, None)
        try:
            data = pickle.dumps(reply, pickle.HIGHEST_PROTOCOL)
        except Exception:  # a value that does not pickle: the caller does the work
            data = pickle.dumps((False, None), pickle.HIGHEST_PROTOCOL)
        replies.write(data)
        replies.flush()
