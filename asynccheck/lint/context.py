"""Per-file facts computed once and shared by every rule, and the findings rules hand back.

Rules report nodes (`RawFinding`); positions and fix offsets are computed afterwards in one
pass over the file, and only when something was reported.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Optional, TypeVar

from asynccheck.lint import names
from asynccheck.lint.cst import cst
from asynccheck.lint.facts import Facts, Site
from asynccheck.lint.finding import Edit, Finding, Fix, Position, split_lines
from asynccheck.lint.scopes import Scope

T = TypeVar("T")


@dataclass(frozen=True)
class NodeEdit:
    """Replace `node`'s syntax with `content`; or insert it before/after the node."""

    node: Any
    content: str
    where: str = "replace"  # "replace" | "before" | "after" | "before_end" | "line_after"
    # "line_after": `content` goes on a new line after the node, indented like the node's
    # first line (appending a statement to a block: the rule cannot know the indentation).


@dataclass(frozen=True)
class FixPlan:
    applicability: str
    message: str
    edits: tuple[NodeEdit, ...]


@dataclass(frozen=True)
class RawFinding:
    code: str
    message: str
    node: Any  # the span reported
    stmt: Any  # the innermost statement: a suppression comment on its first line counts
    fix: Optional[FixPlan] = None
    help: str = ""  # advice shown when there is no fix (`Rule.advise` fills it)


@dataclass(frozen=True)
class LintSettings:
    """The parts of the configuration that rules read."""

    blocking_calls: frozenset[str] = frozenset()
    resource_types: frozenset[str] = frozenset()
    target_version: tuple[int, int] = (3, 9)
    respect_peer_noqa: bool = True  # a noqa for RUF006 silences AC401 (lint/peers.py)


