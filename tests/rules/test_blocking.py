"""AC1xx beyond the rule examples: import forms, scopes, shadowing, positions, fixes."""

from __future__ import annotations

import textwrap

import pytest

from asynccheck.lint.api import lint_source
from asynccheck.lint.fix import apply_fixes


def codes_at(source: str, select: str = "AC1") -> list[tuple[str, int, int]]:
    findings = lint_source(textwrap.dedent(source), select=[select])
    return [(f.code, f.location.row, f.location.column) for f in findings]


@pytest.mark.parametrize(
    "source",
    [
        "import time as t\nasync def f():\n    t.sleep(1)\n",
        "from time import sleep as zz\nasync def f():\n    zz(1)\n",
        "from time import sleep\nasync def f():\n    sleep(1)\n",
        "import time\nasync def f():\n    time.sleep(1)\n",
        "async def f():\n    import time\n    time.sleep(1)\n",
        "async def f():\n    time.sleep(1)\n",  # a snippet that never imports time
        "from time import *\nasync def f():\n    sleep(1)\n",
    ],
)
def test_every_import_form_resolves_time_sleep(source: str) -> None:
    assert [code for code, _, _ in codes_at(source)] == ["AC101"]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import os.path\nasync def f(p):\n    return os.path.exists(p)\n", "AC104"),
        ("from os import path\nasync def f(p):\n    return path.isfile(p)\n", "AC104"),
        ("import os.path as osp\nasync def f(p):\n    return osp.getsize(p)\n", "AC104"),
        ("from subprocess import run as sh\nasync def f():\n    sh(['ls'])\n", "AC103"),
        ("import urllib.request\nasync def f(u):\n    urllib.request.urlopen(u)\n", "AC102"),
        ("import http.client\nasync def f():\n    http.client.HTTPSConnection('h')\n", "AC102"),
    ],
)
def test_dotted_imports(source: str, expected: str) -> None:
    assert [code for code, _, _ in codes_at(source)] == [expected]


@pytest.mark.parametrize(
    "source",
    [
        # a local that shadows the import
        "from time import sleep\nasync def f():\n    sleep = g\n    sleep(1)\n",
        # a module-level rebinding
        "import requests\nrequests = []\nasync def f():\n    requests.pop()\n",
        "requests = []\nasync def f():\n    requests.pop()\n",
        # a parameter
        "import time\nasync def f(time):\n    time.sleep(1)\n",
        # nested def that is never called, a lambda, a class body
        "import time\nasync def f():\n    def g():\n        time.sleep(1)\n    return g\n",
        "import time\nasync def f(loop):\n    await loop.run_in_executor(None, lambda: time.sleep(1))\n",
        "import time\nasync def f():\n    class C:\n        time.sleep(1)\n",
        # handed to a thread, not called
        "import asyncio, time\nasync def f():\n    await asyncio.to_thread(time.sleep, 1)\n",
        "import asyncio, time\nasync def f(loop):\n    await loop.run_in_executor(None, time.sleep, 1)\n",
        # sync code and module level
        "import time\ntime.sleep(1)\ndef f():\n    time.sleep(1)\n",
        # an async file API
        "import aiofiles\nasync def f(p):\n    async with aiofiles.open(p) as fh:\n        await fh.read()\n",
        # awaited method calls are async whatever the receiver looked like
        "async def f(conn):\n    await conn.execute('x')\n",
        # non-blocking sockets used with the loop
        "import socket\nasync def f(loop):\n    s = socket.socket()\n    s.setblocking(False)\n    await loop.sock_connect(s, ('h', 1))\n    s.send(b'x')\n",
        # the optional-import idiom keeps the import (but here it is sync code)
        "try:\n    import requests\nexcept ImportError:\n    requests = None\ndef f():\n    requests.get('u')\n",
    ],
)
def test_not_flagged(source: str) -> None:
    assert codes_at(source) == []


def test_optional_import_idiom_still_resolves() -> None:
    source = "try:\n    import requests\nexcept ImportError:\n    requests = None\nasync def f():\n    requests.get('u')\n"
    assert codes_at(source) == [("AC102", 6, 5)]


