"""The profile of a monitored program: sampled, folded as it goes, handed over as a pyinstrument
`Session` that pyinstrument's own renderers draw (console tree, HTML, speedscope).

**How it samples (the default, `sampler="signal"`).** pyinstrument's sampler is a
`sys.setprofile` hook: it runs on every call and return of the whole program, and on a server
that is most of what profiling costs. Ours costs per sample instead, in two halves that each
see the profiled (main) thread only when they can do so without bias:
- **running**: a CPU timer (`setitimer(ITIMER_PROF)`, `interval` of CPU time) raises SIGPROF;
  its handler runs in the main thread at the next bytecode and charges the time the thread
  was busy since the last such sample (on a CPU, or ready and waiting for one) to the stack it
  interrupted;
- **waiting** (in `select()`, a blocking call, any call that let go of the GIL): a thread
  wakes every `interval` and, if it gets the GIL at once (the main thread is not running
  Python), charges the rest of the wall time since its last look to the main thread's stack.
A thread that samples everything itself would be wrong, not just rough: it gets the GIL when
the main thread lets go of it, that is, when the loop goes back to `select()` or a callback
writes to a socket, so the time of every short callback lands on those lines (measured: 95%
of a busy loop's time charged to `select`).
Measured with `bench/runtime_overhead.py` (CPU time, ratio to the plain loop, medians of one
run): an aiohttp server under load (`--only http`): profile mode (monitor with blocking
detection + this sampler) 1.24x, the monitor alone 1.24x, pyinstrument alone as its CLI runs
it 2.25x, profile mode as it was (pyinstrument, `async_mode="enabled"`) 2.74x; 100 tasks x
2000 `sleep(0)` (`--only callbacks`): 1.19x, 1.14x, 4.53x and 5.80x.
What it gives up against pyinstrument: a C function is not its own leaf (its time is charged
to the line that called it), and only the main thread is sampled. Started from another
thread, on Windows, or when the program already uses SIGPROF, pyinstrument's sampler runs.
A loop that set a signal wake-up fd (`loop.add_signal_handler`) is woken by each SIGPROF,
which it ignores: at most one extra iteration per `interval` of CPU time.

**`async_mode="enabled"` / `"strict"`** (or `sampler="pyinstrument"`) run pyinstrument's
sampler instead: time spent waiting at an `await` is then charged to the coroutine that
awaited, which shows whose wall-clock time it was. Worth it for a script or one request; on a
server it costs 2-3x the server's CPU, so it is not the default (pyinstrument's own CLI does
not use async mode for whole programs either).

**Memory stays flat.** pyinstrument keeps one record per sample for the whole run: at 2,500
short tasks a second (`bench/runtime_overhead.py --memory 60`), profile mode as it was grew
135 MB in 60 s (49,000 records); now 0.8 MB (208 records). Identical stacks are folded as they
arrive (`FoldedRecords`): the session holds one record per distinct stack with its summed
time, which is all the aggregate views (the call tree, HTML, speedscope's left-heavy view)
need. What is lost is the order of samples: a timeline view shows each distinct stack once,
in the order stacks were first seen.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from types import CodeType, FrameType
from typing import Any, Literal

from asynccheck.runtime.helper_thread import start_helper_thread
from asynccheck.runtime.ids import identity

# 5 ms: each look at a waiting thread is a wake-up of ours (~35 us of CPU here: at 1 ms that is
# 3.6% of a core for an idle server, at 5 ms 0.7%), and 200 samples a second are plenty for a
# run of a few seconds. pyinstrument's sampler, when asked for, uses the same interval (from
# 4 ms on, its cheaper coarse clock).
DEFAULT_INTERVAL = 0.005
# A look is "at once" if the sampling thread got the GIL within this of its wake-up.
_PROMPT_S = 0.001
_MAX_CACHED = 50_000  # frame strings kept (they keep their code objects alive)
# The sampler's own sleep must not go through blocking.py's time.sleep wrapper (Python < 3.13).
_sleep = getattr(time.sleep, "__wrapped__", time.sleep)

AsyncMode = Literal["disabled", "enabled", "strict"]
Sampler = Literal["signal", "pyinstrument"]


@dataclass(frozen=True)
class ProfileOptions:
    interval: float = DEFAULT_INTERVAL
    # "disabled": the loop and its callbacks as they ran. "enabled": time at an `await` is
    # charged to the coroutine that awaited ("strict": other contexts are `<out-of-context>`);
    # both need pyinstrument's own sampler, which costs per call (see the module docstring).
    async_mode: str = "disabled"
    sampler: str = "signal"

    @property
    def uses_pyinstrument(self) -> bool:
        return self.sampler == "pyinstrument" or self.async_mode != "disabled"


Stack = tuple[str, ...]


class FoldedRecords(list):  # type: ignore[type-arg]
    """pyinstrument's `frame_records`, one per distinct stack: `append((stack, seconds))` adds
    the time to the record of an identical stack seen before. It is a list, so a pyinstrument
    session can hold it as it is; `samples` counts the appends."""

    def __init__(self) -> None:
        super().__init__()
        self._index: dict[Stack, int] = {}
        self.samples = 0

    def append(self, record: tuple[Iterable[str], float]) -> None:
        stack, seconds = record
        key = stack if isinstance(stack, tuple) else tuple(stack)
        self.samples += 1
        i = self._index.get(key)
        if i is None:
            self._index[key] = len(self)
            super().append((key, seconds))
        else:
            self[i] = (key, self[i][1] + seconds)


# -- sampling --------------------------------------------------------------------------------------
def _class_of(code: CodeType) -> str | None:
    """The class a method is defined in, for pyinstrument's `Class.method` labels (its own
    sampler reads the class of `self` from the frame's locals, which costs more)."""
    names = code.co_varnames
    if code.co_argcount < 1 or not names or names[0] not in ("self", "cls"):
        return None
    parts = getattr(code, "co_qualname", code.co_name).split(".")
    if len(parts) < 2 or parts[-2] == "<locals>":
        return None
    return parts[-2]


