"""`identity(obj)`: what `id(obj)` tells, for the hot paths, without an audit event.

`id()` raises the audit event `builtins.id`, as `frame.f_code` raises `object.__getattr__`.
Once blocking detection has added its audit hook (process-wide, and for good), each of them
runs a Python function: measured 0.76 us per `id()` against 0.19 us for `object.__hash__`,
which is the same address-based identity (CPython rotates the address: no two live objects
share it), whatever `__hash__` the object's class defines, and raises no event.
"""

from __future__ import annotations

identity = object.__hash__

__all__ = ["identity"]
