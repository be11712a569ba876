"""The one walk over a file: scopes, bindings and the sites rules look at, gathered at once.

Rules never walk the tree themselves; they read `Facts`. The walk is iterative (a 5 MB
generated file nests deeper than Python's recursion limit) and skips whitespace fields.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from asynccheck.lint.cst import cst
from asynccheck.lint.scopes import (
    ANNOTATED,
    CLASS,
    DEF,
    IMPORT,
    NONE,
    OTHER,
    PARAM,
    VALUE,
    WITH,
    Scope,
)
from asynccheck.lint.walk import IS_NODE, child_fields, is_node_type


@dataclass(eq=False)
class Site:
    """A node with what rules ask about it: its parent, scope and innermost statement."""

    node: Any
    parent: Any
    scope: Scope
    stmt: Any
    awaited: bool = False  # the direct operand of `await`


@dataclass(eq=False)
class Facts:
    module_scope: Scope
    scopes: dict[int, Scope] = field(default_factory=dict)  # id(def/lambda/class node) -> scope
    calls: list[Site] = field(default_factory=list)
    sites: dict[str, list[Site]] = field(default_factory=dict)  # node type name -> sites
    # id(statement) -> the scope it runs in; lets a finding be placed through its def
    statement_scopes: dict[int, Scope] = field(default_factory=dict)


def dotted(node: Any) -> Optional[str]:
    """`a.b.c` for a Name/Attribute chain, else None."""
    parts: list[str] = []
    while isinstance(node, cst.Attribute):
        parts.append(node.attr.value)
        node = node.value
    if isinstance(node, cst.Name):
        parts.append(node.value)
        return ".".join(reversed(parts))
    return None


@dataclass(frozen=True)
class _Plan:
    """The walk's work at one node type: computed once per type per file, not per node."""

    is_statement: bool
    keep: Any  # facts.calls for a Call, the type's name for a site type, else None
    handler: Optional[Callable[..., Optional[Scope]]]
    fields_reversed: tuple[str, ...]  # pushed in this order, so children pop in source order