def test_decorator_and_default_run_outside_the_coroutine() -> None:
    source = "import time\n@deco(time.sleep(1))\nasync def f(x=time.sleep(2)):\n    pass\n"
    assert codes_at(source) == []


def test_nested_def_called_from_the_coroutine_runs_on_the_loop() -> None:
    source = "import time\nasync def f():\n    def wait():\n        time.sleep(1)\n    wait()\n"
    assert codes_at(source) == [("AC101", 4, 9)]


def test_comprehension_and_fstring_inside_coroutine() -> None:
    source = "import os\nasync def f(ps):\n    a = [os.stat(p) for p in ps]\n    return f'{os.listdir(ps[0])}'\n"
    assert codes_at(source) == [("AC104", 3, 10), ("AC104", 4, 15)]


def test_position_is_the_callee_even_in_parentheses() -> None:
    source = "import time\nasync def f():\n    x = (\n        time.sleep(1)\n    )\n"
    assert codes_at(source) == [("AC101", 4, 9)]


def test_receiver_types() -> None:
    source = textwrap.dedent(
        """
        import socket
        import threading
        from pathlib import Path
        from typing import IO, Optional

        LOCK = threading.Lock()

        async def f(fp: Optional[IO[str]], p: Path, s: "socket.socket"):
            fp.readline()
            (p / "x").read_bytes()
            LOCK.acquire()
            with open("x") as fh:
                fh.write("y")
            sock = socket.create_connection(("h", 1))
            sock.sendall(b"x")
        """
    )
    found = [(code, row) for code, row, _ in codes_at(source)]
    assert found == [
        ("AC104", 10),
        ("AC104", 11),
        ("AC108", 12),
        ("AC104", 13),
        ("AC104", 14),
        ("AC105", 15),
        ("AC105", 16),
    ]


def test_configured_blocking_calls() -> None:
    source = "from sdk import client\nasync def f():\n    client.fetch()\n    client.other()\n"
    findings = lint_source(source, config={"blocking-calls": ["sdk.client.fetch"]})
    assert [(f.code, f.location.row) for f in findings] == [("AC109", 3)]
    assert "sdk.client.fetch()" in findings[0].message


def test_safe_fix_respects_asyncio_alias_and_keeps_comments() -> None:
    source = "import asyncio as aio\nimport time\nasync def f(n):\n    time.sleep(  # why\n        n\n    )\n"
    findings = lint_source(source, select=["AC101"])
    fixed, count = apply_fixes(source, findings)
    assert count == 1
    assert (
        fixed
        == "import asyncio as aio\nimport time\nasync def f(n):\n    await aio.sleep(  # why\n        n\n    )\n"
    )


def test_fix_after_docstring_and_future_import() -> None:
    source = '"""Doc."""\nfrom __future__ import annotations\nasync def f():\n    time.sleep(1)\n'
    fixed, _ = apply_fixes(source, lint_source(source, select=["AC101"]))
    assert (
        fixed
        == '"""Doc."""\nfrom __future__ import annotations\nimport asyncio\nasync def f():\n    await asyncio.sleep(1)\n'
    )


def test_no_fix_where_await_is_impossible() -> None:
    source = "import time\nasync def f():\n    def g():\n        time.sleep(1)\n    g()\n    x = [time.sleep(1) for _ in range(2)]\n"
    findings = lint_source(source, select=["AC101"])
    assert len(findings) == 2 and all(f.fix is None for f in findings)


def test_no_fix_when_asyncio_name_is_taken() -> None:
    source = "import time\nasyncio = object()\nasync def f():\n    time.sleep(1)\n"
    (finding,) = lint_source(source, select=["AC101"])
    assert finding.fix is None


def test_multiple_fixes_share_one_import() -> None:
    source = "import time\nasync def f():\n    time.sleep(1)\n    time.sleep(2)\n"
    fixed, count = apply_fixes(source, lint_source(source, select=["AC101"]))
    assert count == 2
    assert fixed.count("import asyncio") == 1


