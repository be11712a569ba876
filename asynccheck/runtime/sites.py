"""Turning frames into `Site`s, and deciding which frames are the user's.

"Where the time went" is the innermost frame of the user's own code: the line they can change.
Frames of the standard library, of installed packages and of asynccheck itself are machinery;
they stay in the stack but are never named as the location.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import sysconfig
from collections.abc import Iterable
from types import CodeType, FrameType
from typing import NamedTuple

from asynccheck.runtime.ids import identity


class Site(NamedTuple):
    """One frame, as a report shows it: absolute file, 1-based line, function name.

    A named tuple, not a dataclass: one is made for every task a monitored server creates
    (its creation site), and a frozen dataclass costs several times a tuple to build."""

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


# How user_creation_site treats a frame, by code object: it runs for every task a server makes.
_USER, _OTHER, _SKIP, _STOP = 1, 2, 3, 4
_creation_kinds: dict[int, tuple[int, CodeType]] = {}  # identity(code) -> (kind, code kept)


def _creation_kind(code: CodeType) -> int:
    name = code.co_filename
    kind = file_kind(name)
    if (code.co_name in _OUTER_MACHINERY and is_asyncio_file(name)) or (
        kind == "asynccheck" and code.co_name in _OUR_ENTRIES
    ):
        found = _STOP  # the loop itself: what called the callback is not where a task was made
    elif kind == "user":
        found = _USER
    elif kind == "asynccheck" or is_asyncio_file(name):
        found = _SKIP
    else:
        found = _OTHER
    _creation_kinds[identity(code)] = (found, code)
    return found


def user_creation_site(frame: FrameType | None, limit: int = 40) -> Site | None:
    """Where a task or object was made: the innermost frame of the user's own code in the
    callback that made it (the handler that called a framework), else the first frame outside
    asyncio and asynccheck (the framework's line)."""
    found = _user_creation(frame, limit)
    return Site(found[0].co_filename, found[1], found[0].co_name) if found is not None else None


def user_creation_ref(frame: FrameType | None) -> tuple[CodeType, int] | None:
    """`user_creation_site` as (code, line), for the hot path: a `Site` is built only when a
    report needs one (`site_of_ref`)."""
    return _user_creation(frame, 40)


def site_of_ref(ref: tuple[CodeType, int] | None) -> Site | None:
    if ref is None:
        return None
    code, line = ref
    return Site(code.co_filename, line or code.co_firstlineno, code.co_name)


def _user_creation(frame: FrameType | None, limit: int) -> tuple[CodeType, int] | None:
    """(code, line) of the frame `user_creation_site` describes. Runs for every task a server
    makes: each `frame.f_code` is an audit event (see ids.py), so each frame's is read once."""
    first: tuple[CodeType, int] | None = None
    kinds = _creation_kinds
    for _ in range(limit):
        if frame is None:
            break
        code = frame.f_code
        entry = kinds.get(identity(code))
        kind = entry[0] if entry is not None and entry[1] is code else _creation_kind(code)
        if kind == _USER:
            return code, frame.f_lineno or code.co_firstlineno
        if kind == _STOP:
            break
        if kind == _OTHER and first is None:
            first = code, frame.f_lineno or code.co_firstlineno
        frame = frame.f_back
    return first


def caller_site(depth: int = 2) -> Site | None:
    """`creation_site` starting at our caller's caller (cheap: no traceback objects)."""
    try:
        frame = sys._getframe(depth)
    except ValueError:
        return None
    return creation_site(frame)


_EVENTS_FILE = os.path.abspath(__import__("asyncio").events.__file__)
# asyncio frames that sit *outside* a callback: walking outward from the running frame stops at
# the first of these. Handle._run (events.py) is where a callback is entered.
_OUTER_MACHINERY = frozenset(
    {"_run", "_run_once", "run_forever", "run_until_complete", "run", "_run_forever_setup"}
)


def callback_frames(frame: FrameType | None) -> tuple[list[FrameType], object]:
    """Frames from the innermost outward up to the callback's entry, and the running handle
    (None when the callback was entered from C, as uvloop does)."""
    frames: list[FrameType] = []
    for f in frames_outward(frame):
        code = f.f_code
        name = code.co_filename
        if code.co_name in _OUTER_MACHINERY and is_asyncio_file(name):
            handle = None
            if code.co_name == "_run" and name == _EVENTS_FILE:
                try:
                    handle = f.f_locals.get("self")
                except Exception:
                    handle = None
            return frames, handle
        if file_kind(name) == "asynccheck" and code.co_name in _OUR_ENTRIES:
            return frames, None
        frames.append(f)
    return frames, None


# asynccheck frames that enter a callback (uvloop's timed wrapper) or run the loop
_OUR_ENTRIES = frozenset({"run_timed", "run_forever", "run_until_complete"})


def is_machinery(filename: str) -> bool:
    """Frames never shown in a stack or as a location: asynccheck's and the profiler's own."""
    kind = _kind_cache.get(filename) or file_kind(filename)
    return kind == "asynccheck" or filename.startswith(_PYINSTRUMENT)


def _package_dir(name: str) -> str:
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.origin:
        return "\0"  # matches no file
    return os.path.dirname(os.path.abspath(spec.origin)) + os.sep


_PYINSTRUMENT = _package_dir("pyinstrument")
