"""A module's text for its summary alone: the bodies of `async def`s that cannot change the
summary are left out before parsing.

A module the linted files reach but do not name is parsed only to be summarised, and most of
the project step's time went there (over Home Assistant's helpers, the 38 modules they reach
are 23,600 lines: 0.46x the parse of the helpers themselves). What an `async def` does is
not followed (a call of it only makes a coroutine), so its body says nothing to other
modules, unless it binds a name outside itself: `self.x = ...` (the class's attributes),
`global` / `nonlocal`, or a nested def or class (their qualified names). A body with any of
these is kept whole, and so is one this scanner is unsure about; the rest become `...`, so
the summary is the same, made from fewer lines.

The scan reads lines, strings and brackets with one regular expression, not Python's
tokenizer (that costs a fifth of libcst's parse; this, a fiftieth). It only ever removes a
body whose every line is indented deeper than its `async def` and that ends where a line at
most as deep begins; when it was wrong all the same, the text no longer parses and the
caller parses the original.
"""

from __future__ import annotations

import re
from typing import Any, Optional

from asynccheck.lint.parse import parse_module

# A string (any prefix, triple-quoted or not) or a comment, in source order.
_TOKENS = re.compile(
    r"""\#[^\r\n]*"""
    r"""|(?<![\w.])[rRbBuUfFtT]{0,2}(?:'''(?:\\.|[^\\])*?'''|\"\"\"(?:\\.|[^\\])*?\"\"\""""
    r"""|'(?:\\.|[^\\'\r\n])*'|"(?:\\.|[^\\"\r\n])*")""",
    re.DOTALL,
)
_ASYNC_DEF = re.compile(r"([ ]*)async[ ]+def[ ]+\w+")
# The first parameter, after the name and any type parameters: `(self`; `(*` or `()` for none.
_FIRST_PARAM = re.compile(r"\w+\s*(?:\[[^\]]*\]\s*)?\(\s*(\w+|\*|/|\))")
# What in a body can bind outside it: nested defs and classes, `global`, `nonlocal`.
_BINDS_OUTSIDE = re.compile(r"\b(?:def|class|global|nonlocal)\b")


def parse_for_summary(text: str) -> Optional[tuple[str, Any]]:
    """(the text parsed, its tree) for a summary: the skimmed text when it parses, else the
    whole; None when neither parses."""
    short = skim(text)
    for candidate in (short, text) if short is not None else (text,):
        try:
            return candidate, parse_module(candidate)
        except Exception:  # libcst raises ParserSyntaxError, and worse on odd input
            continue
    return None


_NOT_SPACE = re.compile(r"\S")
_INSIDE = re.compile(r"\n( *)x")


def skim(text: str) -> Optional[str]:
    """`text` with the bodies left out that cannot change its summary; None when nothing
    was left out (or the text is not one this scan reads with confidence)."""
    if "async" not in text or "\t" in text or "\r" in text or "\f" in text:
        return None
    masked = _mask(text)
    if masked is None:
        return None
    lines = text.split("\n")
    code = masked.split("\n")
    starts = _statement_starts(code)
    out: list[str] = []
    cut = 0  # lines before this one are in `out` already
    i = 0
    while i < len(code):
        match = _ASYNC_DEF.match(code[i]) if starts[i] else None
        if match is None:
            i += 1
            continue
        depth = len(match.group(1))
        colon = _header_end(code, starts, i)
        if colon is None:
            i += 1
            continue
        end = _body_end(code, starts, colon + 1, depth)
        if end is None or not _may_leave_out(code, i, colon, end):
            i = colon + 1  # what it nests is looked at in turn
            continue
        first = next(index for index in range(colon + 1, end) if code[index].strip())
        indent = code[first][: len(code[first]) - len(code[first].lstrip(" "))]
        out.extend(lines[cut : colon + 1])
        out.append(f"{indent}...")
        out.extend([""] * (end - colon - 2))  # the same line numbers after it
        cut = i = end
    if cut == 0:
        return None
    out.extend(lines[cut:])
    return "\n".join(out)


def _mask(text: str) -> Optional[str]:
    """`text` with each comment blanked and each string's characters but whitespace made
    `x`, a line that begins inside a string marked `\x01` after its indentation; None when
    a quote is left unmatched."""
    masked = _TOKENS.sub(_masked, text)
    return None if "'" in masked or '"' in masked or "\x01" in text else masked


def _masked(match: re.Match[str]) -> str:
    token = match.group()
    if token[0] == "#":
        return " " * len(token)
    if "\n" not in token:
        return "x" * len(token)
    return _INSIDE.sub("\n\\1\x01", _NOT_SPACE.sub("x", token))


def _statement_starts(code: list[str]) -> list[bool]:
    """For each line: does a statement begin on it (not blank, not inside a string or
    brackets, not after a backslash)?"""
    starts = []
    depth = 0
    continued = False
    for line in code:
        stripped = line.strip()
        starts.append(bool(stripped) and depth == 0 and not continued and stripped[0] != "\x01")
        if not stripped:
            continue
        depth += (
            stripped.count("(") + stripped.count("[") + stripped.count("{")
            - stripped.count(")") - stripped.count("]") - stripped.count("}")
        )  # fmt: skip
        if depth < 0:
            depth = 0
        continued = stripped.endswith("\\")
    return starts


def _header_end(code: list[str], starts: list[bool], first: int) -> Optional[int]:
    """The line of the colon that ends the `async def` header begun at `first`; None for a
    body on the header's own line."""
    last = first
    for index in range(first + 1, len(code)):
        if starts[index]:
            break
        if code[index].strip():
            last = index
    return last if code[last].rstrip().endswith(":") else None


def _body_end(code: list[str], starts: list[bool], start: int, depth: int) -> Optional[int]:
    """Where the body that starts at line `start` ends: before the first statement indented
    no deeper than `depth` (trailing blank lines left to it). None when a line inside the
    body (a string's, say) is not indented deeper: such a body is kept."""
    end = start
    for index in range(start, len(code)):
        line = code[index]
        stripped = line.lstrip(" ")
        if not stripped.strip():
            continue
        if len(line) - len(stripped) <= depth:
            if starts[index]:
                break
            return None
        end = index + 1
    return end if end > start else None


def _may_leave_out(code: list[str], header: int, colon: int, end: int) -> bool:
    """Nothing in the body binds a name outside it."""
    body = "\n".join(code[colon + 1 : end])
    if _BINDS_OUTSIDE.search(body):
        return False
    first = _FIRST_PARAM.search("\n".join(code[header : colon + 1]))
    if first is None:
        return False
    name = first.group(1)
    if name in ("*", "/", ")"):
        return True  # no first parameter: no `self` to bind attributes of
    # `self.x = ...` or `self.x: T` binds an attribute of the class (dict keys and slices
    # match too: such a body is kept)
    attribute = rf"\b{re.escape(name)}[\s\\)]*\.[\s\\]*\w+[\s\\)]*(?:=(?!=)|:)"
    return re.search(attribute, body) is None
