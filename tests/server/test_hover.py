"""Hover on a code in a `# noqa` comment, and on a finding's range: the rule's explanation
with its bad and good example (what `asynccheck rule CODE` prints)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from asynccheck.rule_docs import explain
from asynccheck.rules import REGISTRY
from tests.server.lsp import open_file, published

pytestmark = pytest.mark.asyncio(loop_scope="session")

SOURCE = """\
import time


async def handler():
    time.sleep(1)
    time.sleep(2)  # noqa: E501, AC101
"""


async def hover_at(client: LanguageClient, uri: str, line: int, column: int) -> Optional[str]:
    found = await client.text_document_hover_async(
        types.HoverParams(types.TextDocumentIdentifier(uri), types.Position(line, column))
    )
    if found is None:
        return None
    assert isinstance(found.contents, types.MarkupContent)
    assert found.contents.kind == types.MarkupKind.Markdown
    return found.contents.value


async def test_hover_on_a_noqa_code(client: LanguageClient, folder: Path) -> None:
    uri = open_file(client, folder / "app.py", SOURCE)
    await published(client, uri)
    column = SOURCE.splitlines()[5].index("AC101") + 2
    text = await hover_at(client, uri, 5, column)
    assert text == explain(REGISTRY["AC101"])
    assert "## Example" in text and "## Use instead" in text
    assert await hover_at(client, uri, 5, SOURCE.splitlines()[5].index("E501") + 1) is None


async def test_hover_on_a_diagnostic(client: LanguageClient, folder: Path) -> None:
    uri = open_file(client, folder / "app.py", SOURCE)
    assert [d.code for d in await published(client, uri)] == ["AC101"]
    assert await hover_at(client, uri, 4, 8) == explain(REGISTRY["AC101"])
    assert await hover_at(client, uri, 3, 2) is None  # `async def`: no finding there
