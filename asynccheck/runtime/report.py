"""The run-time report as data: frozen dataclasses, `to_json()` in schema 1, and `render()`.

`TimingEventLoop` and friends only record into a `Recorder`; `Recorder.report()` freezes what
they saw into one `Report`. Terminal text, JSON, speedscope and HTML are functions of that value
(see `asynccheck.runtime.render`), so a test can assert on data and never parse text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from asynccheck.runtime.sites import Site

__all__ = ["BlockingCall", "LagPoint", "Leak", "Report", "Site", "SlowCallback"]

SCHEMA_VERSION = 1


def _stack_json(stack: tuple[Site, ...]) -> list[dict[str, object]]:
    return [s.to_json() for s in stack]


@dataclass(frozen=True)
class SlowCallback:
    """One callback that held the loop for at least the threshold."""

    duration_ms: float
    callback: str  # what the loop was running: "<Handle Task.__step()>" style
    task: str | None  # task name; None for plain call_soon/call_later/I/O callbacks
    coroutine: str | None
    location: Site  # innermost user frame while it ran: where the time went
    stack: tuple[Site, ...]  # outermost first, from the callback's entry point
    blocking_call: str | None = None  # a known blocking call seen while it ran
    task_created_at: Site | None = None
    at_s: float = 0.0  # when it started, seconds after monitoring began
    samples: int = 0  # stack samples behind `location` (0: the watchdog never saw it)

    def sort_key(self) -> tuple[float, str, int]:
        return (-self.duration_ms, self.location.file, self.location.line)

    def to_json(self) -> dict[str, Any]:
        return {
            "duration_ms": round(self.duration_ms, 3),
            "task": self.task,
            "coroutine": self.coroutine,
            "callback": self.callback,
            "location": self.location.to_json(),
            "stack": _stack_json(self.stack),
            "blocking_call": self.blocking_call,
            "task_created_at": self.task_created_at.to_json() if self.task_created_at else None,
            "at_s": round(self.at_s, 6),
            "samples": self.samples,
        }


@dataclass(frozen=True)
class BlockingCall:
    """A known blocking call made on the loop's thread while a callback ran.

    Identical calls (same call, same line) are folded into one entry; `duration_ms` is the
    longest of them and `count` says how many there were.
    """

    call: str  # "time.sleep", "socket.connect", ...
    duration_ms: float
    task: str | None
    location: Site
    stack: tuple[Site, ...]
    count: int = 1
    at_s: float = 0.0
    exact: bool = True  # False: duration is an upper bound (no way to see the call return)

    def sort_key(self) -> tuple[float, str, int]:
        return (-self.duration_ms, self.location.file, self.location.line)

    def to_json(self) -> dict[str, Any]:
        return {
            "call": self.call,
            "duration_ms": round(self.duration_ms, 3),
            "task": self.task,
            "location": self.location.to_json(),
            "stack": _stack_json(self.stack),
            "count": self.count,
            "at_s": round(self.at_s, 6),
            "exact": self.exact,
        }


@dataclass(frozen=True)
class Leak:
    """Something left behind when a loop closed."""

    kind: str  # "task" | "resource" | "exception"
    what: str
    created_at: Site | None

    def sort_key(self) -> tuple[str, str, int, str]:
        c = self.created_at
        return (self.kind, c.file if c else "", c.line if c else 0, self.what)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "what": self.what,
            "created_at": self.created_at.to_json() if self.created_at else None,
        }


@dataclass(frozen=True)
class LagPoint:
    """One loop iteration long enough to draw on the lag timeline."""

    at_s: float
    duration_ms: float
    task: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "at_s": round(self.at_s, 6),
            "duration_ms": round(self.duration_ms, 3),
            "task": self.task,
        }


@dataclass(frozen=True)
class Report:
    """Everything one monitored run saw. `to_json()` is the schema-1 dict of DESIGN.md."""

    argv: tuple[str, ...] = ()
    exit_code: int = 0
    wall_s: float = 0.0
    threshold_ms: float = 100.0
    slow_callbacks: tuple[SlowCallback, ...] = ()  # longest first, ties by (file, line)
    blocking_calls: tuple[BlockingCall, ...] = ()
    leaks: tuple[Leak, ...] = ()
    loop_lag: tuple[LagPoint, ...] = ()  # in time order; includes the slow callbacks
    loops: int = 0  # how many monitored loops ran
    profile_html: str | None = None
    profile_speedscope: str | None = None
    # The pyinstrument Session, when profiling was on. Not part of the JSON: it has its own.
    profile_session: Any = field(default=None, compare=False, repr=False)

    def to_json(self) -> dict[str, Any]:
        return {
            "version": SCHEMA_VERSION,
            "argv": list(self.argv),
            "exit_code": self.exit_code,
            "wall_s": round(self.wall_s, 6),
            "threshold_ms": self.threshold_ms,
            "slow_callbacks": [s.to_json() for s in self.slow_callbacks],
            "blocking_calls": [b.to_json() for b in self.blocking_calls],
            "leaks": [leak.to_json() for leak in self.leaks],
            "profile": {"html": self.profile_html, "speedscope": self.profile_speedscope},
            "loop_lag": [p.to_json() for p in self.loop_lag],
            "loops": self.loops,
        }

    @property
    def blocked(self) -> bool:
        """True when some callback held the loop for at least the threshold."""
        return bool(self.slow_callbacks)

    def render(self, fmt: str = "text", **options: Any) -> str:
        """Render with one of `asynccheck.runtime.render.RENDERERS` (text, json, html, speedscope)."""
        from asynccheck.runtime.render import RENDERERS

        return RENDERERS[fmt](self, **options)
