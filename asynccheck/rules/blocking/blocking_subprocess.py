"""AC103: a subprocess run and waited for on the loop."""

from __future__ import annotations

from asynccheck.rules.base import Example
from asynccheck.rules.blocking.base import ToThreadFix


class BlockingSubprocess(ToThreadFix):
    """`subprocess.run()` and friends wait for the child process with the loop stopped.
    `asyncio.create_subprocess_exec()` waits without blocking other tasks."""

    code = "AC103"
    name = "blocking-subprocess"
    message = "{call}() blocks the event loop; use asyncio.create_subprocess_exec()"
    sync_message = (
        "{call}() blocks the event loop; hand it to loop.run_in_executor() or start the "
        "process from a task with asyncio.create_subprocess_exec()"
    )
    references = ("https://docs.python.org/3/library/asyncio-subprocess.html",)
    bad = (
        Example(
            "import subprocess\nasync def f():\n    subprocess.run(['ls'], check=True)",
            fixed="import asyncio\nimport subprocess\nasync def f():\n"
            "    await asyncio.to_thread(subprocess.run, ['ls'], check=True)",
            unsafe=True,
        ),
        Example("import os\nasync def f():\n    os.system('sync')"),
        Example("async def f():\n    out = subprocess.check_output(['git', 'status'])"),
        Example(
            "from subprocess import Popen\nasync def f():\n"
            "    p = Popen(['sleep', '1'])\n    p.wait()"
        ),
    )
    good = (
        Example(
            "import asyncio\nasync def f():\n"
            "    p = await asyncio.create_subprocess_exec('ls')\n    await p.wait()"
        ),
        Example("import subprocess\ndef f():\n    subprocess.run(['ls'])"),
        Example(
            "import asyncio, subprocess\nasync def f():\n"
            "    await asyncio.to_thread(subprocess.run, ['ls'])"
        ),
        Example("async def f(os):\n    os.system('x')"),
    )
