"""Settings: each file's nearest pyproject.toml (as the CLI resolves it), the editor's
initializationOptions and didChangeConfiguration over it, a changed pyproject.toml re-lints
the open files, and a broken one is one diagnostic on it (the server goes on)."""

from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.server.lsp import codes, open_file, published
from tests.server.test_actions import SOURCE, actions_at, apply, edits_of

pytestmark = pytest.mark.asyncio(loop_scope="module")

INIT_OPTIONS = {
    "asynccheck": {"unsafeFixes": True, "severity": {"AC1": "error"}, "ignore": ["AC103"]}
}
BLOCKING = "import subprocess\nimport time\n\n\nasync def f():\n    time.sleep(1)\n    subprocess.run([])\n"


def watched(client: LanguageClient, path: Path, kind: types.FileChangeType) -> None:
    client.workspace_did_change_watched_files(
        types.DidChangeWatchedFilesParams([types.FileEvent(path.as_uri(), kind)])
    )


async def test_initialization_options(configured_client: LanguageClient, folder: Path) -> None:
    client = configured_client
    uri = open_file(client, folder / "app.py", SOURCE)
    found = await published(client, uri)
    assert codes(found) == ["AC101", "AC102"]
    assert {d.severity for d in found} == {types.DiagnosticSeverity.Error}  # by family
    (unsafe,) = [a for a in await actions_at(client, uri, 6) if a.title.startswith("AC102")]
    assert unsafe.title.endswith("(unsafe fix)") and not unsafe.is_preferred
    assert "asyncio.to_thread(" in apply(SOURCE, edits_of(unsafe, uri))
    other = open_file(client, folder / "other.py", BLOCKING)
    assert codes(await published(client, other)) == ["AC101"]  # AC103 ignored by the editor


async def test_each_file_gets_its_nearest_pyproject(
    configured_client: LanguageClient, folder: Path
) -> None:
    client = configured_client
    (folder / "quiet").mkdir()
    (folder / "quiet" / "pyproject.toml").write_text(
        '[tool.asynccheck]\nextend-select = ["AC103"]\nignore = ["AC101"]\n'
    )
    (folder / "loud").mkdir()
    quiet = open_file(client, folder / "quiet" / "app.py", BLOCKING)
    loud = open_file(client, folder / "loud" / "app.py", BLOCKING)
    assert codes(await published(client, loud)) == ["AC101"]
    assert codes(await published(client, quiet)) == []  # the editor's ignore adds to the file's


async def test_a_changed_pyproject_relints_open_files(
    configured_client: LanguageClient, folder: Path
) -> None:
    client = configured_client
    uri = open_file(client, folder / "app.py", BLOCKING)
    assert codes(await published(client, uri)) == ["AC101"]
    pyproject = folder / "pyproject.toml"
    pyproject.write_text('[tool.asynccheck]\nignore = ["AC101"]\n')
    client.diagnostics.pop(uri)
    watched(client, pyproject, types.FileChangeType.Created)
    assert codes(await published(client, uri)) == []
    pyproject.write_text('[tool.asynccheck]\nignore = ["AC109"]\n')
    client.diagnostics.pop(uri)
    client.text_document_did_save(
        types.DidSaveTextDocumentParams(types.TextDocumentIdentifier(pyproject.as_uri()))
    )
    assert codes(await published(client, uri)) == ["AC101"]


async def test_a_config_error_is_one_diagnostic_on_the_pyproject(
    configured_client: LanguageClient, folder: Path
) -> None:
    client = configured_client
    pyproject = folder / "pyproject.toml"
    pyproject.write_text('[project]\nname = "x"\n\n[tool.asynccheck]\nblocking_calls = ["a.b"]\n')
    uri = open_file(client, folder / "app.py", BLOCKING)
    assert codes(await published(client, uri)) == ["AC101"]  # linted all the same
    (error,) = await published(client, pyproject.as_uri())
    assert error.severity == types.DiagnosticSeverity.Error and error.source == "asynccheck"
    assert "blocking_calls" in error.message and error.range.start.line == 4
    pyproject.write_text('[tool.asynccheck]\nblocking-calls = ["a.b"]\n')
    watched(client, pyproject, types.FileChangeType.Changed)
    assert list(await published(client, pyproject.as_uri(), lambda found: not found)) == []


