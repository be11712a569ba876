"""AC3xx beyond the rule examples: spellings, paths, positions and the AC301 fix."""

from __future__ import annotations

import textwrap

import libcst
import pytest

from asynccheck.lint.api import lint_source
from asynccheck.lint.fix import fix_until_stable


def codes_at(source: str, select: str = "AC3") -> list[tuple[str, int, int]]:
    findings = lint_source(textwrap.dedent(source), select=[select])
    return [(f.code, f.location.row, f.location.column) for f in findings]


def fixed(source: str) -> str:
    source = textwrap.dedent(source)

    def lint(text: str) -> list:
        return lint_source(text, select=["AC301"])

    outcome = fix_until_stable(source, lint, lambda t: bool(libcst.parse_module(t)), unsafe=True)
    assert not [f for f in lint(outcome.text) if f.fix is not None]
    return outcome.text


@pytest.mark.parametrize(
    "handler",
    [
        "except asyncio.CancelledError:",
        "except aio.CancelledError:",
        "except asyncio.exceptions.CancelledError:",
        "except CancelledError:",
        "except Cancelled:",
        "except (OSError, asyncio.CancelledError):",
        "except (asyncio.CancelledError, asyncio.TimeoutError) as err:",
    ],
)
def test_ac301_spellings(handler: str) -> None:
    source = (
        "import asyncio\nimport asyncio as aio\nimport asyncio.exceptions\n"
        "from asyncio import CancelledError\n"
        "from asyncio.exceptions import CancelledError as Cancelled\n"
        f"async def f():\n    try:\n        await g()\n    {handler}\n        pass\n"
    )
    assert codes_at(source) == [("AC301", 9, 5)]


@pytest.mark.parametrize(
    "source",
    [
        # a nested sync def inside async def: not the coroutine's own code
        """
        import asyncio
        async def f():
            def cb(fut):
                try:
                    fut.result()
                except asyncio.CancelledError:
                    pass
            return cb
        """,
        # a local class named CancelledError is not asyncio's
        """
        class CancelledError(Exception):
            pass
        async def f():
            try:
                await g()
            except CancelledError:
                pass
        """,
        # every path re-raises
        """
        import asyncio
        async def f(a):
            try:
                await g()
            except asyncio.CancelledError:
                if a:
                    log()
                    raise
                else:
                    raise
        """,
        # a nested handler inside re-raises after its own cleanup
        """
        import asyncio
        async def f():
            try:
                await g()
            except asyncio.CancelledError:
                try:
                    await cleanup()
                except Exception:
                    log()
                raise
        """,
        # the cancel-then-wait idiom, with self attributes and with gather
        """
        import asyncio
        class C:
            async def stop(self):
                self._task.cancel()
                try:
                    await self._task
                except asyncio.CancelledError:
                    pass
        """,
        """
        import asyncio
        async def stop(tasks):
            for t in tasks:
                t.cancel()
            try:
                await asyncio.gather(*tasks)
            except asyncio.CancelledError:
                pass
        """,
        # the task is cancelled from a nested callback of this function (a signal handler)
        """
        import asyncio, signal
        async def idle(loop):
            task = None
            def on_signal():
                task.cancel()
            loop.add_signal_handler(signal.SIGINT, on_signal)
            while True:
                task = asyncio.create_task(asyncio.sleep(600))
                try:
                    await task
                except asyncio.CancelledError:
                    break
        """,
        # the idiom inside a timeout
        """
        import asyncio
        async def stop(task):
            task.cancel()
            try:
                async with asyncio.timeout(0.1):
                    await task
            except asyncio.CancelledError:
                pass
        """,
        # kept and re-raised later
        """
        import asyncio
        async def f(fut):
            cancelled = None
            while not fut.done():
                try:
                    await asyncio.wait({fut})
                except asyncio.CancelledError as err:
                    cancelled = err
            if cancelled is not None:
                raise cancelled
        """,
        # collected for an exception group raised after the loop
        """
        import asyncio
        async def cleanup(exits):
            errors = []
            for it in exits:
                try:
                    await it.__aexit__(None, None, None)
                except (Exception, asyncio.CancelledError) as exc:
                    errors.append(exc)
            if errors:
                raise ExceptionGroup("cleanup", errors)
        """,
        # sys.exit ends the path
        """
        import asyncio, sys
        async def main():
            try:
                await serve()
            except asyncio.CancelledError:
                sys.exit(1)
        """,
    ],
)
def test_ac301_not_flagged(source: str) -> None:
    assert codes_at(source, "AC301") == []