@pytest.mark.parametrize(
    ("source", "rows"),
    [
        ("import queue\nasync def f():\n    q = queue.Queue()\n    q.put(1)\n    q.get()\n", [5]),
        ("import queue\nasync def f():\n    q = queue.Queue(maxsize=10)\n    q.put(1)\n", [4]),
        ("import queue\nasync def f():\n    q = queue.Queue(0)\n    q.put(1)\n", []),
        ("import queue\nq = queue.SimpleQueue()\nasync def f():\n    q.put(1)\n", []),
    ],
)
def test_put_blocks_only_on_a_bounded_queue(source: str, rows: list[int]) -> None:
    assert [row for _, row, _ in codes_at(source)] == rows


@pytest.mark.parametrize(
    "call",
    [
        "t.join(timeout=0)",
        "LOCK.acquire(False)",
        "LOCK.acquire(blocking=False)",
        "q.get(block=False)",
    ],
)
def test_calls_that_ask_not_to_wait_are_not_flagged(call: str) -> None:
    source = (
        "import queue, threading\nLOCK = threading.Lock()\n"
        f"async def f():\n    t = threading.Thread()\n    q = queue.Queue()\n    {call}\n"
    )
    assert codes_at(source) == []


@pytest.mark.parametrize(
    "call",
    ["f.write(json.dumps(data))", "f.write([1])", "f.write(...)", "client.send(build())"],
)
def test_a_first_argument_without_a_value_still_waits(call: str) -> None:
    """Only a literal `False` first argument to acquire()/get() asks not to wait; a call, a
    list or `...` there says nothing of the kind."""
    source = (
        "import httpx, json\nasync def g(path, data, client: httpx.Client):\n"
        f"    f = open(path, 'w')  # noqa: AC104\n    {call}\n"
    )
    assert [row for _, row, _ in codes_at(source)] == [4]


@pytest.mark.parametrize("module", ["anyio", "trio"])
def test_a_file_handed_to_an_async_wrapper_is_not_flagged(module: str) -> None:
    source = (
        f"import {module}\nasync def f(p):\n"
        f"    async with await {module}.wrap_file(open(p)) as f:\n        await f.read()\n"
        "    g = open(p)\n"
    )
    assert [row for _, row, _ in codes_at(source)] == [5]


@pytest.mark.parametrize(
    ("assignment", "rows"),
    [
        ("(p, q) = (Path('a'), Path('b'))", [4]),
        ("p, q = [Path('a'), Path('b')]", [4]),
        ("p, q = Path('a'), 'b'", [4]),
        ("q, p = Path('a'), 'b'", []),  # p is a str
        ("p, *q = Path('a'), Path('b')", []),  # starred: not followed
        ("p, q = pair()", []),
    ],
)
def test_types_follow_a_plain_tuple_unpacking(assignment: str, rows: list[int]) -> None:
    source = f"from pathlib import Path\nasync def f(pair):\n    {assignment}\n    p.read_text()\n"
    assert [row for _, row, _ in codes_at(source)] == rows


@pytest.mark.parametrize(
    ("body", "rows"),
    [
        ("try:\n        s.connect(a)\n    except BlockingIOError:\n        pass", []),
        ("try:\n        s.recv(1)\n    except (OSError, ssl.SSLWantReadError):\n        pass", []),
        ("try:\n        s.recv(1)\n    except* BlockingIOError:\n        pass", []),
        ("try:\n        s.recv(1)\n    except OSError:\n        pass", [5]),
        ("try:\n        s.recv(1)\n    except:\n        pass", [5]),
    ],
)
def test_a_socket_expected_to_raise_blocking_io_error_is_non_blocking(
    body: str, rows: list[int]
) -> None:
    source = f"import socket, ssl\nasync def f(s: socket.socket, a):\n    {body}\n"
    source = source.replace("\n    try", "\n    x = 1\n    try")
    assert [row for _, row, _ in codes_at(source)] == rows


@pytest.mark.parametrize(
    ("connect", "rows"),
    [
        ("sqlite3.connect(':memory:')", []),
        ("sqlite3.connect(database=':memory:')", []),
        ("sqlite3.connect('file::memory:?cache=shared', uri=True)", []),
        ("sqlite3.connect('file:x?mode=memory', uri=True)", []),
        ("sqlite3.connect('app.db')", [3, 4]),
        ("sqlite3.connect(path)", [3, 4]),
    ],
)
def test_an_in_memory_sqlite_database_does_not_block(connect: str, rows: list[int]) -> None:
    source = f"import sqlite3\nasync def f(path):\n    db = {connect}\n    db.execute('select 1')\n"
    assert [row for _, row, _ in codes_at(source)] == rows


