"""`asynccheck profile` ends as plain python would, and writes its report on every way out.

Each case runs the same program under plain `python` and under `asynccheck profile`, with the
same signal at the same point, and compares the exit statuses the parent sees (a negative
returncode is a death by that signal). Real processes, real signals, bounded by timeouts.
"""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from asynccheck.runtime.program import ProgramNotRunnable, check_script

from .conftest import FIXTURES, python_env

APP = str(FIXTURES / "lifecycle_app.py")
PROFILE = (sys.executable, "-m", "asynccheck", "profile")
SLOW_LINE = next(
    i for i, line in enumerate(Path(APP).read_text().splitlines(), 1) if "time.sleep(0.15)" in line
)

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX signals")


def run(
    command: tuple[str, ...], args: list[str], signum: int | None, cwd: Path | None = None
) -> tuple[int, str, str]:
    """Run `command APP args`; once it prints "ready", send `signum`. Never left running."""
    proc = subprocess.Popen(
        [*command, APP, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=python_env(),
        cwd=cwd,
    )
    try:
        if signum is not None:
            assert proc.stdout is not None
            deadline = time.monotonic() + 30
            while "ready" not in proc.stdout.readline():
                assert time.monotonic() < deadline and proc.poll() is None, proc.stderr
            proc.send_signal(signum)
        out, err = proc.communicate(timeout=60)
        return proc.returncode, out, err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


CASES = [
    # id, program args, signal sent, status the parent sees, exit_code in the report
    ("returns", [], None, 0, 0),
    ("sys.exit", ["--exit", "3"], None, 3, 3),
    ("exception", ["--raise"], None, 1, 1),
    ("os._exit", ["--os-exit", "4"], None, 4, 4),
    ("sigint", ["--hang"], signal.SIGINT, -signal.SIGINT, 130),
    ("sigterm", ["--hang"], signal.SIGTERM, -signal.SIGTERM, 143),
    ("sighup", ["--hang"], signal.SIGHUP, -signal.SIGHUP, 129),
    ("own-handler-reraises-sigterm", ["--graceful"], signal.SIGTERM, -signal.SIGTERM, 143),
    ("own-handler-reraises-sighup", ["--graceful"], signal.SIGHUP, -signal.SIGHUP, 129),
    ("own-handler-returns", ["--handler-returns"], signal.SIGTERM, 0, 0),
]


@pytest.mark.parametrize(
    ("args", "signum", "status", "exit_code"),
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
def test_every_way_out_writes_the_report_and_exits_as_python(
    tmp_path: Path, args: list[str], signum: int | None, status: int, exit_code: int
) -> None:
    plain, plain_out, _ = run((sys.executable,), args, signum)
    assert plain == status, "the fixture itself"
    json_path, html_path = tmp_path / "r.json", tmp_path / "r.html"
    profiled, out, err = run(
        (*PROFILE, "--no-profile", "--json", str(json_path), "--html", str(html_path)),
        args,
        signum,
    )
    assert profiled == plain, err
    assert out == plain_out  # the program's own output, its handlers' included
    assert err.count("slow callback(s) >= 100 ms") == 1, err  # the text report, exactly once
    assert "asynccheck/runtime" not in err
    data = json.loads(json_path.read_text())
    assert data["exit_code"] == exit_code
    assert [(cb["location"]["line"], cb["pid"]) for cb in data["slow_callbacks"]] == [
        (SLOW_LINE, data["processes"][0])
    ]
    assert "request-1" in html_path.read_text()
    if signum in (signal.SIGTERM, signal.SIGHUP) and status < 0:
        name = signal.Signals(signum).name
        assert f"the program was ended by {name}; this report was written first" in data["notes"]
    if signum == signal.SIGINT:
        assert "KeyboardInterrupt" in err


def test_sigterm_with_the_profiler_on(tmp_path: Path) -> None:
    status, _, err = run((*PROFILE, "--json", str(tmp_path / "r.json"), "--html", str(tmp_path / "r.html")), ["--hang"], signal.SIGTERM)  # fmt: skip
    assert status == -signal.SIGTERM, err
    assert err.count("slow callback(s) >= 100 ms") == 1 and "Profile (pyinstrument" in err
    assert json.loads((tmp_path / "r.json").read_text())["exit_code"] == 143
    assert "srcdoc=" in (tmp_path / "r.html").read_text()  # the profile tree is in the page


def test_a_second_sigterm_while_the_program_unwinds_kills_at_once(tmp_path: Path) -> None:
    (tmp_path / "stubborn.py").write_text(
        "import time\n"
        "try:\n"
        "    print('ready', flush=True)\n"
        "    time.sleep(60)\n"
        "finally:\n"
        "    print('cleaning up', flush=True)\n"
        "    time.sleep(60)\n"
    )
    env = {**python_env(), "TMPDIR": str(tmp_path / "tmp")}
    (tmp_path / "tmp").mkdir()
    proc = subprocess.Popen(
        [*PROFILE, "--no-profile", str(tmp_path / "stubborn.py")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        assert "ready" in proc.stdout.readline()
        proc.send_signal(signal.SIGTERM)
        assert "cleaning up" in proc.stdout.readline()  # the program's finally block runs
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == -signal.SIGTERM
        assert list((tmp_path / "tmp").iterdir()) == []  # the children's folder went too
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_sigterm_whose_exception_python_drops_still_ends_the_program(tmp_path: Path) -> None:
    """A SIGTERM that lands while a weakref callback runs: CPython drops the handler's exception
    there ("Exception ignored in ..."); it is sent again, and the program still ends by it."""
    (tmp_path / "weakref_app.py").write_text(
        "import asyncio, os, signal, weakref\n"
        "class Thing: pass\n"
        "def on_gone(ref):\n"
        "    os.kill(os.getpid(), signal.SIGTERM)  # its handler runs here, inside the callback\n"
        "    sum(range(1000))\n"
        "async def main():\n"
        "    thing = Thing()\n"
        "    ref = weakref.ref(thing, on_gone)\n"
        "    del thing\n"
        "    print('ready', flush=True)\n"
        "    await asyncio.sleep(60)\n"
        "asyncio.run(main())\n"
    )
    proc = subprocess.run(
        [*PROFILE, "--json", str(tmp_path / "r.json"), str(tmp_path / "weakref_app.py")],
        capture_output=True, text=True, env=python_env(), timeout=30,
    )  # fmt: skip
    assert proc.returncode == -signal.SIGTERM, proc.stderr
    assert "Exception ignored" not in proc.stderr
    assert json.loads((tmp_path / "r.json").read_text())["exit_code"] == 143


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="Linux /proc")
def test_our_threads_leave_signals_to_the_program() -> None:
    """The watchdog and the profiler's sampler block every signal: a SIGTERM sent to the process
    goes to the main thread, not to one of ours asleep (the main thread would not wake)."""
    import threading

    from asynccheck.runtime.install import monitor
    from asynccheck.runtime.profiler import ProfileOptions, ProfileSession

    def blocked(thread: threading.Thread) -> int:
        status = Path(f"/proc/self/task/{thread.native_id}/status").read_text()
        return int(next(ln for ln in status.splitlines() if ln.startswith("SigBlk")).split()[1], 16)

    async def look() -> dict[str, int]:
        await asyncio.sleep(0.05)
        return {
            t.name: blocked(t) for t in threading.enumerate() if t.name.startswith("asynccheck")
        }

    import asyncio

    session = ProfileSession(ProfileOptions())
    session.start()
    try:
        with monitor():
            masks = asyncio.run(look())
    finally:
        session.stop()
    assert set(masks) == {"asynccheck-watchdog", "asynccheck-profiler"}
    for mask in masks.values():
        assert mask & (1 << (signal.SIGTERM - 1)) and mask & (1 << (signal.SIGINT - 1))


LOST_WAKEUP_APP = """\
import asyncio, multiprocessing, os, signal, sys, threading, time
async def work():
    time.sleep(0.12)  # the slow callback
def stuck():
    signal.alarm(20)  # never left behind, whatever happens
    asyncio.run(work())
    lock = multiprocessing.Lock()
    lock.acquire()
    # A thread of the program gets the SIGTERM (as when the main thread has another signal
    # pending): its C handler runs there, and nothing wakes the main thread in sem_wait.
    threading.Timer(0.3, lambda: signal.pthread_kill(threading.get_ident(), signal.SIGTERM)).start()
    lock.acquire()
if sys.argv[1] == "main":
    stuck()
else:
    pid = os.fork()
    if pid == 0:
        stuck()
        os._exit(0)
    print("child", pid, os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]), flush=True)
"""


@pytest.mark.parametrize("where", ["main", "forked-child"])
def test_a_sigterm_whose_wakeup_was_lost_still_ends_the_program(tmp_path: Path, where: str) -> None:
    """The main thread blocks in a lock's sem_wait; the SIGTERM is handled at C level in another
    thread, so the Python handler is marked but nothing wakes the main thread to run it (the
    same as a signal landing just before sem_wait: a pool worker stopped by terminate()).
    Plain python dies by the signal's default action; under asynccheck the relay sends it to
    the main thread again, and the program unwinds, reports and dies by it."""
    app = tmp_path / "lost_wakeup.py"
    app.write_text(LOST_WAKEUP_APP)
    plain = subprocess.run(
        [sys.executable, str(app), where], capture_output=True, text=True, timeout=30
    )
    json_path = tmp_path / "r.json"
    env = {**python_env(), "TMPDIR": str(tmp_path)}
    profiled = subprocess.run(
        [*PROFILE, "--no-profile", "--json", str(json_path), str(app), where],
        capture_output=True, text=True, env=env, timeout=30,
    )  # fmt: skip
    data = json.loads(json_path.read_text())
    if where == "main":
        assert plain.returncode == profiled.returncode == -signal.SIGTERM, profiled.stderr
        assert data["exit_code"] == 143
        pids = [data["processes"][0]]
    else:
        child = int(profiled.stdout.split()[1])
        assert plain.stdout.split()[2] == profiled.stdout.split()[2] == "-15", profiled.stderr
        assert profiled.returncode == 0, profiled.stderr
        pids = [child]
    assert [(cb["location"]["function"], cb["pid"]) for cb in data["slow_callbacks"]] == [
        ("work", pid) for pid in pids
    ]


def test_uvicorn_reraising_sigterm_after_its_graceful_shutdown(tmp_path: Path) -> None:
    """uvicorn catches SIGTERM, shuts down, restores the old handler and raises it again."""
    from .test_children import serve_uvicorn

    plain = serve_uvicorn((sys.executable,), workers=0)
    profiled = serve_uvicorn(
        (*PROFILE, "--no-profile", "--json", str(tmp_path / "r.json")), workers=0
    )
    assert plain.status == profiled.status == -signal.SIGTERM, profiled.stderr
    assert profiled.stderr.count("slow callback(s) >= 100 ms") == 1
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["exit_code"] == 143
    assert "block" in {cb["location"]["function"] for cb in data["slow_callbacks"]}


def test_aiohttp_run_app_shutting_down_on_sigterm(tmp_path: Path) -> None:
    """aiohttp handles SIGTERM itself and returns: exit 0, as under plain python."""
    import socket
    import urllib.request

    def serve(command: tuple[str, ...]) -> tuple[int, str]:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        proc = subprocess.Popen(
            [*command, str(FIXTURES / "aiohttp_app.py"), str(port)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=python_env(),
        )  # fmt: skip
        try:
            assert proc.stdout is not None and "ready" in proc.stdout.readline()
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/block", timeout=10) as r:
                assert r.read() == b"blocked\n"
            proc.send_signal(signal.SIGTERM)
            _, err = proc.communicate(timeout=60)
            return proc.returncode, err
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()

    plain, _ = serve((sys.executable,))
    status, err = serve((*PROFILE, "--no-profile", "--json", str(tmp_path / "r.json")))
    assert status == plain == 0, err
    assert err.count("slow callback(s) >= 100 ms") == 1
    data = json.loads((tmp_path / "r.json").read_text())
    assert "block" in {cb["location"]["function"] for cb in data["slow_callbacks"]}


# -- a program that cannot start -----------------------------------------------------------------
def profile(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*PROFILE, *args], capture_output=True, text=True, env=python_env(), cwd=cwd, timeout=60
    )


def test_a_missing_script_is_one_line_and_exit_2(tmp_path: Path) -> None:
    proc = profile("--json", str(tmp_path / "r.json"), "missing.py", cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr == (
        f"asynccheck profile: can't open file '{tmp_path / 'missing.py'}': "
        "[Errno 2] No such file or directory\n"
    )
    assert not (tmp_path / "r.json").exists()


def test_a_missing_module_is_one_line_and_exit_2(tmp_path: Path) -> None:
    proc = profile("--json", str(tmp_path / "r.json"), "-m", "no_such_module", cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr == "asynccheck profile: No module named no_such_module\n"
    assert not (tmp_path / "r.json").exists()
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    package = profile("-m", "pkg", cwd=tmp_path)
    assert package.returncode == 2
    assert package.stderr == (
        "asynccheck profile: No module named pkg.__main__; "
        "'pkg' is a package and cannot be directly executed\n"
    )


def test_an_import_error_inside_the_module_is_the_programs_own(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text("import no_such_dependency\n")
    proc = profile("--no-profile", "-m", "app", cwd=tmp_path)
    assert proc.returncode == 1
    assert "Traceback (most recent call last)" in proc.stderr
    assert "ModuleNotFoundError: No module named 'no_such_dependency'" in proc.stderr
    assert "slow callback(s)" in proc.stderr  # it ran: the report is written


def test_a_syntax_error_gets_pythons_own_message_and_exit_1(tmp_path: Path) -> None:
    (tmp_path / "bad.py").write_text("import asyncio\ndef broken(:\n    pass\n")
    plain = subprocess.run(
        [sys.executable, str(tmp_path / "bad.py")], capture_output=True, text=True, timeout=60
    )
    proc = profile("--json", str(tmp_path / "r.json"), str(tmp_path / "bad.py"))
    assert proc.returncode == plain.returncode == 1
    assert proc.stderr == plain.stderr
    assert "Traceback" not in proc.stderr and not (tmp_path / "r.json").exists()
    module = profile("-m", "bad", cwd=tmp_path)
    assert module.returncode == 1 and "SyntaxError" in module.stderr
    assert "Traceback" not in module.stderr and "slow callback" not in module.stderr


def test_a_directory_runs_its_main_or_says_it_has_none(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    proc = profile(str(tmp_path / "empty"))
    assert proc.returncode == 2
    assert (
        proc.stderr
        == f"asynccheck profile: can't find '__main__' module in '{tmp_path / 'empty'}'\n"
    )
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "__main__.py").write_text("print('main of', __name__)\n")
    ran = profile("--no-profile", str(tmp_path / "app"))
    assert ran.returncode == 0 and ran.stdout == "main of __main__\n"


def test_a_path_that_cannot_be_read_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    proc = profile(str(tmp_path / "file" / "app.py"))
    assert proc.returncode == 2
    assert proc.stderr == (
        f"asynccheck profile: can't open file '{tmp_path / 'file' / 'app.py'}': "
        "[Errno 20] Not a directory\n"
    )


def test_permission_denied_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Tests may run as root, which reads any file: make the open fail the way it would.
    def denied(path: str) -> io.BufferedReader:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(io, "open_code", denied)
    with pytest.raises(ProgramNotRunnable) as caught:
        check_script(str(tmp_path / "secret.py"))
    assert caught.value.exit_code == 2
    assert caught.value.message == (
        f"asynccheck profile: can't open file '{tmp_path / 'secret.py'}': [Errno 13] Permission denied"
    )


def test_a_run_without_an_event_loop_says_so(tmp_path: Path) -> None:
    (tmp_path / "sync.py").write_text("print('no asyncio here')\n")
    proc = profile("--no-profile", "--json", str(tmp_path / "r.json"), str(tmp_path / "sync.py"))
    assert proc.returncode == 0
    assert "no event loop was observed" in proc.stderr
    notes = json.loads((tmp_path / "r.json").read_text())["notes"]
    assert any(n.startswith("no event loop was observed") for n in notes)


def test_a_report_file_in_a_missing_folder_is_refused_before_running(tmp_path: Path) -> None:
    proc = profile("--json", str(tmp_path / "nowhere" / "r.json"), APP)
    assert proc.returncode == 2 and proc.stdout == ""  # the program did not run
    assert proc.stderr == (
        f"asynccheck profile: --json: cannot write '{tmp_path / 'nowhere' / 'r.json'}': "
        f"no such directory '{tmp_path / 'nowhere'}'\n"
    )


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_a_report_file_that_cannot_be_written_is_one_line_after_the_report() -> None:
    proc = profile("--no-profile", "--json", "/dev/full", APP)  # every write fails: ENOSPC
    assert proc.returncode == 0  # the program's own status
    assert "slow callback(s) >= 100 ms" in proc.stderr and "JSON report:" not in proc.stderr
    assert proc.stderr.endswith(
        "asynccheck profile: --json: cannot write '/dev/full': No space left on device\n"
    )
