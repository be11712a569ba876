"""AC110: blocking calls reached through plain helper functions."""

from __future__ import annotations