@pytest.mark.parametrize(
    ("opened", "flagged"),
    [
        ("tarfile.open(mode='r', fileobj=BytesIO(data))", False),
        ("tarfile.open(None, 'r', io.BytesIO(data))", False),
        ("zipfile.ZipFile(io.BytesIO(data))", False),
        ("gzip.open(io.BytesIO(data))", False),
        # a path, or a file object that may be on disk, is still read from disk
        ("tarfile.open(path)", True),
        ("tarfile.open(path, fileobj=fp)", True),
        ("zipfile.ZipFile(path)", True),
        ("gzip.open(io.BytesIO(data).name)", True),
    ],
)
def test_an_archive_opened_from_a_buffer_in_memory_does_not_block(
    opened: str, flagged: bool
) -> None:
    source = (
        "import gzip, io, tarfile, zipfile\nfrom io import BytesIO\n"
        f"async def f(path, fp, data):\n    return {opened}\n"
    )
    assert bool(codes_at(source)) is flagged


@pytest.mark.parametrize(
    ("call", "rows"),
    [
        ("os.waitpid(-1, os.WNOHANG)", []),
        ("os.waitpid(pid, options=os.WNOHANG)", []),
        ("os.waitpid(pid, 0)", [4]),
        ("socket.getaddrinfo(h, 80, flags=socket.AI_NUMERICHOST)", []),
        ("socket.getaddrinfo(h, 80, 0, 0, 0, NUMERIC)", []),  # through a module constant
        ("socket.getaddrinfo(h, 80)", [4]),
    ],
)
def test_a_flag_that_asks_not_to_wait(call: str, rows: list[int]) -> None:
    source = (
        "import os, socket\nNUMERIC = socket.AI_NUMERICHOST | socket.AI_NUMERICSERV\n"
        f"async def f(pid, h):\n    {call}\n"
    )
    assert [row for _, row, _ in codes_at(source)] == rows


def test_path_resolve_touches_the_disk_absolute_does_not() -> None:
    source = (
        "from pathlib import Path\nasync def f(p):\n    a = Path(p).resolve()\n"
        "    b = Path(p).absolute()\n"
    )
    assert [row for _, row, _ in codes_at(source)] == [3]


@pytest.mark.parametrize(
    ("call", "rows"), [("pool.shutdown(wait=False)", []), ("pool.shutdown()", [3])]
)
def test_an_executor_shutdown_that_does_not_wait(call: str, rows: list[int]) -> None:
    source = (
        "import concurrent.futures\nasync def f(pool: concurrent.futures.ThreadPoolExecutor):\n"
        f"    {call}\n"
    )
    assert [row for _, row, _ in codes_at(source)] == rows


@pytest.mark.parametrize(
    ("body", "rows"),
    [
        ("    if fut.done():\n        return fut.result()\n", []),
        ("    await asyncio.wrap_future(fut)\n    return fut.result()\n", []),
        ("    return fut.result()\n", [3]),
    ],
)
def test_a_future_known_to_be_done_does_not_wait(body: str, rows: list[int]) -> None:
    source = (
        f"import asyncio, concurrent.futures\nasync def f(fut: concurrent.futures.Future):\n{body}"
    )
    assert [row for _, row, _ in codes_at(source)] == rows


@pytest.mark.parametrize(
    ("line", "rows"),
    [
        ("a = await asyncio.to_thread(list, Path(p).glob('*'))", []),
        ("b = await loop.run_in_executor(None, sorted, os.walk(p))", []),
        ("c = list(Path(p).iterdir())", [4]),  # consumed right here
        ("d = await asyncio.to_thread(print, open(p))", [4]),  # open() runs before the call
    ],
)
def test_a_lazy_iterator_handed_to_a_thread_reads_there(line: str, rows: list[int]) -> None:
    source = f"import asyncio, os\nfrom pathlib import Path\nasync def f(p, loop):\n    {line}\n"
    assert [row for _, row, _ in codes_at(source)] == rows


