"""The prefork worker: it imports the rules while a cached run looks for what changed, lints
what changed with the same findings, and leaves no process behind, even when it fails."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import time

import pytest

from asynccheck.lint import prefork as prefork_module
from asynccheck.lint.prefork import Prefork

pytestmark = pytest.mark.skipif(not prefork_module.usable(), reason="needs fork and 2 CPUs")

SLEEP = "import time\n\n\nasync def handler():\n    time.sleep(1)\n"
CLEAN = "import asyncio\n\n\nasync def handler():\n    await asyncio.sleep(1)\n"


def no_children_left() -> bool:
    try:
        os.waitpid(-1, os.WNOHANG)
    except ChildProcessError:
        return True
    return False


def _pid() -> int:
    return os.getpid()


def _fail() -> None:
    raise ValueError("in the worker")


def _unpicklable() -> object:
    return lambda: None


def _die() -> None:
    os._exit(3)


def test_a_call_runs_in_the_worker_and_stop_reaps_it():
    worker = Prefork.start(lambda: None)
    assert worker is not None
    try:
        assert worker.call(_pid) == (True, worker.pid)
        assert worker.call(divmod, 7, 2) == (True, (3, 1))  # the worker serves many calls
    finally:
        worker.stop()
    assert worker.pid == 0
    assert worker.call(_pid) == (False, None)
    assert no_children_left()


@pytest.mark.parametrize(
    "broken", [_fail, _unpicklable, _die], ids=["raises", "unpicklable", "dies"]
)
def test_a_call_that_fails_stops_the_worker(broken):
    worker = Prefork.start(lambda: None)
    assert worker is not None
    assert worker.call(broken) == (False, None)
    assert worker.pid == 0
    assert no_children_left()


def test_a_warm_up_that_fails_ends_the_worker():
    worker = Prefork.start(_fail)
    assert worker is not None
    assert worker.call(_pid) == (False, None)
    assert no_children_left()


def test_no_fork_while_another_thread_runs():
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert not prefork_module.usable()
        assert Prefork.start(lambda: None) is None
    finally:
        stop.set()
        thread.join()
    assert prefork_module.usable()


# A program that lints through the engine with the prefork on and says what it saw: the
# findings, whether this process imported libcst, and whether a worker is left.
PROGRAM = textwrap.dedent(
    """
    import json, os, sys
    from asynccheck.config import Config
    from asynccheck.lint import engine
    config = Config(root=os.getcwd())
    options = engine.RunOptions(prefork=sys.argv[1] == "on")
    result = engine.run(["."], config, options)
    try:
        os.waitpid(-1, os.WNOHANG)
        left = True
    except ChildProcessError:
        left = False
    print(json.dumps({
        "findings": [[f.path, f.code, f.location.row, f.message] for f in result.findings],
        "libcst": any(name.startswith("libcst") for name in sys.modules),
        "left": left,
    }))
    """
)


def lint(root, prefork: str) -> dict:
    import json

    out = subprocess.run(
        [sys.executable, "-c", PROGRAM, prefork], cwd=root, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_a_changed_file_is_linted_in_the_worker_with_the_same_findings(tmp_path):
    for index in range(20):
        (tmp_path / f"m{index}.py").write_text(SLEEP if index % 4 == 0 else CLEAN)
    (tmp_path / "helpers.py").write_text("import time\n\n\ndef pause():\n    time.sleep(1)\n")
    cold = lint(tmp_path, "on")  # 21 files: a pool lints them, the worker is stopped
    assert cold["libcst"] and not cold["left"]
    assert lint(tmp_path, "on") == {**cold, "libcst": False}  # warm: nothing to lint

    (tmp_path / "m1.py").write_text("from helpers import pause\n\n\nasync def h():\n    pause()\n")
    changed = lint(tmp_path, "on")
    assert not changed["libcst"]  # linted, and summaries made, in the worker alone
    assert not changed["left"]
    [chain] = [f for f in changed["findings"] if f[:3] == ["m1.py", "AC110", 5]]
    assert "helpers.pause() -> time.sleep()" in chain[3]  # placed at the call, in the worker

    (tmp_path / "m1.py").write_text(CLEAN)  # the same answers from this process alone
    lint(tmp_path, "off")
    (tmp_path / "m1.py").write_text("from helpers import pause\n\n\nasync def h():\n    pause()\n")
    alone = lint(tmp_path, "off")
    assert alone["libcst"]
    assert alone["findings"] == changed["findings"]


def test_the_cli_lints_a_changed_file_in_the_worker(tmp_path, run_asynccheck):
    for index in range(4):
        (tmp_path / f"m{index}.py").write_text(SLEEP if index % 2 == 0 else CLEAN)
    first = run_asynccheck("lint", "--format", "concise", ".", cwd=tmp_path)
    (tmp_path / "m1.py").write_text(SLEEP)
    changed = run_asynccheck("lint", "--format", "concise", ".", cwd=tmp_path)
    assert changed.exit_code == 1
    assert changed.stdout.count("AC101") == first.stdout.count("AC101") + 1
    assert "m1.py:5:5: AC101" in changed.stdout
    assert not changed.stderr


def test_answers_of_unchanged_files_follow_a_helper_changed_in_the_worker(tmp_path):
    """The files that read a changed helper are checked once the worker's summary of it is
    back, though the state of every other module they read was worked out meanwhile."""
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    blocking = "import time\n\n\ndef pause():\n    time.sleep(1)\n"
    harmless = "import time\n\n\ndef pause():\n    return time.monotonic()\n"
    (package / "helpers.py").write_text(blocking)
    (package / "other.py").write_text("import os\n\n\ndef where():\n    return os.getcwd()\n")
    (package / "a.py").write_text(
        "from pkg.helpers import pause\nfrom pkg.other import where\n\n\n"
        "async def handler():\n    where()\n    pause()\n"
    )
    for index in range(16):
        (package / f"m{index}.py").write_text(CLEAN)

    def chains() -> list[list]:
        on = lint(tmp_path, "on")
        assert not on["libcst"] and not on["left"]
        return [f for f in on["findings"] if f[1] == "AC110"]

    assert [f[:3] for f in lint(tmp_path, "on")["findings"]] == [["pkg/a.py", "AC110", 7]]
    (package / "helpers.py").write_text(harmless)
    assert chains() == []
    (package / "helpers.py").write_text(blocking + "\n# a comment\n")
    [chain] = chains()
    assert chain[:3] == ["pkg/a.py", "AC110", 7] and "time.sleep()" in chain[3]
    (package / "other.py").write_text("import os\n\n\ndef where():\n    return os.getcwd()\n# x\n")
    assert [f[:3] for f in chains()] == [["pkg/a.py", "AC110", 7]]


def test_no_worker_when_the_fork_fails(monkeypatch):
    def refuse():
        raise OSError(11, "Resource temporarily unavailable")

    opened = set(os.listdir("/proc/self/fd"))
    monkeypatch.setattr(os, "fork", refuse)
    assert Prefork.start(lambda: None) is None
    assert set(os.listdir("/proc/self/fd")) == opened  # the pipes are closed again


def _slow(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


def test_ready_says_when_the_reply_is_there():
    worker = Prefork.start(lambda: None)
    assert worker is not None
    try:
        assert worker.submit(_slow, 0.3)
        assert not worker.ready()
        deadline = time.monotonic() + 10
        while not worker.ready() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert worker.ready()
        assert worker.result() == (True, 0.3)
    finally:
        worker.stop()
    assert worker.ready()  # a stopped worker never keeps anyone waiting