def test_ac301_idiom_needs_the_try_to_only_await_the_task() -> None:
    source = """
    import asyncio
    async def stop(task):
        task.cancel()
        try:
            await task
            await other()
        except asyncio.CancelledError:
            pass
    """
    assert codes_at(source, "AC301") == [("AC301", 8, 5)]


def test_ac301_a_nested_function_cancelling_its_own_task_is_not_the_idiom() -> None:
    source = """
    import asyncio
    async def run(task, coro):
        def other():
            task = asyncio.ensure_future(coro)
            task.cancel()
        other()
        try:
            await task
        except asyncio.CancelledError:
            pass
    """
    assert codes_at(source, "AC301") == [("AC301", 10, 5)]


def test_ac301_fix_appends_after_a_trailing_comment_and_a_compound_statement() -> None:
    source = """
    import asyncio
    async def f(a):
        try:
            await g()
        except asyncio.CancelledError:
            log()  # note
        try:
            await g()
        except asyncio.CancelledError:
            if a:
                log()

        return 1
    """
    assert fixed(source) == textwrap.dedent(
        """
        import asyncio
        async def f(a):
            try:
                await g()
            except asyncio.CancelledError:
                log()  # note
                raise
            try:
                await g()
            except asyncio.CancelledError:
                if a:
                    log()
                raise

            return 1
        """
    )


def test_ac301_fix_one_line_handlers_and_a_trailing_pass() -> None:
    source = """
    import asyncio
    async def f():
        try: await g()
        except asyncio.CancelledError: pass
        try: await g()
        except asyncio.CancelledError: log()
        try:
            await g()
        except asyncio.CancelledError:
            log()
            pass
    """
    assert fixed(source) == textwrap.dedent(
        """
        import asyncio
        async def f():
            try: await g()
            except asyncio.CancelledError: raise
            try: await g()
            except asyncio.CancelledError: log(); raise
            try:
                await g()
            except asyncio.CancelledError:
                log()
                raise
        """
    )


def test_ac301_no_fix_when_a_return_path_would_still_swallow() -> None:
    source = textwrap.dedent(
        """
        import asyncio
        async def f(a):
            try:
                await g()
            except asyncio.CancelledError:
                if a:
                    return
                log()
        """
    )
    (finding,) = lint_source(source, select=["AC301"])
    assert finding.fix is None


def test_ac301_fix_keeps_crlf() -> None:
    source = "import asyncio\r\nasync def f():\r\n    try:\r\n        await g()\r\n    except asyncio.CancelledError:\r\n        log()\r\n"
    assert fixed(source).endswith("        log()\r\n        raise\r\n")


def test_ac302_positions_and_earlier_cancel_handler() -> None:
    source = """
    async def f():
        try:
            await g()
        except:
            pass
    """
    assert codes_at(source, "AC302") == [("AC302", 5, 5)]
    swallowed_earlier = """
    import asyncio
    async def f():
        try:
            await g()
        except asyncio.CancelledError:
            pass
        except BaseException:
            pass
    """
    assert codes_at(swallowed_earlier) == [("AC301", 6, 5)]


