"""Imports run one way: rules know the lint core (context, facts, names) but no output
format and no run; the rule docs, which show what a run prints, sit above both."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

RULES = Path(__file__).parents[2] / "asynccheck" / "rules"
# what sits above the rules: the engine, the API, the CLI and the report formats
ABOVE = ("asynccheck.lint.report", "asynccheck.lint.engine", "asynccheck.lint.api",
         "asynccheck.lint.cli", "asynccheck.lint.checker", "asynccheck.rule_docs")  # fmt: skip


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
