"""Helpers for the runtime tests: run coroutines under a monitor and hand back the Report."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, Callable

import pytest

from asynccheck.runtime.install import monitor
from asynccheck.runtime.report import Report

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "fixtures" / "runtime"


def run_monitored(main: Callable[[], Coroutine[Any, Any, Any]], **options: Any) -> Report:
    """`asyncio.run(main())` inside `monitor(**options)`; the frozen report."""
    options.setdefault("log", False)
    with monitor(**options) as mon:
        asyncio.run(main())
    return mon.report()


def line_of(func: Callable[..., Any], text: str) -> int:
    """The line number of the first line of `func`'s source containing `text`."""
    import inspect

    lines, start = inspect.getsourcelines(func)
    for offset, line in enumerate(lines):
        if text in line:
            return start + offset
    raise AssertionError(f"{text!r} not in {func.__name__}")


def python_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.pop("PYTHONASYNCIODEBUG", None)
    return env


needs_312 = pytest.mark.skipif(sys.version_info < (3, 12), reason="eager tasks are 3.12+")
