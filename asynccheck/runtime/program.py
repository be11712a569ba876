"""Running a user's program the way `python script.py` / `python -m module` would, under the
monitor, and ending the way that python would have ended, with the report written first.

`sys.argv`, `sys.path[0]`, `__file__` and `__name__ == "__main__"` are set as the interpreter
sets them. Every way out writes the report (stderr text, `--json`, `--html`), once, and then
leaves with the status a plain python gives its parent:

    return                 0
    sys.exit(n)            n (a message: printed, 1)
    uncaught exception     1, its traceback printed
    Ctrl-C (SIGINT)        KeyboardInterrupt printed, then death by SIGINT (a shell shows 130)
    SIGTERM, SIGHUP        death by the signal (143, 129), after the program unwound
                           (`children.ExitSignals` says why it unwinds rather than writes there)
    os._exit(n)            n

For the report, `exit_code` is that number (128 + the signal for a death by signal). Before the
report, the program's non-daemon threads are joined and its atexit handlers run, as the
interpreter does at exit (not after SIGTERM/SIGHUP: a killed python runs neither); that is also
when multiprocessing joins its children, whose reports are then merged (children.py).

A program that cannot start is not run: a missing or unreadable file or module gets python's
one-line message and exit 2, a script with a syntax error python's own message and exit 1; no
report is written for either.
"""

from __future__ import annotations

import contextlib
import io
import os
import runpy
import signal
import sys
import time
import traceback
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import TracebackType
from typing import Any, TextIO

from asynccheck.runtime import children
from asynccheck.runtime.children import ChildProcesses, ChildSettings, ExitSignals, Terminated
from asynccheck.runtime.install import Monitor, monitor
from asynccheck.runtime.profiler import (
    DEFAULT_INTERVAL,
    ProfileOptions,
    ProfileSession,
    write_speedscope,
)
from asynccheck.runtime.recorder import DEFAULT_SLOW_MS
from asynccheck.runtime.render import render
from asynccheck.runtime.report import Report
from asynccheck.runtime.sites import file_kind

EXIT_INTERRUPTED = 128 + signal.SIGINT  # what a shell reports for a Ctrl-C'd python
EXIT_NOT_RUNNABLE = 2  # a missing or unreadable script or module, as `python missing.py` gives

NO_LOOP_NOTE = (
    "no event loop was observed, so nothing was timed. Likely reasons: the program does not use "
    "asyncio, or ended before it ran a loop; its loops ran in processes asynccheck does not "
    "follow (an interpreter started with -I, -E or -S, another Python, multiprocessing's "
    "forkserver); or it runs them in a way asynccheck does not hook"
)


@dataclass(frozen=True)
class ProfileConfig:
    """Everything `asynccheck profile` was asked to do."""

    slow_callback_ms: float = DEFAULT_SLOW_MS
    detect_blocking: bool = True
    profile: bool = True
    interval: float = DEFAULT_INTERVAL
    # "disabled": the whole program is profiled, so time at an await need not be charged to
    # the awaiting coroutine (profiler.py: that mode runs on every call and costs 2-3x more)
    async_mode: str = "disabled"
    trace_leaks: bool = False
    use_uvloop: bool = False
    html: str | None = None
    json: str | None = None
    speedscope: str | None = None
    follow_children: bool = True  # monitor the Python processes the program starts, and merge
    text: bool = True  # print the text report on stderr
    outputs: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Outcome:
    """How the program ended: the exit code for the report, and the signal the process must
    die by once the report is out (None: exit with `exit_code`)."""

    exit_code: int
    signal: int | None = None


class ProgramNotRunnable(Exception):
    """The program could not start: what python would print, and the exit code."""

    def __init__(self, message: str, exit_code: int = EXIT_NOT_RUNNABLE) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


def _not_runnable(message: str) -> ProgramNotRunnable:
    return ProgramNotRunnable(f"asynccheck profile: {message}")


