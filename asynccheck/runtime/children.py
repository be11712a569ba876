"""How a monitored process ends, and how child processes' findings reach the parent's report.

`asynccheck profile` monitors the program's own process; `ChildProcesses` makes every Python
process the program starts report too:
- **spawned interpreters** (multiprocessing "spawn", `uvicorn --workers`, `subprocess` of
  `sys.executable`): the parent exports `ENV_VAR` (the settings and a private directory) and puts
  `bootstrap/` first on PYTHONPATH. Its `sitecustomize.py` calls `start_child()` once the child
  imports asyncio, which keeps a `monitor()` open for the rest of the interpreter and writes the
  child's `Report` at exit;
- **forked children** (multiprocessing "fork", a bare `os.fork()`): they inherit the parent's
  monitor; an at-fork hook makes them write their own report at exit instead of the parent's.

Every exit writes: the interpreter's normal exit (atexit), `os._exit()` (which multiprocessing's
forked children end with; wrapped while monitoring), and SIGTERM/SIGHUP through `ExitSignals`.
Each child writes `<pid>-<token>.started` when it begins and `<pid>-<token>.json` (atomically)
when it ends; the parent waits a moment for children still running, then `merge()`s what they
wrote, each finding marked with its pid, and says in `Report.notes` which ones it missed (a
child that had not begun monitoring yet by then is not known to it).
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from types import FrameType
from typing import Any, Callable, NoReturn

from asynccheck.runtime.install import Monitor, monitor
from asynccheck.runtime.report import Hotspot, Report, Site
from asynccheck.runtime.signal_relay import SignalRelay

__all__ = [
    "ENV_VAR",
    "ChildProcesses",
    "ChildReport",
    "ExitSignals",
    "Terminated",
    "die_by_signal",
    "merge",
    "start_child",
]

ENV_VAR = "ASYNCCHECK_PROFILE_CHILDREN"
BOOTSTRAP_DIR = str(Path(__file__).resolve().with_name("bootstrap"))
GRACE_S = 2.0  # how long the parent waits for children still running when the program ends

# Signals whose default action ends the process without running any Python code.
EXIT_SIGNALS: tuple[int, ...] = tuple(
    getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name)
)

# Helper processes multiprocessing starts for itself: they run no event loop and live until
# the parent exits, so following them would only make the parent wait for them.
_HELPERS = ("multiprocessing.resource_tracker", "multiprocessing.forkserver")


# -- ending a process ----------------------------------------------------------------------------
class Terminated(SystemExit):
    """SIGTERM or SIGHUP arrived: the program unwinds, the report is written, then the process
    dies by the signal after all. A `SystemExit` because asyncio lets only SystemExit and
    KeyboardInterrupt out of a task and a loop; any other exception raised in a task would be
    kept in the task and the program would run on."""

    def __init__(self, signum: int) -> None:
        super().__init__(128 + signum)
        self.signum = signum


class ExitSignals:
    """Turns SIGTERM and SIGHUP into `Terminated`, so a killed program still leaves its report.

    Why unwind instead of writing the report in the handler: a Python signal handler runs
    between two bytecodes of the main thread, wherever it happens to be: inside the recorder's
    lock, a logging handler's lock, the middle of a write to stderr. Freezing and writing the
    report from there would take those locks again (threading.Lock is not re-entrant) and could
    deadlock or interleave output. Raising instead leaves the interrupted code the way Ctrl-C
    does: `with` blocks release their locks, `finally` blocks run, and the report is written at
    the top by ordinary code. The costs: the program's `finally` blocks run, which they would
    not under a plain SIGTERM; and a main thread stuck in C code that never checks for signals
    only stops when it returns to Python (as with Ctrl-C). A second signal while the first one
    unwinds kills the process at once, without a report, so `kill` twice always works.

    Handlers go only where the disposition is SIG_DFL: an ignored signal (nohup) stays ignored,
    and a handler the program installs replaces ours. uvicorn does: it saves ours, shuts down
    gracefully on SIGTERM, restores ours and `raise_signal`s it, which then unwinds as above.

    Once the report is being written (`finish()`), signals, SIGINT too, are held until it is
    written: `die_by_signal(exits.received)` then ends the process.
    """

    def __init__(self) -> None:
        self.received: int | None = None
        self.finishing = False
        self.resent = False  # the first signal's exception was swallowed; raise it again
        self.nudged = False  # the relay sent the first signal again: its wake-up was lost
        self.relay: SignalRelay | None = None
        # What must still happen when a second signal ends the process at once (each checks
        # for itself whether it belongs to this process: a forked child shares this object).
        self.last_words: list[Callable[[], None]] = []

    def install(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        for signum in EXIT_SIGNALS:
            if signal.getsignal(signum) == signal.SIG_DFL:
                signal.signal(signum, self._handle)
        if self.relay is None:
            self.relay = SignalRelay.start(self, EXIT_SIGNALS)
        if not isinstance(sys.unraisablehook, _ResendSwallowed):
            sys.unraisablehook = _ResendSwallowed(self, sys.unraisablehook)

    def finish(self) -> None:
        """From now on a signal waits until the report is written."""
        self.finishing = True
        if threading.current_thread() is not threading.main_thread():
            return
        for signum in (signal.SIGINT, *EXIT_SIGNALS):
            if signal.getsignal(signum) not in (signal.SIG_IGN, None):
                signal.signal(signum, self._handle)

    def uninstall(self) -> None:
        """Give back what `install` took besides the handlers (the caller restores those)."""
        if self.relay is not None:
            self.relay.stop()
            self.relay = None

    def after_fork(self) -> None:
        self.received = None
        self.finishing = False
        self.nudged = False

    def handler(self) -> Callable[..., object]:
        return self._handle

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.nudged:
            self.nudged = False
            if self.received is not None:  # the relay's resend crossed the handler's own run
                return
        if self.resent:
            self.resent = False
        elif self.received is not None:  # the second one: a plain python would be dead already
            for last_words in self.last_words:
                with contextlib.suppress(Exception):
                    last_words()
            die_by_signal(signum)
        self.received = signum
        if not self.finishing and not _leaving(frame):
            raise Terminated(signum)


class _ResendSwallowed:
    """`sys.unraisablehook` while monitoring. A handler's exception raised while the main
    thread ran a weakref callback, a `__del__` or a GC callback is printed and dropped by
    CPython ("Exception ignored in ..."), and the program would run on as if never signalled
    (seen: asyncio's `WeakSet` of tasks). Ours is sent again instead, to unwind from wherever
    the main thread goes next; anything else goes to the hook that was there."""

    def __init__(self, exits: ExitSignals, previous: Callable[[Any], object]) -> None:
        self.exits = exits
        self.previous = previous

    def __call__(self, unraisable: Any) -> None:
        exc = unraisable.exc_value
        if isinstance(exc, Terminated) and not self.exits.finishing:
            self.exits.resent = True
            _trip_later(exc.signum)
            return
        self.previous(unraisable)


def _trip_later(signum: int) -> None:
    """Send `signum` to the main thread again, in a millisecond, from another thread: once the
    code that dropped the exception has returned. Not from here: any way of marking a signal
    has its handler run at the next bytecode, in this hook, where its exception is dropped."""
    main = threading.main_thread().ident
    assert main is not None
    timer = threading.Timer(0.001, signal.pthread_kill, (main, signum))
    timer.daemon = True
    timer.start()


def die_by_signal(signum: int) -> NoReturn:
    """End this process by `signum`, so its parent sees what it would see for a plain python."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            if stream is not None:
                stream.flush()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signum, signal.SIG_DFL)
        if hasattr(signal, "pthread_sigmask"):
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signum})
        os.kill(os.getpid(), signum)
        time.sleep(0.1)  # delivery is immediate for an unblocked signal; this is a safety net
    _real_exit(128 + signum)  # only a thread other than the main one can get here