@dataclass(eq=False)
class FileContext:
    path: str
    source: str
    module: Any
    facts: Facts
    settings: LintSettings = field(default_factory=LintSettings)
    _memo: dict[str, Any] = field(default_factory=dict)
    # Set when the file is checked as part of a project (`lint.project`): its dotted name,
    # and whether it is a package's `__init__.py` (relative imports start there).
    module_name: Optional[str] = None
    is_package: bool = False

    # --- facts shared between rules -------------------------------------------------------
    def memo(self, key: str, compute: Callable[[FileContext], T]) -> T:
        """Compute a per-file fact once, whichever rule asks first."""
        if key not in self._memo:
            self._memo[key] = compute(self)
        return self._memo[key]  # type: ignore[no-any-return]

    def release(self) -> None:
        """Drop the memoized facts once the file is done (they may point back here)."""
        self._memo.clear()

    def resolve(self, expr: Any, scope: Scope) -> Optional[str]:
        return names.resolve(expr, scope)

    def type_of(self, expr: Any, scope: Scope) -> Optional[str]:
        return names.type_of(expr, scope)

    def code_for(self, node: Any) -> str:
        return self.module.code_for_node(node)  # type: ignore[no-any-return]

    def sites(self, type_name: str) -> list[Site]:
        return self.facts.sites.get(type_name, [])

    # --- fixes ------------------------------------------------------------------------------
    def module_name_for(
        self, scope: Scope, module: str
    ) -> tuple[Optional[str], tuple[NodeEdit, ...]]:
        """How to spell `module` here, plus the edit that imports it when it is missing.

        (None, ()) when the name is taken by something else and no fix is safe.
        """
        alias = names.module_alias(scope, module)
        if alias is not None:
            return alias, ()
        if not names.is_free(scope, module):
            return None, ()
        anchor = self.import_anchor()
        if anchor is None:
            return None, ()
        node, where = anchor
        newline = self.module.default_newline  # CRLF files stay CRLF
        text = f"import {module}{newline}" if where == "before" else f"{newline}import {module}"
        return module, (NodeEdit(node, text, where),)

    def import_anchor(self) -> Optional[tuple[Any, str]]:
        """Where a new top-level import goes: before the first import, after a docstring
        and `from __future__` imports, or before the first statement."""
        body = self.module.body
        after: Any = None
        for index, stmt in enumerate(body):
            if not isinstance(stmt, cst.SimpleStatementLine) or not stmt.body:
                break
            first = stmt.body[0]
            if isinstance(first, cst.ImportFrom) and _is_future(first):
                after = stmt
                continue
            if isinstance(first, (cst.Import, cst.ImportFrom)):
                return stmt, "before"
            if (
                index == 0
                and isinstance(first, cst.Expr)
                and isinstance(first.value, (cst.SimpleString, cst.ConcatenatedString))
            ):
                after = stmt
                continue
            break
        if after is not None:
            return after, "after"
        return (body[0], "before") if body else None

    # --- from raw findings to findings ------------------------------------------------------
    def materialize(self, raw: list[RawFinding]) -> list[Finding]:
        if not raw:
            return []
        from asynccheck.lint.positions import Request, spans

        wanted: list[Request] = []
        for item in raw:
            nodes = [item.node, item.stmt]
            if item.fix is not None:
                nodes.extend(edit.node for edit in item.fix.edits)
            wanted.append((self.hosts(item.stmt), nodes))
        located = spans(self.module, self.source, wanted)
        lines = split_lines(self.source)
        findings = []
        for item in raw:
            span = located.get(id(item.node))
            if span is None:  # pragma: no cover - a node outside the module
                continue
            stmt_span = located.get(id(item.stmt)) if item.stmt is not None else None
            line = lines[span.start_row - 1] if span.start_row <= len(lines) else ""
            findings.append(
                (
                    Finding(
                        item.code,
                        item.message,
                        self.path,
                        Position(span.start_row, span.start_col),
                        Position(span.end_row, span.end_col),
                        self._fix(item.fix, located),
                        line,
                        item.help if item.fix is None else "",
                    ),
                    stmt_span.start_row if stmt_span else span.start_row,
                )
            )
        from asynccheck.lint.suppress import unsuppressed

        return unsuppressed(findings, lines, self.settings.respect_peer_noqa)

    def suppression_of(self, sites: list[Site]) -> Callable[[Site, tuple[str, ...]], bool]:
        """A test of whether a `# noqa` for one of `codes` sits on a site's line (the call's
        or its statement's first line). Positions are found once, for `sites` only."""
        from asynccheck.lint.positions import spans
        from asynccheck.lint.suppress import is_suppressed

        located = spans(
            self.module,
            self.source,
            [(self.hosts(site.stmt), (site.node, site.stmt)) for site in sites],
        )
        lines = split_lines(self.source)

        def suppressed(site: Site, codes: tuple[str, ...]) -> bool:
            rows = {
                span.start_row
                for span in (located.get(id(site.node)), located.get(id(site.stmt)))
                if span
            }
            return any(
                0 < row <= len(lines) and any(is_suppressed(code, lines[row - 1]) for code in codes)
                for row in rows
            )

        return suppressed

    def hosts(self, stmt: Any) -> tuple[Any, ...]:
        """`stmt`, then the defs and classes around it: ever larger statements, the first
        whose text is unique in the file places the finding (see positions.spans)."""
        if stmt is None:
            return ()
        hosts = [stmt]
        scope = self.facts.statement_scopes.get(id(stmt))
        while scope is not None and scope.parent is not None:
            if scope.kind != "lambda":
                hosts.append(scope.node)
            scope = scope.parent
        return tuple(hosts)

    def _fix(self, plan: Optional[FixPlan], located: dict[int, Any]) -> Optional[Fix]:
        if plan is None:
            return None
        edits = []
        for edit in plan.edits:
            span = located.get(id(edit.node))
            if span is None:
                return None
            start_pos = Position(span.start_row, span.start_col)
            end_pos = Position(span.end_row, span.end_col)
            # "before_end": just before the node's last character (a call's closing paren)
            last = Position(span.end_row, span.end_col - 1)
            if edit.where == "line_after":
                edits.append(self._line_after(edit.content, span))
                continue
            start, end, start_pos, end_pos = {
                "replace": (span.start, span.end, start_pos, end_pos),
                "before": (span.start, span.start, start_pos, start_pos),
                "after": (span.end, span.end, end_pos, end_pos),
                "before_end": (span.end - 1, span.end - 1, last, last),
            }[edit.where]
            edits.append(Edit(start, end, edit.content, start_pos, end_pos))
        return Fix(plan.applicability, plan.message, tuple(sorted(edits, key=lambda e: e.start)))

    def _line_after(self, content: str, span: Any) -> Edit:
        """A new line after the node's last line (after a trailing comment), indented like
        the node's first line."""
        source, newline = self.source, self.module.default_newline
        lines = split_lines(source)
        line = lines[span.start_row - 1] if span.start_row <= len(lines) else ""
        indent = line[: len(line) - len(line.lstrip(" \t"))]
        offset = span.end
        if offset > 0 and source[offset - 1] in "\r\n":  # a compound statement: ends a line
            text = f"{indent}{content}{newline}"
            row, column = span.end_row, span.end_col
        else:
            end_of_line = len(lines[span.end_row - 1]) if span.end_row <= len(lines) else 0
            offset += max(end_of_line - (span.end_col - 1), 0)
            text = f"{newline}{indent}{content}"
            row, column = span.end_row, end_of_line + 1
        where = Position(row, column)
        return Edit(offset, offset, text, where, where)


def _is_future(node: Any) -> bool:
    return (
        node.module is not None
        and isinstance(node.module, cst.Name)
        and (node.module.value == "__future__")
    )
