"""asynccheck: find what makes asyncio code block, hang, leak or crawl.

The public API is loaded lazily: `import asynccheck` must stay cheap, because the warm-cache
lint path (a pre-commit hook) must not pay for libcst or the runtime.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS = {
    "lint_source": "asynccheck.lint.api",
    "lint_paths": "asynccheck.lint.api",
    "Config": "asynccheck.config",
    "Finding": "asynccheck.lint.finding",
    "TimingEventLoop": "asynccheck.runtime.loop",
    "loop_factory": "asynccheck.runtime.install",
    "monitor": "asynccheck.runtime.install",
    "Report": "asynccheck.runtime.report",
}

__all__ = ["__version__", *_EXPORTS]

# `pytest -p asynccheck` where the `pytest11` entry point is not installed (a source checkout on
# PYTHONPATH) imports this package as the plugin: pytest then loads the real one named here.
pytest_plugins = ["asynccheck.runtime.pytest_plugin"]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'asynccheck' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
