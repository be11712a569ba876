"""Child processes of `asynccheck profile` report into the parent's report.

multiprocessing (fork and spawn), a subprocess of sys.executable, a bare os.fork() ending with
os._exit(), a terminated child, and uvicorn --workers 2 on 127.0.0.1: each child's slow
callback is in the parent's report with the child's pid, the parent's own once, and the
private directory the children wrote to is gone afterwards.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from asynccheck.runtime.children import BOOTSTRAP_DIR, ENV_VAR, ChildReport, merge
from asynccheck.runtime.report import Hotspot, Report, Site, SlowCallback

from .conftest import FIXTURES, python_env

APP = str(FIXTURES / "family_app.py")
PROFILE = (sys.executable, "-m", "asynccheck", "profile")

pytestmark = pytest.mark.skipif(os.name != "posix", reason="fork and POSIX signals")


def line_of(path: str, text: str) -> int:
    return next(i for i, line in enumerate(Path(path).read_text().splitlines(), 1) if text in line)


def profile_family(mode: str, tmp_path: Path) -> tuple[subprocess.CompletedProcess[str], dict]:
    env = python_env()
    env["TMPDIR"] = str(tmp_path)  # where the children's private directory is made
    proc = subprocess.run(
        [*PROFILE, "--no-profile", "--json", str(tmp_path / "r.json"), APP, mode],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"], "the private directory is gone"
    return proc, json.loads((tmp_path / "r.json").read_text())


@pytest.mark.parametrize(
    ("mode", "child_status"),
    [("fork", 0), ("spawn", 0), ("subprocess", 0), ("bare-fork", 0), ("fork-returns", 5)],
)
def test_a_childs_slow_callback_is_merged_with_its_pid(
    mode: str, child_status: int, tmp_path: Path
) -> None:
    proc, data = profile_family(mode, tmp_path)
    child_pid = int(next(w for w in proc.stdout.split("\n") if w.startswith("child")).split()[1])
    assert f"exitcode {child_status}" in proc.stdout  # what the parent saw of its child
    assert proc.stderr.count("slow callback(s) >= 100 ms") == 1  # the parent's report only
    parent_pid = data["processes"][0]
    assert data["processes"] == [parent_pid, child_pid]
    slow = sorted((cb["location"]["function"], cb["location"]["line"], cb["pid"]) for cb in data["slow_callbacks"])  # fmt: skip
    assert slow == [
        ("child_work", line_of(APP, "time.sleep(0.12)"), child_pid),
        ("parent_work", line_of(APP, "time.sleep(0.15)"), parent_pid),  # once: not the fork's copy
    ]
    assert {(h["location"]["function"], h["count"]) for h in data["hotspots"]} == {
        ("child_work", 1),
        ("parent_work", 1),
    }
    assert sorted((b["call"], b["pid"]) for b in data["blocking_calls"]) == sorted(
        [("time.sleep", child_pid), ("time.sleep", parent_pid)]
    )
    assert data["loops"] == 2
    assert f"1 child process(es) followed ({child_pid})" in proc.stderr


def test_a_forked_child_leaving_by_sys_exit_ends_like_a_python_child(tmp_path: Path) -> None:
    """Its interpreter still finalizes: a file it left open is flushed, as without asynccheck."""
    (tmp_path / "app.py").write_text(
        "import os, sys\n"
        "out = open(sys.argv[1], 'w')\n"
        "pid = os.fork()\n"
        "if pid == 0:\n"
        "    out.write('written by the child')\n"
        "    sys.exit(7)\n"
        "print('child status', os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))\n"
    )
    for command in ((sys.executable,), (*PROFILE, "--no-profile")):
        (tmp_path / "out.txt").unlink(missing_ok=True)
        proc = subprocess.run(
            [*command, str(tmp_path / "app.py"), str(tmp_path / "out.txt")],
            capture_output=True,
            text=True,
            env=python_env(),
            timeout=60,
        )
        assert proc.returncode == 0 and proc.stdout == "child status 7\n", proc.stderr
        assert (tmp_path / "out.txt").read_text() == "written by the child"


def test_pool_workers_are_followed(tmp_path: Path) -> None:
    proc, data = profile_family("pool", tmp_path)
    workers = [int(w) for w in proc.stdout.split("workers")[1].split()]
    assert data["processes"][1:] == sorted(workers)
    child = [
        cb["pid"] for cb in data["slow_callbacks"] if cb["location"]["function"] == "child_work"
    ]
    assert len(child) == 4 and set(child) <= set(workers)


def test_a_terminated_child_reports_and_dies_by_sigterm(tmp_path: Path) -> None:
    plain = subprocess.run(
        [sys.executable, APP, "terminate"], capture_output=True, text=True, timeout=60
    )
    assert "exitcode -15" in plain.stdout
    proc, data = profile_family("terminate", tmp_path)
    assert "exitcode -15" in proc.stdout  # what multiprocessing saw: death by SIGTERM, as plain
    child_pid = data["processes"][1]
    assert [(cb["location"]["function"], cb["pid"]) for cb in data["slow_callbacks"]] == [
        ("parent_work", data["processes"][0]),
        ("child_work", child_pid),
    ]


# -- uvicorn --------------------------------------------------------------------------------------
@dataclass
class Served:
    status: int
    pids: set[int]  # the processes that answered /block
    stderr: str


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve_uvicorn(
    command: tuple[str, ...],
    *,
    workers: int,
    requests: int = 6,
    signum: int = signal.SIGTERM,
    to_group: bool = False,
) -> Served:
    """`command -m uvicorn asgi_app:app` on 127.0.0.1, `requests` blocking requests once every
    worker answered, then `signum` to the server (the supervisor, with workers), or to its
    whole process group as a terminal's Ctrl-C does."""
    port = _free_port()
    argv = [*command, "-m", "uvicorn", "asgi_app:app", "--app-dir", str(FIXTURES),
            "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]  # fmt: skip
    if workers:
        argv += ["--workers", str(workers)]
    proc = subprocess.Popen(
        argv,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=python_env(),
        start_new_session=to_group,
    )
    pids: set[int] = set()

    def get() -> None:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/block", timeout=10) as response:
            pids.add(int(response.read().decode().split()[1]))

    try:
        deadline = time.monotonic() + 60
        while len(pids) < max(workers, 1):
            assert time.monotonic() < deadline and proc.poll() is None, "server did not start"
            try:
                get()
            except OSError:
                time.sleep(0.1)
        for _ in range(requests):
            get()
        if to_group:
            os.killpg(proc.pid, signum)
        else:
            proc.send_signal(signum)
        _, err = proc.communicate(timeout=60)
        return Served(proc.returncode, pids, err)
    finally:
        if proc.poll() is None:
            if to_group:
                os.killpg(proc.pid, signal.SIGKILL)
            else:
                proc.kill()
            proc.wait()


@pytest.mark.parametrize(
    ("signum", "to_group"),
    [(signal.SIGTERM, False), (signal.SIGINT, True)],
    ids=["sigterm-to-the-supervisor", "ctrl-c-to-the-group"],
)
def test_uvicorn_workers_are_followed(tmp_path: Path, signum: int, to_group: bool) -> None:
    plain = serve_uvicorn((sys.executable,), workers=2, signum=signum, to_group=to_group)
    served = serve_uvicorn(
        (*PROFILE, "--no-profile", "--json", str(tmp_path / "r.json")),
        workers=2,
        signum=signum,
        to_group=to_group,
    )
    assert served.status == plain.status == 0, served.stderr  # the supervisor exits 0
    assert len(served.pids) == 2
    data = json.loads((tmp_path / "r.json").read_text())
    assert set(data["processes"][1:]) == served.pids
    blocked = line_of(str(FIXTURES / "asgi_app.py"), "time.sleep(0.12)")
    by_pid = {cb["pid"] for cb in data["slow_callbacks"] if cb["location"]["line"] == blocked}
    assert by_pid == served.pids
    assert served.stderr.count("slow callback(s) >= 100 ms") == 1
    assert "they are monitored, not profiled" not in served.stderr  # --no-profile


# -- the bootstrap --------------------------------------------------------------------------------
def test_bootstrap_does_nothing_without_asynccheck_and_keeps_the_users_sitecustomize(
    tmp_path: Path,
) -> None:
    own = tmp_path / "own"
    own.mkdir()
    (own / "sitecustomize.py").write_text("import os\nos.environ['USER_SITECUSTOMIZE'] = 'ran'\n")
    env = python_env()
    env.pop(ENV_VAR, None)
    env["PYTHONPATH"] = os.pathsep.join([BOOTSTRAP_DIR, str(own), env["PYTHONPATH"]])
    probe = (
        "import os, sys, sitecustomize\n"
        "print(os.environ.get('USER_SITECUSTOMIZE'), sitecustomize.__file__)\n"
        "print(any(m.startswith('asynccheck') for m in sys.modules))\n"
        f"print({BOOTSTRAP_DIR!r} in sys.path)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split("\n")[:3] == [f"ran {own / 'sitecustomize.py'}", "False", "False"]


def test_a_child_keeps_the_users_sitecustomize_while_monitored(tmp_path: Path) -> None:
    own = tmp_path / "own"
    own.mkdir()
    (own / "sitecustomize.py").write_text("import os\nos.environ['USER_SITECUSTOMIZE'] = 'ran'\n")
    (tmp_path / "parent.py").write_text(
        "import subprocess, sys\n"
        'child = \'import os, sitecustomize; print(os.environ.get("USER_SITECUSTOMIZE"), '
        "sitecustomize.__file__)'\n"
        "subprocess.run([sys.executable, '-c', child], check=True)\n"
    )
    env = python_env()
    env["PYTHONPATH"] = os.pathsep.join([str(own), env["PYTHONPATH"]])
    proc = subprocess.run(
        [*PROFILE, "--no-profile", str(tmp_path / "parent.py")],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == f"ran {own / 'sitecustomize.py'}\n"


def test_a_child_that_never_imports_asyncio_is_left_alone(tmp_path: Path) -> None:
    (tmp_path / "child.py").write_text(
        "import signal, sys\n"
        "print([m for m in sys.modules if m.startswith('asynccheck')],\n"
        "      signal.getsignal(signal.SIGTERM) == signal.SIG_DFL)\n"
    )
    (tmp_path / "parent.py").write_text(
        "import subprocess, sys\n"
        f"subprocess.run([sys.executable, {str(tmp_path / 'child.py')!r}], check=True)\n"
    )
    proc = subprocess.run(
        [*PROFILE, "--no-profile", str(tmp_path / "parent.py")],
        capture_output=True,
        text=True,
        env=python_env(),
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "[] True\n"  # nothing of asynccheck, no handler of ours


def _profile_script(tmp_path: Path, parent: str) -> dict:
    (tmp_path / "parent.py").write_text(parent)
    proc = subprocess.run(
        [*PROFILE, "--no-profile", "--json", str(tmp_path / "r.json"), str(tmp_path / "parent.py")],
        capture_output=True,
        text=True,
        env=python_env(),
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads((tmp_path / "r.json").read_text())


def test_a_childs_own_atexit_work_is_in_its_report(tmp_path: Path) -> None:
    (tmp_path / "child.py").write_text(
        "import asyncio, atexit, time\n"
        "async def at_exit():\n"
        "    time.sleep(0.12)\n"
        "atexit.register(lambda: asyncio.run(at_exit()))\n"
    )
    data = _profile_script(
        tmp_path,
        "import subprocess, sys\n"
        f"subprocess.run([sys.executable, {str(tmp_path / 'child.py')!r}], check=True)\n",
    )
    assert [cb["location"]["function"] for cb in data["slow_callbacks"]] == ["at_exit"]
    assert data["slow_callbacks"][0]["pid"] == data["processes"][1]


def test_a_child_killed_before_it_could_report_is_named(tmp_path: Path) -> None:
    (tmp_path / "child.py").write_text(
        "import asyncio, os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n"
    )
    data = _profile_script(
        tmp_path,
        "import subprocess, sys\n"
        f"print(subprocess.run([sys.executable, {str(tmp_path / 'child.py')!r}]).returncode)\n",
    )
    assert any(
        "ended without leaving their findings (killed by SIGKILL" in note for note in data["notes"]
    ), data["notes"]


def test_a_child_still_running_after_the_grace_period_is_named(tmp_path: Path) -> None:
    # The child lives until its stdin closes, which is when `asynccheck profile` itself exits.
    (tmp_path / "child.py").write_text(
        "import asyncio, sys\nprint('monitored', flush=True)\nsys.stdin.read()\n"
    )
    data = _profile_script(
        tmp_path,
        "import subprocess, sys\n"
        f"child = subprocess.Popen([sys.executable, {str(tmp_path / 'child.py')!r}],\n"
        "                         stdin=subprocess.PIPE, stdout=subprocess.PIPE)\n"
        "child.stdout.readline()\n",
    )
    note = next(n for n in data["notes"] if "were still running when this report was" in n)
    pid = int(note.split("child process(es) ")[1].split()[0])
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    else:
        os.kill(pid, signal.SIGKILL)
        pytest.fail(f"child {pid} outlived its parent")


# -- merging --------------------------------------------------------------------------------------
def _slow(pid: int, ms: float, line: int, at_s: float = 0.0) -> SlowCallback:
    site = Site("/app.py", line, "handler")
    return SlowCallback(ms, "<Handle>", None, None, site, (site,), at_s=at_s, pid=pid)


def test_merge_keeps_pids_moves_times_and_sums_hotspots_by_site() -> None:
    site = Site("/app.py", 10, "handler")
    parent = Report(
        slow_callbacks=(_slow(1, 150, 10, at_s=1.0),),
        hotspots=(Hotspot(site, 1, 150.0, 150.0),),
        loops=1,
        processes=(1,),
    )
    child = Report(
        slow_callbacks=(_slow(0, 300, 10, at_s=0.5), _slow(1, 999, 99)),  # pid 1: the parent's
        hotspots=(Hotspot(site, 2, 400.0, 300.0, blocking_call="time.sleep"),),
        loops=1,
    )
    merged = merge(parent, [ChildReport(2, 105.0, child)], parent_pid=1, parent_started_unix=100.0)
    assert [(s.pid, s.duration_ms, s.at_s) for s in merged.slow_callbacks] == [
        (2, 300, 5.5),
        (1, 150, 1.0),
    ]
    assert merged.hotspots == (Hotspot(site, 3, 550.0, 300.0, blocking_call="time.sleep"),)
    assert merged.processes == (1, 2) and merged.loops == 2
    assert merged.slow_callbacks_seen == 2  # the parent's copy in the child is not counted


def test_a_signal_arriving_as_a_child_leaves_by_os_exit_still_gets_its_report(
    tmp_path: Path,
) -> None:
    """A pool worker told to stop by terminate() just as it leaves through os._exit(): the
    signal's handler runs inside our os._exit before it marks the report as being written.
    Planted here by sending SIGTERM at that very point; the report is written all the same
    and the child then dies by the signal, as a plain python child would."""
    (tmp_path / "app.py").write_text(
        "import asyncio, os, signal, time\n"
        "from asynccheck.runtime import children\n"
        "async def child_work():\n"
        "    time.sleep(0.12)\n"
        "pid = os.fork()\n"
        "if pid == 0:\n"
        "    asyncio.run(child_work())\n"
        "    finish = children.ExitSignals.finish\n"
        "    def late_signal(self):\n"
        "        signal.raise_signal(signal.SIGTERM)  # the handler runs right here\n"
        "        finish(self)\n"
        "    children.ExitSignals.finish = late_signal\n"
        "    os._exit(0)\n"
        "print('child', pid, 'status', os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))\n"
    )
    env = python_env()
    env["TMPDIR"] = str(tmp_path)
    proc = subprocess.run(
        [*PROFILE, "--no-profile", "--json", str(tmp_path / "r.json"), str(tmp_path / "app.py")],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    child_pid = int(proc.stdout.split()[1])
    assert proc.stdout.split()[3] == str(-signal.SIGTERM)
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["processes"][1:] == [child_pid], data["notes"]
    assert [cb["pid"] for cb in data["slow_callbacks"]] == [child_pid]


JOINING_APP = """\
import multiprocessing, os, threading, time

PARENT = os.getpid()


def run(ready):
    threading.Thread(target=time.sleep, args=(3,)).start()  # joined at the child's exit
    ready.set()


if __name__ == "__main__":
    ctx = multiprocessing.get_context("fork")
    ready = ctx.Event()
    process = ctx.Process(target=run, args=(ready,))
    try:
        process.start()
        ready.wait(10)
        time.sleep(0.5)  # the child joins its thread now, in _bootstrap's finally
        process.terminate()
        process.join()
        print("exitcode", process.exitcode, flush=True)
    finally:
        print("finally in", "parent" if os.getpid() == PARENT else "child", flush=True)
"""


def test_a_child_terminated_while_it_joins_its_threads_runs_no_parent_code(
    tmp_path: Path,
) -> None:
    """The Terminated leaves `_bootstrap` from its `finally` (threads joined at exit); the
    child must still end there, by SIGTERM, and never come back into the parent's code."""
    app = tmp_path / "joining.py"
    app.write_text(JOINING_APP)
    env = {**python_env(), "TMPDIR": str(tmp_path)}
    plain = subprocess.run(
        [sys.executable, str(app)], capture_output=True, text=True, env=env, timeout=60
    )
    assert plain.stdout == "exitcode -15\nfinally in parent\n"
    profiled = subprocess.run(
        [*PROFILE, "--no-profile", str(app)], capture_output=True, text=True, env=env, timeout=60
    )
    assert profiled.returncode == 0, profiled.stderr
    assert profiled.stdout == plain.stdout
    assert "Traceback" not in profiled.stderr
