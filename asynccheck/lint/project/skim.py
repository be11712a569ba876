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

Given the names the run needs from the module (`wanted`), the top-level defs and classes
no wanted one needs are left out too, whole, and named in `elided`: over HA's helpers, 13 of
config_entries' 184 defs are read. A wanted def needs every top-level def or class its text
names (a call, a base, a decorator), and so does every other top-level statement (imports,
assignments): kept too, round after round. A name read later that was left out makes the
caller summarise the module again (`project.step`).

The scan reads lines, strings and brackets with one regular expression, not Python's
tokenizer (that costs a fifth of libcst's parse; this, a fiftieth). It only ever removes a
body whose every line is indented deeper than its `async def` and that ends where a line at
most as deep begins; when it was wrong all the same, the text no longer parses and the
caller parses the original.
"""

from __future__ import annotations

import re
from collections.abc import Set
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Skimmed:
    text: str
    elided: frozenset[str] = frozenset()  # top-level defs and classes left out


def parse_for_summary(
    text: str, wanted: Optional[Set[str]] = None
) -> Optional[tuple[str, Any, frozenset[str]]]:
    """(the text parsed, its tree, the top-level names left out) for a summary: the
    skimmed text when it parses, else the whole; None when neither parses."""
    short = skim(text, wanted)
    candidates = [(short.text, short.elided)] if short is not None else []
    for candidate, elided in [*candidates, (text, frozenset())]:
        try:
            return candidate, parse_module(candidate), elided
        except Exception:  # libcst raises ParserSyntaxError, and worse on odd input
            continue
    return None


_NOT_SPACE = re.compile(r"\S")
_INSIDE = re.compile(r"\n( *)x")


def skim(text: str, wanted: Optional[Set[str]] = None) -> Optional[Skimmed]:
    """`text` with the bodies left out that cannot change its summary, and with `wanted`,
    the top-level defs and classes no wanted name needs; None when nothing was left out
    (or the text is not one this scan reads with confidence)."""
    if "\t" in text or "\r" in text or "\f" in text:
        return None
    if "async" not in text and wanted is None:
        return None
    masked = _mask(text)
    if masked is None:
        return None
    lines = text.split("\n")
    code = masked.split("\n")
    starts = _statement_starts(code)
    dropped: dict[int, int] = {}  # first line -> end of a top-level block left out
    elided: frozenset[str] = frozenset()
    if wanted is not None:
        dropped, elided = _unwanted_blocks(code, starts, wanted)
    out: list[str] = []
    cut = 0  # lines before this one are in `out` already
    i = 0
    while i < len(code):
        if i in dropped:
            end = dropped[i]
            out.extend(lines[cut:i])
            out.extend([""] * (end - i))  # the same line numbers after it
            cut = i = end
            continue
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
    return Skimmed("\n".join(out), elided)


_BLOCK_NAME = re.compile(r"(?:async[ ]+)?def[ ]+(\w+)|class[ ]+(\w+)")
_IDENTIFIER = re.compile(r"[A-Za-z_]\w*")
_GLOBAL = re.compile(r"\bglobal\b")


def _unwanted_blocks(
    code: list[str], starts: list[bool], wanted: Set[str]
) -> tuple[dict[int, int], frozenset[str]]:
    """The top-level defs and classes (decorators included) that neither a wanted name nor
    any kept text needs: {first line: end}, and their names. A def that says `global` may
    bind any module name: it is always kept."""
    tops = [i for i, start in enumerate(starts) if start and code[i][0] != " "]
    blocks: dict[str, list[tuple[int, int]]] = {}
    texts: dict[str, list[str]] = {}  # each block's text, by name
    kept_text: list[str] = []  # what is kept whatever is wanted
    first_decorator: Optional[int] = None
    for n, line in enumerate(tops):
        end = tops[n + 1] if n + 1 < len(tops) else len(code)
        head = code[line]
        if head.startswith("@"):
            if first_decorator is None:
                first_decorator = line
            continue
        begin = first_decorator if first_decorator is not None else line
        first_decorator = None
        match = _BLOCK_NAME.match(head)
        text = "\n".join(code[begin:end])
        if match is None or _GLOBAL.search(text):
            kept_text.append(text)
            continue
        name = match.group(1) or match.group(2)
        blocks.setdefault(name, []).append((begin, end))
        texts.setdefault(name, []).append(text)
    if not blocks:
        return {}, frozenset()
    keep: set[str] = set()
    todo = [name for name in wanted if name in blocks]
    todo += [name for name in _IDENTIFIER.findall("\n".join(kept_text)) if name in blocks]
    while todo:
        name = todo.pop()
        if name in keep:
            continue
        keep.add(name)
        for text in texts[name]:
            todo += [
                word for word in _IDENTIFIER.findall(text) if word in blocks and word not in keep
            ]
    elided = frozenset(blocks) - keep
    dropped = {begin: end for name in elided for begin, end in blocks[name]}
    return dropped, elided


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
