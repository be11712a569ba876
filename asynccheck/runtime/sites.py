"""Turning frames into `Site`s, and deciding which frames are the user's.

"Where the time went" is the innermost frame of the user's own code: the line they can change.
Frames of the standard library, of installed packages and of asynccheck itself are machinery;
they stay in the stack but are never named as the location.
"""

from __future__ import annotations

import os
import sys
import sysconfig
from collections.abc import Iterable
from dataclasses import dataclass
from types import FrameType


@dataclass(frozen=True)
class Site:
    """One frame, as a report shows it: absolute file, 1-based line, function name."""

    file: str
    line: int
    function: str

    def to_json(self) -> dict[str, object]:
        return {"file": self.file, "line": self.line, "function": self.function}

    @classmethod
    def from_json(cls, data: dict[str, object]) -> Site:
        return cls(str(data["file"]), int(data["line"]), str(data["function"]))  # type: ignore[call-overload]

    def __str__(self) -> str:
        return f"{self.file}:{self.line} in {self.function}"


UNKNOWN_SITE = Site("<not sampled>", 0, "<unknown>")


def _prefixes(*names: str) -> tuple[str, ...]:
    paths = sysconfig.get_paths()
    found = {os.path.realpath(paths[name]) + os.sep for name in names if name in paths}
    found |= {os.path.abspath(paths[name]) + os.sep for name in names if name in paths}
    return tuple(sorted(found))


_STDLIB = _prefixes("stdlib", "platstdlib")
_PACKAGES = _prefixes("purelib", "platlib")
_ASYNCCHECK = os.path.dirname(os.path.abspath(__file__)) + os.sep
_ASYNCIO = os.path.dirname(os.path.abspath(__import__("asyncio").__file__)) + os.sep

# Cached per file name: the classification runs for every sampled frame.
_kind_cache: dict[str, str] = {}


def file_kind(filename: str) -> str:
    """'user', 'package' (site-packages), 'stdlib' or 'asynccheck'."""
    kind = _kind_cache.get(filename)
    if kind is None:
        if filename.startswith("<"):
            kind = "stdlib"  # <frozen importlib._bootstrap>, <string> from exec: not a line to fix
        elif filename.startswith(_ASYNCCHECK):
            kind = "asynccheck"
        elif any(filename.startswith(p) for p in _PACKAGES) or "site-packages" in filename:
            kind = "package"
        elif any(filename.startswith(p) for p in _STDLIB):
            kind = "stdlib"
        else:
            kind = "user"
        _kind_cache[filename] = kind
    return kind


def is_asyncio_file(filename: str) -> bool:
    return filename.startswith(_ASYNCIO)


def site_of(frame: FrameType) -> Site:
    code = frame.f_code
    return Site(code.co_filename, frame.f_lineno or code.co_firstlineno, code.co_name)


def frames_outward(frame: FrameType | None) -> Iterable[FrameType]:
    while frame is not None:
        yield frame
        frame = frame.f_back


def pick_location(stack: tuple[Site, ...]) -> Site:
    """Innermost user frame; else innermost package frame; else the innermost frame."""
    for wanted in ("user", "package"):
        for site in reversed(stack):
            if file_kind(site.file) == wanted:
                return site
    return stack[-1] if stack else UNKNOWN_SITE


def creation_site(frame: FrameType | None) -> Site | None:
    """The first frame outside asyncio and asynccheck: where a task or object was made."""
    for f in frames_outward(frame):
        name = f.f_code.co_filename
        if not is_asyncio_file(name) and file_kind(name) != "asynccheck":
            return site_of(f)
    return None


def caller_site(depth: int = 2) -> Site | None:
    """`creation_site` starting at our caller's caller (cheap: no traceback objects)."""
    try:
        frame = sys._getframe(depth)
    except ValueError:
        return None
    return creation_site(frame)
