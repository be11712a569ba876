"""Metrics must never break the program they watch: a failure in a meter provider, an
exporter's callback or our own code is logged once per kind, then ignored."""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Iterable
from typing import Any, Callable

logger = logging.getLogger("asynccheck.otel")
_logged: set[str] = set()
_lock = threading.Lock()


def log_once(doing: str) -> None:
    """Log the exception being handled, the first time `doing` fails."""
    with _lock:
        if doing in _logged:
            return
        _logged.add(doing)
    logger.warning("%s failed; ignoring it from now on", doing, exc_info=True)


def guarded(doing: str, observe: Callable[[Any], Iterable[Any]]) -> Callable[[Any], list[Any]]:
    """An observable instrument's callback that yields nothing instead of raising."""

    @functools.wraps(observe)
    def callback(options: Any) -> list[Any]:
        try:
            return list(observe(options))
        except Exception:
            log_once(doing)
            return []

    return callback
