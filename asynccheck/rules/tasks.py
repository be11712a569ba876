"""AC4xx: tasks and coroutines that are lost or never awaited."""

from __future__ import annotations
