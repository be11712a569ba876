"""Planted truth: every piece of slow work a test server does measures itself and says so here.

One JSON object a line, appended to the file named by $ASYNCCHECK_TRUTH (nothing is written
when it is unset):

    {"kind": "sleep", "path": "/sleep", "duration_ms": 201.3, "pid": 4242, "thread": "MainThread"}

The file is opened once, at import, with O_APPEND, and each line is one `os.write`: no `open()`
(an audit event the profiler would see) while a callback runs, and lines from several worker
processes never interleave.
"""

from __future__ import annotations

import json
import os
import threading

ENV = "ASYNCCHECK_TRUTH"

_path = os.environ.get(ENV)
_fd = os.open(_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644) if _path else None


def record(kind: str, path: str, duration_ms: float) -> None:
    """Append one event: `kind` of work done while serving `path`, and how long it really took."""
    if _fd is None:
        return
    event = {
        "kind": kind,
        "path": path,
        "duration_ms": round(duration_ms, 3),
        "pid": os.getpid(),
        "thread": threading.current_thread().name,
    }
    os.write(_fd, (json.dumps(event) + "\n").encode())


def read(path: str | os.PathLike[str]) -> list[dict[str, object]]:
    """Every event in a truth file, in the order they were written."""
    try:
        with open(path, encoding="utf-8") as f:
            return [json.loads(line) for line in f if line.strip()]
    except FileNotFoundError:
        return []
