"""A call on the loop whose verdict needs other modules: it travels as a finding.

AC110 reports such a call like any finding, with its question (the dotted name called and
the message to fill in) in place of the message. So `# noqa` and `per-file-ignores` apply
to it unchanged inside the file's own check; the engine then takes these out (`split`) and
keeps the ones the project graph says block, with their chain.

A file asks many questions and few answers are yes (over Home Assistant's helpers, two of
some thousand), so a question is placed (row and column) only once answered: placing them
all cost a third of the files' parse. It keeps the call's place in the file's walk
instead, and the hash of the text; `answered` parses the file again to place it. A file
where some line's comment silences AC110 places its questions at once, as other findings,
so that a `# noqa` still drops one before it is asked (`unplaced_questions`).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Optional

from asynccheck._hash import blake2b
from asynccheck.lint.finding import Finding, Position

if TYPE_CHECKING:
    from asynccheck.lint.context import FileContext, RawFinding

_MARK = "\x00project\x00"
CHAIN = "{chain}"  # where the chain goes in the message
_NOWHERE = Position(0, 0)  # a question not placed yet
# an answered finding and, when it has no place yet, where its call is (`place`)
Unplaced = tuple[Finding, Optional[str]]


def question(target: str, message: str) -> str:
    """The message of a candidate: `message` has `{chain}` where the chain will go."""
    return f"{_MARK}{target}\x00{message}"


def with_condition(message: str, condition: str) -> str:
    """A finding's message (or a question's) made a question that also needs the dotted
    name `condition` to reach a blocking def: targets after the first are conditions."""
    if message.startswith(_MARK):
        target, _, rest = message[len(_MARK) :].partition("\x00")
        return question(f"{target} {condition}", rest)
    return question(condition, message)


@dataclass(frozen=True)
class Candidate:
    target: str  # the dotted name called: "pkg.storage.save_order"
    finding: Finding  # its message holds the question

    @property
    def targets(self) -> list[str]:
        """The dotted name whose chain the message names, then the conditions (a protocol
        callback's base: `lint.onloop.PROTOCOL_MARK`) that must reach a blocking def too."""
        return self.target.split(" ")

    @property
    def message(self) -> str:
        return self.finding.message.split("\x00", 4)[3]

    def answered(self, chain: str) -> Finding:
        """The finding, with its chain (and its place, if it had none yet)."""
        return place([self.with_chain(chain)])[0]

    def with_chain(self, chain: str) -> Unplaced:
        """The finding with its chain, and what `place` needs to place it if it has no
        place yet (None when it has one)."""
        finding = replace(self.finding, message=self.message.replace(CHAIN, chain))
        if self.finding.location != _NOWHERE:
            return finding, None
        return finding, self.finding.message.split("\x00")[4]

    def to_tuple(self) -> tuple[Any, ...]:
        return self.finding.to_tuple()

    @classmethod
    def from_tuple(cls, path: str, data: tuple[Any, ...]) -> Candidate:
        return of(Finding.from_tuple(path, data))


def is_candidate(finding: Finding) -> bool:
    return finding.message.startswith(_MARK)


def of(finding: Finding) -> Candidate:
    return Candidate(finding.message.split("\x00", 4)[2], finding)


def unplaced_questions(
    ctx: FileContext, raw: list[RawFinding]
) -> tuple[list[RawFinding], list[Finding]]:
    """(the findings to place now, the questions left unplaced) of one file's check.

    A question stays unplaced unless some line of the file silences its code: then no
    place in the file can silence it, and the place is only needed once it is answered.
    """
    questions = [item for item in raw if item.message.startswith(_MARK)]
    if not questions:
        return raw, []
    silenced = _silenced_codes(ctx, {item.code for item in questions})
    keep = [item for item in raw if not item.message.startswith(_MARK) or item.code in silenced]
    if len(keep) == len(raw):
        return raw, []
    index = {id(site.node): i for i, site in enumerate(ctx.facts.calls)}
    digest = _digest(ctx.source)
    left = [
        Finding(
            item.code,
            f"{item.message}\x00{index[id(item.node)]}:{digest}",
            ctx.path,
            _NOWHERE,
            _NOWHERE,
            help=item.help,
        )
        for item in raw
        if item.message.startswith(_MARK) and item.code not in silenced
    ]
    return keep, left


def _silenced_codes(ctx: FileContext, codes: set[str]) -> set[str]:
    """The codes among `codes` that a comment on some line of the file silences."""
    from asynccheck.lint.finding import split_lines
    from asynccheck.lint.suppress import is_suppressed

    if "#" not in ctx.source:
        return set()
    peers = ctx.settings.respect_peer_noqa
    lines = [line for line in split_lines(ctx.source) if "#" in line]
    return {code for code in codes if any(is_suppressed(code, line, peers) for line in lines)}


def _digest(text: str) -> str:
    return blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).hexdigest()


# The file parsed last to place an answered question: a file's questions are answered
# one after another, and a file with several yeses is parsed once.
_PARSED: dict[str, Any] = {}


def place(findings: Sequence[Unplaced]) -> list[Finding]:
    """The answered findings, each at the call it asks about (see `_place`). Picklable
    in and out: the engine may run it in its prefork worker, which has libcst imported."""
    return [
        finding if locator is None else _place(finding, locator) for finding, locator in findings
    ]


def _place(finding: Finding, locator: str) -> Finding:
    """`finding` placed at the call it asks about, found again in a new parse of its file;
    at the file's first line when the file changed meanwhile (or cannot be read)."""
    where = _located(finding.path, locator)
    if where is None:
        first = Position(1, 1)
        return replace(finding, location=first, end_location=first)
    start, end, line = where
    return replace(finding, location=start, end_location=end, source_line=line)


def _located(path: str, locator: str) -> Optional[tuple[Position, Position, str]]:
    from asynccheck.lint.context import FileContext, LintSettings
    from asynccheck.lint.facts import collect
    from asynccheck.lint.finding import split_lines
    from asynccheck.lint.parse import parse_module
    from asynccheck.lint.positions import spans
    from asynccheck.lint.source import decode

    index_text, _, digest = locator.partition(":")
    key = os.path.abspath(path)
    ctx = _PARSED.get(key)
    if ctx is None or _digest(ctx.source) != digest:
        try:
            with open(path, "rb") as f:
                text = decode(f.read()).text
            if text is None or _digest(text) != digest:
                return None
            module = parse_module(text)
        except Exception:  # gone, unreadable, or no longer parsed
            return None
        for old in _PARSED.values():
            old.release()
        _PARSED.clear()
        ctx = _PARSED[key] = FileContext(
            path, text, module, collect(module, frozenset()), LintSettings()
        )
    try:
        site = ctx.facts.calls[int(index_text)]
    except (ValueError, IndexError):
        return None
    span = spans(ctx.module, ctx.source, [(ctx.hosts(site.stmt), (site.node,))]).get(id(site.node))
    if span is None:
        return None
    lines = split_lines(ctx.source)
    line = lines[span.start_row - 1] if span.start_row <= len(lines) else ""
    return Position(span.start_row, span.start_col), Position(span.end_row, span.end_col), line


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