class _Collector:
    """Holds the walk's state; one instance per file."""

    def __init__(self, module: Any, site_types: frozenset[str]) -> None:
        self.module = module
        self.site_types = site_types
        self.facts = Facts(module_scope=Scope("module", module, None))
        self.awaited: set[int] = set()
        self.statement_types = _statement_types()
        self.handlers: dict[type, Callable[..., Optional[Scope]]] = _handlers(self)
        self.plans: dict[type, _Plan] = {}

    def run(self) -> Facts:
        facts = self.facts
        awaited = self.awaited
        calls = facts.calls
        sites = facts.sites
        statement_scopes = facts.statement_scopes
        plans = self.plans
        plan_for = self.plan_for
        is_node = IS_NODE
        # (node, parent, scope, statement)
        stack: list[tuple[Any, Any, Scope, Any]] = [(self.module, None, facts.module_scope, None)]
        pop, push = stack.pop, stack.append
        while stack:
            node, parent, scope, stmt = pop()
            plan = plans.get(type(node)) or plan_for(type(node))
            if plan.is_statement:
                stmt = node
                statement_scopes[id(node)] = scope
            if plan.keep is not None:
                site = Site(node, parent, scope, stmt, id(node) in awaited)
                if plan.keep is calls:
                    calls.append(site)
                else:
                    sites.setdefault(plan.keep, []).append(site)
            if plan.handler is not None and plan.handler(node, scope, stmt, push) is not None:
                continue  # the handler opened a scope and pushed the children itself
            for name in plan.fields_reversed:
                value = getattr(node, name)
                value_type = type(value)
                if value_type is tuple or value_type is list:
                    for child in reversed(value):
                        push((child, node, scope, stmt))
                elif is_node.get(value_type) or is_node_type(value_type):
                    push((value, node, scope, stmt))
        return facts

    def plan_for(self, node_type: type) -> _Plan:
        """What the walk does at a node of this type, worked out on first sight."""
        name = node_type.__name__
        keep: Any = None
        if node_type is cst.Call:
            keep = self.facts.calls
        elif name in self.site_types:
            keep = name
        plan = _Plan(
            node_type in self.statement_types,
            keep,
            self.handlers.get(node_type),
            tuple(reversed(child_fields(node_type))),
        )
        self.plans[node_type] = plan
        return plan

    # --- binding forms -----------------------------------------------------------------
    def bind_target(self, target: Any, scope: Scope, kind: str, payload: Any) -> None:
        if isinstance(target, cst.Name):
            if kind == VALUE and _is_none(payload):
                kind = NONE
            scope.bind(target.value, kind, payload)
        elif isinstance(target, (cst.Tuple, cst.List)):
            values = _unpacked(target, payload) if kind == VALUE else None
            for i, element in enumerate(target.elements):
                if values is None:
                    self.bind_target(element.value, scope, OTHER, None)
                else:
                    self.bind_target(element.value, scope, VALUE, values[i])
        elif isinstance(target, cst.StarredElement):
            self.bind_target(target.value, scope, OTHER, None)

    def on_import(self, node: Any, scope: Scope, stmt: Any, push: Any) -> None:
        for alias in node.names:
            name = dotted(alias.name)
            if name is None:
                continue
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                scope.bind(alias.asname.name.value, IMPORT, name)
            else:
                top = name.split(".", 1)[0]
                scope.bind(top, IMPORT, top)

    def on_import_from(self, node: Any, scope: Scope, stmt: Any, push: Any) -> None:
        module = "." * len(node.relative) + (dotted(node.module) or "" if node.module else "")
        if isinstance(node.names, cst.ImportStar):
            scope.star_imports.append(module)
            return
        for alias in node.names:
            name = dotted(alias.name)
            if name is None:
                continue
            local = name
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                local = alias.asname.name.value
            scope.bind(local, IMPORT, f"{module}.{name}" if module else name)

    def on_assign(self, node: Any, scope: Scope, stmt: Any, push: Any) -> None:
        for target in node.targets:
            if isinstance(target.target, cst.Attribute):
                self.bind_attribute(target.target, scope, VALUE, node.value)
            else:
                self.bind_target(target.target, scope, VALUE, node.value)

    def on_ann_assign(self, node: Any, scope: Scope, stmt: Any, push: Any) -> None:
        payload = (node.annotation.annotation, node.value)
        if isinstance(node.target, cst.Name):
            scope.bind(node.target.value, ANNOTATED, payload)
        elif isinstance(node.target, cst.Attribute):
            self.bind_attribute(node.target, scope, ANNOTATED, payload)

    def bind_attribute(self, target: Any, scope: Scope, kind: str, payload: Any) -> None:
        """`self.session = requests.Session()` in a method types `self.session` class-wide."""
        owner = self_class(target.value, scope)
        if owner is not None:
            if kind == VALUE and _is_none(payload):
                kind = NONE
            owner.bind(f"self.{target.attr.value}", kind, payload)

    def on_aug_assign(self, node: Any, scope: Scope, stmt: Any, push: Any) -> None:
        self.bind_target(node.target, scope, OTHER, None)

    def on_for(self, node: Any, scope: Scope, stmt: Any, push: Any) -> None:
        self.bind_target(node.target, scope, OTHER, None)

    def on_with(self, node: Any, scope: Scope, stmt: Any, push: Any) -> None:
        for item in node.items:
            if item.asname is not None:
                target = item.asname.name
                if isinstance(target, cst.Name):
                    scope.bind(target.value, WITH, item.item)
                else:
                    self.bind_target(target, scope, OTHER, None)

    def on_except(self, node: Any, scope: Scope, stmt: Any, push: Any) -> None:
        if node.name is not None:
            self.bind_target(node.name.name, scope, OTHER, None)

    def on_named_expr(self, node: Any, scope: Scope, stmt: Any, push: Any) -> None:
        self.bind_target(node.target, scope, VALUE, node.value)

    def on_global(self, node: Any, scope: Scope, stmt: Any, push: Any) -> None:
        for item in node.names:
            scope.global_names.add(item.name.value)

    def on_await(self, node: Any, scope: Scope, stmt: Any, push: Any) -> None:
        self.awaited.add(id(node.expression))

    def on_match_as(self, node: Any, scope: Scope, stmt: Any, push: Any) -> None:
        if node.name is not None:
            self.bind_target(node.name, scope, OTHER, None)

    # --- new scopes: the handler pushes children itself and returns the inner scope -----
    def on_function(self, node: Any, scope: Scope, stmt: Any, push: Any) -> Scope:
        scope.bind(node.name.value, DEF, node)
        kind = "async" if node.asynchronous is not None else "function"
        inner = self.new_scope(kind, node, scope)
        push((node.body, node, inner, stmt))
        self.push_params(node.params, node, scope, inner, stmt, push)
        if node.returns is not None:
            push((node.returns, node, scope, stmt))
        for decorator in reversed(node.decorators):
            push((decorator, node, scope, stmt))
        return inner

    def on_lambda(self, node: Any, scope: Scope, stmt: Any, push: Any) -> Scope:
        inner = self.new_scope("lambda", node, scope)
        push((node.body, node, inner, stmt))
        self.push_params(node.params, node, scope, inner, stmt, push)
        return inner

    def on_class(self, node: Any, scope: Scope, stmt: Any, push: Any) -> Scope:
        scope.bind(node.name.value, CLASS, node)
        inner = self.new_scope("class", node, scope)
        push((node.body, node, inner, stmt))
        for arg in reversed((*node.bases, *node.keywords)):
            push((arg, node, scope, stmt))
        for decorator in reversed(node.decorators):
            push((decorator, node, scope, stmt))
        return inner

    def new_scope(self, kind: str, node: Any, parent: Scope) -> Scope:
        inner = Scope(kind, node, parent)
        self.facts.scopes[id(node)] = inner
        return inner

    def push_params(
        self, params: Any, owner: Any, outer: Scope, inner: Scope, stmt: Any, push: Any
    ) -> None:
        """Parameter names bind inside; defaults and annotations are evaluated outside."""
        every = (*params.posonly_params, *params.params, *params.kwonly_params)
        star = [p for p in (params.star_arg, params.star_kwarg) if isinstance(p, cst.Param)]
        for param in (*every, *star):
            inner.bind(param.name.value, PARAM, param)
            if param.default is not None:
                push((param.default, owner, outer, stmt))
            if param.annotation is not None:
                push((param.annotation, owner, outer, stmt))


