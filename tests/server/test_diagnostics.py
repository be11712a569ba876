"""Diagnostics: on open, change and save, from the unsaved text, the same as `asynccheck lint`;
cleared on close; a newer change supersedes older work; a syntax error is one AC001."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.server.lsp import change, codes, open_file, published

pytestmark = pytest.mark.asyncio(loop_scope="session")

BAD = """\
import subprocess
import time


async def handler():
    time.sleep(1)
    subprocess.run(["ls"])
"""


async def test_open_gives_what_the_cli_gives(client: LanguageClient, folder: Path) -> None:
    path = folder / "app.py"
    path.write_text(BAD)
    found = await published(client, open_file(client, path, BAD))
    cli = subprocess.run(
        [sys.executable, "-m", "asynccheck", "lint", "--format", "json", "--no-cache", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    expected = json.loads(cli.stdout)
    assert codes(found) == [e["code"] for e in expected] == ["AC101", "AC103"]
    for diagnostic, e in zip(found, expected):
        start_, end = diagnostic.range.start, diagnostic.range.end
        assert (start_.line + 1, start_.character + 1) == tuple(e["location"].values())[::-1]
        assert (end.line + 1, end.character + 1) == tuple(e["end_location"].values())[::-1]
        assert diagnostic.message.startswith(e["message"])
        assert diagnostic.source == "asynccheck"
        assert diagnostic.code_description.href == e["url"]
        assert diagnostic.severity == types.DiagnosticSeverity.Warning


async def test_the_unsaved_text_is_linted_not_the_disk(
    client: LanguageClient, folder: Path
) -> None:
    path = folder / "app.py"
    path.write_text("async def handler():\n    pass\n")
    uri = open_file(client, path, BAD)
    assert codes(await published(client, uri)) == ["AC101", "AC103"]
    change(client, uri, "import time\n\nasync def f():\n    time.sleep(2)\n", 2)
    found = await published(client, uri)
    assert codes(found) == ["AC101"] and found[0].range.start.line == 3


async def test_a_newer_change_supersedes_pending_work(client: LanguageClient, folder: Path) -> None:
    uri = open_file(client, folder / "app.py", "x = 1\n")
    await published(client, uri)
    client.published.clear()
    for version in range(2, 12):  # a burst of typing: only the last text matters
        # long enough that linting one text takes longer than the next change to arrive
        body = "    time.sleep(1)\n" * 11 if version == 11 else "    x = [i for i in 'ab']\n" * 2400
        change(client, uri, f"import time\n\nasync def f():\n{body}", version)
    found = await published(client, uri, lambda found: len(found) == 11)
    assert codes(found) == ["AC101"] * 11
    await asyncio.sleep(0.3)  # nothing older arrives after the newest
    mine = [p for p in client.published if p.uri == uri]
    assert mine[-1].version == 11 and len(mine[-1].diagnostics) == 11
    assert [p.version for p in mine] == sorted(p.version for p in mine)
    assert len(mine) <= 3  # superseded texts were never published (most never linted)


async def test_save_lints_and_close_clears(client: LanguageClient, folder: Path) -> None:
    path = folder / "app.py"
    path.write_text(BAD)
    uri = open_file(client, path, BAD)
    await published(client, uri)
    client.diagnostics.pop(uri)
    client.text_document_did_save(
        types.DidSaveTextDocumentParams(types.TextDocumentIdentifier(uri))
    )
    assert codes(await published(client, uri)) == ["AC101", "AC103"]
    client.text_document_did_close(
        types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(uri))
    )
    assert list(await published(client, uri, lambda found: not found)) == []


async def test_a_syntax_error_is_one_ac001(client: LanguageClient, folder: Path) -> None:
    uri = open_file(client, folder / "broken.py", "async def f(:\n    time.sleep(1)\n")
    found = await published(client, uri)
    assert codes(found) == ["AC001"]
    assert found[0].severity == types.DiagnosticSeverity.Error
    assert found[0].range.start.line == 0
    offered = await client.text_document_code_action_async(
        types.CodeActionParams(
            types.TextDocumentIdentifier(uri), found[0].range, types.CodeActionContext([])
        )
    )
    assert not offered  # nothing to fix, and no noqa comment silences a syntax error


async def test_ranges_count_utf16_units(client: LanguageClient, folder: Path) -> None:
    line = 'x = "\U0001f600\u00e9"; time.sleep(1)'
    uri = open_file(client, folder / "app.py", f"import time\n\n\nasync def f():\n    {line}\n")
    (found,) = await published(client, uri)
    start = 4 + len(line[: line.index("time")].encode("utf-16-le")) // 2
    assert (found.range.start.line, found.range.start.character) == (4, start)
    assert found.range.end.character == start + len("time.sleep(1)")


async def test_an_untitled_buffer_is_linted(client: LanguageClient) -> None:
    uri = "untitled:Untitled-1"
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(types.TextDocumentItem(uri, "python", 1, BAD))
    )
    assert codes(await published(client, uri)) == ["AC101", "AC103"]
