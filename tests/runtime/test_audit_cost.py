"""The hot paths raise no audit events they can avoid: once blocking detection has added its
audit hook (process-wide, for good), every `id()` or `frame.f_code` anywhere in the process
runs that hook. Counted in a fresh interpreter, so this test's own hook stays there."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

PROGRAM = textwrap.dedent(
    """
    import asyncio, json, socket, sys
    from collections import Counter
    from asynccheck.runtime.install import monitor

    counting = False
    seen = Counter()

    def count(event, args):
        if counting:
            seen[event] += 1

    sys.addaudithook(count)

    async def child():
        await asyncio.sleep(0)

    async def spawn(n):
        global counting
        await asyncio.sleep(0)  # the loop and the monitor are warm
        counting = True
        for _ in range(n):
            await asyncio.create_task(child())
        counting = False

    with monitor(log=False):
        asyncio.run(spawn(200))
    print(json.dumps(seen))
    """
)


def test_creating_a_task_raises_one_audit_event_per_frame_looked_at() -> None:
    """Per task: one `sys._getframe` (where it was made) and one `frame.f_code` per frame the
    creation site is looked for in (asyncio's, then the user's); no `builtins.id` (there was
    one per task and one per frame, and the chosen frame's code was read twice)."""
    out = subprocess.run(
        [sys.executable, "-c", PROGRAM], capture_output=True, text=True, timeout=60, check=True
    )
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert seen.get("builtins.id", 0) == 0, seen
    assert seen.get("sys._getframe", 0) == 200, seen
    assert seen.get("object.__getattr__", 0) <= 3 * 200, seen