def frame_info(code: CodeType, line: int | None) -> str:
    """A frame as pyinstrument writes it: `name NUL file NUL firstline`, then attributes (class
    name, line number, and `h1` for frames that set `__tracebackhide__`, which it hides)."""
    info = f"{code.co_name}\x00{code.co_filename}\x00{code.co_firstlineno}"
    cls = _class_of(code)
    if cls:
        info += f"\x01c{cls}"
    if line and line > 0:
        info += f"\x01l{line}"
    if "__tracebackhide__" in code.co_varnames:
        info += "\x01h1"
    return info


class _StackReader:
    """Stacks as tuples of pyinstrument frame strings, root first. One string per (code,
    instruction) is made once and reused: a sample costs dictionary look-ups, and identical
    stacks are tuples of the same strings (cheap to hash when folding)."""

    def __init__(self, thread: threading.Thread) -> None:
        self.root = f"{thread.name}\x00<thread>\x00{thread.ident}"
        # (identity(code), instruction offset) -> (code, string); the code is kept to check identity
        self._cache: dict[tuple[int, int], tuple[CodeType, str]] = {}

    def stack(self, frame: FrameType | None) -> Stack:
        cache = self._cache
        infos = []
        while frame is not None:
            code = frame.f_code
            key = (identity(code), frame.f_lasti)
            hit = cache.get(key)
            if hit is None or hit[0] is not code:
                if len(cache) >= _MAX_CACHED:  # code made at run time (eval, templates)
                    cache.clear()
                hit = cache[key] = (code, frame_info(code, frame.f_lineno))
            infos.append(hit[1])
            frame = frame.f_back
        infos.append(self.root)
        infos.reverse()
        return tuple(infos)