def test_ac302_forwarding_the_exception_to_a_waiter_is_deliberate() -> None:
    source = """
    async def f(waiter):
        try:
            await g()
        except BaseException as exc:
            waiter.set_exception(exc)
    """
    assert codes_at(source, "AC302") == []
    logged = """
    async def f(log):
        try:
            await g()
        except BaseException as exc:
            log.debug("failed: %s", exc)
    """
    assert codes_at(logged, "AC302") == [("AC302", 5, 5)]


def test_ac302_await_inside_a_nested_def_does_not_count() -> None:
    source = """
    async def f():
        try:
            async def inner():
                await g()
            compute(inner)
        except BaseException:
            pass
    """
    assert codes_at(source, "AC302") == []


def test_ac303_positions_and_nested_finally_reported_once() -> None:
    source = """
    async def f():
        try:
            await g()
        finally:
            try:
                cleanup()
            finally:
                return 1
    """
    assert codes_at(source, "AC303") == [("AC303", 9, 13)]


def test_ac303_break_in_a_loop_else_belongs_to_the_outer_loop() -> None:
    source = """
    async def f(xs):
        while True:
            try:
                await g()
            finally:
                for x in xs:
                    pass
                else:
                    break
    """
    assert codes_at(source, "AC303") == [("AC303", 10, 17)]


def test_ac304_points_at_the_await_once() -> None:
    source = """
    import asyncio
    async def f(conn):
        try:
            await conn.query()
        except asyncio.CancelledError:
            try:
                await conn.rollback()
            finally:
                await conn.close()
            raise
    """
    assert codes_at(source, "AC304") == [("AC304", 8, 13), ("AC304", 10, 13)]


def test_ac304_is_opt_in() -> None:
    source = (
        "async def f(c):\n    try:\n        await c.q()\n    finally:\n        await c.close()\n"
    )
    assert [f.code for f in lint_source(source)] == []


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (
            """
            import asyncio
            async def f():
                t = asyncio.create_task(poll())
                t.cancel()
            """,
            [("AC305", 5, 5)],
        ),
        # awaited through asyncio.wait
        (
            """
            import asyncio
            async def f():
                t = asyncio.create_task(poll())
                t.cancel()
                await asyncio.wait([t])
            """,
            [],
        ),
        # a TaskGroup waits for its tasks
        (
            """
            import asyncio
            async def f():
                async with asyncio.TaskGroup() as tg:
                    t = tg.create_task(poll())
                    t.cancel()
            """,
            [],
        ),
        # returned to the caller
        (
            """
            import asyncio
            async def f():
                t = asyncio.create_task(poll())
                t.cancel()
                return t
            """,
            [],
        ),
        # not a task this function made
        (
            """
            async def f(self):
                self._task.cancel()
            """,
            [],
        ),
    ],
)
def test_ac305(source: str, expected: list[tuple[str, int, int]]) -> None:
    assert codes_at(source, "AC305") == expected


@pytest.mark.parametrize(
    ("helper", "flagged"),
    [
        ("def convert(self, exc):\n        raise ValueError() from exc", False),
        (
            "def convert(self, exc):\n        if isinstance(exc, OSError):\n"
            "            raise ValueError() from exc\n        raise exc",
            False,
        ),
        ("def convert(self, exc):\n        print(exc)", True),
        ("def convert(self, exc):\n        if exc:\n            raise exc", True),
        ("def convert(self, exc):\n        return self.convert(exc)", True),  # recursion
    ],
)
def test_a_handler_that_calls_a_helper_which_always_raises_re_raises(
    helper: str, flagged: bool
) -> None:
    source = (
        "class S:\n    " + helper + "\n"
        "    async def recv(self):\n        try:\n            return await self.sock.recv(1)\n"
        "        except BaseException as exc:\n            self.convert(exc)\n"
    )
    assert bool(codes_at(source, "AC302")) is flagged


