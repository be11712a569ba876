"""Blocking calls on the loop thread are reported; the same calls in worker threads are not."""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import socket
import subprocess
import sys
import time

from .conftest import line_of, run_monitored

THIS = os.path.abspath(__file__)


def calls(report, name: str):  # type: ignore[no-untyped-def]
    return [b for b in report.blocking_calls if name in b.call]


def test_time_sleep_on_the_loop_thread_is_reported_with_task_and_duration() -> None:
    async def nap() -> None:
        time.sleep(0.05)

    async def main() -> None:
        await asyncio.create_task(nap(), name="napper")

    [call] = calls(run_monitored(main), "time.sleep")
    assert call.task == "napper"
    assert call.location.file == THIS and call.location.line == line_of(nap, "time.sleep")
    assert 45 <= call.duration_ms < 200
    assert call.exact


def test_to_thread_and_executor_calls_are_not_reported() -> None:
    def work() -> None:
        time.sleep(0.02)
        with open(THIS, "rb") as f:
            f.read(10)

    async def main() -> None:
        await asyncio.to_thread(work)
        await asyncio.get_running_loop().run_in_executor(None, work)

    report = run_monitored(main)
    assert report.blocking_calls == ()


def test_open_and_blocking_socket_connect_are_reported() -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    async def handler() -> None:
        with open(THIS, "rb") as f:
            f.read(1)
        s = socket.create_connection(("127.0.0.1", port))
        s.close()

    async def main() -> None:
        await asyncio.create_task(handler(), name="h")

    try:
        report = run_monitored(main)
    finally:
        listener.close()
    [opened] = calls(report, "open")
    assert opened.location.line == line_of(handler, "open(THIS")
    [connect] = calls(report, "socket.create_connection")  # named for what the code called
    assert connect.location.line == line_of(handler, "create_connection")
    assert connect.task == "h"
    # create_connection runs getaddrinfo first: one user call, both events, one entry
    assert connect.call == "socket.create_connection"


def test_asyncio_own_nonblocking_connect_is_not_reported() -> None:
    async def main() -> None:
        server = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        _reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.close()
        await writer.wait_closed()
        server.close()
        await server.wait_closed()

    assert calls(run_monitored(main), "socket") == []


def test_subprocess_is_reported_with_its_whole_duration() -> None:
    async def main() -> None:
        subprocess.run([sys.executable, "-c", "import time; time.sleep(0.1)"], check=True)

    [call] = calls(run_monitored(main), "subprocess.run")
    assert call.location.line == line_of(main, "subprocess.run")
    assert call.duration_ms >= 100  # the frame is watched until subprocess.run returns


def test_waiting_on_a_concurrent_future_uses_the_wrapper() -> None:
    pool = concurrent.futures.ThreadPoolExecutor(1)

    async def main() -> None:
        pool.submit(time.sleep, 0.05).result()

    try:
        [call] = calls(run_monitored(main), "Future.result")
    finally:
        pool.shutdown()
    assert call.location.line == line_of(main, ".result()")
    assert call.duration_ms >= 40


def test_detection_can_be_switched_off() -> None:
    async def main() -> None:
        time.sleep(0.01)

    assert run_monitored(main, detect_blocking=False).blocking_calls == ()


def test_repeated_calls_at_one_line_are_folded() -> None:
    async def main() -> None:
        for _ in range(3):
            time.sleep(0.001)
            await asyncio.sleep(0)

    [call] = calls(run_monitored(main), "time.sleep")
    assert call.count == 3


def test_time_sleep_wrapper_is_removed_after_monitoring() -> None:
    original = time.sleep

    async def main() -> None:
        assert sys.version_info >= (3, 13) or time.sleep is not original

    run_monitored(main)
    assert time.sleep is original


def test_folded_calls_say_their_duration_is_the_longest_one() -> None:
    from asynccheck.runtime.render.text import render

    async def main() -> None:
        for delay in (0.001, 0.02, 0.001):
            time.sleep(delay)
            await asyncio.sleep(0)

    report = run_monitored(main)
    [call] = calls(report, "time.sleep")
    assert call.count == 3 and call.duration_ms >= 20
    text = render(report, profile_tree=False)
    assert "time.sleep (task " in text and "the longest of 3 calls here" in text
