"""The server never dies on bad input: a rule that raises is logged (window/logMessage) and
the other rules' findings still published; shutdown + exit end it with 0; without pygls
`asynccheck server` says how to install it and exits 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.server.lsp import codes, open_file, published

in_server = pytest.mark.asyncio(loop_scope="module")

SOURCE = "import asyncio\nimport time\n\n\nasync def f():\n    time.sleep(1)\n    asyncio.create_task(f())\n"


@in_server
async def test_a_failing_rule_is_logged_and_the_rest_published(
    broken_client: LanguageClient, folder: Path
) -> None:
    client = broken_client
    uri = open_file(client, folder / "app.py", SOURCE)
    assert codes(await published(client, uri)) == ["AC101"]  # AC401 raised; AC101 still here
    errors = [m for m in client.log_messages if m.type == types.MessageType.Error]
    assert any("rule AC401 failed" in m.message and "planted failure" in m.message for m in errors)


@in_server
async def test_shutdown_and_exit_end_with_0(broken_client: LanguageClient) -> None:
    await broken_client.shutdown_session()
    assert broken_client._server is not None
    assert broken_client._server.returncode == 0


def test_without_pygls_it_says_how_to_install() -> None:
    code = (
        "import sys; sys.modules['pygls'] = None; from asynccheck.cli import main; main(['server'])"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "pip install 'asynccheck[server]'" in done.stderr
