"""The README's promises: its rules table is the registry, and its commands exist."""

from __future__ import annotations

import re
from pathlib import Path

from asynccheck.rules import REGISTRY

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def test_rules_table_matches_the_registry() -> None:
    rows = re.findall(
        r"^\| (AC\d{3}) \| ([a-z-]+) \| (on|opt-in) \| (safe|unsafe|—) \|$", README, re.M
    )
    expected = [
        (code, rule.name, "on" if rule.default else "opt-in", rule.fix_safety or "—")
        for code, rule in REGISTRY.items()
    ]
    assert rows == expected


def test_the_two_fresh_machine_commands() -> None:
    assert "pip install -e . && asynccheck lint fixtures/" in README
    assert "pip install -e '.[test]' && pytest" in README