@pytest.mark.parametrize(
    ("handler", "guard", "flagged"),
    [
        ("except BaseException as e:", "if isinstance(e, asyncio.CancelledError):", False),
        ("except BaseException as e:", "if not isinstance(e, Exception):", False),
        (
            "except BaseException as e:",
            "if isinstance(e, (KeyboardInterrupt, BaseException)):",
            False,
        ),
        (
            "except (asyncio.CancelledError, OSError) as e:",
            "if isinstance(e, asyncio.CancelledError):",
            False,
        ),
        ("except BaseException as e:", "if isinstance(e, ValueError):", True),
        ("except BaseException as e:", "if isinstance(other, asyncio.CancelledError):", True),
        ("except BaseException:", "if flag:", True),
    ],
)
def test_a_handler_that_re_raises_cancellation_by_type(
    handler: str, guard: str, flagged: bool
) -> None:
    source = (
        "import asyncio\nasync def f(other, flag):\n    try:\n        await asyncio.sleep(1)\n"
        f"    {handler}\n        {guard}\n            raise\n        return None\n"
    )
    assert bool(codes_at(source)) is flagged


@pytest.mark.parametrize(
    "source",
    [
        # the helper is a method of a base class in this module, and says it never returns
        "from typing import NoReturn\nclass Base:\n    def convert(self, exc) -> NoReturn:\n"
        "        log(exc)\nclass S(Base[int]):\n    async def recv(self):\n        try:\n"
        "            await self.sock.recv(1)\n        except BaseException as exc:\n"
        "            self.convert(exc)\n",
        # ... or raises on every path
        "class Base:\n    def convert(self, exc):\n        raise ValueError() from exc\n"
        "class Mid(Base):\n    pass\nclass S(Mid):\n    async def recv(self):\n        try:\n"
        "            await self.sock.recv(1)\n        except BaseException as exc:\n"
        "            self.convert(exc)\n",
        # the exception is kept, wrapped, to be raised again by whoever reads the outcome
        "async def f(holder):\n    try:\n        await work()\n    except BaseException as exc:\n"
        "        holder.append(Error(exc))\n",
        # no suspension point in the try: the task's own cancellation cannot arrive there
        "import asyncio\nasync def f(fut, data):\n    try:\n        fut.set_result(data)\n"
        "    except (asyncio.CancelledError, asyncio.InvalidStateError):\n        pass\n",
    ],
)
def test_handlers_that_do_not_swallow_this_tasks_cancellation(source: str) -> None:
    assert codes_at(source) == []


def test_a_wrapped_exception_reduced_to_text_is_swallowed() -> None:
    source = (
        "async def f(log):\n    try:\n        await work()\n    except BaseException as exc:\n"
        "        log.append(str(exc))\n"
    )
    assert codes_at(source) == [("AC302", 4, 5)]


@pytest.mark.parametrize(
    "source",
    [
        # cancelled inside the try, then awaited
        "import asyncio\nasync def f(fut):\n    try:\n        fut.cancel()\n        await fut\n"
        "    except asyncio.CancelledError:\n        pass\n",
        # cancelled by a sibling method of the class (or a helper of it)
        "import asyncio\nclass C:\n    def stop(self):\n        self._task.cancel()\n"
        "    async def run(self):\n        try:\n            await self._task\n"
        "        except asyncio.CancelledError:\n            pass\n",
        # waited for through shield, and two tasks one after the other
        "import asyncio\nasync def f(t, u):\n    t.cancel()\n    u.cancel()\n    try:\n"
        "        await asyncio.shield(t)\n        await u\n    except asyncio.CancelledError:\n"
        "        pass\n",
        # the same idiom with a broad handler
        "import asyncio\nasync def f(t):\n    t.cancel()\n    try:\n        await t\n"
        "    except BaseException:\n        pass\n",
    ],
)
def test_waiting_for_tasks_this_code_cancelled(source: str) -> None:
    assert codes_at(source) == []


