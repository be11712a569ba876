"""Fixtures shared by the lint tests: write a tree of files, run the CLI in-process or as a
real subprocess, and the `--fuzz-examples` option for the hypothesmith tests."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional, Union

import pytest
from click.testing import CliRunner


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--fuzz-examples",
        type=int,
        default=None,
        help="scale of the hypothesmith fuzz tests (default 100, or $ASYNCCHECK_FUZZ_EXAMPLES)",
    )


def pytest_collection_finish(session: pytest.Session) -> None:
    """A test module may define `start_in_background()`: it is called once the run's tests
    are known, so slow external work (pre-commit building a virtualenv) overlaps the rest."""
    started: set[int] = set()
    for item in session.items:
        module = getattr(item, "module", None)
        start = getattr(module, "start_in_background", None)
        if callable(start) and id(module) not in started:
            started.add(id(module))
            start()


@pytest.fixture
def fuzz_examples(request: pytest.FixtureRequest) -> int:
    option = request.config.getoption("--fuzz-examples")
    return int(option or os.environ.get("ASYNCCHECK_FUZZ_EXAMPLES") or 100)


@dataclass(frozen=True)
class Result:
    exit_code: int
    stdout: str
    stderr: str


def write_tree(root: Path, files: Mapping[str, Union[str, bytes]]) -> Path:
    """Create `files` ({relative path: text or bytes}) under `root`; return `root`."""
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_bytes(content.encode())
    return root


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Path]:
    """`tree({"a.py": ...})` writes the files under tmp_path and makes it the cwd."""
    monkeypatch.chdir(tmp_path)

    def make(files: Mapping[str, Union[str, bytes]]) -> Path:
        return write_tree(tmp_path, files)

    return make


@pytest.fixture
def cli() -> Callable[..., Result]:
    """Run `asynccheck ARGS` in-process with click's runner (stdin from `input`)."""
    from asynccheck.cli import main

    def invoke(*args: str, input: Optional[Union[str, bytes]] = None) -> Result:
        runner = CliRunner()
        result = runner.invoke(main, list(args), input=input, catch_exceptions=False)
        return Result(result.exit_code, result.stdout, result.stderr)

    return invoke


def _run_module(
    *args: str,
    cwd: Union[str, Path],
    input: Optional[bytes] = None,
    env: Optional[Mapping[str, str]] = None,
    python_flags: tuple[str, ...] = (),
    timeout: float = 60,
) -> Result:
    """`python -m asynccheck ARGS` in a real child process."""
    completed = subprocess.run(
        [sys.executable, *python_flags, "-m", "asynccheck", *args],
        cwd=cwd,
        input=input,
        capture_output=True,
        timeout=timeout,
        env={**os.environ, "NO_COLOR": "1", **(env or {})},
    )
    return Result(
        completed.returncode,
        completed.stdout.decode("utf-8", "replace"),
        completed.stderr.decode("utf-8", "replace"),
    )


@pytest.fixture
def run_asynccheck() -> Callable[..., Result]:
    """`run_asynccheck(*args, cwd=...)`: `python -m asynccheck ARGS` in a child process."""
    return _run_module
