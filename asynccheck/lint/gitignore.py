"""gitignore patterns (also used for `exclude`), translated to regular expressions.

pathspec does the same, but importing it costs 70 ms on Python < 3.13 (it reaches asyncio
through typing_extensions): more than a warm run's whole walk, and a sixth of the one-file
pre-commit case. The syntax is git's (`git help gitignore`), and so are the answers: tests
compare them with `git check-ignore` on generated patterns and paths (pathspec differs from
git there, e.g. on files inside an ignored folder that a later pattern names).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Optional


@dataclass(frozen=True)
class _Rule:
    regex: re.Pattern[str]
    negated: bool
    folder_only: bool


class GitIgnore:
    """The patterns of one .gitignore (or one `exclude` list); the last match wins."""

    def __init__(self, lines: Iterable[str]) -> None:
        self.rules = [rule for rule in map(_compile, lines) if rule is not None]

    def match_file(self, path: str) -> bool:
        """Whether `path` is ignored: relative to the patterns' folder, `/`-separated, with a
        trailing `/` for a folder. Inside an ignored folder everything is ignored."""
        is_folder = path.endswith("/")
        parts = path.rstrip("/").split("/")
        for depth in range(1, len(parts)):
            if self.matches("/".join(parts[:depth]), True):
                return True
        return self.matches("/".join(parts), is_folder)

    def matches(self, path: str, is_folder: bool) -> bool:
        """Whether the patterns ignore `path` itself (its folders not looked at: a walk
        that never enters an ignored folder has checked them already)."""
        ignored = False
        for rule in self.rules:
            if (
                rule.negated == ignored
                and (is_folder or not rule.folder_only)
                and rule.regex.match(path)
            ):
                ignored = not rule.negated
        return ignored


def _compile(line: str) -> Optional[_Rule]:
    pattern = _strip_trailing_spaces(line.rstrip("\r\n"))
    if not pattern or pattern.startswith("#"):
        return None
    negated = pattern.startswith("!")
    if negated or pattern.startswith("\\!") or pattern.startswith("\\#"):
        pattern = pattern[1:]
    folder_only = pattern.endswith("/")
    pattern = pattern.rstrip("/")
    if not pattern:
        return None
    # A slash at the start or in the middle anchors the pattern to its folder; otherwise
    # it matches at any depth.
    anchored = "/" in pattern
    pattern = pattern.lstrip("/")
    if not pattern:
        return None
    segments = pattern.split("/")
    parts = [] if anchored else ["(?:.*/)?"]
    for index, segment in enumerate(segments):
        last = index == len(segments) - 1
        if segment == "**":
            # `**/x`, `a/**/x`: any number of folders; `a/**`: anything inside `a`
            parts.append(".+" if last else "(?:.*/)?")
        else:
            parts.append(_glob(segment) + ("" if last else "/"))
    try:
        return _Rule(re.compile("".join(parts) + r"\Z", re.DOTALL), negated, folder_only)
    except re.error:
        return None  # git ignores a pattern it cannot read; so do we


def _strip_trailing_spaces(pattern: str) -> str:
    """Trailing spaces go, unless escaped with a backslash."""
    stripped = pattern.rstrip(" ")
    if stripped != pattern and stripped.endswith("\\") and not stripped.endswith("\\\\"):
        return stripped[:-1] + " "
    return stripped


def _glob(segment: str) -> str:
    """One path segment's wildcards as a regular expression (never crossing a `/`)."""
    out: list[str] = []
    i, n = 0, len(segment)
    while i < n:
        char = segment[i]
        if char == "*":
            while i + 1 < n and segment[i + 1] == "*":
                i += 1
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "\\" and i + 1 < n:
            i += 1
            out.append(re.escape(segment[i]))
        elif char == "[":
            end = _class_end(segment, i)
            if end is None:
                out.append(re.escape(char))
            else:
                out.append(_char_class(segment[i + 1 : end]))
                i = end
        else:
            out.append(re.escape(char))
        i += 1
    return "".join(out)


def _class_end(segment: str, start: int) -> Optional[int]:
    """Index of the `]` closing the class opened at `start`, or None if it never closes."""
    i = start + 1
    if i < len(segment) and segment[i] in "!^":
        i += 1
    if i < len(segment) and segment[i] == "]":
        i += 1  # a `]` first in the class is a literal
    while i < len(segment):
        if segment[i] == "\\":
            i += 2
            continue
        if segment[i] == "]":
            return i
        i += 1
    return None


def _char_class(body: str) -> str:
    negated = body[:1] in ("!", "^")
    if negated:
        body = body[1:]
    escaped = body.replace("\\", "\\\\").replace("[", "\\[")
    # Unescape what was escaped in the pattern itself (`\]` stays a literal `]`).
    escaped = escaped.replace("\\\\]", "\\]")
    return "(?!/)[" + ("^" if negated else "") + escaped + "]"