def self_class(node: Any, scope: Scope) -> Optional[Scope]:
    """The class scope when `node` is the first parameter (`self`) of a method there."""
    parent = scope.parent
    if parent is None or parent.kind != "class" or not isinstance(node, cst.Name):
        return None
    if scope.kind not in ("function", "async"):
        return None
    params = scope.node.params
    first = (*params.posonly_params, *params.params)
    if not first or first[0].name.value != node.value:
        return None
    return parent


def bool_operands(test: Any, operator: Optional[type] = None) -> Iterator[Any]:
    """The operands of `a and b or c`, flattened; with `operator=cst.Or`, only through `or`."""
    if isinstance(test, cst.BooleanOperation) and (
        operator is None or isinstance(test.operator, operator)
    ):
        yield from bool_operands(test.left, operator)
        yield from bool_operands(test.right, operator)
    else:
        yield test


def _unpacked(target: Any, value: Any) -> Optional[list[Any]]:
    """`a, b = x, y`: the value each name gets, when both sides are displays of one length
    without a starred element; None when the unpacking is not that plain."""
    if not isinstance(value, (cst.Tuple, cst.List)) or len(value.elements) != len(target.elements):
        return None
    if any(isinstance(e, cst.StarredElement) for e in (*target.elements, *value.elements)):
        return None
    return [element.value for element in value.elements]


def _is_none(node: Any) -> bool:
    return isinstance(node, cst.Name) and node.value == "None"


_STATEMENT_TYPE_NAMES = (
    "SimpleStatementLine", "If", "For", "While", "Try", "TryStar", "With", "FunctionDef",
    "ClassDef", "Match",
)  # fmt: skip


def _statement_types() -> frozenset[type]:
    return frozenset(getattr(cst, name) for name in _STATEMENT_TYPE_NAMES if hasattr(cst, name))


def _handlers(c: _Collector) -> dict[type, Callable[..., Optional[Scope]]]:
    table: dict[str, Callable[..., Any]] = {
        "Import": c.on_import,
        "ImportFrom": c.on_import_from,
        "Assign": c.on_assign,
        "AnnAssign": c.on_ann_assign,
        "AugAssign": c.on_aug_assign,
        "For": c.on_for,
        "CompFor": c.on_for,
        "With": c.on_with,
        "ExceptHandler": c.on_except,
        "ExceptStarHandler": c.on_except,
        "NamedExpr": c.on_named_expr,
        "Global": c.on_global,
        "Nonlocal": c.on_global,
        "Await": c.on_await,
        "MatchAs": c.on_match_as,
        "FunctionDef": c.on_function,
        "Lambda": c.on_lambda,
        "ClassDef": c.on_class,
    }
    return {getattr(cst, name): fn for name, fn in table.items() if hasattr(cst, name)}


def collect(module: Any, site_types: frozenset[str] = frozenset()) -> Facts:
    """Walk `module` once and return its facts; `site_types` adds node types to keep."""
    collector = _Collector(module, site_types)
    facts = collector.run()
    # The handler table holds bound methods of the collector: a reference cycle that would
    # keep every parsed tree alive until the cyclic GC runs (and make each run slower).
    collector.handlers.clear()
    collector.plans.clear()
    _mark_nested_defs_called_from_async(facts)
    return facts


def _mark_nested_defs_called_from_async(facts: Facts) -> None:
    """`def helper(): ...` inside an `async def` and called there runs on the loop."""
    for site in facts.calls:
        scope = site.scope
        if not scope.is_async or not isinstance(site.node.func, cst.Name):
            continue
        for kind, payload in scope.bindings.get(site.node.func.value, ()):
            if kind == DEF and payload.asynchronous is None:
                nested = facts.scopes.get(id(payload))
                if nested is not None:
                    nested.called_from_async = True
