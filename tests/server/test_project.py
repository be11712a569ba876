"""Cross-file findings: AC110 follows a call into another module of the workspace, reading
that module's unsaved buffer when it is open, updates when that file changes, and points at
the chain's defs in the other file (relatedInformation)."""

from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.server.lsp import change, codes, open_file, published

pytestmark = pytest.mark.asyncio(loop_scope="session")

APP = "from .storage import save\n\n\nasync def handler():\n    save()\n"
BLOCKS = 'def save():\n    with open("orders.txt", "a") as f:\n        f.write("1")\n'
CLEAN = "def save():\n    return None\n"


def package(folder: Path, storage: str) -> Path:
    (folder / "pkg").mkdir()
    (folder / "pkg" / "__init__.py").write_text("")
    (folder / "pkg" / "storage.py").write_text(storage)
    (folder / "pkg" / "app.py").write_text(APP)
    return folder / "pkg"


async def test_a_chain_into_a_saved_module(client: LanguageClient, folder: Path) -> None:
    pkg = package(folder, BLOCKS)
    found = await published(client, open_file(client, pkg / "app.py", APP))
    assert codes(found) == ["AC110"]
    assert found[0].message.startswith("storage.save() -> open() blocks the event loop")
    (step,) = found[0].related_information
    assert step.location.uri == (pkg / "storage.py").as_uri()
    assert step.location.range.start.line == 0 and "pkg.storage.save()" in step.message


async def test_the_open_buffer_wins_and_changes_update(
    client: LanguageClient, folder: Path
) -> None:
    pkg = package(folder, CLEAN)  # on disk the helper does not block
    app = open_file(client, pkg / "app.py", APP)
    assert codes(await published(client, app)) == []
    storage = open_file(client, pkg / "storage.py", CLEAN)
    await published(client, storage)
    client.diagnostics.pop(app, None)
    change(client, storage, BLOCKS, 2)  # unsaved: it blocks now
    assert codes(await published(client, app)) == ["AC110"]
    client.diagnostics.pop(app, None)
    change(client, storage, CLEAN, 3)
    assert codes(await published(client, app)) == []


async def test_a_module_changed_on_disk_updates_its_dependants(
    client: LanguageClient, folder: Path
) -> None:
    pkg = package(folder, BLOCKS)
    app = open_file(client, pkg / "app.py", APP)
    assert codes(await published(client, app)) == ["AC110"]
    (pkg / "storage.py").write_text(CLEAN)  # changed outside the editor (git checkout, ...)
    client.diagnostics.pop(app, None)
    client.workspace_did_change_watched_files(
        types.DidChangeWatchedFilesParams(
            [types.FileEvent((pkg / "storage.py").as_uri(), types.FileChangeType.Changed)]
        )
    )
    assert codes(await published(client, app)) == []


async def test_an_unrelated_change_does_not_relint_dependants(
    client: LanguageClient, folder: Path
) -> None:
    pkg = package(folder, BLOCKS)
    app = open_file(client, pkg / "app.py", APP)
    await published(client, app)
    other = open_file(client, pkg / "other.py", "x = 1\n")
    await published(client, other)
    client.published.clear()
    change(client, other, "x = 2\n", 2)
    await published(client, other)
    change(client, open_file(client, pkg / "storage.py", BLOCKS), CLEAN, 2)
    await published(client, app, lambda found: not found)  # the module it reads: re-linted
    assert [p.uri for p in client.published].count(app) == 1


async def test_a_module_that_is_only_an_unsaved_buffer(
    client: LanguageClient, folder: Path
) -> None:
    (folder / "pkg").mkdir()
    (folder / "pkg" / "__init__.py").write_text("")
    app = open_file(client, folder / "pkg" / "app.py", APP)
    assert codes(await published(client, app)) == []  # no pkg/storage.py anywhere yet
    new = folder / "pkg" / "storage.py"  # a new file, never saved
    client.diagnostics.pop(app, None)
    storage = open_file(client, new, BLOCKS)
    found = await published(client, app, lambda found: bool(found))
    assert codes(found) == ["AC110"] and not new.exists()
    assert found[0].related_information[0].location.uri == new.as_uri()
    client.diagnostics.pop(app, None)
    change(client, storage, CLEAN, 2)
    assert codes(await published(client, app)) == []
    client.diagnostics.pop(app, None)
    change(client, storage, BLOCKS, 3)
    assert codes(await published(client, app)) == ["AC110"]
    client.diagnostics.pop(app, None)
    client.text_document_did_close(
        types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(storage))
    )  # closed unsaved: the module is gone again
    assert codes(await published(client, app)) == []


STORAGE = """\
from .disk import save as write


def save():
    return None


class Cache:
    def save(self):
        return None


class Disk:
    def save(self):  # this one
        write()
"""
DISK = """\
class Other:
    def save(self):
        return None


def save():  # this one
    with open("orders.txt", "a") as f:
        f.write("1")
"""


async def test_related_locations_are_the_defs_the_chain_runs(
    client: LanguageClient, folder: Path
) -> None:
    """Three defs named `save` in storage.py and two in disk.py: each step points at the
    one the chain goes through, on its name."""
    pkg = package(folder, STORAGE)
    (pkg / "disk.py").write_text(DISK)
    app = "from .storage import Disk\n\n\nasync def handler():\n    Disk().save()\n"
    found = await published(client, open_file(client, pkg / "app.py", app))
    assert codes(found) == ["AC110"]
    assert found[0].message.startswith("storage.Disk.save() -> disk.save() -> open()")
    steps = [(s.location.uri, s.location.range, s.message) for s in found[0].related_information]
    assert steps == [
        ((pkg / "storage.py").as_uri(), span(STORAGE, "this one"), "calls pkg.storage.Disk.save()"),
        ((pkg / "disk.py").as_uri(), span(DISK, "this one"), "calls pkg.disk.save()"),
    ]


def span(text: str, marker: str) -> types.Range:
    """The range of `save` on the line that has `marker`."""
    (row,) = [i for i, line in enumerate(text.splitlines()) if marker in line]
    column = text.splitlines()[row].index("save")
    return types.Range(types.Position(row, column), types.Position(row, column + len("save")))
