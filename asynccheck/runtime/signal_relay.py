"""Make sure an exit signal's Python handler runs, also when its wake-up was lost.

CPython runs a Python signal handler in two halves: the C handler only marks the signal, and
the main thread runs the Python one at its next bytecode, or when the system call it sits in
fails with EINTR. A signal that lands after the main thread's last check and before it blocks
(`sem_wait` of a lock, `epoll_wait` with no timeout) wakes nothing: the mark waits for a return
to Python that never comes. Plain python has no such window for SIGTERM (its default action
kills at once); ours opens it by handling SIGTERM in Python. Seen: a pool worker stopped by
`Pool.terminate()` just as it went to take the in-queue's lock, which `terminate()` holds until
the worker is gone: both waited for ever (~1 run in 90).

The C handler also writes the signal's number to the wake-up fd (`signal.set_wakeup_fd`), the
one trace of a signal another thread can see. The relay owns that fd when nobody else does,
and a thread of ours reads it: when an exit signal came and its handler has not run in a few
milliseconds, it sends the signal to the main thread again, which interrupts the wait. asyncio
takes the wake-up fd over while a loop has `add_signal_handler` handlers; its selector then
wakes on the signal itself.
"""

from __future__ import annotations

import asyncio  # noqa: F401  # its at-fork hook must run before ours (see _after_fork_in_child)
import contextlib
import os
import signal
import threading
import time
from typing import Callable, Protocol

from asynccheck.runtime.helper_thread import start_helper_thread

# How long a marked signal may wait for its handler before it is sent again; doubled each time.
FIRST_RESEND_S = 0.02
MAX_RESEND_S = 0.5
# Reads are spaced by this much, so the profiler's SIGPROF bytes cost at most 50 wake-ups a
# second; an exit signal waits that long at worst before the relay looks at it.
COALESCE_S = 0.02


class Watched(Protocol):
    """What the relay asks of the handlers it watches over (`ExitSignals`)."""

    received: int | None
    nudged: bool

    def handler(self) -> Callable[..., object]: ...


class SignalRelay:
    """Owns the wake-up fd of one process and resends exit signals whose handler did not run."""

    def __init__(self, watched: Watched, signums: tuple[int, ...]) -> None:
        self.watched = watched
        self.signums = frozenset(signums)
        self._read_fd = -1
        self._write_fd = -1
        self._pid = os.getpid()

    @classmethod
    def start(cls, watched: Watched, signums: tuple[int, ...]) -> SignalRelay | None:
        """A running relay, or None where it cannot run: not the main thread, no
        `pthread_kill`, or the wake-up fd is someone else's."""
        if not hasattr(signal, "pthread_kill") or not signums:
            return None
        if threading.current_thread() is not threading.main_thread():
            return None
        relay = cls(watched, signums)
        if not relay._take_wakeup_fd(-1):
            return None
        _register_fork_hook()
        _relays.append(relay)
        relay._start_thread()
        return relay

    def stop(self) -> None:
        """Give the wake-up fd back (if it is still ours); the thread ends at end of file."""
        with contextlib.suppress(ValueError):  # not the main thread: the fd stays, idle
            previous = signal.set_wakeup_fd(-1)
            if previous != self._write_fd:  # someone took it over since: theirs stays
                signal.set_wakeup_fd(previous)
        if self in _relays:
            _relays.remove(self)
        self._close(self._write_fd)
        self._write_fd = -1

    def _take_wakeup_fd(self, *expected: int) -> bool:
        """Make a pipe the wake-up fd if the fd in place is one of `expected`; False,
        changing nothing, if it is not or if it cannot be done (out of descriptors)."""
        try:
            read_fd, write_fd = os.pipe()
        except OSError:
            return False
        try:
            os.set_blocking(write_fd, False)  # required: a C handler must never block
            previous = signal.set_wakeup_fd(write_fd, warn_on_full_buffer=False)
        except (OSError, ValueError):
            previous = None
        if previous not in expected:
            if previous is not None:
                signal.set_wakeup_fd(previous)
            self._close(read_fd)
            self._close(write_fd)
            return False
        self._read_fd, self._write_fd = read_fd, write_fd
        return True

    def _start_thread(self) -> None:
        start_helper_thread(self._run, "asynccheck-signal-relay")

    def _after_fork_in_child(self) -> None:
        """The child shares the parent's pipe: its signals must not reach the parent's relay.
        It gets its own pipe and thread; the inherited ends are closed. From 3.12, asyncio's
        at-fork hook sets the child's wake-up fd to -1; it runs first (hooks run in the order
        they were registered, and this module imports asyncio before it registers)."""
        inherited = (self._read_fd, self._write_fd)
        self._pid = os.getpid()
        if self._take_wakeup_fd(self._write_fd, -1):  # as inherited, or reset by asyncio
            self._start_thread()
        else:
            self._read_fd = self._write_fd = -1
            _relays.remove(self)
        for fd in inherited:
            self._close(fd)

    def _run(self) -> None:
        read_fd = self._read_fd
        while True:
            try:
                data = os.read(read_fd, 4096)
            except OSError:
                data = b""
            if not data:
                self._close(read_fd)
                return
            for signum in self.signums.intersection(data):
                self._see_handled(signum)
            time.sleep(COALESCE_S)

    def _see_handled(self, signum: int) -> None:
        """Wait for the handler of the process's first exit signal; resend until it ran."""
        delay = FIRST_RESEND_S
        main = threading.main_thread().ident
        while main is not None and self._pid == os.getpid():
            time.sleep(delay)
            watched = self.watched
            if watched.received is not None or signal.getsignal(signum) != watched.handler():
                return  # it ran, or the program handles this signal itself now
            watched.nudged = True
            signal.pthread_kill(main, signum)
            delay = min(delay * 2, MAX_RESEND_S)

    @staticmethod
    def _close(fd: int) -> None:
        if fd >= 0:
            with contextlib.suppress(OSError):
                os.close(fd)


_relays: list[SignalRelay] = []
_fork_hook_registered = False


def _register_fork_hook() -> None:
    global _fork_hook_registered
    if not _fork_hook_registered and hasattr(os, "register_at_fork"):
        _fork_hook_registered = True
        os.register_at_fork(after_in_child=_after_fork_in_child)


def _after_fork_in_child() -> None:
    for relay in list(_relays):
        relay._after_fork_in_child()
