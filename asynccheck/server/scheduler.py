"""When to lint: now, in one worker thread, with a ticket per document.

No fixed delay: a change is linted as soon as the worker is free. A newer request for the
same document supersedes the older one: queued work whose ticket is no longer the latest is
skipped before it starts, and a result that arrives after a newer request is dropped, so
what is published always belongs to the newest text. The event loop keeps answering (hover,
code actions, further changes) while the worker lints.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable, Optional, TypeVar

T = TypeVar("T")


def _worker() -> ThreadPoolExecutor:
    # One thread: linting is CPU-bound, and two lints at once would only share the GIL.
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="asynccheck-lint")


@dataclass
class Scheduler:
    executor: ThreadPoolExecutor = field(default_factory=_worker)
    _latest: dict[str, object] = field(default_factory=dict)

    async def run(self, key: str, work: Callable[[], T]) -> Optional[T]:
        """`work()` in the worker; None when a newer request for `key` came meanwhile."""
        ticket = object()
        self._latest[key] = ticket

        def job() -> Optional[T]:
            if self._latest.get(key) is not ticket:
                return None  # superseded while queued: never started
            return work()

        result = await asyncio.get_running_loop().run_in_executor(self.executor, job)
        return result if self._latest.get(key) is ticket else None

    def forget(self, key: str) -> None:
        """The document closed: whatever is pending for it is dropped."""
        self._latest.pop(key, None)
