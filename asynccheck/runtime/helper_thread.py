"""asynccheck's own threads (the watchdog, the profiler's sampler) take no signals.

A signal sent to a process goes to any thread that does not block it, and Linux passes over a
thread that already has one pending: with the profiler on, the main thread often has a SIGPROF
pending, so a SIGTERM or Ctrl-C went to one of our sleeping threads. CPython runs the handler
in the main thread only when it next runs Python code, and a main thread asleep in `select()`
for a minute did not wake for a minute (measured: 3 runs in 60 under load ignored SIGTERM).
Blocking every signal in our threads leaves them to the program's threads, as without us.
"""

from __future__ import annotations

import signal
import threading
from typing import Callable


def start_helper_thread(target: Callable[[], object], name: str) -> threading.Thread:
    """Start a daemon thread that runs `target` with every signal blocked."""

    def run() -> None:
        if hasattr(signal, "pthread_sigmask"):
            signal.pthread_sigmask(signal.SIG_BLOCK, signal.valid_signals())
        target()

    thread = threading.Thread(target=run, name=name, daemon=True)
    thread.start()
    return thread
