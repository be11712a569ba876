"""`[project] requires-python` -> the oldest Python 3 minor it allows, for `target-version`.

Only what decides the lowest version is read: `>=3.8`, `>3.9` (3.9.1 is newer), `==3.10.*`, `~=3.10`, and
Poetry's `^3.10`; upper bounds and exclusions (`<4`, `!=3.9.1`) never raise it. Anything
else gives None, and the caller keeps its default: a specifier we cannot read is no error.
"""

from __future__ import annotations

import re
from typing import Optional

_CLAUSE = re.compile(r"^\s*(===|>=|>|==|~=|\^|~)?\s*(\d+)(?:\.(\d+|\*))?(?:\.[\d*]+)*\s*$")
# operators that only cap or exclude versions: they do not move the lower bound
_UPPER_OR_EXCLUDING = ("<=", "<", "!=")


def lowest_minor(specifier: object) -> Optional[tuple[int, int]]:
    """(3, minor) of the oldest Python `specifier` allows; None when it cannot be read."""
    if not isinstance(specifier, str) or not specifier.strip():
        return None
    alternatives = [_lowest_of_all(part) for part in specifier.split("||")]  # Poetry's "or"
    if any(bound is None for bound in alternatives):
        return None
    return min(bound for bound in alternatives if bound is not None)


def _lowest_of_all(specifier: str) -> Optional[tuple[int, int]]:
    """The lower bound of clauses that must all hold (`>=3.9,<4`): the highest one."""
    lowest = (3, 0)
    for clause in specifier.split(","):
        clause = clause.strip()
        if not clause or clause.startswith(_UPPER_OR_EXCLUDING):
            continue
        bound = _lower_bound(clause)
        if bound is None:
            return None
        lowest = max(lowest, bound)
    return lowest


def _lower_bound(clause: str) -> Optional[tuple[int, int]]:
    match = _CLAUSE.match(clause)
    if match is None:
        return None
    major, minor = int(match.group(2)), match.group(3)
    if major != 3:
        return (3, 0) if major < 3 else None
    return (3, 0 if minor in (None, "*") else int(minor))
