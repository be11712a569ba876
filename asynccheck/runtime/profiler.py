"""pyinstrument session management: start, stop, and write the profile files.

The profile stays a pyinstrument `Session`, drawn by pyinstrument's own renderers (speedscope,
HTML, console); asynccheck only decides when to sample and where the output goes.
"""

from __future__ import annotations

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

    def stop(self) -> Any:
        if self._profiler.is_running:
            self.session = self._profiler.stop()
        return self.session


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
