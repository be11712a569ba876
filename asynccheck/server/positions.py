"""Findings count 1-based rows and characters; LSP counts 0-based lines and the code units
the client chose (UTF-16 unless it asked for another). One place converts both ways."""

from __future__ import annotations

from dataclasses import dataclass, field

from lsprotocol import types
from pygls.workspace.position_codec import PositionCodec

from asynccheck.lint.finding import Position, split_lines


@dataclass
class Lines:
    text: str
    codec: PositionCodec = field(default_factory=PositionCodec)

    def __post_init__(self) -> None:
        self.lines = split_lines(self.text)  # line breaks as LSP counts them: \r\n, \r, \n

    def to_client(self, where: Position) -> types.Position:
        line = min(max(where.row - 1, 0), len(self.lines) - 1)
        character = min(max(where.column - 1, 0), len(self.lines[line]))
        return self.codec.position_to_client_units(self.lines, types.Position(line, character))

    def range(self, start: Position, end: Position) -> types.Range:
        return types.Range(self.to_client(start), self.to_client(end))

    def from_client(self, where: types.Position) -> Position:
        """The 1-based row and character of a client position."""
        server = self.codec.position_from_client_units(
            self.lines, types.Position(where.line, where.character)
        )
        return Position(server.line + 1, server.character + 1)

    def line(self, row: int) -> str:
        return self.lines[row - 1] if 0 < row <= len(self.lines) else ""
