"""The real pre-commit runs this repository's hook (`pre-commit try-repo`) in a fresh git repo:
it fails on a blocking call and passes on clean code.

Each `try-repo` builds the hook's virtualenv from PyPI in a store of its own (some 30 s), so
both runs start in the background as soon as the run's tests are collected (see
`start_in_background`, called from tests/conftest.py) and overlap with the rest of the suite.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SLEEP = "import time\n\n\nasync def handler():\n    time.sleep(1)\n"
CLEAN = "import asyncio\n\n\nasync def handler():\n    await asyncio.sleep(1)\n"
TIMEOUT = 600  # seconds: a cold pip cache downloads libcst and pyinstrument


def _pre_commit() -> Optional[list[str]]:
    try:
        import pre_commit  # noqa: F401
    except ImportError:
        found = shutil.which("pre-commit")
        return [found] if found else None
    return [sys.executable, "-m", "pre_commit"]


PRE_COMMIT = _pre_commit()

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(PRE_COMMIT is None, reason="pre-commit is not installed"),
]


@dataclass
class _Run:
    process: subprocess.Popen[bytes]
    output: Path

    def wait(self) -> tuple[int, str]:
        try:
            code = self.process.wait(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise
        return code, self.output.read_text(errors="replace")


_RUNS: dict[str, _Run] = {}
_FOLDER: list[str] = []


def _git(*args: str, cwd: Path) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def start_in_background() -> None:
    """Make a git repo with one bad and one clean file; start `try-repo` on each."""
    if PRE_COMMIT is None or _RUNS:
        return
    root = Path(tempfile.mkdtemp(prefix="asynccheck-precommit-"))
    _FOLDER.append(str(root))
    work = root / "work"
    work.mkdir()
    (work / "bad.py").write_text(SLEEP)
    (work / "clean.py").write_text(CLEAN)
    (work / "notes.txt").write_text("time.sleep in an async def, but not Python\n")
    _git("init", "-q", cwd=work)
    _git("add", ".", cwd=work)
    env = {
        **os.environ,
        "PRE_COMMIT_HOME": str(root / "pre-commit-home"),
        "PRE_COMMIT_COLOR": "never",
        "NO_COLOR": "1",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }
    for name, files in (("bad", ["bad.py"]), ("clean", ["clean.py", "notes.txt"])):
        output = root / f"{name}.log"
        with open(output, "wb") as sink:
            process = subprocess.Popen(
                [*PRE_COMMIT, "try-repo", str(REPO_ROOT), "asynccheck", "--files", *files],
                cwd=work,
                env=env,
                stdout=sink,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        _RUNS[name] = _Run(process, output)


@pytest.fixture(scope="module")
def runs():
    start_in_background()  # when collected without the conftest hook
    yield _RUNS
    for run in _RUNS.values():
        if run.process.poll() is None:
            run.process.kill()
            run.process.wait()
    for folder in _FOLDER:
        shutil.rmtree(folder, ignore_errors=True)


def test_hook_fails_on_a_blocking_call(runs):
    code, output = runs["bad"].wait()
    assert code == 1, output
    assert "asynccheck" in output and "Failed" in output
    assert "bad.py:5:5: AC101" in output


def test_hook_passes_on_clean_code(runs):
    code, output = runs["clean"].wait()
    assert code == 0, output
    assert "Passed" in output
    assert "AC1" not in output
