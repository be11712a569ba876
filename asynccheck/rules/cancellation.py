"""AC3xx: cancellation swallowed or left unfinished."""

from __future__ import annotations
