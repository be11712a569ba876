"""Findings, fixes and edits: plain frozen data shared by the engine, the cache and the reports."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Optional

SAFE = "safe"
UNSAFE = "unsafe"


@dataclass(frozen=True, order=True)
class Position:
    """A 1-based row and a 1-based column counted in characters, as ruff reports them."""

    row: int
    column: int


@dataclass(frozen=True)
class Edit:
    """Replace the characters [start, end) of the source with `content`."""

    start: int
    end: int
    content: str
    location: Position
    end_location: Position

    def to_tuple(self) -> tuple[Any, ...]:
        return (self.start, self.end, self.content, *astuple_pos(self.location, self.end_location))

    @classmethod
    def from_tuple(cls, data: tuple[Any, ...]) -> Edit:
        start, end, content, r1, c1, r2, c2 = data
        return cls(start, end, content, Position(r1, c1), Position(r2, c2))


@dataclass(frozen=True)
class Fix:
    """A set of edits applied together; `applicability` is SAFE or UNSAFE, as in ruff."""

    applicability: str
    message: str
    edits: tuple[Edit, ...]

    @property
    def is_safe(self) -> bool:
        return self.applicability == SAFE

    def to_tuple(self) -> tuple[Any, ...]:
        return (self.applicability, self.message, tuple(e.to_tuple() for e in self.edits))

    @classmethod
    def from_tuple(cls, data: tuple[Any, ...]) -> Fix:
        applicability, message, edits = data
        return cls(applicability, message, tuple(Edit.from_tuple(e) for e in edits))


@dataclass(frozen=True)
class Finding:
    """One problem at one place. `source_line` is kept so reports never re-read the file."""

    code: str
    message: str
    path: str
    location: Position
    end_location: Position
    fix: Optional[Fix] = None
    source_line: str = field(default="", compare=False)
    # The rule's advice when no fix carries it (`help:` in the text report): a fixable rule
    # whose fix cannot be made at this spot still says what to do.
    help: str = ""

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.path, self.location.row, self.location.column, self.code)

    def to_tuple(self) -> tuple[Any, ...]:
        """A marshal-friendly form for the cache (no path: the cache is keyed by it)."""
        return (
            self.code,
            self.message,
            *astuple_pos(self.location, self.end_location),
            self.fix.to_tuple() if self.fix else None,
            self.source_line,
            self.help,
        )

    @classmethod
    def from_tuple(cls, path: str, data: tuple[Any, ...]) -> Finding:
        code, message, r1, c1, r2, c2, fix, line, *advice = data
        return cls(
            code,
            message,
            path,
            Position(r1, c1),
            Position(r2, c2),
            Fix.from_tuple(fix) if fix else None,
            line,
            advice[0] if advice else "",
        )


def astuple_pos(start: Position, end: Position) -> tuple[int, int, int, int]:
    return (start.row, start.column, end.row, end.column)


LINE_BREAK = re.compile(r"\r\n|\r|\n")  # as Python's tokenizer counts lines


def split_lines(source: str) -> list[str]:
    """Lines as Python's tokenizer counts them: form feeds and other separators stay inside."""
    return LINE_BREAK.split(source)
