"""AC107: waiting for input on the loop."""

from __future__ import annotations

from asynccheck.rules.base import Example
from asynccheck.rules.blocking.base import BlockingCall


class BlockingInput(BlockingCall):
    """`input()` waits for a human with the loop stopped: nothing else runs until Enter."""

    code = "AC107"
    name = "blocking-input"
    message = "{call}() blocks the event loop waiting for input; use await asyncio.to_thread()"
    sync_message = "{call}() blocks the event loop waiting for input; read it in a thread"
    bad = (
        Example("async def f():\n    name = input('name? ')"),
        Example("import sys\nasync def f():\n    line = sys.stdin.readline()"),
        Example("import getpass\nasync def f():\n    pw = getpass.getpass()"),
    )
    good = (
        Example("import asyncio\nasync def f():\n    name = await asyncio.to_thread(input, 'name? ')"),
        Example("def f():\n    return input()"),
        Example("async def f(input):\n    return input()"),
    )  # fmt: skip