@pytest.mark.parametrize(
    "source",
    [
        # the try does more than wait for the cancelled task
        "import asyncio\nasync def f(t):\n    t.cancel()\n    try:\n        await t\n"
        "        await other()\n    except asyncio.CancelledError:\n        pass\n",
        # another class's method cancelling its own self._task says nothing here
        "import asyncio\nclass A:\n    def stop(self):\n        self._task.cancel()\n"
        "class B:\n    async def run(self):\n        try:\n            await self._task\n"
        "        except asyncio.CancelledError:\n            pass\n",
    ],
)
def test_waiting_for_tasks_nobody_here_cancelled(source: str) -> None:
    assert [code for code, _, _ in codes_at(source)] == ["AC301"]


@pytest.mark.parametrize(
    ("after", "flagged"),
    [
        ("        raise\n", False),
        ("        log()\n        raise RuntimeError('closed')\n", False),
        ("        return None\n", True),
        ("        if x:\n            raise\n", True),  # may not raise
        ("", True),
    ],
)
def test_a_swallow_followed_by_a_raise_ends_the_function_anyway(after: str, flagged: bool) -> None:
    source = (
        "import asyncio\nasync def f(ws, x):\n    try:\n        await ws.send()\n"
        "    except BaseException:\n        try:\n            await ws.close()\n"
        "        except BaseException:\n            pass\n" + after
    )
    found = [row for code, row, _ in codes_at(source) if code == "AC302"]
    assert (8 in found) is flagged


@pytest.mark.parametrize(
    ("guard", "flagged"),
    [
        ("if dropped or isinstance(e, asyncio.CancelledError):", False),
        ("if isinstance(e, ValueError) or not isinstance(e, Exception):", False),
        ("if dropped and isinstance(e, asyncio.CancelledError):", True),
    ],
)
def test_cancel_guards_inside_or(guard: str, flagged: bool) -> None:
    source = (
        "import asyncio\nasync def f(dropped):\n    try:\n        await asyncio.sleep(1)\n"
        f"    except BaseException as e:\n        {guard}\n            raise\n"
    )
    assert bool(codes_at(source)) is flagged


@pytest.mark.parametrize(
    "source",
    [
        # statements without an await cannot receive the task's cancellation
        "import asyncio\nasync def murder(fut, log):\n    try:\n        log('killing')\n"
        "        fut.cancel()\n        await fut\n    except asyncio.CancelledError:\n        pass\n",
        # awaits under an if in the try
        "import asyncio\nclass C:\n    async def stop(self):\n        self.a.cancel()\n"
        "        if self.b:\n            self.b.cancel()\n        try:\n            await self.a\n"
        "            if self.b:\n                await self.b\n"
        "        except asyncio.CancelledError:\n            pass\n",
        # a module's task, cancelled by a module function that declares it global
        "import asyncio\n_task = None\ndef stop():\n    global _task\n    _task.cancel()\n"
        "async def run():\n    try:\n        await _task\n    except asyncio.CancelledError:\n"
        "        pass\n",
    ],
)
def test_more_shapes_of_waiting_for_a_cancelled_task(source: str) -> None:
    assert codes_at(source) == []


def test_a_local_named_like_a_cancelled_global_is_not_it() -> None:
    source = (
        "import asyncio\n_task = None\ndef stop():\n    global _task\n    _task.cancel()\n"
        "async def run(make):\n    _task = make()\n    try:\n        await _task\n"
        "    except asyncio.CancelledError:\n        pass\n"
    )
    assert [code for code, _, _ in codes_at(source)] == ["AC301"]


@pytest.mark.parametrize(("shield", "flagged"), [("shield=True", False), ("", True)])
def test_a_handler_in_a_shielded_anyio_scope(shield: str, flagged: bool) -> None:
    source = (
        "import anyio\nasync def close(gen):\n"
        f"    with anyio.CancelScope({shield}):\n        try:\n            await gen.aclose()\n"
        "        except BaseException:\n            pass\n"
    )
    assert bool(codes_at(source)) is flagged


