"""blake2b without importing hashlib, which loads OpenSSL (5 ms of every start-up)."""

from __future__ import annotations

try:
    from _blake2 import blake2b
except ImportError:  # pragma: no cover - a Python built without its own blake2
    from hashlib import blake2b

__all__ = ["blake2b"]
