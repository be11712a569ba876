"""A module's summary, read from the facts of the one walk that also checks the file.

What counts as a blocking call and which defs a call runs now are the rules' answers
(`classify`, `runs_when_called`, handed in by the checker), so this layer knows no rule.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Callable

from asynccheck.lint import names
from asynccheck.lint.callgraph import calls_by_scope
from asynccheck.lint.cst import cst
from asynccheck.lint.onloop import PROTOCOL_BASES, PROTOCOL_MARK
from asynccheck.lint.project.summary import ClassSummary, DefSummary, ModuleSummary
from asynccheck.lint.project.targets import ModuleNames, call_target, class_name
from asynccheck.lint.scopes import DEF, IMPORT

if TYPE_CHECKING:
    from asynccheck.lint.context import FileContext
    from asynccheck.lint.facts import Site
    from asynccheck.lint.scopes import Scope

Classify = Callable[["FileContext", "Site"], Any]  # -> an object with .code, .call, .site
RunsWhenCalled = Callable[["Scope", "set[int]"], bool]

# What a class with an asyncio protocol base holds under `PROTOCOL_MARK`: a def that
# "blocks", so the graph's chain to it is the answer that the class is a protocol.
_PROTOCOL = DefSummary(True, ("", "asyncio protocol"))
_SUPPRESSION_HINT = re.compile(r"#.*(?:noqa|asynccheck\s*:\s*ignore)", re.IGNORECASE)


def spelled_names(ctx: FileContext, module: str, is_package: bool) -> ModuleNames:
    return ctx.memo("project-names", lambda c: ModuleNames(module, is_package, c.facts))


def summarise(
    ctx: FileContext,
    module: str,
    is_package: bool,
    classify: Classify,
    runs_when_called: RunsWhenCalled,
) -> ModuleSummary:
    spelled = spelled_names(ctx, module, is_package)
    calls = calls_by_scope(ctx)
    generators = {id(site.scope) for site in ctx.sites("Yield")}
    found: dict[str, tuple[bool, list[Any], list[tuple[Any, str]]]] = {}
    classes: dict[str, ClassSummary] = {}
    for scope in ctx.facts.scopes.values():
        qualname = spelled.qualname(scope)
        if qualname is None:
            continue
        if scope.kind == "class":
            classes[qualname] = _class_summary(spelled, scope)
            continue
        followed = runs_when_called(scope, generators)
        blocking: list[Any] = []
        targets: list[tuple[Any, str]] = []
        for _, site in calls.get(id(scope), ()) if followed else ():
            verdict = classify(ctx, site)
            if verdict is not None:
                blocking.append(verdict)
                continue
            target = call_target(spelled, site)
            if target is not None:
                targets.append((site, target))
        found[qualname] = (followed, blocking, targets)
    suppressed = _suppression(ctx, found)
    defs = {}
    for qualname, (followed, blocking, targets) in found.items():
        first = next((b for b in blocking if not suppressed(b.site, (b.code, "AC110"))), None)
        kept = dict.fromkeys(t for site, t in targets if not suppressed(site, ("AC110",)))
        defs[qualname] = DefSummary(
            followed, (first.code, first.call) if first is not None else None, tuple(kept)
        )
    for qualname, info in classes.items():  # found through subclasses' bases (lint.onloop)
        if any(base in PROTOCOL_BASES for base in info.bases):
            defs[f"{qualname}.{PROTOCOL_MARK}"] = _PROTOCOL
    return ModuleSummary(module, defs, classes, _imports(spelled, ctx))


def _suppression(ctx: FileContext, found: dict[str, Any]) -> Callable[[Any, tuple[str, ...]], bool]:
    """`# noqa` on a blocking call (or AC110 on a call) inside a def cuts chains there.

    Only sites whose statement carries such a comment are placed (placing every call of a
    file cost more than parsing it); a comment inside a statement that spans lines, on
    another line than its end, is not seen here.
    """
    never: Callable[[Any, tuple[str, ...]], bool] = lambda site, codes: False  # noqa: E731
    if not _SUPPRESSION_HINT.search(ctx.source):
        return never
    sites = [b.site for _, blocking, _ in found.values() for b in blocking]
    sites += [site for _, _, targets in found.values() for site, _ in targets]
    sites = [site for site in sites if _commented(site.stmt)]
    return ctx.suppression_of(sites) if sites else never


def _commented(stmt: Any) -> bool:
    """The statement's own line comment (or a block header's) looks like a suppression."""
    whitespace = getattr(stmt, "trailing_whitespace", None)
    if whitespace is None:
        whitespace = getattr(getattr(stmt, "body", None), "header", None)
    comment = getattr(whitespace, "comment", None)
    return comment is not None and _SUPPRESSION_HINT.search(comment.value) is not None


def _class_summary(spelled: ModuleNames, scope: Scope) -> ClassSummary:
    bases = []
    parent = scope.parent
    for base in scope.node.bases:
        value = base.value.value if isinstance(base.value, cst.Subscript) else base.value
        name = class_name(spelled, value, parent) if parent is not None else None
        if name is None and parent is not None:
            name = names.resolve(value, parent)  # `asyncio.Protocol`, `builtins.object`
        bases.append(name or "")
    attributes = frozenset(
        name for name, bound in scope.bindings.items() if any(kind != DEF for kind, _ in bound)
    )
    return ClassSummary(tuple(bases), attributes)


def _imports(spelled: ModuleNames, ctx: FileContext) -> dict[str, str]:
    """Module-level imports of project names: how `__init__.py` re-exports."""
    out = {}
    for name, bound in ctx.facts.module_scope.bindings.items():
        if len(bound) == 1 and bound[0][0] == IMPORT:
            target = spelled.imported(bound[0][1])
            if target is not None:
                out[name] = target
    for star in ctx.facts.module_scope.star_imports:
        target = spelled.imported(star)
        if target is not None:
            out[f"*{len(out)}"] = target
    return out
