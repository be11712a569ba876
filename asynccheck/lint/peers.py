"""Which flake8-async / ruff codes report the same problem as ours: one table, read by
`# noqa` handling (a line already annotated `# noqa: RUF006` is not flagged again as AC401)
and checked against the table in docs/coming-from-flake8-async.md by the tests."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class PeerCodes:
    peers: tuple[str, ...]  # flake8-async's ASYNCxxx and ruff's codes
    ours: tuple[str, ...]


PEER_CODES = (
    PeerCodes(("ASYNC109",), ("AC503",)),
    PeerCodes(("ASYNC110",), ("AC404",)),
    PeerCodes(("ASYNC210", "ASYNC211", "ASYNC212"), ("AC102",)),
    PeerCodes(("ASYNC220", "ASYNC221", "ASYNC222"), ("AC103",)),
    PeerCodes(("ASYNC230", "ASYNC231", "ASYNC232"), ("AC104",)),
    PeerCodes(("ASYNC240",), ("AC104",)),
    PeerCodes(("ASYNC250",), ("AC107",)),
    PeerCodes(("ASYNC251",), ("AC101",)),
    PeerCodes(("ASYNC300", "RUF006"), ("AC401",)),
    PeerCodes(("ASYNC102", "ASYNC120"), ("AC304",)),
    PeerCodes(("ASYNC103", "ASYNC104"), ("AC301", "AC302")),
)


def _silencers(table: tuple[PeerCodes, ...]) -> Mapping[str, frozenset[str]]:
    found: dict[str, set[str]] = {}
    for row in table:
        for code in row.ours:
            found.setdefault(code, set()).update(row.peers)
    return {code: frozenset(peers) for code, peers in found.items()}


# our code -> the peers' codes whose noqa comment silences it too
SILENCED_BY = _silencers(PEER_CODES)
