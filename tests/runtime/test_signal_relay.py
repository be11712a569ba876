"""The signal relay: an exit signal whose wake-up was lost is sent to the main thread again.

In-process, with SIGUSR1 standing for SIGTERM: the main thread waits in a lock's `sem_wait` (a
timed one, so a failure is a slow test, not a hung one) while a thread of the program takes the
signal at C level, which marks the handler but does not wake the main thread.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from types import FrameType
from typing import Callable

import pytest

from asynccheck.runtime.signal_relay import SignalRelay

pytestmark = pytest.mark.skipif(
    not hasattr(signal, "pthread_kill") or not hasattr(signal, "SIGUSR1"), reason="POSIX signals"
)


class Stop(Exception):
    pass


class Handlers:
    """What ExitSignals gives the relay: the handler, and whether it has run."""

    def __init__(self) -> None:
        self.received: int | None = None
        self.nudged = False
        self.runs = 0

    def handler(self) -> Callable[..., object]:
        return self._handle

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.runs += 1
        if self.nudged and self.received is not None:
            self.nudged = False
            return
        self.received = signum
        raise Stop


@pytest.fixture
def handlers():
    watched = Handlers()
    previous = signal.signal(signal.SIGUSR1, watched._handle)
    try:
        yield watched
    finally:
        signal.signal(signal.SIGUSR1, previous)


def wait_in_sem_wait_while_a_thread_takes(signum: int, timeout: float = 5.0) -> float:
    """Seconds until the main thread's lock wait ended by the handler's exception."""
    lock = multiprocessing.Lock()
    lock.acquire()
    sender = threading.Timer(0.1, lambda: signal.pthread_kill(threading.get_ident(), signum))
    start = time.monotonic()
    sender.start()
    try:
        lock.acquire(timeout=timeout)
    except Stop:
        return time.monotonic() - start
    finally:
        sender.join()
    return float("inf")


def test_without_the_relay_the_wakeup_is_lost(handlers: Handlers) -> None:
    """The situation the relay exists for (so the next test proves something): the handler
    runs only once the wait ends by its own timeout."""
    assert wait_in_sem_wait_while_a_thread_takes(signal.SIGUSR1, timeout=0.6) >= 0.6
    assert handlers.runs == 1


def test_the_relay_sends_the_signal_again_and_the_handler_runs_once(handlers: Handlers) -> None:
    relay = SignalRelay.start(handlers, (signal.SIGUSR1,))
    assert relay is not None
    try:
        took = wait_in_sem_wait_while_a_thread_takes(signal.SIGUSR1)
        assert took < 1.0
        time.sleep(0.3)  # the relay's own resend is read and ignored: the handler ran
        assert handlers.runs == 1 and handlers.received == signal.SIGUSR1
    finally:
        relay.stop()
    assert signal.set_wakeup_fd(-1) == -1  # stop() gave the wake-up fd back


def test_a_wakeup_fd_someone_else_owns_is_left_alone(handlers: Handlers) -> None:
    read_fd, write_fd = os.pipe()
    os.set_blocking(write_fd, False)
    signal.set_wakeup_fd(write_fd)
    try:
        assert SignalRelay.start(handlers, (signal.SIGUSR1,)) is None
        assert signal.set_wakeup_fd(write_fd) == write_fd
    finally:
        signal.set_wakeup_fd(-1)
        os.close(read_fd)
        os.close(write_fd)


def test_a_program_with_its_own_handler_is_not_sent_anything(handlers: Handlers) -> None:
    """The program replaced the handler (uvicorn does for SIGTERM): the relay does not resend,
    or the program would see a second signal (uvicorn: "force exit")."""
    relay = SignalRelay.start(handlers, (signal.SIGUSR1,))
    assert relay is not None
    seen: list[int] = []
    signal.signal(signal.SIGUSR1, lambda signum, frame: seen.append(signum))
    try:
        signal.pthread_kill(threading.get_ident(), signal.SIGUSR1)
        time.sleep(0.5)
        assert seen == [signal.SIGUSR1]
    finally:
        relay.stop()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork")
def test_a_forked_child_gets_its_own_relay(handlers: Handlers) -> None:
    """The child's signals must not reach the parent's relay (it would resend them to the
    parent), and the child needs one of its own."""
    relay = SignalRelay.start(handlers, (signal.SIGUSR1,))
    assert relay is not None
    try:
        parent_fd = signal.set_wakeup_fd(-1)
        signal.set_wakeup_fd(parent_fd, warn_on_full_buffer=False)
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child
            status = 1
            try:
                own = signal.set_wakeup_fd(-1)
                signal.set_wakeup_fd(own)
                took = wait_in_sem_wait_while_a_thread_takes(signal.SIGUSR1)
                status = 0 if own not in (-1, parent_fd) and took < 1.0 else 2
            finally:
                os._exit(status)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        time.sleep(0.3)
        assert handlers.runs == 0  # nothing was sent to the parent
    finally:
        relay.stop()
