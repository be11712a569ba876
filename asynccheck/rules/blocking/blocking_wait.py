"""AC108: a thread lock, queue, future or thread waited for on the loop."""

from __future__ import annotations

from asynccheck.rules.base import Example
from asynccheck.rules.blocking.base import BlockingCall


class BlockingWait(BlockingCall):
    """Waiting on a thread primitive (`threading.Lock.acquire`, `queue.Queue.get`,
    `Future.result`, `Thread.join`) parks the loop's only thread until another thread acts;
    if that thread needs the loop, it deadlocks. Use the asyncio primitive instead.

    Not flagged: a wait the code has ruled out: `fut.result()` after `fut.done()` or after
    awaiting it, `q.get()` on a queue checked with `empty()`/`qsize()`, waits that ask not to
    wait (`join(timeout=0)`, `acquire(False)`), and `thread.join()` after awaiting the
    future the thread resolves as its last act (the thread is finishing)."""

    code = "AC108"
    name = "blocking-wait"
    message = "{call}() blocks the event loop while it waits; use the asyncio equivalent"
    sync_message = (
        "{call}() blocks the event loop while it waits; hand the wait to "
        "loop.run_in_executor() or move it to a task"
    )
    bad = (
        Example("import threading\nlock = threading.Lock()\nasync def f():\n    lock.acquire()"),
        Example("import queue\nasync def f():\n    q = queue.Queue()\n    item = q.get()"),
        Example(
            "from concurrent.futures import ThreadPoolExecutor\nasync def f(pool: ThreadPoolExecutor):\n"
            "    with ThreadPoolExecutor() as ex:\n        fut = ex.submit(print)\n        fut.result()"
        ),
        Example("import threading\nasync def f():\n    t = threading.Thread(target=print)\n    t.start()\n    t.join()"),
        Example("import asyncio\nasync def f(coro, loop):\n    asyncio.run_coroutine_threadsafe(coro, loop).result()"),
    )  # fmt: skip
    good = (
        Example("import asyncio\nlock = asyncio.Lock()\nasync def f():\n    async with lock:\n        pass"),
        Example("import asyncio\nasync def f(q: asyncio.Queue):\n    return await q.get()"),
        Example("import threading\nlock = threading.Lock()\ndef f():\n    lock.acquire()"),
        Example("import asyncio, concurrent.futures\nasync def f(fut: concurrent.futures.Future):\n    return await asyncio.wrap_future(fut)"),
    )  # fmt: skip
