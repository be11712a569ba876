"""Every rule's bad and good examples, run as tests: a new rule brings its own tests."""

from __future__ import annotations

import libcst
import pytest

from asynccheck.lint.api import lint_source
from asynccheck.lint.fix import fix_until_stable
from asynccheck.rules import REGISTRY
from asynccheck.rules.base import Example, Rule

CHECKED = [rule for code, rule in REGISTRY.items() if code not in ("AC002",)]
CASES = [
    pytest.param(rule, example, kind, id=f"{rule.code}-{kind}{index}")
    for rule in CHECKED
    for kind, examples in (("bad", rule.bad), ("good", rule.good))
    for index, example in enumerate(examples)
]


def _lint(rule: type[Rule], code: str) -> list:
    return lint_source(code, select=[rule.code], config=dict(rule.example_config))


@pytest.mark.parametrize(("rule", "example", "kind"), CASES)
def test_example(rule: type[Rule], example: Example, kind: str) -> None:
    findings = _lint(rule, example.code)
    codes = {finding.code for finding in findings}
    assert codes == ({rule.code} if kind == "bad" else set()), findings
    if example.fixed is not None:
        outcome = fix_until_stable(
            example.code,
            lambda text: _lint(rule, text),
            lambda text: bool(libcst.parse_module(text)),
            unsafe=example.unsafe,
        )
        assert outcome.text == example.fixed
        libcst.parse_module(outcome.text)
        assert not [f for f in _lint(rule, outcome.text) if f.fix is not None]


@pytest.mark.parametrize("rule", list(REGISTRY.values()), ids=list(REGISTRY))
def test_rule_metadata(rule: type[Rule]) -> None:
    assert len(rule.bad) >= 3 and len(rule.good) >= 3
    assert rule.explanation(), "the docstring is the rule's explanation"
    assert rule.name == rule.name.lower() and " " not in rule.name
    if rule.fix_safety is not None:
        assert any(example.fixed for example in rule.bad), "a fixable rule shows its fix"


def test_index_matches_registry() -> None:
    from asynccheck.rules.index import RULE_INDEX

    assert {code: (rule.name, rule.default) for code, rule in REGISTRY.items()} == RULE_INDEX