async def test_a_broken_pyproject_keeps_its_last_good_settings(
    configured_client: LanguageClient, folder: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    client = configured_client
    pyproject = folder / "pyproject.toml"
    pyproject.write_text('[tool.asynccheck]\nignore = ["AC101"]\n')
    uri = open_file(client, folder / "app.py", BLOCKING)
    assert codes(await published(client, uri)) == []  # AC101 ignored by the file
    elsewhere = open_file(client, tmp_path_factory.mktemp("elsewhere") / "app.py", BLOCKING)
    assert codes(await published(client, elsewhere)) == ["AC101"]

    pyproject.write_text('[tool.asynccheck]\nignore = ["AC101"]\nslow-callbak-ms = 5\n')
    client.diagnostics.pop(uri)
    watched(client, pyproject, types.FileChangeType.Changed)
    (error,) = await published(client, pyproject.as_uri())
    assert error.message == (
        "[tool.asynccheck]: unknown key 'slow-callbak-ms'; did you mean 'slow-callback-ms'?"
    )
    assert error.range == types.Range(types.Position(2, 0), types.Position(2, 15))  # the key
    assert codes(await published(client, uri)) == []  # what the file said last time it read
    client.diagnostics.pop(elsewhere)
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(INIT_OPTIONS))
    assert codes(await published(client, elsewhere)) == ["AC101"]  # the server goes on

    pyproject.write_text('[tool.asynccheck]\nignore = ["AC101"\nselect = ["AC1"]\n')
    client.diagnostics.pop(pyproject.as_uri())
    client.diagnostics.pop(uri)
    watched(client, pyproject, types.FileChangeType.Changed)
    # the settings change above may still republish the old error after the pop: wait for this one
    (error,) = await published(
        client,
        pyproject.as_uri(),
        lambda found: any(d.message.startswith("invalid TOML:") for d in found),
    )
    assert error.range.start.line == 2
    assert codes(await published(client, uri)) == []
    hovered = await client.text_document_hover_async(
        types.HoverParams(types.TextDocumentIdentifier(uri), types.Position(5, 6))
    )
    assert hovered is None  # an answer: the server is alive, and AC101 is still ignored

    pyproject.write_text('[tool.asynccheck]\nignore = ["AC101"]\n')
    watched(client, pyproject, types.FileChangeType.Changed)
    assert list(await published(client, pyproject.as_uri(), lambda found: not found)) == []


async def test_an_error_in_an_extended_file_is_shown_on_that_file(
    configured_client: LanguageClient, folder: Path
) -> None:
    client = configured_client
    (folder / "shared.toml").write_text('select = ["AC1"]\nignore = ["AC1O1"]\n')
    (folder / "app").mkdir()
    (folder / "app" / "pyproject.toml").write_text('[tool.asynccheck]\nextend = "../shared.toml"\n')
    uri = open_file(client, folder / "app" / "main.py", BLOCKING)
    assert codes(await published(client, uri)) == ["AC101"]  # the defaults, and the editor's
    shared = (folder / "shared.toml").as_uri()
    (error,) = await published(client, shared)  # not on app/pyproject.toml
    assert "unknown rule code 'AC1O1'" in error.message
    assert error.range == types.Range(types.Position(1, 11), types.Position(1, 16))
    assert (folder / "app" / "pyproject.toml").as_uri() not in client.diagnostics
    (folder / "shared.toml").write_text('select = ["AC1"]\nignore = ["AC101"]\n')
    client.diagnostics.pop(uri)
    client.text_document_did_save(
        types.DidSaveTextDocumentParams(types.TextDocumentIdentifier(shared))
    )
    assert list(await published(client, shared, lambda found: not found)) == []
    assert codes(await published(client, uri)) == []


async def test_did_change_configuration(configured_client: LanguageClient, folder: Path) -> None:
    client = configured_client
    uri = open_file(client, folder / "app.py", BLOCKING)
    assert codes(await published(client, uri)) == ["AC101"]
    client.diagnostics.pop(uri)
    client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams({"asynccheck": {"select": ["AC103"]}})
    )
    found = await published(client, uri)
    assert codes(found) == ["AC103"]
    assert found[0].severity == types.DiagnosticSeverity.Warning  # the new settings' default


async def test_settings_pulled_with_workspace_configuration(
    configured_client: LanguageClient, folder: Path
) -> None:
    client = configured_client
    uri = open_file(client, folder / "app.py", BLOCKING)
    await published(client, uri)
    client.set_configuration(
        {"select": ["AC101"], "severity": {"AC101": "hint"}}, section="asynccheck"
    )
    client.diagnostics.pop(uri)
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(None))
    found = await published(client, uri)
    assert codes(found) == ["AC101"] and found[0].severity == types.DiagnosticSeverity.Hint


async def test_an_excluded_file_gets_no_diagnostics(
    configured_client: LanguageClient, folder: Path
) -> None:
    client = configured_client
    (folder / "pyproject.toml").write_text('[tool.asynccheck]\nexclude = ["generated"]\n')
    (folder / "generated").mkdir()
    (folder / "generated" / "api.py").write_text(BLOCKING)
    (folder / "app.py").write_text(BLOCKING)
    kept = open_file(client, folder / "app.py", BLOCKING)
    left_out = open_file(client, folder / "generated" / "api.py", BLOCKING)
    assert codes(await published(client, kept)) != []
    assert list(await published(client, left_out)) == []  # as pre-commit (--force-exclude)


async def test_the_server_asks_to_watch_config_and_python_files(
    configured_client: LanguageClient,
) -> None:
    (watch,) = configured_client.registrations
    assert watch.method == types.WORKSPACE_DID_CHANGE_WATCHED_FILES
    globs = [w["globPattern"] for w in watch.register_options["watchers"]]
    assert globs == ["**/*.toml", "**/*.py"]  # any TOML: a configuration may extend one


async def test_a_bad_code_in_the_settings_is_a_message(
    configured_client: LanguageClient, folder: Path
) -> None:
    client = configured_client
    uri = open_file(client, folder / "app.py", BLOCKING)
    await published(client, uri)
    client.diagnostics.pop(uri)
    client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams({"asynccheck": {"select": ["AC999"]}})
    )
    assert codes(await published(client, uri)) == ["AC101", "AC103"]  # the defaults
    (message,) = [m for m in client.messages if "AC999" in m.message]
    assert message.type == types.MessageType.Warning
    assert message.message.startswith("editor settings: unknown rule code 'AC999'")