# --- calls that only look blocking: the state that would make them wait is ruled out -----------
@pytest.mark.parametrize(
    ("source", "expected"),
    [
        # a lazy iterator made on the loop and advanced in a thread
        ("from pathlib import Path\nimport asyncio\nasync def f(p: Path):\n"
         "    it = p.iterdir()\n    return await asyncio.to_thread(list, it)\n", []),
        ("from pathlib import Path\nimport asyncio\nasync def f(p: Path):\n"
         "    it = p.walk()\n    return await asyncio.to_thread(lambda: sorted(it))\n", []),
        ("import os, asyncio\nasync def f(loop, d):\n    it = os.walk(d)\n"
         "    return await loop.run_in_executor(None, next, it)\n", []),
        # ... but not when the loop advances it too
        ("from pathlib import Path\nimport asyncio\nasync def f(p: Path):\n"
         "    it = p.glob('*')\n    first = next(it)\n    return await asyncio.to_thread(list, it)\n",
         [("AC104", 4, 10)]),
        # seek() writes only when a write is pending
        ("async def f(p):\n    f = open(p, 'rb')  # noqa\n    f.seek(0, 2)\n    f.seek(0)\n", []),
        ("async def f(p):\n    f = open(p, 'w')  # noqa\n    f.write('x')\n    f.seek(0)\n",
         [("AC104", 3, 5), ("AC104", 4, 5)]),
        ("async def f(p):\n    f = open(p, 'w')  # noqa\n    f.write('x')\n    f.flush()\n"
         "    f.seek(0)\n", [("AC104", 3, 5), ("AC104", 4, 5)]),
        # os.fdopen wraps a descriptor already open; reading it is still blocking
        ("import os\nasync def f(fd):\n    f = os.fdopen(fd, 'rb')\n", []),
        ("import os\nasync def f(fd):\n    f = os.fdopen(fd, 'rb')\n    return f.read()\n",
         [("AC104", 4, 12)]),
        # a queue checked first
        ("import queue\nasync def f():\n    q = queue.Queue()\n    while not q.empty():\n"
         "        q.get()\n", []),
    ],
)  # fmt: skip
def test_calls_that_cannot_wait_here(source: str, expected: list[tuple[str, int, int]]) -> None:
    assert codes_at(source) == expected


THREAD_RESOLVES = """
import asyncio, threading

async def run(loop):
    fut = loop.create_future()

    def work():
        compute()
        loop.call_soon_threadsafe(fut.set_result, 1)

    thread = threading.Thread(target=work)
    thread.start()
    {wait}
    thread.join()
"""


@pytest.mark.parametrize(
    ("wait", "expected"),
    [
        ("await fut", []),
        ("await asyncio.wait_for(fut, 5)", []),
        ("pass", [("AC108", 14, 5)]),  # not awaited first: join waits for the whole work
    ],
)
def test_join_after_the_future_the_thread_resolves_last(wait: str, expected: list) -> None:
    assert codes_at(THREAD_RESOLVES.format(wait=wait), "AC108") == expected
    moved = THREAD_RESOLVES.replace("        compute()\n", "").replace(
        "fut.set_result, 1)\n", "fut.set_result, 1)\n        compute()\n"
    )
    assert codes_at(moved.format(wait=wait), "AC108") == [("AC108", 14, 5)]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        # a rebinding ends the earlier type; it does not erase it
        ("from pathlib import Path\nasync def f(p: str):\n    p = Path(p)\n    p.read_text()\n"
         "    p = str(p)\n    p.upper()\n", [("AC104", 4, 5)]),
        ("from pathlib import Path\nasync def f(p):\n    p.read_text()\n    p = Path(p)\n", []),
        ("from pathlib import Path\nasync def f(p: str):\n    p = Path(p)\n    q = p / 'x'\n"
         "    q.exists()\n    p = 'y'\n", [("AC104", 5, 5)]),
        # a binding in a branch that may not run keeps the earlier one
        ("from pathlib import Path\nasync def f(p: str, a):\n    p = Path(p)\n    if a:\n"
         "        p = 'x'\n    p.exists()\n", []),
        # in a loop, a later binding reaches the next round
        ("from pathlib import Path\nasync def f(p: str, xs):\n    p = Path(p)\n    for x in xs:\n"
         "        p.exists()\n        p = x\n", []),
        # sync clients: module level, Optional[...], `X | None`, a string annotation
        ("import httpx\nclient = httpx.Client()\nasync def f():\n    client.get('u')\n",
         [("AC102", 4, 5)]),
        ("import httpx\nfrom typing import Optional\nasync def f(c: Optional[httpx.Client]):\n"
         "    c.get('u')\n", [("AC102", 4, 5)]),
        ("import httpx\nasync def f(c: httpx.Client | None = None):\n    c.get('u')\n",
         [("AC102", 3, 5)]),
        ("import httpx\nasync def f(c: 'httpx.Client | None'):\n    c.get('u')\n",
         [("AC102", 3, 5)]),
    ],
)  # fmt: skip
def test_receiver_types_in_order_and_annotations(
    source: str, expected: list[tuple[str, int, int]]
) -> None:
    assert codes_at(source) == expected


