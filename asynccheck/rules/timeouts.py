"""AC5xx: waits without a timeout, and timeout mix-ups."""

from __future__ import annotations