def can_sample_with_signals() -> bool:
    """SIGPROF is ours to use: a POSIX main thread, and nobody else's handler or timer."""
    return (
        hasattr(signal, "SIGPROF")
        and hasattr(signal, "setitimer")
        and hasattr(time, "pthread_getcpuclockid")
        and threading.current_thread() is threading.main_thread()
        and signal.getsignal(signal.SIGPROF) in (signal.SIG_DFL, None)
        and signal.getitimer(signal.ITIMER_PROF) == (0.0, 0.0)
    )


class SignalSampler:
    """Samples the main thread: SIGPROF while it runs, a thread's look while it waits (see the
    module docstring). Each half folds into its own records: they run in different threads."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        main = threading.main_thread()
        self.reader = _StackReader(main)
        self.running = FoldedRecords()  # written by the signal handler (main thread)
        self.waiting = FoldedRecords()  # written by the sampling thread
        self._thread_id = main.ident
        self._clock = _ThreadClock(main)
        self._last_busy = 0.0
        self._in_handler = False
        self._stopping = False
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._last_busy = self._clock.busy()
        signal.signal(signal.SIGPROF, self._on_sigprof)
        signal.siginterrupt(signal.SIGPROF, False)  # restart system calls it interrupts
        signal.setitimer(signal.ITIMER_PROF, self.interval, self.interval)
        self._thread = start_helper_thread(self._look, "asynccheck-profiler")

    def stop(self) -> FoldedRecords:
        """Stop both halves; their records, merged. From another thread (a program that ends
        in `os._exit` there) the handler stays, idle: only the main thread may change it."""
        signal.setitimer(signal.ITIMER_PROF, 0.0, 0.0)
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGPROF, signal.SIG_DFL)
        self._stopping = True
        if self._thread is not None and self._thread.is_alive():
            self._thread.join()
        self._clock.close()
        return merge(self.waiting, self.running)

    def _on_sigprof(self, signum: int, frame: FrameType | None) -> None:
        if self._in_handler or frame is None:
            return
        self._in_handler = True
        try:
            now = self._clock.busy()
            spent, self._last_busy = now - self._last_busy, now
            if spent > 0.0:
                self.running.append((self.reader.stack(frame), spent))
        finally:
            self._in_handler = False

    def _look(self) -> None:
        """Charge the main thread's waiting time (wall time it was neither on a CPU nor
        waiting for one) to where it waits. The GIL comes to this thread when the main thread
        lets go of it, that is, where it waits: looks that had to wait for the GIL found it
        still running (that time is SIGPROF's), and hand their waiting time on to the next look
        that did not."""
        perf = time.perf_counter
        frames = sys._current_frames
        tid = self._thread_id
        last_wall, last_busy = perf(), self._clock.busy()
        owed = 0.0  # waiting time not charged yet
        while not self._stopping:
            due = perf() + self.interval
            _sleep(self.interval)
            wall = perf()
            try:
                busy = self._clock.busy()
            except OSError:  # the main thread has ended
                return
            owed += max((wall - last_wall) - (busy - last_busy), 0.0)
            last_wall, last_busy = wall, busy
            if wall - due >= _PROMPT_S or owed <= 0.0:
                continue
            frame = frames().get(tid)  # type: ignore[arg-type]
            if frame is None:
                return
            try:
                self.waiting.append((self.reader.stack(frame), owed))
            finally:
                del frame
            owed = 0.0


class _ThreadClock:
    """How long a thread has been busy: on a CPU, or ready to run and waiting for one (the
    time a loaded machine keeps it off the CPU is the running code's, as in a wall-clock
    profile, not time spent waiting for I/O). Linux's schedstat has both; elsewhere, CPU time
    only."""

    def __init__(self, thread: threading.Thread) -> None:
        self._fd: int | None = None
        try:
            self._fd = os.open(f"/proc/self/task/{thread.native_id}/schedstat", os.O_RDONLY)
            self.busy()
        except (OSError, ValueError, AttributeError):
            self.close()
        self._cpu_clock = time.pthread_getcpuclockid(thread.ident)  # type: ignore[arg-type]

    def busy(self) -> float:
        if self._fd is not None:
            on_cpu, waiting_for_cpu = os.pread(self._fd, 64, 0).split()[:2]
            return (int(on_cpu) + int(waiting_for_cpu)) / 1e9
        return time.clock_gettime(self._cpu_clock)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def merge(*parts: FoldedRecords) -> FoldedRecords:
    merged = FoldedRecords()
    for records in parts:
        for record in list(records):
            merged.append(record)
    merged.samples = sum(records.samples for records in parts)
    return merged


# -- one profile run ------------------------------------------------------------------------------
class ProfileSession:
    """One profile around a program; `stop()` returns the pyinstrument Session."""

    def __init__(self, options: ProfileOptions | None = None) -> None:
        self.options = options or ProfileOptions()
        self.session: Any = None
        self._records = FoldedRecords()  # what is held while the program runs
        self._sampler: SignalSampler | None = None
        self._profiler: Any = None
        self._start_stack: list[str] = []
        self._started_at = 0.0
        self._started_cpu = 0.0

    @property
    def is_running(self) -> bool:
        if self._profiler is not None:
            return bool(self._profiler.is_running)
        return self._sampler is not None

    @property
    def sampler(self) -> str:
        """The sampler in use: "signal" or "pyinstrument" ("none" before `start()`)."""
        if self._profiler is not None:
            return "pyinstrument"
        return "signal" if self._sampler is not None or self.session is not None else "none"

    def start(self) -> None:
        caller = sys._getframe(1)
        if self.options.uses_pyinstrument or not can_sample_with_signals():
            self._start_pyinstrument(caller)
            return
        self._sampler = SignalSampler(self.options.interval)
        self._start_stack = list(self._sampler.reader.stack(caller))
        self._started_at, self._started_cpu = time.time(), time.process_time()
        self._sampler.start()

    def _start_pyinstrument(self, caller: FrameType) -> None:
        from pyinstrument import Profiler

        self._profiler = Profiler(
            interval=self.options.interval,
            async_mode=self.options.async_mode,  # type: ignore[arg-type]
        )
        self._profiler.start(caller_frame=caller)
        active = getattr(self._profiler, "_active_session", None)
        if active is not None and isinstance(getattr(active, "frame_records", None), list):
            # pyinstrument appends every sample to this list: fold them as they come
            active.frame_records = self._records

    def held_records(self) -> FoldedRecords:
        """What the profile holds in memory so far (for tests and benchmarks)."""
        if self._sampler is not None:
            return merge(self._sampler.waiting, self._sampler.running)
        return self._records

    def stop(self, description: str | None = None) -> Any:
        """Stop sampling (once; later calls return the same session)."""
        if self.session is not None or not self.is_running:
            return self.session
        if self._profiler is not None:
            raw = self._profiler.stop()
            if raw.frame_records is self._records:
                raw.sample_count = self._records.samples
        else:
            sampler, self._sampler = self._sampler, None
            assert sampler is not None
            self._records = sampler.stop()
            raw = _session(
                self._records,
                start_time=self._started_at,
                duration=time.time() - self._started_at,
                interval=self.options.interval,
                start_call_stack=self._start_stack,
                cpu_time=time.process_time() - self._started_cpu,
                description=description or "asynccheck profile",
            )
        self.session = trim_session(raw, description)
        return self.session


def _session(
    records: list[Any],
    *,
    start_time: float,
    duration: float,
    interval: float,
    start_call_stack: list[str],
    cpu_time: float,
    description: str,
    sample_count: int | None = None,
) -> Any:
    from pyinstrument.session import Session

    return Session(
        frame_records=records,
        start_time=start_time,
        duration=duration,
        min_interval=interval,
        max_interval=interval,
        sample_count=getattr(records, "samples", len(records))
        if sample_count is None
        else sample_count,
        start_call_stack=start_call_stack,
        target_description=description,
        cpu_time=cpu_time,
        sys_path=list(sys.path),
        sys_prefixes=Session.current_sys_prefixes(),
    )


# -- trimming ---------------------------------------------------------------------------------------
_OWN_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def _ours(frame_info: str) -> bool:
    parts = frame_info.split("\x00", 2)
    if len(parts) < 2:
        return False
    name = parts[1]
    return name == "<frozen runpy>" or name.endswith("runpy.py") or name.startswith(_OWN_DIR)


def _identifier(frame_info: str) -> str:
    return frame_info.split("\x01", 1)[0]


def trim_session(session: Any, description: str | None = None) -> Any:
    """The session without asynccheck's and runpy's frames, which wrap every program, its
    identical stacks folded, in tree order.

    Every renderer (console, HTML, speedscope) then starts at the user's `<module>`.
    """
    # Frames that were on the stack when profiling started (the CLI, click) are the same at the
    # root of every sample: cut that prefix, keeping the thread's pseudo-frame.
    prefix = [_identifier(f) for f in session.start_call_stack[1:]]

    def trim(stack: Stack) -> Stack:
        i = 1
        while i - 1 < len(prefix) and i < len(stack) and _identifier(stack[i]) == prefix[i - 1]:
            i += 1
        return tuple(f for f in stack[:1] + stack[i:] if not _ours(f))

    def runs_user_code(stack: Stack) -> bool:
        # Samples taken while runpy was still locating and compiling the script, or while
        # asynccheck itself ran, are the wrapper's cost, not the program's: drop them.
        runpy = [f for f in stack if "runpy" in f.split("\x00", 2)[1:2][0]] if stack else []
        return not runpy or any(f.startswith("_run_code\x00") for f in runpy)

    folded: dict[Stack, float] = {}
    for stack, seconds in session.frame_records:
        stack = tuple(stack)
        if not runs_user_code(stack):
            continue
        kept = trim(stack)
        if len(kept) > 1:
            folded[kept] = folded.get(kept, 0.0) + seconds
    return _session(
        tree_order(folded),
        start_time=session.start_time,
        duration=session.duration,
        interval=session.min_interval,
        start_call_stack=session.start_call_stack[:1],
        cpu_time=session.cpu_time,
        description=description or session.target_description,
        sample_count=session.sample_count,
    )


def tree_order(folded: dict[Stack, float]) -> list[tuple[list[str], float]]:
    """Records ordered so that stacks sharing a prefix are next to each other, siblings in the
    order they were first seen: pyinstrument builds its tree by comparing each record with
    the previous one, so this order gives one node per call path (a timeline, too, shows each
    path once)."""
    trie: dict[str, Any] = {}
    for stack in folded:
        node = trie
        for info in stack:
            node = node.setdefault(_identifier(info), {})
        node.setdefault("", []).append(stack)  # "" is never an identifier: the leaf's stacks
    out: list[tuple[list[str], float]] = []
    pending: list[dict[str, Any]] = [trie]
    while pending:
        node = pending.pop()
        for stack in node.get("", ()):
            out.append((list(stack), folded[stack]))
        pending.extend(child for key, child in reversed(node.items()) if key)
    return out


# -- rendering --------------------------------------------------------------------------------------
def speedscope_json(session: Any) -> str:
    from pyinstrument.renderers import SpeedscopeRenderer

    return SpeedscopeRenderer().render(session)


def html_page(session: Any) -> str:
    """pyinstrument's interactive page: self-contained (its JS and CSS are inlined)."""
    from pyinstrument.renderers import HTMLRenderer

    return HTMLRenderer().render(session)


def console_tree(session: Any, color: bool = False, unicode: bool = True) -> str:
    """The call tree, trimmed to frames that took at least 1% of the run."""
    from pyinstrument.renderers import ConsoleRenderer

    return ConsoleRenderer(
        unicode=unicode,
        color=color,
        processor_options={"filter_threshold": 0.01, "hide_regex": _HIDE},
    ).render(session)


# runpy and asynccheck's own frames are hidden from the tree: they wrap every program.
_HIDE = r".*(runpy|[\\/]asynccheck[\\/]runtime[\\/]).*"


def write_speedscope(session: Any, path: str | Path) -> str:
    p = Path(path)
    p.write_text(speedscope_json(session), encoding="utf-8")
    return str(p.resolve())
