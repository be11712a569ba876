"""A real LSP client (pytest-lsp) talking to `python -m asynccheck server` in a subprocess:
the fixtures (made available by conftest.py) and the helpers the tests share.

Servers are shared, since start-up is most of a test's time: one with default settings for
the session (`client`), one per module initialised with the module's INIT_OPTIONS
(`configured_client`). Each test works in a folder of its own (`folder`) and waits for what
the server publishes (`published`).
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Callable, Optional

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

HERE = Path(__file__).parent
TIMEOUT = 20.0
SERVER = [sys.executable, "-m", "asynccheck", "server"]


def recording(client: LanguageClient) -> LanguageClient:
    """Keep every publishDiagnostics with its version, not only the last list per URI."""
    client.published = []  # type: ignore[attr-defined]
    features = client.protocol.fm._features
    keep = features[types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS]

    def record(params: types.PublishDiagnosticsParams) -> Any:
        client.published.append(params)  # type: ignore[attr-defined]
        return keep(params)

    features[types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS] = record
    return client


def _make_client() -> LanguageClient:
    from pytest_lsp.client import make_test_lsp_client

    client = recording(make_test_lsp_client())
    client.registrations = []  # type: ignore[attr-defined]

    @client.feature(types.CLIENT_REGISTER_CAPABILITY)
    def _register(params: types.RegistrationParams) -> None:
        client.registrations.extend(params.registrations)  # type: ignore[attr-defined]

    return client


@pytest_lsp.fixture(
    scope="session",
    config=ClientServerConfig(server_command=SERVER, client_factory=_make_client),
)
async def client(lsp_client: LanguageClient, tmp_path_factory: Any):
    """One server with default settings for the whole run (start-up is most of a test's
    time); each test works in a folder of its own (`folder`)."""
    lsp_client.root = tmp_path_factory.mktemp("workspace")
    await start(lsp_client, lsp_client.root)
    yield
    await stop(lsp_client)


@pytest_lsp.fixture(
    scope="module",
    config=ClientServerConfig(server_command=SERVER, client_factory=_make_client),
)
async def configured_client(lsp_client: LanguageClient, request: Any, tmp_path_factory: Any):
    """A server of the module's own, initialised with its INIT_OPTIONS."""
    lsp_client.root = tmp_path_factory.mktemp("workspace")
    await start(lsp_client, lsp_client.root, getattr(request.module, "INIT_OPTIONS", None))
    yield
    await stop(lsp_client)


@pytest_lsp.fixture(
    scope="module",
    config=ClientServerConfig(
        server_command=[sys.executable, str(HERE / "broken_rule_server.py")],
        client_factory=_make_client,
    ),
)
async def broken_client(lsp_client: LanguageClient, tmp_path_factory: Any):
    lsp_client.root = tmp_path_factory.mktemp("workspace")
    await start(lsp_client, lsp_client.root)
    yield
    await stop(lsp_client)


@pytest.fixture
def folder(request: Any, tmp_path_factory: Any) -> Path:
    """A fresh folder for one test (inside no workspace's configuration)."""
    return tmp_path_factory.mktemp(request.node.name[:40])


async def stop(client: LanguageClient) -> None:
    if not client.stopped:  # a test may have shut it down itself
        await client.shutdown_session()


async def start(
    client: LanguageClient, root: Path, options: Optional[dict[str, Any]] = None
) -> None:
    await client.initialize_session(
        types.InitializeParams(
            # settings can also be pulled (workspace/configuration; none are set by default)
            # and files watched (the server registers its globs)
            capabilities=types.ClientCapabilities(
                workspace=types.WorkspaceClientCapabilities(
                    configuration=True,
                    did_change_watched_files=types.DidChangeWatchedFilesClientCapabilities(
                        dynamic_registration=True
                    ),
                )
            ),
            root_uri=root.as_uri(),
            workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name="root")],
            initialization_options=options,
        )
    )


def open_file(client: LanguageClient, path: Path, text: str, version: int = 1) -> str:
    """didOpen with `text` (unsaved: whatever is on disk does not count); returns the URI."""
    uri = path.as_uri()
    client.diagnostics.pop(uri, None)
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(types.TextDocumentItem(uri, "python", version, text))
    )
    return uri


def change(client: LanguageClient, uri: str, text: str, version: int) -> None:
    """Replace the whole buffer (a content change without a range)."""
    client.diagnostics.pop(uri, None)
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            [types.TextDocumentContentChangeWholeDocument(text=text)],
        )
    )


async def published(
    client: LanguageClient,
    uri: str,
    accept: Callable[[Sequence[types.Diagnostic]], bool] = lambda found: True,
) -> Sequence[types.Diagnostic]:
    """The diagnostics published for `uri` once `accept` takes them (popped by the helpers
    above, so an older list does not count)."""
    deadline = asyncio.get_running_loop().time() + TIMEOUT
    while True:
        found = client.diagnostics.get(uri)
        if found is not None and accept(found):
            return found
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"no accepted diagnostics for {uri}: last {found!r}")
        await asyncio.sleep(0.01)


def codes(found: Sequence[types.Diagnostic]) -> list[str]:
    return [str(d.code) for d in found]
