"""At most N distinct attribute sets per metric, so a service with thousands of slow sites
never grows an exporter's memory or a time-series bill: what does not fit is counted under
one overflow set whose function is "other" - never dropped."""

from __future__ import annotations

import threading
from collections.abc import Hashable, Mapping
from typing import Callable

from asynccheck.otel.names import FUNCTION, OTHER

Attributes = Mapping[str, object]
DEFAULT_LIMIT = 100
_OVERFLOW: Attributes = {FUNCTION: OTHER}  # shared, never changed


class BoundedAttributes:
    """Attribute sets by key, made once each; the `limit`-th distinct key and all later ones
    share the overflow set (so the metric has at most `limit` sets, the overflow included)."""

    def __init__(self, limit: int = DEFAULT_LIMIT) -> None:
        if limit < 1:
            raise ValueError("the cardinality limit must be at least 1")
        self.limit = limit
        self._sets: dict[Hashable, Attributes] = {}
        self._lock = threading.Lock()

    def get(self, key: Hashable, make: Callable[[], Attributes]) -> Attributes:
        found = self._sets.get(key)
        if found is not None:
            return found
        with self._lock:
            found = self._sets.get(key)
            if found is None:
                if len(self._sets) >= self.limit - 1:
                    return _OVERFLOW
                found = self._sets[key] = dict(make())
            return found

    def __len__(self) -> int:
        return len(self._sets)
