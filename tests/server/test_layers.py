"""Imports run one way: the server uses the library; nothing in the library imports the
server (the CLI names its command as a string, loaded only when `asynccheck server` runs)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.rules.test_layers import _imports

PACKAGE = Path(__file__).parents[2] / "asynccheck"
LIBRARY = sorted(p for p in PACKAGE.rglob("*.py") if "server" not in p.relative_to(PACKAGE).parts)


@pytest.mark.parametrize("path", LIBRARY, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_the_library_does_not_import_the_server(path: Path) -> None:
    found = {name for name in _imports(path) if name.startswith(("asynccheck.server", "pygls"))}
    assert not found, f"{path.name} imports {sorted(found)}"
