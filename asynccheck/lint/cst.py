"""libcst, loaded on first use: rule and fact modules import this instead of libcst itself.

A warm-cache run (every file unchanged) imports the rule registry for its metadata but parses
nothing, so it must not pay libcst's 0.4 s import.
"""

from __future__ import annotations

from asynccheck._lazy import lazy_module

cst = lazy_module("libcst")
