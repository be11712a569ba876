"""Sync code the loop runs (lint.onloop): protocol callbacks and callbacks handed to the
loop are checked like `async def` bodies by AC1xx and AC110, with no `await` fix."""

from __future__ import annotations

import textwrap

import pytest

from asynccheck.lint.api import lint_source


def found(source: str, select: str = "AC1") -> list[tuple[int, str]]:
    return [(f.location.row, f.code) for f in lint_source(textwrap.dedent(source), select=[select])]


@pytest.mark.parametrize(
    "base", ["asyncio.Protocol", "asyncio.BufferedProtocol", "asyncio.DatagramProtocol",
             "asyncio.SubprocessProtocol", "asyncio.protocols.Protocol"],
)  # fmt: skip
def test_protocol_callbacks_run_on_the_loop(base: str) -> None:
    source = f"""
        import asyncio, time

        class P({base}):
            def data_received(self, data):
                time.sleep(1)

            def datagram_received(self, data, addr):
                time.sleep(1)

            def helper(self):
                time.sleep(1)  # not a callback: may run anywhere
    """
    assert found(source) == [(6, "AC101"), (9, "AC101")]


def test_through_a_base_class_of_the_module_and_not_for_other_classes() -> None:
    source = """
        import asyncio, time
        from asyncio import Protocol as P

        class Base(P):
            pass

        class Echo(Base):
            def connection_made(self, transport):
                open("log").close()

        class NotAProtocol:
            def data_received(self, data):
                time.sleep(1)
    """
    assert found(source) == [(10, "AC104")]


def test_callbacks_handed_to_the_loop() -> None:
    source = """
        import asyncio, functools, signal, time

        def soon():
            time.sleep(1)

        def later():
            time.sleep(1)

        def done(fut):
            time.sleep(1)

        def reader():
            time.sleep(1)

        def kept_off_the_loop():
            time.sleep(1)

        class Service:
            def on_signal(self):
                time.sleep(1)

            def start(self, loop, fut, fd):
                loop.call_soon(soon)
                loop.call_later(1, later)
                loop.call_at(loop.time() + 1, lambda: time.sleep(2))
                loop.call_soon_threadsafe(functools.partial(done, None))
                loop.add_reader(fd, reader)
                loop.add_signal_handler(signal.SIGTERM, self.on_signal)
                fut.add_done_callback(done)
    """
    assert found(source) == [(5, "AC101"), (8, "AC101"), (11, "AC101"), (14, "AC101"),
                             (21, "AC101"), (26, "AC101")]  # fmt: skip


def test_no_await_fix_and_sync_advice_in_sync_code() -> None:
    source = textwrap.dedent(
        """
        import asyncio, time

        def slow():
            time.sleep(1)

        class P(asyncio.Protocol):
            def data_received(self, data):
                time.sleep(1)
                slow()
        """
    )
    findings = lint_source(source, select=["AC101", "AC110"])
    assert [(f.code, f.fix) for f in findings] == [("AC101", None), ("AC110", None)]
    assert findings[1].message == (
        "slow() -> time.sleep() blocks the event loop; "
        "hand it to a thread: loop.run_in_executor(None, slow)"
    )


def test_a_file_without_the_word_async_is_still_checked_for_loop_callbacks() -> None:
    source = """
        import time

        def tick():
            time.sleep(1)

        def start(loop):
            loop.call_soon(tick)
    """
    assert found(source) == [(5, "AC101")]