# -- starting ------------------------------------------------------------------------------------
def check_script(target: str) -> None:
    """Raise `ProgramNotRunnable` for a script python would refuse before running any of it:
    missing or unreadable (python: exit 2), a directory without `__main__.py`, or a syntax
    error (python's own message, exit 1). Reads and compiles nothing but the script itself."""
    path = os.path.abspath(target)
    if os.path.isdir(path):
        if not any(os.path.isfile(os.path.join(path, f"__main__{s}")) for s in (".py", ".pyc")):
            raise _not_runnable(f"can't find '__main__' module in {target!r}")
        return
    try:
        with io.open_code(path) as f:
            source = f.read()
    except OSError as error:
        raise _not_runnable(
            f"can't open file {path!r}: [Errno {error.errno}] {error.strerror}"
        ) from None
    if zipfile.is_zipfile(path):
        return  # a zipapp: runpy finds its __main__
    try:
        compile(source, path, "exec", dont_inherit=True)
    except SyntaxError as error:
        lines = traceback.format_exception_only(type(error), error)
        raise ProgramNotRunnable("".join(lines).rstrip("\n"), exit_code=1) from None
    except ValueError as error:  # null bytes, before 3.12
        raise ProgramNotRunnable(f"SyntaxError: {error}", exit_code=1) from None


_STARTUP_FILES = ("runpy.py", "<frozen runpy>", "<frozen importlib._bootstrap>")


def _raised_while_starting(exc: BaseException) -> bool:
    """True when runpy or the import system raised `exc` before any of the program ran:
    `-m` found no such module (or a package without `__main__`), or its code does not compile."""
    tb = exc.__traceback__
    while tb is not None:
        name = tb.tb_frame.f_code.co_filename
        if not (
            name.endswith(_STARTUP_FILES)
            or name.startswith("<frozen importlib.")
            or file_kind(name) == "asynccheck"
        ):
            return False
        tb = tb.tb_next
    return True


# -- running -------------------------------------------------------------------------------------
def _user_traceback(tb: TracebackType | None) -> TracebackType | None:
    """Drop our own and runpy's frames from the top, as if python had run the script."""
    while tb is not None:
        name = tb.tb_frame.f_code.co_filename
        if file_kind(name) == "asynccheck" or name.endswith(("runpy.py", "<frozen runpy>")):
            tb = tb.tb_next
        else:
            break
    return tb


def _strip_own_frames(te: traceback.TracebackException | None, depth: int = 0) -> None:
    """asynccheck's loop methods sit between asyncio's frames: leave them out of tracebacks."""
    if te is None or depth > 20:
        return
    te.stack = traceback.StackSummary.from_list(
        [f for f in te.stack if file_kind(f.filename) != "asynccheck"]
    )
    _strip_own_frames(te.__cause__, depth + 1)
    _strip_own_frames(te.__context__, depth + 1)


def _print_uncaught(exc: BaseException) -> None:
    te = traceback.TracebackException(type(exc), exc, _user_traceback(exc.__traceback__))
    _strip_own_frames(te)
    print("".join(te.format()), end="", file=sys.stderr)


def _exit_code(exc: SystemExit) -> int:
    code = exc.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)  # sys.exit("message") prints it and exits 1, like python
    return 1


def run_program(target: str, args: Sequence[str], *, module: bool) -> Outcome:
    """Run `target` (a path, or a module name when `module`) as __main__; how it ended.

    Raises `ProgramNotRunnable` when `-m` names no runnable module, or the module does not
    compile (runpy raises those before any of the program runs)."""
    __tracebackhide__ = True
    saved_argv, saved_path0 = sys.argv[:], sys.path[0] if sys.path else None
    if module:
        sys.argv = [target, *args]  # runpy replaces argv[0] by the module's file, like -m
        path0 = os.getcwd()
    else:
        script = os.path.abspath(target)
        sys.argv = [target, *args]
        path0 = script if os.path.isdir(script) else os.path.dirname(os.path.realpath(script))
    if sys.path:
        sys.path[0] = path0
    else:
        sys.path.insert(0, path0)
    try:
        if module:
            runpy.run_module(target, run_name="__main__", alter_sys=True)
        else:
            runpy.run_path(script, run_name="__main__")
        return Outcome(0)
    except Terminated as exc:
        return Outcome(128 + exc.signum, exc.signum)  # a killed python prints nothing
    except SystemExit as exc:
        return Outcome(_exit_code(exc))
    except KeyboardInterrupt as exc:
        _print_uncaught(exc)
        return Outcome(EXIT_INTERRUPTED, signal.SIGINT)
    except (ImportError, SyntaxError) as exc:
        if module and _raised_while_starting(exc):
            if isinstance(exc, SyntaxError):
                message = "".join(traceback.format_exception_only(type(exc), exc))
                raise ProgramNotRunnable(message.rstrip("\n"), exit_code=1) from None
            raise _not_runnable(str(exc)) from None
        _print_uncaught(exc)
        return Outcome(1)
    except BaseException as exc:
        _print_uncaught(exc)
        return Outcome(1)
    finally:
        sys.argv = saved_argv
        if saved_path0 is not None and sys.path:
            sys.path[0] = saved_path0


