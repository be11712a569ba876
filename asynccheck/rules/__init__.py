"""The rules. `REGISTRY` (code -> Rule class) is built on first use, in rules/registry.py,
so that the lint modules can import `rules.catalog` without importing every rule."""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    if name in ("REGISTRY", "ENGINE_CODES"):
        from asynccheck.rules import registry

        return getattr(registry, name)
    raise AttributeError(f"module 'asynccheck.rules' has no attribute {name!r}")