@pytest.mark.parametrize(
    ("wait", "flagged"),
    [
        ("await asyncio.wait([t, u])", False),
        ("await asyncio.gather(*tasks)", False),
        ("await asyncio.wait_for(t, 1)", False),
        ("await asyncio.wait_for(other, 1)", True),  # not what was cancelled
        ("await asyncio.wait([other])", True),
    ],
)
def test_waits_on_cancelled_tasks_name_them(wait: str, flagged: bool) -> None:
    source = (
        "import asyncio\nasync def f(t, u, tasks, other):\n    t.cancel()\n    u.cancel()\n"
        f"    try:\n        {wait}\n    except asyncio.CancelledError:\n        pass\n"
    )
    assert bool(codes_at(source)) is flagged


def test_a_task_cancelled_only_in_the_handler_is_not_what_was_caught() -> None:
    source = (
        "import asyncio\nasync def f(stop):\n    try:\n        await asyncio.wait([stop])\n"
        "    except asyncio.CancelledError:\n        stop.cancel()\n"
    )
    assert [code for code, _, _ in codes_at(source)] == ["AC301"]


@pytest.mark.parametrize(
    ("shape", "flagged"),
    [
        # closing every source, then the outer handler re-raises
        ("for s in srcs:\n{inner}\n        raise", False),
        ("if srcs:\n{inner}\n        raise", False),
        ("for s in srcs:\n{inner}\n            break\n        raise", True),
        ("while True:\n{inner}\n        raise", True),  # never leaves the loop
        ("for s in srcs:\n{inner}\n        return", True),
    ],
)
def test_a_swallow_inside_a_block_that_leads_to_a_raise(shape: str, flagged: bool) -> None:
    inner = (
        "            try:\n                await s.close()\n"
        "            except asyncio.CancelledError:\n                log()"
    )
    source = (
        "import asyncio\nasync def f(srcs, log):\n    try:\n        await run()\n"
        "    except BaseException:\n        " + shape.format(inner=inner) + "\n"
    )
    assert ("AC301" in [code for code, _, _ in codes_at(source)]) is flagged


def test_an_awaited_local_helper_that_always_raises_re_raises() -> None:
    source = (
        "async def app(send):\n    async def fail(ex):\n        await send(500)\n        raise ex\n"
        "    try:\n        await send(200)\n    except BaseException as exc:\n"
        "        await fail(exc)\n"
    )
    assert codes_at(source) == []


@pytest.mark.parametrize(
    ("handed", "flagged"),
    [("return err", False), ("return None, err", False), ("return None", True)],
)
def test_a_cancellation_returned_to_the_caller_is_handed_on(handed: str, flagged: bool) -> None:
    source = (
        "import asyncio\nasync def wait(task):\n    try:\n        await asyncio.wait((task,))\n"
        f"    except asyncio.CancelledError as err:\n        {handed}\n"
    )
    assert bool(codes_at(source)) is flagged


def test_ac301_fix_on_a_tuple_handler_reraises_the_cancellation_only() -> None:
    source = """
    import asyncio
    async def f():
        try:
            await g()
        except (asyncio.CancelledError, asyncio.TimeoutError):
            pass
        try:
            await g()
        except (ValueError, asyncio.CancelledError) as e:
            log(e)
    """
    assert fixed(source) == textwrap.dedent(
        """
        import asyncio
        async def f():
            try:
                await g()
            except (asyncio.CancelledError, asyncio.TimeoutError) as exc:
                if isinstance(exc, asyncio.CancelledError): raise
            try:
                await g()
            except (ValueError, asyncio.CancelledError) as e:
                log(e)
                if isinstance(e, asyncio.CancelledError): raise
        """
    )


