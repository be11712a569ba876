"""Python source read as lines, strings and brackets by one regular expression.

Not Python's tokenizer: that costs a fifth of libcst's parse, this a fiftieth. What it
tells is enough to cut a module into statements and blocks by indentation (`project.skim`,
`project.stubs`); where it is unsure (tabs, a quote left open), it declines the text, and
when it is wrong all the same, the text cut by it does not parse and the caller parses the
original.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

# A comment or a string, in source order. A string's prefix (`rb`, `f`) is left as it is:
# the scan reads it as a name, which no one asks about (a pattern that began with the
# optional prefix and a look-behind could not skip to the next quote or `#`: twice as slow).
_TOKENS = re.compile(
    r"""\#[^\n]*"""
    r"""|'''(?:\\.|[^\\])*?'''|\"\"\"(?:\\.|[^\\])*?\"\"\""""
    r"""|'(?:\\.|[^\\'\n])*'|"(?:\\.|[^\\"\n])*\"""",
    re.DOTALL,
)
_NOT_SPACE = re.compile(r"\S")
_INSIDE = re.compile(r"\n( *)x")
_HEAD = re.compile(r"(?:(async)[ ]+)?(def|class)[ ]+(\w+)")
# The first parameter, after the name and any type parameters: `(self`; `(*` or `()` for none.
FIRST_PARAM = re.compile(r"\w+\s*(?:\[[^\]]*\]\s*)?\(\s*(\w+|\*|/|\))")


@dataclass(frozen=True)
class Scanned:
    lines: list[str]  # the text's lines
    code: list[str]  # the same with comments blanked and strings made `x`
    starts: list[bool]  # for each line: does a statement begin on it?


@dataclass(frozen=True)
class Block:
    """A def or class statement: its lines [begin, end), decorators included."""

    begin: int
    head: int  # the line of `def` / `class`
    end: int
    name: str
    kind: str  # "def", "async def" or "class"


def scan(text: str) -> Optional[Scanned]:
    """None for a text this scan does not read with confidence."""
    if "\t" in text or "\r" in text or "\f" in text:
        return None
    masked = _mask(text)
    if masked is None:
        return None
    code = masked.split("\n")
    return Scanned(text.split("\n"), code, _statement_starts(code))


def indent_of(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def statements(
    scanned: Scanned, first: int, end: int, indent: int
) -> tuple[list[Block], list[tuple[int, int]]]:
    """The statements that begin in [first, end) at `indent`: the defs and classes, and
    the line ranges of the others."""
    code, starts = scanned.code, scanned.starts
    heads = [i for i in range(first, end) if starts[i] and indent_of(code[i]) == indent]
    blocks: list[Block] = []
    others: list[tuple[int, int]] = []
    decorated: Optional[int] = None
    for n, line in enumerate(heads):
        stop = heads[n + 1] if n + 1 < len(heads) else end
        text = code[line][indent:]
        if text.startswith("@"):
            if decorated is None:
                decorated = line
            continue
        begin = decorated if decorated is not None else line
        decorated = None
        match = _HEAD.match(text)
        if match is None:
            others.append((begin, stop))
            continue
        kind = "class" if match.group(2) == "class" else "async def" if match.group(1) else "def"
        blocks.append(Block(begin, line, stop, match.group(3), kind))
    return blocks, others


def binding(name: str) -> re.Pattern[str]:
    """`self.x = ...` or `self.x: T`: a statement that binds an attribute of the class
    (dict keys and slices match too: callers keep such a body; a block's header,
    `if self.x:`, does not)."""
    escaped = re.escape(name)
    return re.compile(rf"\b{escaped}[\s\\)]*\.[\s\\]*\w+[\s\\)]*(?:=(?!=)|:(?![ ]*(?:\n|$)))")


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


def header_end(code: list[str], starts: list[bool], first: int) -> Optional[int]:
    """The line of the colon that ends the def or class header begun at `first`; None for
    a body on the header's own line."""
    last = first
    for index in range(first + 1, len(code)):
        if starts[index]:
            break
        if code[index].strip():
            last = index
    return last if code[last].rstrip().endswith(":") else None


def body_end(code: list[str], starts: list[bool], start: int, depth: int) -> Optional[int]:
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
