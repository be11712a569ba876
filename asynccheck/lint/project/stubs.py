"""Which defs and classes of a module a summary for some names can do without, and the
stubs that take their place.

A module the linted files reach but do not name is summarised for the names the run reads
there (`wanted`, `Class.method` at most). The rest of its defs and classes become stubs
before the parse, `def name(): ...`, so every name is still bound as it was and a call of
it is spelled right; the summary then names them in `elided`, and a later read of one makes the caller
summarise the module again (`project.step`). Over Home Assistant's helpers, core.py's 3,079
lines are read for 9 names, config_entries' 4,479 for one class.

What is kept, and why:
- the module's other statements (imports: how names resolve), but an assignment to one
  name (`LIMIT = 3`, `client = httpx.Client()`: what type a module-level client has) only
  when the kept text reads that name; and a def that says `global`;
- a wanted def whole; a wanted class's header (its bases, kept too), its non-def
  statements, the methods wanted, and its constructors (a call of the class runs them);
- of a method that binds attributes (`self.x = ...`: the class's attributes and their
  types), those statements only, unless it nests defs: then it is kept whole;
- round after round, what the kept text calls by a name this scan can tie to a def here
  (`helper(`, `Store.load(`, and in a class `.load(` on any receiver, through the bases
  defined here): a def's summary follows those within the module (a helper that always
  raises ends the paths through it, `lint.flow`).
A coroutine function's stub says all its summary would (that it is one), so it is left out
of `elided` unless it nests defs.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Set
from dataclasses import dataclass, field
from typing import Optional

from asynccheck.lint.project.scan import (
    FIRST_PARAM,
    Block,
    Scanned,
    binding,
    header_end,
    indent_of,
    statements,
)

_GLOBAL = re.compile(r"\bglobal\b")
_NESTS = re.compile(r"\b(?:def|class)\b")
# Calls the text makes, as this scan sees them: `name(`, `Name.attr(`, `.attr(`.
_CALLED_NAME = re.compile(r"(?<![\w.])([A-Za-z_]\w*)\s*\(")
_CALLED_ON_NAME = re.compile(r"(?<![\w.])([A-Za-z_]\w*)\s*\.\s*([A-Za-z_]\w*)\s*\(")
_CALLED_ATTRIBUTE = re.compile(r"\.\s*([A-Za-z_]\w*)\s*\(")
_IDENTIFIER = re.compile(r"[A-Za-z_]\w*")
# A module-level assignment to one name (`LIMIT = 3`, `client: Client = Client()`): left out
# unless the kept text reads the name.
_ASSIGNMENT = re.compile(r"([A-Za-z_]\w*)[ ]*(?::[^=]*)?=(?!=)")
# What a call of the class runs, kept with the class so that it needs no second round.
_CONSTRUCTORS = ("__init__", "__new__", "__post_init__")


@dataclass
class _Class:
    block: Block
    header: str  # from `class` to the colon: the bases
    members: dict[str, list[Block]]  # the defs at the body's level, by name
    rest: str  # the body's other statements


# {a block's first line: (its end, the lines that take its place)}
Stubs = dict[int, tuple[int, list[str]]]


def stubs_for(scanned: Scanned, wanted: Set[str]) -> tuple[Stubs, frozenset[str]]:
    """The stubs and the names their summaries leave out (`Class.method` for a method)."""
    code = scanned.code
    tops, others = statements(scanned, 0, len(code), 0)
    defs: dict[str, list[Block]] = {}
    classes: dict[str, _Class] = {}
    for block in tops:
        if block.kind == "class":
            if block.name not in classes and block.name not in defs:
                classes[block.name] = _class(scanned, block)
                continue
        elif block.name not in classes:
            defs.setdefault(block.name, []).append(block)
            continue
        others.append((block.begin, block.end))  # a name bound twice, as def and class
    assigned: dict[str, list[tuple[int, int]]] = {}  # `NAME = ...`, by name
    for begin, end in others:
        match = _ASSIGNMENT.match(code[begin])
        if match is not None and not keyword.iskeyword(match.group(1)):  # not `else: x = 1`
            assigned.setdefault(match.group(1), []).append((begin, end))
    kept = _Kept(scanned, defs, classes, assigned)
    for name in wanted:
        head, _, member = name.partition(".")
        if member and head in classes:
            kept.member(head, member.partition(".")[0])
        else:
            kept.definition(head)
    for blocks in defs.values():
        if any(_GLOBAL.search(_text(code, block)) for block in blocks):
            kept.definition(blocks[0].name)
    optional = {span for found in assigned.values() for span in found}
    always = [span for span in others if span not in optional]
    kept.follow("\n".join(line for b, e in always for line in code[b:e]), None)
    kept.grow()
    stubs: Stubs = {}
    for name, found in assigned.items():
        if name not in kept.names:
            for begin, end in found:
                stubs[begin] = (end, [])  # left out: nothing kept reads it
    elided: set[str] = set()
    for name, blocks in defs.items():
        if name not in kept.defs:
            for block in blocks:
                if _stub(scanned, block, stubs, None):
                    elided.add(name)
    for name, info in classes.items():
        if name not in kept.classes:
            block = info.block
            stubs[block.begin] = (block.end, [f"class {name}: ..."])
            elided.add(name)
            continue
        for member, blocks in info.members.items():
            if (name, member) not in kept.members:
                for block in blocks:
                    if _stub(scanned, block, stubs, kept.attributes(block)):
                        elided.add(f"{name}.{member}")
                continue
            for block in blocks:  # a coroutine method's summary is whole with its bindings
                if block.kind == "async def" and kept.attributes(block) is not None:
                    _stub(scanned, block, stubs, kept.attributes(block))
    return stubs, frozenset(elided)


@dataclass
class _Kept:
    """What the summary needs whole, grown by what the kept text calls: `follow` notes a
    text, `grow` reads the noted texts, and what they keep, until none is left (a loop,
    not a recursion: a module may chain thousands of helpers)."""

    scanned: Scanned
    all_defs: dict[str, list[Block]]
    all_classes: dict[str, _Class]
    assigned: dict[str, list[tuple[int, int]]]
    names: set[str] = field(default_factory=set)  # the assigned names the kept text reads
    defs: set[str] = field(default_factory=set)
    classes: set[str] = field(default_factory=set)
    members: set[tuple[str, str]] = field(default_factory=set)
    _todo: list[tuple[str, Optional[str]]] = field(default_factory=list)
    _attributes: dict[Block, Optional[tuple[str, list[str]]]] = field(default_factory=dict)

    def attributes(self, block: Block) -> Optional[tuple[str, list[str]]]:
        """`_attributes` of a method, worked out once."""
        if block not in self._attributes:
            self._attributes[block] = _attributes(self.scanned, block)
        return self._attributes[block]

    def definition(self, name: str) -> None:
        """A call `name(`: the def, or the class (its constructors)."""
        if name in self.all_defs and name not in self.defs:
            self.defs.add(name)
            for block in self.all_defs[name]:
                self.follow(_text(self.scanned.code, block), None)
        elif name in self.all_classes:
            self.cls(name)

    def cls(self, name: str) -> None:
        """Keep a class and, through its bases defined here, theirs."""
        todo = [name]
        while todo:
            name = todo.pop()
            if name in self.classes:
                continue
            self.classes.add(name)
            info = self.all_classes[name]
            todo += [base for base in _bases(info) if base in self.all_classes]
            self.follow(info.rest, name)
            for member, blocks in info.members.items():
                if member in _CONSTRUCTORS or any(
                    _binds_attributes(self.scanned, block) and self.attributes(block) is None
                    for block in blocks
                ):
                    self._keep_member(name, member)

    def member(self, cls: str, member: str) -> None:
        """`cls.member`, or the one of the first base that defines it (bases defined here,
        depth first)."""
        todo, seen = [cls], set()
        while todo:
            cls = todo.pop()
            info = self.all_classes.get(cls)
            if info is None or cls in seen:
                continue
            seen.add(cls)
            self.cls(cls)
            if member in info.members:
                self._keep_member(cls, member)
                return
            todo += reversed(_bases(info))

    def _keep_member(self, cls: str, member: str) -> None:
        if (cls, member) not in self.members:
            self.members.add((cls, member))
            for block in self.all_classes[cls].members[member]:
                self.follow(_text(self.scanned.code, block), cls)

    def follow(self, text: str, cls: Optional[str]) -> None:
        """Note kept text (in class `cls`): what it calls, and the assignments of the
        module names it reads, are to be kept too."""
        self._todo.append((text, cls))

    def grow(self) -> None:
        code = self.scanned.code
        while self._todo:
            text, cls = self._todo.pop()
            for name in _IDENTIFIER.findall(text):
                if name in self.assigned and name not in self.names:
                    self.names.add(name)
                    spans = self.assigned[name]
                    self.follow("\n".join(line for b, e in spans for line in code[b:e]), None)
            for name in _CALLED_NAME.findall(text):
                self.definition(name)
            for owner, member in _CALLED_ON_NAME.findall(text):
                self.member(owner, member)
            if cls is not None:
                for member in _CALLED_ATTRIBUTE.findall(text):
                    self.member(cls, member)


def _bases(info: _Class) -> list[str]:
    """The names in a class's header after `class Name`: its bases (and keywords)."""
    return _IDENTIFIER.findall(info.header)[2:]


