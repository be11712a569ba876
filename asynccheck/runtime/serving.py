"""Which web request a slow callback served: `"GET /orders"`, read from the framework's frames.

aiohttp handles each request in a coroutine (`RequestHandler._handle_request`) that has the
`request` among its locals; ASGI servers (uvicorn, hypercorn) run the app from a coroutine that
holds the ASGI `scope` (or `self.scope`). Only slow callbacks are asked: the watchdog looks at
the frames it samples, and a callback never sampled at the chain of its task's coroutines.
Nothing is paid per request or per task.
"""

from __future__ import annotations

from typing import Any

from asynccheck.runtime.describe import task_coroutine

_NAMES = ("request", "scope", "self")


def describe_scope(scope: Any) -> str | None:
    """`"GET /path"` for an ASGI http scope, `"WEBSOCKET /path"` for a websocket one."""
    if not isinstance(scope, dict):
        return None
    kind = scope.get("type")
    path = scope.get("path")
    if not isinstance(path, str):
        return None
    if kind == "http":
        return f"{scope.get('method', 'GET')} {path}"
    if kind == "websocket":
        return f"WEBSOCKET {path}"
    return None


def describe_request(request: Any) -> str | None:
    """`"GET /path"` for an aiohttp (or any method/path) request object."""
    method = getattr(type(request), "method", None) and getattr(request, "method", None)
    path = getattr(request, "path", None)
    if isinstance(method, str) and isinstance(path, str):
        return f"{method} {path}"
    return None


def request_of_frame(frame: Any) -> str | None:
    code = frame.f_code
    if not any(name in code.co_varnames for name in _NAMES):
        return None
    try:
        local = frame.f_locals
    except Exception:
        return None
    found = describe_scope(local.get("scope"))
    if found is None and "request" in local:
        found = describe_request(local["request"])
    if found is None and "self" in local:
        found = describe_scope(getattr(local["self"], "scope", None))
    return found


def request_of_task(task: Any) -> str | None:
    """Walk a live task's chain of awaited coroutines for a request (eager tasks on 3.12+ are
    made with `asyncio.Task(...)`, out of `create_task`'s reach)."""
    coro = task_coroutine(task)
    for _ in range(30):
        frame = getattr(coro, "cr_frame", None) or getattr(coro, "gi_frame", None)
        if frame is None:
            return None
        try:
            found = request_of_frame(frame)
        except Exception:
            found = None
        if found is not None:
            return found
        coro = getattr(coro, "cr_await", None) or getattr(coro, "gi_yieldfrom", None)
        if coro is None:
            return None
    return None