@pytest.mark.parametrize(
    ("body", "advice"),
    [
        ("time.sleep(1)", "schedule what follows with loop.call_later()"),
        ("open('log').write(data)", "hand it to loop.run_in_executor()"),
    ],
)
def test_sync_code_on_the_loop_is_not_told_to_await(body: str, advice: str) -> None:
    source = (
        "import asyncio, time\nclass P(asyncio.Protocol):\n"
        f"    def data_received(self, data):\n        {body}\n"
    )
    findings = lint_source(source, select=["AC1"])
    assert findings and all(advice in f.message and "await" not in f.message for f in findings)


# Sync code the loop runs: a protocol callback, a `call_soon` callback, a done callback.
_ON_LOOP = {
    "protocol": "class P(asyncio.Protocol):\n    def data_received(self, data):\n        {body}\n",
    "call_soon": "def on_tick():\n    {body}\n\nasync def main():\n"
    "    asyncio.get_running_loop().call_soon(on_tick)\n",
    "done_callback": "def on_done(fut):\n    {body}\n\ndef start(fut):\n"
    "    fut.add_done_callback(on_done)\n",
}
_PRELUDE = (
    "import asyncio, time, requests, subprocess, socket, sqlite3, threading, mysdk\n"
    "lock = threading.Lock()\nurl = host = data = None\n\n"
)


@pytest.mark.parametrize("where", sorted(_ON_LOOP))
@pytest.mark.parametrize(
    ("code", "body", "advice"),
    [
        ("AC101", "time.sleep(1)", "schedule what follows with loop.call_later()"),
        ("AC102", "requests.get(url)", "hand it to loop.run_in_executor() or make the request"),
        ("AC103", "subprocess.run(['ls'])", "hand it to loop.run_in_executor() or start the"),
        ("AC104", "open('log').close()", "hand it to loop.run_in_executor()"),
        ("AC105", "socket.gethostbyname(host)", "hand it to loop.run_in_executor() or move it"),
        ("AC106", "sqlite3.connect('x.db')", "hand it to loop.run_in_executor() or move it"),
        ("AC107", "input('? ')", "read it in a thread"),
        ("AC108", "lock.acquire()", "hand the wait to loop.run_in_executor()"),
        ("AC109", "mysdk.fetch_all()", "hand it to loop.run_in_executor()"),
    ],
)
def test_sync_code_on_the_loop_gets_sync_advice_and_no_await_fix(
    where: str, code: str, body: str, advice: str
) -> None:
    source = _PRELUDE + _ON_LOOP[where].format(body=body)
    config = {"blocking-calls": ["mysdk.fetch_all"]}
    findings = lint_source(source, select=[code], config=config)
    assert [f.code for f in findings] == [code]
    finding = findings[0]
    assert advice in finding.message and "await" not in finding.message
    assert finding.fix is None, "no fix can add an await in sync code"
    assert "await" not in finding.help and "to_thread" not in finding.help
    if code in ("AC101", "AC102", "AC103", "AC104"):  # they show a help line in coroutines
        assert finding.help.startswith(("Schedule what follows", "Run the call in a worker"))


