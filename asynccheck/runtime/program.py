"""Running a user's program the way `python script.py` / `python -m module` would.

`sys.argv`, `sys.path[0]`, `__file__` and `__name__ == "__main__"` are set as the interpreter
sets them, and the program's exit is turned into the exit code the interpreter would give:
0 on return, n for `sys.exit(n)`, 1 after an uncaught exception (its traceback printed), 130
for Ctrl-C.
"""

from __future__ import annotations

import os
import runpy
import sys
import time
import traceback
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from asynccheck.runtime.install import monitor
from asynccheck.runtime.profiler import ProfileOptions, ProfileSession, write_speedscope
from asynccheck.runtime.recorder import DEFAULT_SLOW_MS
from asynccheck.runtime.render import render
from asynccheck.runtime.report import Report
from asynccheck.runtime.sites import file_kind

EXIT_INTERRUPTED = 130  # 128 + SIGINT, what a shell reports for a Ctrl-C'd python


@dataclass(frozen=True)
class ProfileConfig:
    """Everything `asynccheck profile` was asked to do."""

    slow_callback_ms: float = DEFAULT_SLOW_MS
    detect_blocking: bool = True
    profile: bool = True
    interval: float = 0.001
    async_mode: str = "enabled"
    trace_leaks: bool = False
    use_uvloop: bool = False
    html: str | None = None
    json: str | None = None
    speedscope: str | None = None
    outputs: dict[str, str] = field(default_factory=dict)


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


def _exit_code(exc: SystemExit) -> int:
    code = exc.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)  # sys.exit("message") prints it and exits 1, like python
    return 1


def run_program(target: str, args: Sequence[str], *, module: bool) -> int:
    """Run `target` (a path, or a module name when `module`) as __main__; return its exit code."""
    __tracebackhide__ = True
    saved_argv, saved_path0 = sys.argv[:], sys.path[0] if sys.path else None
    if module:
        sys.argv = [target, *args]  # runpy replaces argv[0] by the module's file, like -m
        path0 = os.getcwd()
    else:
        script = os.path.abspath(target)
        sys.argv = [target, *args]
        path0 = os.path.dirname(os.path.realpath(script))
    if sys.path:
        sys.path[0] = path0
    else:
        sys.path.insert(0, path0)
    try:
        if module:
            runpy.run_module(target, run_name="__main__", alter_sys=True)
        else:
            runpy.run_path(script, run_name="__main__")
        return 0
    except SystemExit as exc:
        return _exit_code(exc)
    except KeyboardInterrupt:
        traceback.print_exception(KeyboardInterrupt, KeyboardInterrupt(), None)
        return EXIT_INTERRUPTED
    except BaseException as exc:
        te = traceback.TracebackException(type(exc), exc, _user_traceback(exc.__traceback__))
        _strip_own_frames(te)
        print("".join(te.format()), end="", file=sys.stderr)
        return 1
    finally:
        sys.argv = saved_argv
        if saved_path0 is not None and sys.path:
            sys.path[0] = saved_path0


def profile_program(
    target: str, args: Sequence[str], *, module: bool, config: ProfileConfig
) -> Report:
    """Run the program under `monitor()` (and pyinstrument), write the files, return the report."""
    __tracebackhide__ = True
    started = time.perf_counter()
    session = None
    argv = (("-m", target) if module else (target,)) + tuple(args)
    with monitor(
        slow_callback_ms=config.slow_callback_ms,
        detect_blocking=config.detect_blocking,
        trace_leaks=config.trace_leaks,
        use_uvloop=config.use_uvloop,
        log=False,
    ) as mon:
        profiler = (
            ProfileSession(ProfileOptions(config.interval, config.async_mode))
            if config.profile
            else None
        )
        if profiler is not None:
            profiler.start()
        try:
            exit_code = run_program(target, args, module=module)
        finally:
            if profiler is not None:
                session = profiler.stop("asynccheck profile " + " ".join(argv))
    wall = time.perf_counter() - started
    speedscope = None
    if config.speedscope and session is not None:
        speedscope = write_speedscope(session, config.speedscope)
    html_path = str(Path(config.html).resolve()) if config.html else None
    report = mon.report(
        argv=argv,
        exit_code=exit_code,
        wall_s=wall,
        profile_session=session,
        profile_html=html_path,
        profile_speedscope=speedscope,
    )
    if config.html:
        Path(config.html).write_text(render(report, "html"), encoding="utf-8")
    if config.json:
        Path(config.json).write_text(render(report, "json"), encoding="utf-8")
    return report
