"""A call on the loop whose verdict needs other modules: it travels as a finding.

AC110 reports such a call like any finding, with its question (the dotted name called and
the message to fill in) in place of the message. So positions, `# noqa` and
`per-file-ignores` apply to it unchanged inside the file's own check; the engine then takes
these out (`split`) and keeps the ones the project graph says block, with their chain.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from asynccheck.lint.finding import Finding

_MARK = "\x00project\x00"
CHAIN = "{chain}"  # where the chain goes in the message


def question(target: str, message: str) -> str:
    """The message of a candidate: `message` has `{chain}` where the chain will go."""
    return f"{_MARK}{target}\x00{message}"


@dataclass(frozen=True)
class Candidate:
    target: str  # the dotted name called: "pkg.storage.save_order"
    finding: Finding  # its message holds the question

    @property
    def message(self) -> str:
        return self.finding.message.split("\x00", 3)[3]

    def answered(self, chain: str) -> Finding:
        return replace(self.finding, message=self.message.replace(CHAIN, chain))

    def to_tuple(self) -> tuple[Any, ...]:
        return self.finding.to_tuple()

    @classmethod
    def from_tuple(cls, path: str, data: tuple[Any, ...]) -> Candidate:
        return of(Finding.from_tuple(path, data))


def is_candidate(finding: Finding) -> bool:
    return finding.message.startswith(_MARK)


def of(finding: Finding) -> Candidate:
    return Candidate(finding.message.split("\x00", 3)[2], finding)


def split(findings: Iterable[Finding]) -> tuple[list[Finding], list[Candidate]]:
    """(the file's own findings, its candidates)."""
    own: list[Finding] = []
    candidates: list[Candidate] = []
    for finding in findings:
        if is_candidate(finding):
            candidates.append(of(finding))
        else:
            own.append(finding)
    return own, candidates