def test_ac301_fix_on_a_tuple_handler_picks_a_free_name() -> None:
    source = """
    import asyncio
    async def f(exc):
        try:
            await g()
        except (asyncio.CancelledError, OSError):
            log(exc)
    """
    assert "except (asyncio.CancelledError, OSError) as err:" in fixed(source)
    one_line = "import asyncio\nasync def f():\n    try: await g()\n    except (asyncio.CancelledError, OSError): pass\n"
    (finding,) = lint_source(one_line, select=["AC301"])
    assert finding.fix is None


TASK_ENTRY = """
import asyncio

class Link:
    def start(self, loop):
        self._task = loop.create_task(self._read())

    async def _read(self):
        while True:
            try:
                await self.stream.read()
            except asyncio.CancelledError:
                {swallow}
            except BaseException:
                log()
                return
        log("reader done")
"""


@pytest.mark.parametrize(
    ("swallow", "codes"),
    [
        ("break", ["AC306"]),  # ends right after: the task's end, reported apart
        ("return", ["AC306"]),
        ("continue", ["AC301"]),  # goes round again: the task never stops
        ("pass", ["AC301"]),
    ],
)
def test_task_entry_swallows_are_reported_apart(swallow: str, codes: list[str]) -> None:
    source = TASK_ENTRY.format(swallow=swallow)
    found = lint_source(source, select=["AC301", "AC302", "AC306"])
    assert sorted(f.code for f in found) == codes


def test_a_coroutine_also_awaited_is_not_a_task_entry() -> None:
    source = TASK_ENTRY.format(swallow="break") + (
        "\n    async def restart(self):\n        await self._read()\n"
    )
    found = lint_source(source, select=["AC301", "AC302", "AC306"])
    assert sorted(f.code for f in found) == ["AC301"]
    broad = source.replace(
        "            except asyncio.CancelledError:\n                break\n", ""
    )
    found = lint_source(broad, select=["AC301", "AC302", "AC306"])
    assert sorted(f.code for f in found) == ["AC302"]


def test_an_await_after_the_handler_keeps_ac301() -> None:
    source = TASK_ENTRY.format(swallow="break").replace(
        'log("reader done")', "await self.stream.close()"
    )
    found = lint_source(source, select=["AC301", "AC302", "AC306"])
    assert sorted(f.code for f in found) == ["AC301"]


@pytest.mark.parametrize(
    "handler",
    [
        "except asyncio.CancelledError as e:\n            handle(e)",
        "except BaseException as e:\n            handle(e)\n            return None",
        "except asyncio.CancelledError as e:\n            await self.on_error(e)",
    ],
)
def test_a_helper_that_reraises_the_cancellation_it_is_given(handler: str) -> None:
    source = f"""
import asyncio

def handle(exc):
    if isinstance(exc, asyncio.CancelledError):
        raise exc
    log(exc)

class C:
    async def on_error(self, error):
        if not isinstance(error, Exception): raise error
        log(error)

    async def run(self):
        try:
            await self.step()
        {handler}
"""
    assert lint_source(source, select=["AC301", "AC302"]) == []
    kept = source.replace("raise exc", "log(exc)").replace("raise error", "log(error)")
    assert len(lint_source(kept, select=["AC301", "AC302"])) == 1


@pytest.mark.parametrize(
    ("handler", "flagged"),
    [
        # another library's re-raiser: trio's unwrapping of a one-exception group, six
        (
            "assert isinstance(exc, BaseExceptionGroup)\n        try:\n"
            "            trio._util.raise_single_exception_from_group(exc)\n"
            "        except trio._util.MultipleExceptionError:\n"
            "            raise AssertionError('several') from exc",
            False,
        ),
        ("six.reraise(type(exc), exc, exc.__traceback__)", False),
        ("raise_(exc)", False),
        # named for raising only sometimes, or not for raising: still swallows
        ("resp.raise_for_status(exc)", True),
        ("raise_if_fatal(exc)", True),
        ("raiser.log(exc)", True),
        ("six.reraise()", True),
    ],
)
def test_a_handler_that_hands_the_exception_to_another_librarys_reraiser(
    handler: str, flagged: bool
) -> None:
    source = (
        "import trio, six\nasync def aexit(nursery):\n    try:\n        await nursery.close()\n"
        f"    except BaseException as exc:\n        {handler}\n"
    )
    assert bool(lint_source(source, select=["AC302"])) is flagged