def _finalize(outcome: Outcome) -> Outcome:
    """Join the program's threads and run its atexit handlers, as the interpreter would at
    exit; a SIGTERM'd or SIGHUP'd python would not, so neither do we then."""
    if outcome.signal is not None and outcome.signal != signal.SIGINT:
        return outcome
    try:
        children.finalize_interpreter()
    except Terminated as exc:
        return Outcome(128 + exc.signum, exc.signum)
    except KeyboardInterrupt:
        return Outcome(EXIT_INTERRUPTED, signal.SIGINT)
    return outcome


# -- the whole run ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Finished:
    """A profiled run, reported: the report, and the signal to die by (None: exit normally)."""

    report: Report
    signal: int | None = None

    @property
    def exit_code(self) -> int:
        return self.report.exit_code


class _Run:
    """One `asynccheck profile` run. `finish()` writes the report, once, whichever way out
    got there first (the program's end, or its `os._exit`)."""

    def __init__(self, argv: tuple[str, ...], config: ProfileConfig, exits: ExitSignals) -> None:
        self.argv = argv
        self.config = config
        self.exits = exits
        self.started = time.perf_counter()
        self.started_unix = time.time()
        self.monitor: Monitor | None = None
        self.profiler: ProfileSession | None = None
        self.children: ChildProcesses | None = None
        self.finished: Finished | None = None

    def finish(self, outcome: Outcome) -> Finished:
        if self.finished is not None:
            return self.finished
        self.exits.finish()
        assert self.monitor is not None
        session = None
        if self.profiler is not None:
            session = self.profiler.stop("asynccheck profile " + " ".join(self.argv))
        wall = time.perf_counter() - self.started
        config = self.config
        speedscope = None
        failed: dict[str, str] = {}  # option -> why its file could not be written
        if config.speedscope and session is not None:
            try:
                speedscope = write_speedscope(session, config.speedscope)
            except OSError as error:
                failed["--speedscope"] = _cannot_write("--speedscope", config.speedscope, error)
        report = self.monitor.report(
            argv=self.argv,
            exit_code=outcome.exit_code,
            wall_s=wall,
            profile_session=session,
            profile_html=str(Path(config.html).resolve()) if config.html else None,
            profile_speedscope=speedscope,
        )
        report = self._with_children(report)
        report = replace(report, notes=report.notes + tuple(self._notes(report, outcome)))
        for option, fmt, path in (("--html", "html", config.html), ("--json", "json", config.json)):
            if path:
                try:
                    Path(path).write_text(render(report, fmt), encoding="utf-8")
                except OSError as error:
                    failed[option] = _cannot_write(option, path, error)
        if config.text:
            _emit_text(report, config if "--json" not in failed else replace(config, json=None))
        for message in failed.values():
            print(message, file=sys.stderr)
        self.finished = Finished(report, outcome.signal or self.exits.received)
        return self.finished

    def _with_children(self, report: Report) -> Report:
        if self.children is None:
            return report
        reports, notes = self.children.collect()
        merged = children.merge(
            report, reports, parent_pid=os.getpid(), parent_started_unix=self.started_unix
        )
        followed = sorted({c.pid for c in reports})
        if followed:
            notes.insert(
                0,
                f"{len(followed)} child process(es) followed ({', '.join(map(str, followed))}):"
                " their findings are merged here, each marked with its pid"
                + (
                    "; they are monitored, not profiled: the profile tree is this process's only"
                    if self.config.profile
                    else ""
                ),
            )
        return replace(merged, notes=merged.notes + tuple(notes))

    def _notes(self, report: Report, outcome: Outcome) -> list[str]:
        notes = []
        if outcome.signal is not None and outcome.signal != signal.SIGINT:
            name = signal.Signals(outcome.signal).name
            notes.append(f"the program was ended by {name}; this report was written first")
        if not report.loops and not report.slow_callbacks and not report.stalls:
            notes.append(NO_LOOP_NOTE)
        return notes


