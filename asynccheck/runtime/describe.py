"""Short, side-effect-free names for what a loop runs: handles, tasks, coroutines.

Nothing here calls `repr()` on user objects: a report must never run the user's code.
"""

from __future__ import annotations

import sys
from typing import Any

from asynccheck.runtime.sites import file_kind


def describe_callback(handle: Any) -> str:
    """`<Handle Task.__step()>`-style name for a handle (None: the loop's own work)."""
    if handle is None:
        return "<loop internals>"
    cb = getattr(handle, "_callback", None)
    kind = type(handle).__name__
    if cb is None:  # uvloop: the callback itself (its handles are opaque)
        return f"<{describe_function(handle)}>" if callable(handle) else f"<{kind}>"
    return f"<{kind} {describe_function(cb)}>"


def describe_function(cb: Any) -> str:
    """`Class.method()`, `module.func()` or `func()` for a callable, without calling it."""
    name = getattr(cb, "__name__", None) or type(cb).__name__
    if name == "TaskStepMethWrapper":  # the C Task's step
        name = "__step"
    owner = getattr(cb, "__self__", None)
    if owner is not None and not isinstance(owner, type(sys)):
        protocol = getattr(owner, "_protocol", None)
        label = f"{type(owner).__name__}.{name}"
        if protocol is not None:
            return f"{label}() -> {type(protocol).__name__}"
        return f"{label}()"
    qualname = getattr(cb, "__qualname__", None) or name
    module = getattr(cb, "__module__", None)
    if module and file_kind(getattr(sys.modules.get(module), "__file__", "") or "<") != "user":
        qualname = f"{module}.{qualname}"  # time.sleep, functools.partial...: say whose
    return f"{qualname}()"


def task_coroutine(task: Any) -> Any:
    """`task.get_coro()`, or None where asking is unsafe: before 3.12.5 it crashes the
    interpreter for an eager task that completed at once (CPython gh-122332)."""
    try:
        if _GET_CORO_MAY_CRASH and task.done():
            return getattr(task, "_coro", None)  # the C Task's member: None, not a crash
        return task.get_coro()
    except Exception:
        return None


_GET_CORO_MAY_CRASH = (3, 12) <= sys.version_info[:3] < (3, 12, 5)


def coroutine_name(task: Any) -> str | None:
    coro = task_coroutine(task)
    if coro is None:
        return None
    return getattr(coro, "__qualname__", None) or type(coro).__name__


def describe_task(task: Any) -> str:
    """`Task-3 poll_forever()`: the task's name and its coroutine."""
    name = task.get_name() if hasattr(task, "get_name") else type(task).__name__
    coro = coroutine_name(task)
    return f"{name} {coro}()" if coro else name
