"""Code actions: each fix as a quickfix (unsafe ones only when allowed, and labelled),
"Disable ACxxx for this line" (adds or extends `# noqa`), and source.fixAll.asynccheck."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Optional

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.server.lsp import open_file, published

pytestmark = pytest.mark.asyncio(loop_scope="session")

SOURCE = """\
import requests
import time


async def handler():
    time.sleep(1)
    requests.get("https://example.com")  # noqa: E501
"""


async def actions_at(
    client: LanguageClient, uri: str, line: int, only: Optional[Sequence[str]] = None
) -> list[types.CodeAction]:
    where = types.Range(types.Position(line, 0), types.Position(line, 0))
    found = await client.text_document_code_action_async(
        types.CodeActionParams(
            types.TextDocumentIdentifier(uri),
            where,
            types.CodeActionContext(diagnostics=[], only=only),
        )
    )
    return list(found or [])


def apply(text: str, edits: Sequence[types.TextEdit]) -> str:
    """Apply LSP edits (ASCII text: characters are UTF-16 units here)."""
    lines = text.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))

    def offset(p: types.Position) -> int:
        return offsets[min(p.line, len(lines))] + p.character

    # from the end; of two edits at one place the later one first, so the earlier one's
    # text comes first (as LSP says: the order in the array)
    ordered = sorted(enumerate(edits), key=lambda item: (offset(item[1].range.start), item[0]))
    for _, edit in reversed(ordered):
        text = text[: offset(edit.range.start)] + edit.new_text + text[offset(edit.range.end) :]
    return text


def edits_of(action: types.CodeAction, uri: str) -> list[types.TextEdit]:
    assert action.edit is not None and action.edit.changes is not None
    return list(action.edit.changes[uri])


async def test_a_safe_fix_is_a_quickfix(client: LanguageClient, folder: Path) -> None:
    uri = open_file(client, folder / "app.py", SOURCE)
    await published(client, uri)
    found = await actions_at(client, uri, 5)
    titles = [a.title for a in found]
    assert titles[0].startswith("AC101: ") and "unsafe" not in titles[0]
    assert found[0].kind == types.CodeActionKind.QuickFix and found[0].is_preferred
    fixed = apply(SOURCE, edits_of(found[0], uri))
    assert "    await asyncio.sleep(1)\n" in fixed and "import asyncio\n" in fixed
    assert found[0].diagnostics and found[0].diagnostics[0].code == "AC101"


async def test_unsafe_fixes_are_not_offered_by_default(
    client: LanguageClient, folder: Path
) -> None:
    uri = open_file(client, folder / "app.py", SOURCE)
    await published(client, uri)
    titles = [a.title for a in await actions_at(client, uri, 6, only=["quickfix"])]
    assert titles == ["Disable AC102 for this line"]
    everything = [a.title for a in await actions_at(client, uri, 6)]
    assert everything == [*titles, "asynccheck: fix all safe fixes"]


async def test_disable_for_this_line_adds_or_extends_noqa(
    client: LanguageClient, folder: Path
) -> None:
    uri = open_file(client, folder / "app.py", SOURCE)
    await published(client, uri)
    (new,) = [a for a in await actions_at(client, uri, 5) if a.title.startswith("Disable")]
    assert new.title == "Disable AC101 for this line"
    assert apply(SOURCE, edits_of(new, uri)).splitlines()[5] == "    time.sleep(1)  # noqa: AC101"
    (extend,) = [a for a in await actions_at(client, uri, 6) if a.title.startswith("Disable")]
    line = apply(SOURCE, edits_of(extend, uri)).splitlines()[6]
    assert line == '    requests.get("https://example.com")  # noqa: E501, AC102'


async def test_fix_all_applies_every_safe_fix(client: LanguageClient, folder: Path) -> None:
    text = "import time\n\n\nasync def f():\n    time.sleep(1)\n    time.sleep(2)\n"
    uri = open_file(client, folder / "app.py", text)
    await published(client, uri)
    (action,) = await actions_at(client, uri, 0, only=["source.fixAll"])
    assert action.kind == "source.fixAll.asynccheck"
    fixed = apply(text, edits_of(action, uri))
    assert fixed == (
        "import asyncio\nimport time\n\n\nasync def f():\n"
        "    await asyncio.sleep(1)\n    await asyncio.sleep(2)\n"
    )