def _cannot_write(option: str, path: str, error: OSError) -> str:
    return f"asynccheck profile: {option}: cannot write {path!r}: {error.strerror or error}"


def check_outputs(config: ProfileConfig) -> None:
    """Refuse, before the program runs, report files whose folder does not exist."""
    for option, path in (
        ("--html", config.html),
        ("--json", config.json),
        ("--speedscope", config.speedscope),
    ):
        if path and not os.path.isdir(os.path.dirname(os.path.abspath(path))):
            raise _not_runnable(
                f"{option}: cannot write {path!r}: no such directory "
                f"{os.path.dirname(os.path.abspath(path))!r}"
            )


def _emit_text(report: Report, config: ProfileConfig) -> None:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(AttributeError, OSError, ValueError):
            stream.flush()
    out: TextIO = sys.stderr if _writable(sys.stderr) else sys.__stderr__
    out.write(render(report, "text", color=_isatty(out)))
    if config.json:
        out.write(f"JSON report: {config.json}\n")
    out.flush()


def _writable(stream: Any) -> bool:
    return stream is not None and not getattr(stream, "closed", False)


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, OSError, ValueError):
        return False


def profile_program(
    target: str, args: Sequence[str], *, module: bool, config: ProfileConfig
) -> Finished:
    """Run the program under `monitor()` (and pyinstrument), following its child processes;
    write the report files and the text; return the report and how the process must end.

    Raises `ProgramNotRunnable` (nothing written) when the program cannot start."""
    __tracebackhide__ = True
    check_outputs(config)
    if not module:
        check_script(target)
    argv = (("-m", target) if module else (target,)) + tuple(args)
    exits = ExitSignals()
    saved = _signal_handlers()
    run = _Run(argv, config, exits)
    options: dict[str, Any] = {"use_uvloop": True} if config.use_uvloop else {}
    exits.install()
    try:
        with monitor(
            slow_callback_ms=config.slow_callback_ms,
            detect_blocking=config.detect_blocking,
            trace_leaks=config.trace_leaks,
            log=False,
            **options,
        ) as mon:
            run.monitor = mon
            if config.follow_children:
                run.children = ChildProcesses(
                    ChildSettings(
                        directory="",
                        slow_callback_ms=config.slow_callback_ms,
                        detect_blocking=config.detect_blocking,
                        trace_leaks=config.trace_leaks,
                    )
                )
                run.children.start(mon, exits, profiling=config.profile).on_os_exit = (
                    lambda status: _finish_at_os_exit(run, status)
                )
            if config.profile:
                run.profiler = ProfileSession(ProfileOptions(config.interval, config.async_mode))
                run.profiler.start()
            try:
                outcome = run_program(target, args, module=module)
            except ProgramNotRunnable:
                if run.profiler is not None:
                    run.profiler.stop()
                raise
            if children.in_forked_child():
                children.finish_forked_child(outcome.exit_code, outcome.signal)
            return run.finish(_finalize(outcome))
    finally:
        if run.children is not None:
            run.children.close()
        _restore_signal_handlers(saved)
        exits.uninstall()


def _finish_at_os_exit(run: _Run, status: int) -> None:
    """The program called os._exit(): report now, as it will not come back."""
    run.finish(Outcome(status))
    if run.children is not None:
        run.children.close()


_HANDLED = (signal.SIGINT, *children.EXIT_SIGNALS)


def _signal_handlers() -> dict[int, Any]:
    return {s: signal.getsignal(s) for s in _HANDLED}


def _restore_signal_handlers(saved: dict[int, Any]) -> None:
    import threading

    if threading.current_thread() is not threading.main_thread():
        return
    for signum, handler in saved.items():
        if handler is not None:
            signal.signal(signum, handler)


def end_process(finished: Finished) -> int:
    """Die by the signal the program died by (after the report), else return its exit code."""
    if finished.signal is not None:
        children.die_by_signal(finished.signal)
    return finished.exit_code