def _text(code: list[str], block: Block) -> str:
    return "\n".join(code[block.begin : block.end])


def _class(scanned: Scanned, block: Block) -> _Class:
    code, starts = scanned.code, scanned.starts
    colon = header_end(code, starts, block.head)
    body = None
    if colon is not None:
        body = next((i for i in range(colon + 1, block.end) if starts[i]), None)
    if colon is None or body is None:  # `class X: pass`: all of it is the header
        return _Class(block, "\n".join(code[block.head : block.end]), {}, "")
    header = "\n".join(code[block.head : colon + 1])
    defs, others = statements(scanned, body, block.end, indent_of(code[body]))
    members: dict[str, list[Block]] = {}
    for member in defs:
        if member.kind != "class":  # a nested class stays with the rest
            members.setdefault(member.name, []).append(member)
    others += [(m.begin, m.end) for m in defs if m.kind == "class"]
    return _Class(block, header, members, "\n".join(line for b, e in others for line in code[b:e]))


def _binds_attributes(scanned: Scanned, block: Block) -> bool:
    """A method that binds what its one-line stub would lose: `self.x = ...` (the class's
    attributes), or `global` (any module name)."""
    text = "\n".join(scanned.code[block.head : block.end])
    if _GLOBAL.search(text):
        return True
    first = FIRST_PARAM.search(text)
    if first is None or first.group(1) in ("*", "/", ")"):
        return False
    return binding(first.group(1)).search(text) is not None


