"""pyinstrument session management: start, stop, and write the profile files.

The profile stays a pyinstrument `Session`, drawn by pyinstrument's own renderers (speedscope,
HTML, console); asynccheck only decides when to sample and where the output goes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_INTERVAL = 0.001


@dataclass(frozen=True)
class ProfileOptions:
    interval: float = DEFAULT_INTERVAL
    # "enabled": time spent at an `await` is charged to the coroutine that awaited, so the tree
    # shows which coroutine the wall-clock time belongs to. "disabled" shows the loop itself.
    async_mode: str = "enabled"


class ProfileSession:
    """One pyinstrument run around a program; `stop()` returns the pyinstrument Session."""

    def __init__(self, options: ProfileOptions | None = None) -> None:
        from pyinstrument import Profiler

        self.options = options or ProfileOptions()
        self._profiler = Profiler(
            interval=self.options.interval,
            async_mode=self.options.async_mode,  # type: ignore[arg-type]
        )
        self.session: Any = None

    def start(self) -> None:
        self._profiler.start()

    def stop(self, description: str | None = None) -> Any:
        if self._profiler.is_running:
            self.session = trim_session(self._profiler.stop(), description)
        return self.session


def _ours(frame_info: str) -> bool:
    parts = frame_info.split("\x00", 2)
    if len(parts) < 2:
        return False
    name = parts[1]
    return name == "<frozen runpy>" or name.endswith("runpy.py") or name.startswith(_OWN_DIR)


_OWN_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def trim_session(session: Any, description: str | None = None) -> Any:
    """The session without asynccheck's and runpy's frames, which wrap every program.

    Every renderer (console, HTML, speedscope) then starts at the user's `<module>`.
    """
    from pyinstrument.session import Session

    # Frames that were on the stack when profiling started (the CLI, click) are the same at the
    # root of every sample: cut that prefix, keeping the thread's pseudo-frame.
    prefix = [f.split("\x01", 1)[0] for f in session.start_call_stack[1:]]

    def trim(stack: list[str]) -> list[str]:
        i = 1
        while (
            i - 1 < len(prefix) and i < len(stack) and stack[i].split("\x01", 1)[0] == prefix[i - 1]
        ):
            i += 1
        return [f for f in stack[:1] + stack[i:] if not _ours(f)]

    def runs_user_code(stack: list[str]) -> bool:
        # Samples taken while runpy was still locating and compiling the script, or while
        # asynccheck itself ran, are the wrapper's cost, not the program's: drop them.
        runpy = [f for f in stack if "runpy" in f.split("\x00", 2)[1:2][0]] if stack else []
        return not runpy or any(f.startswith("_run_code\x00") for f in runpy)

    records = []
    for stack, t in session.frame_records:
        if not runs_user_code(stack):
            continue
        kept = trim(stack)
        if len(kept) > 1:
            records.append((kept, t))
    return Session(
        frame_records=records,
        start_time=session.start_time,
        duration=session.duration,
        min_interval=session.min_interval,
        max_interval=session.max_interval,
        sample_count=session.sample_count,
        start_call_stack=session.start_call_stack[:1],
        target_description=description or session.target_description,
        cpu_time=session.cpu_time,
        sys_path=session.sys_path,
        sys_prefixes=session.sys_prefixes,
    )


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
