"""AC6xx: event loop management: nested loops, get_event_loop, deprecated policies."""

from __future__ import annotations
