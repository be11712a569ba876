"""What a loop leaves behind when it closes: pending tasks, unclosed resources, lost exceptions,
each with the line of the user's code that made it (by default, without --trace-leaks)."""

from __future__ import annotations

import asyncio
import gc
import socket
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from asynccheck.runtime import leaks
from asynccheck.runtime.install import monitor

from .conftest import line_of, python_env, run_monitored


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


def test_unclosed_transport_is_reported_with_the_line_that_opened_it() -> None:
    async def main() -> None:
        server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        _reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"x")
        server.close()

    found = run_monitored(main).leaks
    resources = [x for x in found if x.kind == "resource"]
    opened = line_of(main, "open_connection")
    # The client side: asyncio's StreamWriter warns "unclosed <StreamWriter ...>" as it is
    # collected, and its transport "unclosed transport"; both were made by open_connection().
    # (From 3.13 the server side's writer warns too: the loop made it, no line of ours did.)
    writers = [x for x in resources if x.what.startswith("unclosed <StreamWriter")]
    ours = [x for x in writers if x.created_at is not None and x.created_at.file == __file__]
    assert [x.created_at.line for x in ours] == [opened]  # type: ignore[union-attr]
    assert len(writers) == (2 if sys.version_info >= (3, 13) else 1)
    client = [x for x in resources if "transport" in x.what and x.created_at is not None]
    assert [x.created_at.line for x in client if x.created_at.file == __file__] == [opened]


def test_unclosed_socket_is_reported_with_the_line_that_made_it() -> None:
    async def main() -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        assert sock.fileno() >= 0
        del sock

    [leak] = run_monitored(main).leaks
    assert leak.kind == "resource" and "socket" in leak.what
    assert leak.created_at is not None
    assert (leak.created_at.file, leak.created_at.line) == (__file__, line_of(main, "socket("))


def test_unclosed_aiohttp_client_session_and_its_connector() -> None:
    aiohttp = pytest.importorskip("aiohttp")

    async def main() -> None:
        session = aiohttp.ClientSession()
        assert not session.closed

    found = run_monitored(main).leaks
    made = line_of(main, "aiohttp.ClientSession()")
    [session] = [x for x in found if "Unclosed client session" in x.what]
    assert session.kind == "resource"
    assert session.created_at is not None and session.created_at.line == made
    # The connector is made inside ClientSession(): the user's line is the one named.
    connectors = [x for x in found if "Unclosed connector" in x.what]
    assert all(x.created_at is not None and x.created_at.line == made for x in connectors)


def test_a_socket_made_inside_a_library_names_the_users_call() -> None:
    """aiohttp opens the connection deep inside `session.get()`: the site is the user's line."""
    aiohttp = pytest.importorskip("aiohttp")
    from aiohttp import web

    async def hello(request: web.Request) -> web.Response:
        return web.Response(text="hi")

    async def main() -> None:
        app = web.Application()
        app.router.add_get("/", hello)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        session = aiohttp.ClientSession()
        response = await session.get(f"http://127.0.0.1:{port}/")
        assert response.status == 200
        await runner.cleanup()

    found = run_monitored(main).leaks
    assert found, "the session was never closed"
    ours = {x.created_at.line for x in found if x.created_at and x.created_at.file == __file__}
    assert ours <= {line_of(main, "aiohttp.ClientSession()"), line_of(main, "session.get(")}
    assert line_of(main, "aiohttp.ClientSession()") in ours


def test_any_object_is_traced_with_trace_leaks(tmp_path: Path) -> None:
    """Files have no constructor to wrap: --trace-leaks (tracemalloc) names their line."""
    path = tmp_path / "data.txt"
    path.write_text("x")

    async def main() -> None:
        f = open(path)  # noqa: SIM115 - the leak under test
        assert f.read() == "x"
        del f

    [leak] = run_monitored(main, trace_leaks=True).leaks
    assert leak.kind == "resource" and "data.txt" in leak.what
    assert leak.created_at is not None and leak.created_at.line == line_of(main, "open(path)")


def test_monitoring_turns_on_creation_sites_and_leaves_nothing_behind() -> None:
    plain_init = socket.socket.__init__
    with monitor(log=False):
        assert leaks.tracking_allocations()
        with monitor(log=False):
            assert socket.socket.__init__ is not plain_init
        assert leaks.tracking_allocations()
    assert not leaks.tracking_allocations() and socket.socket.__init__ is plain_init


def test_constructor_tracking_is_shared_by_nested_monitors_and_undone_after() -> None:
    plain_init = socket.socket.__init__
    leaks.track_allocations()
    leaks.track_allocations()
    wrapped = socket.socket.__init__
    assert wrapped is not plain_init and wrapped.__wrapped__ is plain_init  # type: ignore[attr-defined]
    leaks.untrack_allocations()
    assert socket.socket.__init__ is wrapped  # still one user
    leaks.untrack_allocations()
    assert socket.socket.__init__ is plain_init
    leaks.untrack_allocations()  # one too many: harmless
    assert not leaks.tracking_allocations()


def test_monitor_imports_no_library_and_tracks_one_the_program_imports_later() -> None:
    """aiohttp costs 0.3 s to import: the monitor wraps its types only once the program has
    imported it (checked again when a loop starts)."""
    pytest.importorskip("aiohttp")
    code = (
        "import asyncio, sys\n"
        "from asynccheck.runtime.install import monitor\n"
        "with monitor(log=False) as m:\n"
        "    assert 'aiohttp' not in sys.modules, 'imported by the monitor'\n"
        "    import aiohttp\n"
        "    async def main():\n"
        "        session = aiohttp.ClientSession()  # never closed\n"
        "    asyncio.run(main())\n"
        "    report = m.report()\n"
        "print([x.created_at.line for x in report.leaks if 'client session' in x.what])\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=python_env()
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[7]"


def test_leaks_module_imports_nothing_above_the_recorder() -> None:
    """install -> probe -> recorder -> Report: leaks.py sits beside the recorder."""
    code = (
        "import sys, asynccheck.runtime.leaks; "
        "print(sorted(m for m in sys.modules if m in {'asynccheck.runtime.probe', "
        "'asynccheck.runtime.loop', 'asynccheck.runtime.install'}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=python_env(), check=True
    )
    assert out.stdout.strip() == "[]"


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

    assert run_monitored(main).leaks == ()


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