@pytest.mark.parametrize(
    ("code", "body"), [("AC101", "time.sleep(1)"), ("AC104", "open('log').close()")]
)
def test_a_nested_helper_the_coroutine_calls_is_not_a_loop_callback(code: str, body: str) -> None:
    """It runs on the loop, but nobody hands it to the loop: no callback advice."""
    source = (
        "import asyncio, time\nasync def main(loop):\n"
        f"    def wait():\n        {body}\n    wait()\n"
        f"    def later():\n        {body}\n    loop.call_later(1, later)\n"
    )
    nested, callback = lint_source(source, select=[code])
    assert nested.message == lint_source(f"async def f():\n    {body}\n", select=[code])[0].message
    assert "call_later" not in nested.help and "run_in_executor" not in nested.help
    assert "`wait()` runs on the loop" in nested.help and nested.fix is None
    assert callback.help.startswith(("Schedule what follows", "Run the call in a worker"))
    assert "await" not in callback.message


@pytest.mark.parametrize(
    ("body", "message", "fixed"),
    [
        ("time.sleep(1)", "use await asyncio.sleep()", "await asyncio.sleep(1)"),
        ("requests.get(url)", "use an async client", "await asyncio.to_thread(requests.get, url)"),
    ],
)
def test_the_same_calls_in_a_coroutine_keep_their_await_advice_and_fix(
    body: str, message: str, fixed: str
) -> None:
    source = _PRELUDE + f"async def handler():\n    {body}\n"
    findings = lint_source(source, select=["AC1"])
    assert [message in f.message for f in findings] == [True]
    assert fixed in apply_fixes(source, findings, unsafe=True)[0]


def test_a_blocking_call_on_a_blocking_call_is_one_finding_on_the_chain() -> None:
    """`open(p).read()`: one AC104 on the whole chain (its thread hand-off covers the inner
    open), not a second on `open(p)`; a non-blocking outer call leaves the inner one."""
    source = """
        import json, pathlib
        async def f(p):
            a = open(p).read()
            b = json.loads(pathlib.Path(p).open().read())
            c = open(p).fileno()
    """
    assert codes_at(source) == [("AC104", 4, 9), ("AC104", 5, 20), ("AC104", 6, 9)]
    fixed, _ = apply_fixes(
        textwrap.dedent("import asyncio\nasync def f(p):\n    a = open(p).read()\n"),
        lint_source("import asyncio\nasync def f(p):\n    a = open(p).read()\n"),
        unsafe=True,
    )
    assert "a = await asyncio.to_thread(open(p).read)" in fixed


def test_the_receiver_type_is_skipped_only_where_no_type_could_make_the_call_block() -> None:
    """`classify_call` works out a receiver's type only for a method that blocks on some
    type, or in a file that names a module whose objects block in any method. That holds
    while such types come from constructors and annotations only (from those modules)."""
    from asynccheck.rules.catalog import (
        ANY_METHOD,
        ANY_METHOD_MODULES,
        ATTRIBUTE_RESULTS,
        BLOCKING_METHODS,
        METHOD_RESULTS,
    )

    any_method = {kind for kind, (_, methods) in BLOCKING_METHODS.items() if methods == ANY_METHOD}
    assert any_method and {"urllib3"} == ANY_METHOD_MODULES
    assert not any_method & {*METHOD_RESULTS.values(), *ATTRIBUTE_RESULTS.values()}


@pytest.mark.parametrize(
    ("source", "code"),
    [
        (
            "import urllib3\nasync def f():\n    urllib3.PoolManager().urlopen('GET', 'u')\n",
            "AC102",
        ),
        ("from urllib3 import PoolManager as P\nasync def f(p: P):\n    p.clear()\n", "AC102"),
        ("async def f(session):\n    session.urlopen('GET', 'u')\n", None),
    ],
)
def test_any_method_of_a_pool_blocks_whatever_its_name(source: str, code: str | None) -> None:
    found = [f.code for f in lint_source(source, select=["AC1"])]
    assert found == ([code] if code else [])
