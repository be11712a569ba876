"""The run-time report as data: frozen dataclasses, `to_json()` in schema 1, and `render()`.

`TimingEventLoop` and friends only record into a `Recorder`; `Recorder.report()` freezes what
they saw into one `Report`. Terminal text, JSON, speedscope and HTML are functions of that value
(`asynccheck.runtime.render.render(report, fmt)`), so a test can assert on data and never parse
text. This module imports nothing of the runtime but `sites`: data flows into it, never back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from asynccheck.runtime.sites import Site

__all__ = [
    "BlockingCall",
    "CallbackGroup",
    "Hotspot",
    "LagPoint",
    "Leak",
    "Report",
    "Site",
    "SlowCallback",
    "Stall",
]

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
    thread: str = "MainThread"  # the thread its loop ran on
    pid: int = 0  # the process its loop ran in (children are merged into the parent's report)
    request: str | None = None  # "GET /orders": the aiohttp / ASGI request it was serving
    gil_held_ms: float = 0.0  # time no sample could be taken: a C call held the GIL

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
            "thread": self.thread,
            "pid": self.pid,
            "request": self.request,
            "gil_held_ms": round(self.gil_held_ms, 3),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SlowCallback:
        created = data.get("task_created_at")
        return cls(
            duration_ms=float(data["duration_ms"]),
            callback=str(data.get("callback", "")),
            task=data.get("task"),
            coroutine=data.get("coroutine"),
            location=Site.from_json(data["location"]),
            stack=tuple(Site.from_json(s) for s in data.get("stack", ())),
            blocking_call=data.get("blocking_call"),
            task_created_at=Site.from_json(created) if created else None,
            at_s=float(data.get("at_s", 0.0)),
            samples=int(data.get("samples", 0)),
            thread=str(data.get("thread", "MainThread")),
            pid=int(data.get("pid", 0)),
            request=data.get("request"),
            gil_held_ms=float(data.get("gil_held_ms", 0.0)),
        )


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
    pid: int = 0

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
            "pid": self.pid,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> BlockingCall:
        return cls(
            call=str(data["call"]),
            duration_ms=float(data["duration_ms"]),
            task=data.get("task"),
            location=Site.from_json(data["location"]),
            stack=tuple(Site.from_json(s) for s in data.get("stack", ())),
            count=int(data.get("count", 1)),
            at_s=float(data.get("at_s", 0.0)),
            exact=bool(data.get("exact", True)),
            pid=int(data.get("pid", 0)),
        )


@dataclass(frozen=True)
class Leak:
    """Something left behind when a loop closed."""

    kind: str  # "task" | "resource" | "exception"
    what: str
    created_at: Site | None
    pid: int = 0

    def sort_key(self) -> tuple[str, str, int, str]:
        c = self.created_at
        return (self.kind, c.file if c else "", c.line if c else 0, self.what)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "what": self.what,
            "created_at": self.created_at.to_json() if self.created_at else None,
            "pid": self.pid,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Leak:
        created = data.get("created_at")
        return cls(
            kind=str(data["kind"]),
            what=str(data["what"]),
            created_at=Site.from_json(created) if created else None,
            pid=int(data.get("pid", 0)),
        )


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

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LagPoint:
        return cls(float(data["at_s"]), float(data["duration_ms"]), data.get("task"))


@dataclass(frozen=True)
class CallbackGroup:
    """Callbacks of one site inside a stall (or a hotspot's members): how many, how long."""

    location: Site
    callback: str
    task: str | None
    count: int
    total_ms: float
    max_ms: float

    def to_json(self) -> dict[str, Any]:
        return {
            "location": self.location.to_json(),
            "callback": self.callback,
            "task": self.task,
            "count": self.count,
            "total_ms": round(self.total_ms, 3),
            "max_ms": round(self.max_ms, 3),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CallbackGroup:
        return cls(
            location=Site.from_json(data["location"]),
            callback=str(data.get("callback", "")),
            task=data.get("task"),
            count=int(data["count"]),
            total_ms=float(data["total_ms"]),
            max_ms=float(data["max_ms"]),
        )


@dataclass(frozen=True)
class Stall:
    """One loop iteration that held the loop past the threshold although no single callback
    did: many shorter callbacks back to back. Its callbacks are grouped by site."""

    duration_ms: float
    start_s: float  # seconds after monitoring began
    callbacks: tuple[CallbackGroup, ...]  # by total_ms, largest first
    thread: str = "MainThread"
    pid: int = 0

    def sort_key(self) -> tuple[float, float]:
        return (-self.duration_ms, self.start_s)

    def to_json(self) -> dict[str, Any]:
        return {
            "duration_ms": round(self.duration_ms, 3),
            "start_s": round(self.start_s, 6),
            "callbacks": [c.to_json() for c in self.callbacks],
            "thread": self.thread,
            "pid": self.pid,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Stall:
        return cls(
            duration_ms=float(data["duration_ms"]),
            start_s=float(data.get("start_s", 0.0)),
            callbacks=tuple(CallbackGroup.from_json(c) for c in data.get("callbacks", ())),
            thread=str(data.get("thread", "MainThread")),
            pid=int(data.get("pid", 0)),
        )


@dataclass(frozen=True)
class Hotspot:
    """Slow callbacks grouped by where the time went: the line to fix, and what it cost."""

    location: Site
    count: int
    total_ms: float
    max_ms: float
    blocking_call: str | None = None  # the blocking call of its longest callback, if any
    example: str = ""  # who, for the longest one: "task 'Task-7' handle()" or the callback

    def sort_key(self) -> tuple[float, str, int]:
        return (-self.total_ms, self.location.file, self.location.line)

    def to_json(self) -> dict[str, Any]:
        return {
            "location": self.location.to_json(),
            "count": self.count,
            "total_ms": round(self.total_ms, 3),
            "max_ms": round(self.max_ms, 3),
            "blocking_call": self.blocking_call,
            "example": self.example,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Hotspot:
        return cls(
            location=Site.from_json(data["location"]),
            count=int(data["count"]),
            total_ms=float(data["total_ms"]),
            max_ms=float(data["max_ms"]),
            blocking_call=data.get("blocking_call"),
            example=str(data.get("example", "")),
        )


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
    stalls: tuple[Stall, ...] = ()  # longest first
    hotspots: tuple[Hotspot, ...] = ()  # by total time, largest first
    slow_callbacks_seen: int = 0  # all slow callbacks; `slow_callbacks` keeps the longest ones
    processes: tuple[int, ...] = ()  # pids whose loops are in this report (the parent first)
    notes: tuple[str, ...] = ()  # what the reader must know: "no event loop was observed: ..."
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
            "stalls": [st.to_json() for st in self.stalls],
            "hotspots": [h.to_json() for h in self.hotspots],
            "slow_callbacks_seen": max(self.slow_callbacks_seen, len(self.slow_callbacks)),
            "processes": list(self.processes),
            "notes": list(self.notes),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Report:
        """The inverse of `to_json()` (the pyinstrument session is not part of it)."""
        profile = data.get("profile") or {}
        return cls(
            argv=tuple(data.get("argv", ())),
            exit_code=int(data.get("exit_code", 0)),
            wall_s=float(data.get("wall_s", 0.0)),
            threshold_ms=float(data.get("threshold_ms", 100.0)),
            slow_callbacks=tuple(SlowCallback.from_json(d) for d in data.get("slow_callbacks", ())),
            blocking_calls=tuple(BlockingCall.from_json(d) for d in data.get("blocking_calls", ())),
            leaks=tuple(Leak.from_json(d) for d in data.get("leaks", ())),
            loop_lag=tuple(LagPoint.from_json(d) for d in data.get("loop_lag", ())),
            loops=int(data.get("loops", 0)),
            stalls=tuple(Stall.from_json(d) for d in data.get("stalls", ())),
            hotspots=tuple(Hotspot.from_json(d) for d in data.get("hotspots", ())),
            slow_callbacks_seen=int(data.get("slow_callbacks_seen", 0)),
            processes=tuple(int(p) for p in data.get("processes", ())),
            notes=tuple(str(n) for n in data.get("notes", ())),
            profile_html=profile.get("html"),
            profile_speedscope=profile.get("speedscope"),
        )

    @property
    def blocked(self) -> bool:
        """True when some callback held the loop for at least the threshold."""
        return bool(self.slow_callbacks)
