"""Deferred imports: the warm-cache path must not pay 0.4 s for importing libcst."""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType


def lazy_module(name: str) -> ModuleType:
    """Return `name` as a module that is only executed on its first attribute access."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:  # pragma: no cover - a broken install
        raise ImportError(f"cannot find module {name!r}")
    loader = importlib.util.LazyLoader(spec.loader)
    spec.loader = loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    loader.exec_module(module)
    # importlib's own import sets this flag; without it every later `import name` looks it
    # up, fails, and builds and drops an AttributeError. libcst's native parser imports
    # libcst once per node it makes: that cost 11 % of a lint run's instructions.
    spec._initializing = False  # type: ignore[attr-defined]
    return module
