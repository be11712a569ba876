"""Every Rule subclass with a code, by code, in code order.

A family is a package that re-exports its rule classes (one module a rule); `tool` is the
engine's own AC0xx. tests/rules/test_layers.py checks that every rule module is reached.
"""

from __future__ import annotations

from collections.abc import Mapping

from asynccheck.rules import blocking, cancellation, loops, resources, tasks, timeouts, tool
from asynccheck.rules.base import Rule

_MODULES = (tool, blocking, resources, cancellation, tasks, timeouts, loops)


def _collect() -> dict[str, type[Rule]]:
    found: dict[str, type[Rule]] = {}
    for module in _MODULES:
        for value in vars(module).values():
            # type(), not isinstance(): the latter would wake the lazily imported libcst
            if type(value) is type and issubclass(value, Rule) and "code" in vars(value):
                if value.code in found:  # pragma: no cover - a programming error
                    raise RuntimeError(f"duplicate rule code {value.code}")
                found[value.code] = value
    return dict(sorted(found.items()))


REGISTRY: Mapping[str, type[Rule]] = _collect()
ENGINE_CODES = frozenset(("AC001", "AC002"))
