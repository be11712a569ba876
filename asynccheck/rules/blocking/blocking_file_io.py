"""AC104: blocking file I/O on the loop."""

from __future__ import annotations

from asynccheck.rules.base import Example
from asynccheck.rules.blocking.base import ToThreadFix


class BlockingFileIo(ToThreadFix):
    """Disk reads and writes, and file-system calls like `os.listdir`, block the loop. On a
    slow or network disk that can be seconds. Run them in a thread, or use aiofiles/anyio.

    Not flagged: `os.fdopen(fd)` (it wraps a descriptor already open; reading the file it
    returns is flagged); `seek()` with no write pending (on a file only read, or right
    after `flush()`: a bare lseek); a lazy iterator (`os.walk`, `Path.glob`, `Path.walk`,
    `Path.iterdir()` below 3.13) handed to a thread, or made on the loop and only advanced
    in a thread (`it = p.iterdir()` then `await asyncio.to_thread(list, it)`); an archive
    read from a buffer in memory (`tarfile.open(fileobj=io.BytesIO(data))`, `zipfile.
    ZipFile(io.BytesIO(data))`, `gzip.open(io.BytesIO(data))`)."""

    code = "AC104"
    name = "blocking-file-io"
    message = "{call}() does blocking file I/O; use await asyncio.to_thread() or aiofiles"
    sync_message = "{call}() does blocking file I/O on the loop; hand it to loop.run_in_executor()"
    references = ("https://docs.python.org/3/library/asyncio-task.html#asyncio.to_thread",)
    bad = (
        Example(
            "import json\nasync def load(path):\n    with open(path) as f:\n"
            "        return json.load(f)",
            fixed="import asyncio\nimport json\nasync def load(path):\n"
            "    with await asyncio.to_thread(open, path) as f:\n        return json.load(f)",
            unsafe=True,
        ),
        Example("from pathlib import Path\nasync def f():\n    Path('a.txt').read_text()"),
        Example("import shutil\nasync def f(d):\n    shutil.rmtree(d)"),
        Example("from os import path\nasync def f(p):\n    return path.exists(p)"),
        Example("from typing import TextIO\nasync def f(fp: TextIO):\n    return fp.read()"),
        Example(
            "from pathlib import Path\nBASE = Path(__file__).parent\n"
            "async def f():\n    if not (BASE / 'cache').exists():\n        pass"
        ),
    )
    good = (
        Example(
            "import aiofiles\nasync def f(p):\n"
            "    async with aiofiles.open(p) as f:\n        return await f.read()"
        ),
        Example(
            "import asyncio\nfrom pathlib import Path\nasync def f():\n"
            "    return await asyncio.to_thread(Path('a.txt').read_text)"
        ),
        Example("def f(p):\n    with open(p) as f:\n        return f.read()"),
        Example("import os\nasync def f(p):\n    return os.path.join(p, 'x')"),
        Example("async def f(reader):\n    return await reader.read()"),
        Example(
            "from pathlib import Path\nasync def f(p: Path):\n"
            "    return p.with_suffix('.json').name"
        ),
    )
