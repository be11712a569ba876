"""AC109: a call the config lists under `blocking-calls`."""

from __future__ import annotations

from asynccheck.rules.base import Example
from asynccheck.rules.blocking.base import BlockingCall


class ConfiguredBlockingCall(BlockingCall):
    """Calls your project knows to block, listed under `blocking-calls` in
    `[tool.asynccheck]` (for example an SDK's sync client). asynccheck flags them inside
    `async def` like the built-in catalogue."""

    code = "AC109"
    name = "configured-blocking-call"
    message = "{call}() is listed as blocking in blocking-calls; await asyncio.to_thread() it"
    sync_message = (
        "{call}() is listed as blocking in blocking-calls; hand it to loop.run_in_executor()"
    )
    config_keys = ("blocking-calls",)
    example_config = {"blocking-calls": ["mysdk.fetch_all", "mysdk.client.sync_call"]}
    bad = (
        Example("import mysdk\nasync def f():\n    mysdk.fetch_all()"),
        Example("from mysdk import fetch_all as fa\nasync def f():\n    fa()"),
        Example("import mysdk.client\nasync def f():\n    mysdk.client.sync_call(1)"),
    )
    good = (
        Example("import mysdk\ndef f():\n    mysdk.fetch_all()"),
        Example("import asyncio, mysdk\nasync def f():\n    await asyncio.to_thread(mysdk.fetch_all)"),
        Example("import mysdk\nasync def f():\n    await mysdk.fetch_all_async()"),
    )  # fmt: skip
