"""What a loop leaves behind when it closes: pending tasks, unclosed resources, lost exceptions."""

from __future__ import annotations

import asyncio
import gc
import warnings

import pytest

from .conftest import line_of, run_monitored


async def forever() -> None:
    while True:
        await asyncio.sleep(1)


async def fails() -> None:
    raise ValueError("nobody reads this")


def test_task_pending_when_main_returns_is_reported_with_its_creation_site() -> None:
    async def main() -> None:
        asyncio.create_task(forever(), name="poller")  # noqa: RUF006 - the leak under test
        await asyncio.sleep(0.01)

    [leak] = run_monitored(main).leaks
    assert leak.kind == "task"
    assert leak.what == "poller forever()"
    assert leak.created_at is not None and leak.created_at.line == line_of(main, "create_task")


def test_finished_tasks_are_not_leaks() -> None:
    async def main() -> None:
        await asyncio.create_task(asyncio.sleep(0.01))

    assert run_monitored(main).leaks == ()


def test_exception_never_retrieved() -> None:
    async def main() -> None:
        task = asyncio.create_task(fails(), name="lost")
        await asyncio.sleep(0.01)
        del task
        gc.collect()

    [leak] = [x for x in run_monitored(main).leaks if x.kind == "exception"]
    assert leak.what == "lost fails() raised ValueError: nobody reads this"
    assert leak.created_at is not None and leak.created_at.line == line_of(main, "create_task")


def test_unclosed_transport_is_reported_with_its_allocation_site() -> None:
    async def main() -> None:
        server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        _reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"x")
        server.close()

    leaks = run_monitored(main, trace_leaks=True).leaks
    resources = [x for x in leaks if x.kind == "resource"]
    assert any("transport" in x.what for x in resources), leaks
    # The client side: asyncio's StreamWriter warns "unclosed <StreamWriter ...>" as it is
    # collected; it is traced back to the open_connection() line.
    [client] = [x for x in resources if x.what.startswith("unclosed <StreamWriter")]
    assert client.created_at is not None
    assert client.created_at.line == line_of(main, "open_connection")


def test_unclosed_aiohttp_client_session() -> None:
    aiohttp = pytest.importorskip("aiohttp")

    async def main() -> None:
        session = aiohttp.ClientSession()
        assert not session.closed

    leaks = run_monitored(main, trace_leaks=True).leaks
    [leak] = [x for x in leaks if "Unclosed client session" in x.what]
    assert leak.kind == "resource"
    assert leak.created_at is not None
    assert leak.created_at.line == line_of(main, "aiohttp.ClientSession()")


def test_closed_resources_are_not_leaks() -> None:
    aiohttp = pytest.importorskip("aiohttp")

    async def main() -> None:
        async with aiohttp.ClientSession():
            pass
        server = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        _reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.close()
        await writer.wait_closed()
        server.close()
        await server.wait_closed()

    assert run_monitored(main, trace_leaks=True).leaks == ()


class _Unclosed:
    def __del__(self) -> None:
        warnings.warn("unclosed thing", ResourceWarning, source=self, stacklevel=1)


def test_a_program_recording_resource_warnings_still_gets_them() -> None:
    """`assertWarns(ResourceWarning)` / `pytest.warns` inside a monitored loop: the warning
    is in the report and in the program's own record (it once vanished into the report)."""
    seen: list[str] = []

    async def main() -> None:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            thing = _Unclosed()
            del thing
        seen.extend(str(w.message) for w in caught)

    leaks = run_monitored(main).leaks
    assert seen == ["unclosed thing"]
    assert [leak.what for leak in leaks] == ["_Unclosed: unclosed thing"]


def test_a_recorder_that_ignores_resource_warnings_does_not_get_them() -> None:
    """pytest records every test's warnings, with Python's default filter that ignores
    ResourceWarning: the report has them, pytest's summary does not repeat them."""
    seen: list[str] = []

    async def main() -> None:
        with warnings.catch_warnings(record=True) as caught:
            # where Python's default filter stands: after the monitor's own "always"
            warnings.filterwarnings("ignore", category=ResourceWarning, append=True)
            thing = _Unclosed()
            del thing
        seen.extend(str(w.message) for w in caught)

    leaks = run_monitored(main).leaks
    assert seen == []
    assert [leak.what for leak in leaks] == ["_Unclosed: unclosed thing"]