def finalize_interpreter() -> None:
    """What the interpreter does at exit before it goes away: join the non-daemon threads
    (threading's own exit hooks first, which stop idle executor workers), then run the atexit
    handlers (multiprocessing's joins its children there). `threading._shutdown` is private
    but it is the one entry point for this; multiprocessing's forked children call it too."""
    shutdown = getattr(threading, "_shutdown", None)
    if shutdown is not None and threading.current_thread() is threading.main_thread():
        shutdown()
    atexit._run_exitfuncs()


# -- the settings a child receives -----------------------------------------------------------------
@dataclass(frozen=True)
class ChildSettings:
    """What `asynccheck profile` hands its children through `ENV_VAR`."""

    directory: str
    slow_callback_ms: float
    detect_blocking: bool = True
    trace_leaks: bool = False

    def to_env(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_env(cls, value: str | None) -> ChildSettings | None:
        if not value:
            return None
        try:
            data = json.loads(value)
            return cls(
                directory=str(data["directory"]),
                slow_callback_ms=float(data["slow_callback_ms"]),
                detect_blocking=bool(data.get("detect_blocking", True)),
                trace_leaks=bool(data.get("trace_leaks", False)),
            )
        except (ValueError, KeyError, TypeError):
            return None


@dataclass(frozen=True)
class ChildReport:
    """One child's report as it wrote it, and when its monitoring began (Unix time)."""

    pid: int
    started_unix: float
    report: Report


# -- the monitoring session of this process --------------------------------------------------------
class _Session:
    """This process's part: its monitor, how it exits, where its report goes."""

    def __init__(
        self,
        *,
        settings: ChildSettings,
        monitor: Monitor,
        exits: ExitSignals,
        is_child: bool,
        profiling: bool = False,
    ) -> None:
        self.pid = os.getpid()
        self.token = uuid.uuid4().hex[:12]
        self.settings = settings
        self.monitor = monitor
        self.exits = exits
        self.is_child = is_child
        self.profiling = profiling
        self.written = False
        # The parent's own way out through os._exit(): set by profile_program().
        self.on_os_exit: Callable[[int], None] | None = None

    def _path(self, suffix: str) -> Path:
        return Path(self.settings.directory) / f"{self.pid}-{self.token}{suffix}"

    def announce(self) -> None:
        """Leave a mark, so that the parent knows to wait for (or miss) this child's report."""
        with contextlib.suppress(OSError):
            self._path(".started").touch()

    def write_report(self, exit_code: int) -> None:
        """Freeze this child's findings into `<pid>-<token>.json` (once; errors are swallowed:
        the parent may be gone, and a child must never fail because of us)."""
        if self.written or not self.is_child or self.pid != os.getpid():
            return
        self.written = True
        with contextlib.suppress(Exception):
            report = self.monitor.report(argv=tuple(sys.argv), exit_code=exit_code)
            envelope = {
                "pid": self.pid,
                "started_unix": time.time() - report.wall_s,
                "report": report.to_json(),
            }
            final = self._path(".json")
            partial = final.with_suffix(".partial")
            partial.write_text(json.dumps(envelope), encoding="utf-8")
            os.replace(partial, final)

    def exit_code(self, status: int) -> int:
        return 128 + self.exits.received if self.exits.received else status


_session: _Session | None = None
_real_exit = os._exit
_hooks_installed = False


def _leaving(frame: FrameType | None, depth: int = 4) -> bool:
    """Whether the signal interrupted `_os_exit` (or what it calls) before it could mark the
    report as being written: raising there would skip the report (seen: a pool worker told to
    stop by `terminate()` just as it left through `os._exit`). `_os_exit` writes it and then
    dies by the signal."""
    while frame is not None and depth > 0:
        if frame.f_code is _os_exit.__code__:
            return True
        frame, depth = frame.f_back, depth - 1
    return False


def _os_exit(status: int) -> NoReturn:
    """`os._exit` while monitoring: the way multiprocessing's forked children end."""
    session = _session
    if session is not None and session.pid == os.getpid():
        with contextlib.suppress(BaseException):
            session.exits.finish()
            if session.is_child:
                session.write_report(session.exit_code(status))
            elif session.on_os_exit is not None:
                session.on_os_exit(status)
        if session.exits.received:
            die_by_signal(session.exits.received)
    _real_exit(status)


def _after_fork_in_child() -> None:
    """A forked child of a monitored process monitors on, and reports as a child."""
    global _session
    parent = _session
    if parent is None or parent.pid == os.getpid():
        return
    parent.exits.after_fork()
    if parent.profiling:
        # pyinstrument's hook is inherited by the forking thread; children are not profiled
        # (the profile tree is the parent's), so the child does not pay for it.
        sys.setprofile(None)
    _session = _Session(
        settings=parent.settings, monitor=parent.monitor, exits=parent.exits, is_child=True
    )
    _session.announce()


def _install_hooks() -> None:
    global _hooks_installed
    if not _hooks_installed:
        _hooks_installed = True
        if hasattr(os, "register_at_fork"):
            os.register_at_fork(after_in_child=_after_fork_in_child)
    os._exit = _os_exit


def in_forked_child() -> bool:
    """True in a forked child that came back into `asynccheck profile`'s own code."""
    return _session is not None and _session.is_child and _session.pid == os.getpid()


def finish_forked_child(exit_code: int, signum: int | None) -> NoReturn:
    """A forked child unwound out of the program (it returned, raised or called sys.exit):
    end it as its interpreter would have, with its own report instead of the parent's. The
    `SystemExit` leaves through `asynccheck profile`'s own frames, which do nothing in a child
    (`ChildProcesses.close` belongs to the parent), so the interpreter still flushes and closes
    what the program left open."""
    session = _session
    assert session is not None
    with contextlib.suppress(BaseException):
        finalize_interpreter()
    session.exits.finish()
    session.write_report(session.exit_code(exit_code))
    received = signum or session.exits.received
    if received:
        die_by_signal(received)
    raise SystemExit(exit_code)


# -- the child's side: a spawned interpreter -------------------------------------------------------
def _is_helper() -> bool:
    command = " ".join(getattr(sys, "orig_argv", ()))
    return any(helper in command for helper in _HELPERS)


def start_child(value: str | None = None) -> bool:
    """Monitor this whole interpreter as a child of `asynccheck profile` (from the bootstrap's
    sitecustomize). Returns False, doing nothing, outside a profile run or when already on."""
    global _session
    settings = ChildSettings.from_env(value if value is not None else os.environ.get(ENV_VAR))
    if settings is None or _session is not None or _is_helper():
        return False
    if not os.path.isdir(settings.directory):
        return False  # the parent is gone: nothing would read our report
    scope = contextlib.ExitStack()
    mon = scope.enter_context(
        monitor(
            slow_callback_ms=settings.slow_callback_ms,
            detect_blocking=settings.detect_blocking,
            trace_leaks=settings.trace_leaks,
            log=False,
        )
    )
    exits = ExitSignals()
    exits.install()
    _session = _Session(settings=settings, monitor=mon, exits=exits, is_child=True)
    _session.scope = scope  # type: ignore[attr-defined]  # kept open until the process ends
    _install_hooks()
    _session.announce()
    return True


def child_at_exit() -> None:
    """At the interpreter's exit: write this child's report, then die by the signal that ended
    it, if one did. The bootstrap registers it at start-up, before the program can register
    anything, so that it runs after every atexit handler of the program's."""
    session = _session
    if session is None or session.pid != os.getpid():
        return
    session.exits.finish()
    session.write_report(session.exit_code(0))
    if session.exits.received:
        die_by_signal(session.exits.received)


# -- the parent's side -----------------------------------------------------------------------------
class ChildProcesses:
    """The parent's side: export the settings, make forked children report, collect, clean up.

    >>> kids = ChildProcesses(ChildSettings(directory="", slow_callback_ms=100))
    >>> kids.start(mon, exits, profiling=True)   # before the program runs
    >>> reports, notes = kids.collect()          # after it ended
    >>> kids.close()
    """

    def __init__(self, settings: ChildSettings) -> None:
        self.settings = settings
        self.pid = os.getpid()
        self.directory: str | None = None
        self.started_unix = time.time()
        self._saved_env: dict[str, str | None] = {}
        self._session: _Session | None = None

    def start(self, mon: Monitor, exits: ExitSignals, *, profiling: bool) -> _Session:
        global _session
        self.pid = os.getpid()
        self.directory = tempfile.mkdtemp(prefix="asynccheck-children-")
        self.settings = replace(self.settings, directory=self.directory)
        self.started_unix = time.time()
        old_path = os.environ.get("PYTHONPATH")
        self._set_env(ENV_VAR, self.settings.to_env())
        self._set_env("PYTHONPATH", BOOTSTRAP_DIR + (os.pathsep + old_path if old_path else ""))
        exits.last_words.append(self._remove_directory)
        self._session = _Session(
            settings=self.settings, monitor=mon, exits=exits, is_child=False, profiling=profiling
        )
        _session = self._session
        _install_hooks()
        return self._session

    def _set_env(self, name: str, value: str) -> None:
        self._saved_env.setdefault(name, os.environ.get(name))
        os.environ[name] = value

    def collect(self, grace_s: float = GRACE_S) -> tuple[list[ChildReport], list[str]]:
        """The children's reports, after waiting up to `grace_s` for those still running;
        and a note for each child that began but left no report."""
        if self.directory is None:
            return [], []
        folder = Path(self.directory)
        deadline = time.monotonic() + grace_s
        while True:
            started, done = _pids(folder, ".started"), _pids(folder, ".json")
            waiting = sorted(p for p in started - done if _alive(p))
            if not waiting or time.monotonic() >= deadline:
                break
            time.sleep(0.02)
        reports: list[ChildReport] = []
        notes: list[str] = []
        for path in sorted(folder.glob("*.json")):
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                reports.append(
                    ChildReport(
                        pid=int(data["pid"]),
                        started_unix=float(data["started_unix"]),
                        report=Report.from_json(data["report"]),
                    )
                )
            except (OSError, ValueError, KeyError, TypeError) as error:
                notes.append(f"the report of child process {path.stem} could not be read: {error}")
        running = [p for p in waiting if p not in done]
        gone = sorted(started - done - set(running))
        if running:
            notes.append(
                f"child process(es) {_listed(running)} were still running when this report was "
                f"written (after waiting {grace_s:g} s); their findings are not included"
            )
        if gone:
            notes.append(
                f"child process(es) {_listed(gone)} ended without leaving their findings "
                "(killed by SIGKILL or a crash, or replaced by exec)"
            )
        return reports, notes

    def close(self) -> None:
        """Restore the environment and os._exit, forget the session, remove the directory.
        Only in the parent: a forked child may unwind through the same code."""
        global _session
        if os.getpid() != self.pid:
            return
        for name, value in self._saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self._saved_env.clear()
        if _session is self._session:
            _session = None
            os._exit = _real_exit
        self._remove_directory()

    def _remove_directory(self) -> None:
        if self.directory is not None and os.getpid() == self.pid:
            shutil.rmtree(self.directory, ignore_errors=True)
            self.directory = None


def _pids(folder: Path, suffix: str) -> set[int]:
    pids = set()
    for path in folder.glob("*" + suffix):
        with contextlib.suppress(ValueError):
            pids.add(int(path.name.split("-", 1)[0]))
    return pids


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie has exited: it will not write any more
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def _listed(pids: Iterable[int]) -> str:
    return ", ".join(str(p) for p in pids)


# -- merging ---------------------------------------------------------------------------------------
def merge(
    parent: Report,
    children: Sequence[ChildReport],
    *,
    parent_pid: int,
    parent_started_unix: float,
) -> Report:
    """The parent's report with its children's findings: slow callbacks, blocking calls,
    stalls and leaks keep their pid (a child's times are moved onto the parent's clock), and
    hotspots are summed by location. A forked child inherits what its parent recorded before
    the fork; findings stamped with another process's pid are left out of its share."""
    slow = list(parent.slow_callbacks)
    blocking = list(parent.blocking_calls)
    leaks = list(parent.leaks)
    stalls = list(parent.stalls)
    hotspots: dict[Site, Hotspot] = {}
    _add_hotspots(hotspots, parent.hotspots)
    processes = list(parent.processes) or [parent_pid]
    loops = parent.loops
    seen = max(parent.slow_callbacks_seen, len(parent.slow_callbacks))
    cap = (
        len(parent.slow_callbacks) if parent.slow_callbacks_seen > len(parent.slow_callbacks) else 0
    )
    for child in sorted(children, key=lambda c: (c.pid, c.started_unix)):
        r, pid = child.report, child.pid
        shift = child.started_unix - parent_started_unix

        def own(item_pid: int, pid: int = pid) -> bool:
            return item_pid in (0, pid)

        kept = [replace(s, pid=pid, at_s=s.at_s + shift) for s in r.slow_callbacks if own(s.pid)]
        slow += kept
        blocking += [
            replace(b, pid=pid, at_s=b.at_s + shift) for b in r.blocking_calls if own(b.pid)
        ]
        stalls += [replace(s, pid=pid, start_s=s.start_s + shift) for s in r.stalls if own(s.pid)]
        leaks += [replace(leak, pid=pid) for leak in r.leaks if own(leak.pid)]
        _add_hotspots(hotspots, r.hotspots)
        inherited = len(r.slow_callbacks) - len(kept)
        seen += max(r.slow_callbacks_seen, len(r.slow_callbacks)) - inherited
        if r.slow_callbacks_seen > len(r.slow_callbacks):
            cap = max(cap, len(r.slow_callbacks))
        loops += r.loops
        if (r.loops or r.slow_callbacks or r.blocking_calls or r.leaks) and pid not in processes:
            processes.append(pid)
    slow.sort(key=lambda s: s.sort_key())
    return replace(
        parent,
        slow_callbacks=tuple(slow[:cap] if cap else slow),
        slow_callbacks_seen=seen,
        blocking_calls=tuple(sorted(blocking, key=lambda b: b.sort_key())),
        leaks=tuple(sorted(leaks, key=lambda leak: leak.sort_key())),
        stalls=tuple(sorted(stalls, key=lambda s: s.sort_key())),
        hotspots=tuple(sorted(hotspots.values(), key=lambda h: h.sort_key())),
        loops=loops,
        processes=tuple(processes),
    )


def _add_hotspots(into: dict[Site, Hotspot], hotspots: Iterable[Hotspot]) -> None:
    for h in hotspots:
        old = into.get(h.location)
        if old is None:
            into[h.location] = h
            continue
        worst = h if h.max_ms > old.max_ms else old
        into[h.location] = replace(
            worst,
            count=old.count + h.count,
            total_ms=old.total_ms + h.total_ms,
            max_ms=max(old.max_ms, h.max_ms),
        )
