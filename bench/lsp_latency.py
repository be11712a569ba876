"""How long `asynccheck server` takes to answer an edit, against bare parsing (a ratio).

    python bench/lsp_latency.py [--file PATH] [--in-place] [--edits 5] [--warmup 3]

A pygls client starts `python -m asynccheck server` over stdio and prints:
  start-up     from spawning the server to the first publishDiagnostics of a small file
  per edit     after warm-up, from a didChange of a 2,000-line file (one line changed, as
               typing does) to the publishDiagnostics for that version; median of --edits
  parse        libcst.parse_module of the same text in this process, measured between the
               edits (the machine is shared: both see the same noise)
  ratio        per edit / parse (issue 11: <= 1.5x)
The file is Home Assistant's helpers/entity.py (1,976 lines) when the bench corpus is there
(../shared/bench/corpus.sh), else a generated 2,000-line asyncio module. It is linted from a
copy in a temporary folder, as a file of its own; with --in-place, at its own path, so that
AC110 follows its calls into the modules of its package (read from disk; the edits stay in
the buffer, the file is never written). Not part of the test suite.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import libcst
from lsprotocol import types
from pygls.lsp.client import LanguageClient

CORPUS_FILE = Path.home() / ".cache/asynccheck-bench/homeassistant/helpers/entity.py"
SMALL = "import time\n\n\nasync def handler():\n    time.sleep(1)\n"
CHUNK = """\
class Client{n}:
    def __init__(self, session, url):
        self.session = session
        self.url = url

    async def fetch(self, key):
        async with self.session.get(f"{{self.url}}/{{key}}") as response:
            response.raise_for_status()
            return await response.json()

    async def poll(self, keys):
        results = await asyncio.gather(*(self.fetch(k) for k in keys))
        await asyncio.sleep(0.1)
        return {{k: r for k, r in zip(keys, results)}}


"""


def generated(lines: int = 2000) -> str:
    # one finding, as in real code (findings cost positions; see the closing note of issue 11)
    head = "import asyncio\nimport time\n\n\nasync def main():\n    time.sleep(1)\n\n\n"
    chunks = [CHUNK.format(n=n) for n in range((lines - 8) // CHUNK.count("\n") + 1)]
    return head + "".join(chunks)


class Client(LanguageClient):
    def __init__(self) -> None:
        super().__init__("lsp-latency-bench", "1")
        self.arrived: dict[tuple[str, int | None], float] = {}
        self.waiters: dict[tuple[str, int | None], asyncio.Event] = {}

    def wait(self, uri: str, version: int | None) -> asyncio.Event:
        return self.waiters.setdefault((uri, version), asyncio.Event())


def _client() -> Client:
    client = Client()

    @client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def _published(params: types.PublishDiagnosticsParams) -> None:
        now = time.perf_counter()
        for key in ((params.uri, params.version), (params.uri, None)):
            client.arrived[key] = now
            client.wait(*key).set()

    return client


def _open(client: Client, path: Path, text: str) -> str:
    uri = path.as_uri()
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(types.TextDocumentItem(uri, "python", 1, text))
    )
    return uri


async def run(text: str, edits: int, warmup: int, at: Path | None = None) -> None:
    folder = Path(tempfile.mkdtemp(prefix="lsp-latency-"))
    client = _client()
    started = time.perf_counter()
    await client.start_io(sys.executable, "-m", "asynccheck", "server")
    await client.initialize_async(
        types.InitializeParams(capabilities=types.ClientCapabilities(), root_uri=folder.as_uri())
    )
    client.initialized(types.InitializedParams())
    small = _open(client, folder / "small.py", SMALL)
    await client.wait(small, 1).wait()
    startup = client.arrived[(small, 1)] - started

    big = _open(client, at or folder / "big.py", text + "# edit 0\n")
    await client.wait(big, 1).wait()
    last_line = text.count("\n")
    per_edit: list[float] = []
    parse: list[float] = []
    for version in range(2, 2 + warmup + edits):
        new_line = f"# edit {version}"
        where = types.Range(types.Position(last_line, 0), types.Position(last_line, 20))
        event = client.wait(big, version)
        sent = time.perf_counter()
        client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                types.VersionedTextDocumentIdentifier(uri=big, version=version),
                [types.TextDocumentContentChangePartial(range=where, text=new_line)],
            )
        )
        await event.wait()
        elapsed = client.arrived[(big, version)] - sent
        began = time.perf_counter()
        libcst.parse_module(f"{text}{new_line}\n")
        parsed = time.perf_counter() - began
        if version >= 2 + warmup:
            per_edit.append(elapsed)
            parse.append(parsed)
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()

    edit_ms, parse_ms = statistics.median(per_edit) * 1000, statistics.median(parse) * 1000
    print(f"file: {text.count(chr(10)) + 1} lines; {edits} edits after {warmup} warm-up")
    print(f"start-up to first diagnostics (small file): {startup * 1000:.0f} ms")
    print(f"didChange -> publishDiagnostics: median {edit_ms:.0f} ms "
          f"({', '.join(f'{t * 1000:.0f}' for t in per_edit)})")  # fmt: skip
    print(f"libcst.parse_module, same text: median {parse_ms:.0f} ms")
    print(f"ratio: {edit_ms / parse_ms:.2f}x (target <= 1.5x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", type=Path, help="the file to edit (default: see above)")
    parser.add_argument(
        "--in-place", action="store_true", help="edit the file at its path, in its package"
    )
    parser.add_argument("--edits", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=3)
    options = parser.parse_args()
    path = options.file or (CORPUS_FILE if CORPUS_FILE.is_file() else None)
    text = path.read_text(encoding="utf-8") if path is not None else generated()
    if options.in_place and path is None:
        parser.error("--in-place needs a file (--file, or the bench corpus)")
    at = path.resolve() if options.in_place else None
    print(f"source: {path or 'generated'}{' (in place)' if at else ''}")
    asyncio.run(run(text, options.edits, options.warmup, at))


if __name__ == "__main__":
    main()