STARTED_THROUGH = """
import asyncio
from .util import create_task

class Fetcher:
    async def _routine(self, requests):
        def start_pending(coro, node):
            task = create_task(coro)
            self._pending.add(task)

        for node, request in requests:
            start_pending(self._fetch(request), node=node)
        {extra}

    async def _fetch(self, request):
        try:
            return await self._client.send(request)
        except asyncio.CancelledError:
            return False
"""


@pytest.mark.parametrize(
    ("extra", "codes"),
    [
        # started through a local function that hands its parameter to create_task
        ("", ["AC306"]),
        # also awaited: not only a task's entry
        ("await self._fetch(None)", ["AC301"]),
        # what the wrapper is given in another parameter is not started
        ("start_pending(None, node=self._fetch(None))", ["AC301"]),
    ],
)
def test_a_coroutine_started_through_a_local_wrapper_is_a_task_entry(
    extra: str, codes: list[str]
) -> None:
    found = lint_source(STARTED_THROUGH.format(extra=extra), select=["AC301", "AC306"])
    assert sorted(f.code for f in found) == codes


STARTED_ON_ANOTHER_RECEIVER = """
import asyncio

class Subscription:
    def start(self, sub):
        sub._jsi._hbtask = asyncio.create_task(sub._jsi.activity_check())

    class _JSI:
        async def activity_check(self):
            while True:
                try:
                    await asyncio.sleep(self._hbi)
                except asyncio.CancelledError:
                    break
{extra}
"""


@pytest.mark.parametrize(
    ("extra", "codes"),
    [
        # the one async def of that name, only ever started as a task
        ("", ["AC306"]),
        # the name is also called on some receiver without starting a task
        ("async def poke(jsi):\n    await jsi.activity_check()\n", ["AC301"]),
        # two async defs have that name: which one is started is not known
        ("class Other:\n    async def activity_check(self):\n        pass\n", ["AC301"]),
    ],
)
def test_a_method_started_on_an_untyped_receiver_is_a_task_entry(
    extra: str, codes: list[str]
) -> None:
    found = lint_source(STARTED_ON_ANOTHER_RECEIVER.format(extra=extra), select=["AC301", "AC306"])
    assert sorted(f.code for f in found) == codes


CANCELLED_IN_A_LOOP = """
import asyncio

async def get_services(changed, fetch):
    while True:
        changed_task = asyncio.create_task(changed.wait())
        get_task = asyncio.create_task(fetch())
        _, pending = await asyncio.wait({waited}, return_when=asyncio.FIRST_COMPLETED)
        for p in {loop_over}:
            p.cancel()
        if not changed.is_set():
            return get_task.result()
        try:
            await get_task
        except OSError:
            pass
        except asyncio.CancelledError:
            pass
"""


@pytest.mark.parametrize(
    ("waited", "loop_over", "flagged"),
    [
        # every pending task of the wait is cancelled, get_task among those waited for
        ("[changed_task, get_task]", "pending", False),
        ("(changed_task, get_task)", "pending", False),
        ("[changed_task]", "[changed_task, get_task]", False),
        # get_task was not in the wait, nor in the list the loop cancels
        ("[changed_task]", "pending", True),
        ("[changed_task, get_task]", "[changed_task]", True),
    ],
)
def test_tasks_cancelled_one_by_one_in_a_loop(waited: str, loop_over: str, flagged: bool) -> None:
    source = CANCELLED_IN_A_LOOP.format(waited=waited, loop_over=loop_over)
    assert bool(lint_source(source, select=["AC301"])) is flagged
