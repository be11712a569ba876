"""A module's text for its summary alone: what cannot change the summary is left out
before parsing.

A module the linted files reach but do not name is parsed only to be summarised, and most of
the project step's time went there (over Home Assistant's helpers, the 38 modules they reach
are 23,600 lines: 0.46x the parse of the helpers themselves). Two things are left out:
- the bodies of `async def`s: what one does is not followed (a call of it only makes a
  coroutine), so its body says nothing to other modules, unless it binds a name outside
  itself: `self.x = ...` (the class's attributes), `global` / `nonlocal`, or a nested def
  or class (their qualified names). A body with any of these is kept whole, and so is one
  the scan is unsure about; the rest become `...`, so the summary is the same, made from
  fewer lines;
- given the names the run needs from the module (`wanted`), the defs and classes they do
  not need (`project.stubs`), named in `elided`.

The scan (`project.scan`) only ever removes a body whose every line is indented deeper than
its `async def` and that ends where a line at most as deep begins; when it was wrong all
the same, the text no longer parses and the caller parses the original.
"""

from __future__ import annotations

import re
from collections.abc import Set
from dataclasses import dataclass
from typing import Any, Optional

from asynccheck.lint.parse import parse_module
from asynccheck.lint.project.scan import FIRST_PARAM, binding, body_end, header_end, scan
from asynccheck.lint.project.stubs import Stubs, stubs_for

_ASYNC_DEF = re.compile(r"([ ]*)async[ ]+def[ ]+\w+")
# What in a body can bind outside it: nested defs and classes, `global`, `nonlocal`.
_BINDS_OUTSIDE = re.compile(r"\b(?:def|class|global|nonlocal)\b")


@dataclass(frozen=True)
class Skimmed:
    text: str
    elided: frozenset[str] = frozenset()  # what its summary leaves out (project.stubs)


def parse_for_summary(
    text: str, wanted: Optional[Set[str]] = None
) -> Optional[tuple[str, Any, frozenset[str]]]:
    """(the text parsed, its tree, the names its summary leaves out) for a summary: the
    skimmed text when it parses, else the whole; None when neither parses."""
    short = skim(text, wanted)
    candidates = [(short.text, short.elided)] if short is not None else []
    for candidate, elided in [*candidates, (text, frozenset())]:
        try:
            return candidate, parse_module(candidate), elided
        except Exception:  # libcst raises ParserSyntaxError, and worse on odd input
            continue
    return None


def skim(text: str, wanted: Optional[Set[str]] = None) -> Optional[Skimmed]:
    """`text` with the bodies left out that cannot change its summary, and with `wanted`,
    the defs and classes no wanted name needs made stubs; None when nothing was left out
    (or the text is not one this scan reads with confidence)."""
    if "async" not in text and wanted is None:
        return None
    scanned = scan(text)
    if scanned is None:
        return None
    lines, code, starts = scanned.lines, scanned.code, scanned.starts
    stubs: Stubs = {}
    elided: frozenset[str] = frozenset()
    if wanted is not None:
        stubs, elided = stubs_for(scanned, wanted)
    out: list[str] = []
    cut = 0  # lines before this one are in `out` already
    i = 0
    while i < len(code):
        if i in stubs:
            end, stub = stubs[i]
            out.extend(lines[cut:i])
            out.extend(stub)
            cut = i = end
            continue
        match = _ASYNC_DEF.match(code[i]) if starts[i] else None
        if match is None:
            i += 1
            continue
        depth = len(match.group(1))
        colon = header_end(code, starts, i)
        if colon is None:
            i += 1
            continue
        end = body_end(code, starts, colon + 1, depth)
        if end is None or not _may_leave_out(code, i, colon, end):
            i = colon + 1  # what it nests is looked at in turn
            continue
        first = next(index for index in range(colon + 1, end) if code[index].strip())
        indent = code[first][: len(code[first]) - len(code[first].lstrip(" "))]
        out.extend(lines[cut : colon + 1])
        out.append(f"{indent}...")
        cut = i = end
    if cut == 0:
        return None
    out.extend(lines[cut:])
    return Skimmed("\n".join(out), elided)


def _may_leave_out(code: list[str], header: int, colon: int, end: int) -> bool:
    """Nothing in the body binds a name outside it."""
    body = "\n".join(code[colon + 1 : end])
    if _BINDS_OUTSIDE.search(body):
        return False
    first = FIRST_PARAM.search("\n".join(code[header : colon + 1]))
    if first is None:
        return False
    name = first.group(1)
    if name in ("*", "/", ")"):
        return True  # no first parameter: no `self` to bind attributes of
    return binding(name).search(body) is None
