"""Imports run one way: rules know the lint core (context, facts, names) but no output
format and no run; the rule docs, which show what a run prints, sit above both."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

RULES = Path(__file__).parents[2] / "asynccheck" / "rules"
# what sits above the rules: the engine, the API, the CLI and the report formats
ABOVE = (
    "asynccheck.lint.report",
    "asynccheck.lint.engine",
    "asynccheck.lint.api",
    "asynccheck.lint.cli",
    "asynccheck.lint.checker",
    "asynccheck.rule_docs",
)


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


@pytest.mark.parametrize("path", sorted(RULES.rglob("*.py")), ids=lambda p: p.name)
def test_rules_import_nothing_above_them(path):
    above = {name for name in _imports(path) if name.startswith(ABOVE)}
    assert not above, f"{path.name} imports {sorted(above)}"


# --- inside rules/: a package per family, one module a rule, imports one way ----------------
PACKAGE_ROOT = RULES.parents[1]
MODULES = {
    ".".join(p.relative_to(PACKAGE_ROOT).with_suffix("").parts): p for p in RULES.rglob("*.py")
}
MODULES = {name.removesuffix(".__init__"): path for name, path in MODULES.items()}
FAMILIES = sorted(
    name for name, path in MODULES.items() if path.name == "__init__.py" and path.parent != RULES
)


def _family(module: str) -> str | None:
    return next((f for f in FAMILIES if module == f or module.startswith(f + ".")), None)


def _rule_modules() -> dict[str, type]:
    from asynccheck.rules import REGISTRY

    return {rule.__module__: rule for rule in REGISTRY.values()}


def _top_level_imports(path: Path) -> set[str]:
    """What a module imports when it is imported (not inside a function)."""
    found: set[str] = set()
    stack = list(ast.parse(path.read_text(encoding="utf-8")).body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If):  # `if TYPE_CHECKING:` too
            stack.extend(node.body + node.orelse)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(
                f"{node.module}.{a.name}"
                for a in node.names
                if f"{node.module}.{a.name}" in MODULES
            )
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name in MODULES}


def _defines_rule(path: Path) -> bool:
    """A class that sets `code` in its body."""
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.ClassDef):
            for stmt in node.body:
                if isinstance(stmt, ast.Assign) and any(
                    isinstance(t, ast.Name) and t.id == "code" for t in stmt.targets
                ):
                    return True
    return False


def test_every_rule_module_is_registered_and_named_after_its_rule() -> None:
    registered = _rule_modules()
    defining = {name for name, path in MODULES.items() if _defines_rule(path)}
    assert defining == set(registered), (
        "a module that defines a rule is not reached by the registry"
    )
    for module, rule in registered.items():
        if _family(module) is None:
            assert module == "asynccheck.rules.tool", f"{rule.code} lives outside a family package"
            continue
        assert module.rpartition(".")[2] == rule.name.replace("-", "_"), (rule.code, module)


@pytest.mark.parametrize("module", sorted(MODULES), ids=str)
def test_imports_run_one_way_inside_rules(module: str) -> None:
    """Shared analysis imports no rule module and no family package (whose __init__ imports
    the rules); a rule imports no other rule; a family imports no other family."""
    imports = _top_level_imports(MODULES[module])
    rule_modules = set(_rule_modules())
    if module in ("asynccheck.rules.registry", *FAMILIES):
        return  # they gather the rules
    assert not imports & set(FAMILIES), f"{module} imports a family package"
    assert not (imports & rule_modules), f"{module} imports a rule module"
    own = _family(module)
    others = {name for name in imports if _family(name) not in (None, own)}
    assert not others, f"{module} imports another family: {sorted(others)}"


def test_no_import_cycles_in_rules() -> None:
    graph = {module: _top_level_imports(path) for module, path in MODULES.items()}
    state: dict[str, int] = {}  # 1 on the path, 2 done

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for target in sorted(graph[module]):
            assert state.get(target) != 1, " -> ".join([*path, module, target])
            if target not in state:
                visit(target, [*path, module])
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [])