def _stub(
    scanned: Scanned, block: Block, stubs: Stubs, bound: Optional[tuple[str, list[str]]]
) -> bool:
    """Plan the def's stub: `def name(): ...` on its first line, or for a method that binds
    attributes (`bound`: `_attributes`), `def name(self):` and those statements on their
    own lines. Whether the stub says less than the def would: a coroutine function's
    summary says only that it is one, unless it nests defs."""
    code = scanned.code
    indent = " " * indent_of(code[block.head])
    stub = [f"{indent}{block.kind} {block.name}(): ..."]
    if bound is not None and bound[1]:
        first, kept = bound
        stub = [f"{indent}{block.kind} {block.name}({first}):", *kept]
    stubs[block.begin] = (block.end, stub)
    body = "\n".join(code[block.head + 1 : block.end])
    return block.kind == "def" or _NESTS.search(body) is not None


def _attributes(scanned: Scanned, block: Block) -> Optional[tuple[str, list[str]]]:
    """(the first parameter, the lines) of the statements in a method that bind
    attributes (`self.x = ...`, `self.x: T`), moved to the body's first level; None when
    some other statement may bind one too (`a = self.x = 1`, `with f() as self.x:`) or a
    nested def or class is in the way. No lines for a method that binds none."""
    lines, code, starts = scanned.lines, scanned.code, scanned.starts
    colon = header_end(code, starts, block.head)
    first = FIRST_PARAM.search("\n".join(code[block.head : (colon or block.head) + 1]))
    if colon is None or first is None or first.group(1) in ("*", "/", ")"):
        return None
    if _NESTS.search("\n".join(code[colon + 1 : block.end])):
        return None
    name = first.group(1)
    binds = binding(name)
    simple = re.compile(rf"{re.escape(name)}\.\w+\s*(?:=(?!=)|:)")
    indent = " " * (indent_of(code[block.head]) + 4)
    found: list[str] = []
    heads = [i for i in range(colon + 1, block.end) if starts[i]] + [block.end]
    for n, at in enumerate(heads[:-1]):
        if binds.search("\n".join(code[at : heads[n + 1]])) is None:
            continue
        stripped = code[at].lstrip(" ")
        if simple.match(stripped) is None:
            return None
        depth = indent_of(code[at])
        for line in range(at, heads[n + 1]):
            original = lines[line]
            cut = min(depth, indent_of(original))
            found.append(indent + original[cut:] if line == at else original[cut:])
    return name, found
