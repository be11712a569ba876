"""AC105: a blocking socket call on the loop."""

from __future__ import annotations

from asynccheck.rules.base import Example
from asynccheck.rules.blocking.base import BlockingCall


class BlockingSocket(BlockingCall):
    """Blocking socket calls and DNS lookups (`socket.getaddrinfo`) stall every task for a
    network round trip. Use asyncio streams, `loop.sock_*()` or `await loop.getaddrinfo()`."""

    code = "AC105"
    name = "blocking-socket"
    site_types = ("ExceptHandler", "ExceptStarHandler")
    message = "{call}() is a blocking socket call; use asyncio streams or loop.getaddrinfo()"
    sync_message = (
        "{call}() is a blocking socket call on the loop; hand it to loop.run_in_executor() or "
        "move it to a task that uses asyncio streams"
    )
    references = ("https://docs.python.org/3/library/asyncio-stream.html",)
    bad = (
        Example("import socket\nasync def f(h):\n    return socket.gethostbyname(h)"),
        Example("import socket\nasync def f():\n    s = socket.create_connection(('h', 80))"),
        Example(
            "import socket\nasync def f():\n    s = socket.socket()\n"
            "    s.connect(('h', 80))\n    return s.recv(1024)"
        ),
    )
    good = (
        Example(
            "import asyncio\nasync def f():\n"
            "    r, w = await asyncio.open_connection('h', 80)"
        ),
        Example("import asyncio\nasync def f(h):\n    return await asyncio.get_running_loop().getaddrinfo(h, 80)"),
        Example(
            "import asyncio, socket\nasync def f():\n    s = socket.socket()\n"
            "    s.setblocking(False)\n    await asyncio.get_running_loop().sock_connect(s, ('h', 80))\n"
            "    s.send(b'x')"
        ),
        Example("import socket\ndef f(h):\n    return socket.gethostbyname(h)"),
    )  # fmt: skip
