"""`asynccheck profile` end to end, in a subprocess: run like python, keep the exit code, report."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import jsonschema
import pytest

from .conftest import FIXTURES, python_env

APP = str(FIXTURES / "slow_app.py")
SCHEMA = json.loads((Path(__file__).parent / "report.schema.json").read_text())


def profile(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "asynccheck", "profile", *args],
        capture_output=True,
        text=True,
        env=python_env(),
        cwd=cwd,
        timeout=60,
    )


def source_line(text: str) -> int:
    return next(i for i, line in enumerate(Path(APP).read_text().splitlines(), 1) if text in line)


@pytest.fixture(scope="module")
def full_run(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[subprocess.CompletedProcess[str], Path]:
    out = tmp_path_factory.mktemp("profile")
    proc = profile(
        "--json", str(out / "r.json"), "--html", str(out / "r.html"),
        "--speedscope", str(out / "r.speedscope.json"), APP, "--port", "8080",
    )  # fmt: skip
    return proc, out


def test_runs_the_script_as_python_would(
    full_run: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    proc, _ = full_run
    assert proc.returncode == 0, proc.stderr
    assert f"argv ['--port', '8080'] name __main__ file {APP} path0 {FIXTURES}" in proc.stdout


def test_json_names_file_line_and_task_of_sleep_and_cpu_loop(
    full_run: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    _proc, out = full_run
    data = json.loads((out / "r.json").read_text())
    jsonschema.validate(data, SCHEMA)
    assert data["exit_code"] == 0 and data["argv"] == [APP, "--port", "8080"]
    by_task = {cb["task"]: cb for cb in data["slow_callbacks"]}
    sleep, cpu = by_task["request-2"], by_task["request-5"]
    assert sleep["location"] == {
        "file": APP,
        "line": source_line("time.sleep(0.2)"),
        "function": "handle",
    }
    assert sleep["blocking_call"] == "time.sleep" and sleep["coroutine"] == "handle"
    assert cpu["location"]["file"] == APP and cpu["location"]["function"] == "checksum"
    assert source_line("deadline = time") < cpu["location"]["line"] <= source_line("total = (total")
    assert 230 <= cpu["duration_ms"] <= 400 and 180 <= sleep["duration_ms"] <= 300
    assert [b["call"] for b in data["blocking_calls"]] == ["time.sleep"]
    assert data["profile"]["html"] == str(out / "r.html")
    assert data["profile"]["speedscope"] == str(out / "r.speedscope.json")


def test_terminal_report_and_files(full_run: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    proc, out = full_run
    assert "2 slow callback(s) >= 100 ms" in proc.stderr
    assert "time went: " in proc.stderr and "in checksum" in proc.stderr
    assert "Profile (pyinstrument" in proc.stderr and "checksum" in proc.stderr.split("Profile")[1]
    page = (out / "r.html").read_text()
    assert "<svg" in page and "request-5" in page and "srcdoc=" in page
    assert json.loads((out / "r.speedscope.json").read_text())["profiles"]


def test_uncaught_exception_prints_the_traceback_and_exits_1() -> None:
    proc = profile("--no-profile", APP, "--fail")
    assert proc.returncode == 1
    assert "Traceback (most recent call last):" in proc.stderr
    assert "RuntimeError: payment service unavailable" in proc.stderr
    assert "asynccheck/runtime" not in proc.stderr.split("RuntimeError")[0]
    assert "slow callback(s)" in proc.stderr  # the report is printed anyway


def test_sys_exit_code_is_kept(tmp_path: Path) -> None:
    proc = profile("--no-profile", "--json", str(tmp_path / "r.json"), APP, "--exit", "3")
    assert proc.returncode == 3, proc.stderr
    assert json.loads((tmp_path / "r.json").read_text())["exit_code"] == 3


def test_ctrl_c_dies_by_sigint_with_the_report(tmp_path: Path) -> None:
    """As python does since 3.8: the traceback, then death by SIGINT (a shell shows 130)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "asynccheck", "profile", "--no-profile",
         "--json", str(tmp_path / "r.json"), APP, "--hang"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=python_env(),
    )  # fmt: skip
    assert proc.stdout is not None
    deadline = time.monotonic() + 30
    while "ready" not in proc.stdout.readline():
        assert time.monotonic() < deadline and proc.poll() is None
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGINT, stderr
    assert "KeyboardInterrupt" in stderr and "slow callback(s)" in stderr
    assert json.loads((tmp_path / "r.json").read_text())["exit_code"] == 130


def test_module_mode_runs_like_python_dash_m(tmp_path: Path) -> None:
    (tmp_path / "svc").mkdir()
    (tmp_path / "svc" / "__init__.py").write_text("")
    (tmp_path / "svc" / "__main__.py").write_text(
        "import asyncio, sys, time\n"
        "async def main():\n"
        "    print(sys.argv, __name__, sys.path[0] == __import__('os').getcwd())\n"
        "    time.sleep(0.12)\n"
        "asyncio.run(main())\n"
    )
    proc = profile("--no-profile", "--slow-callback-ms", "50", "-m", "svc", "--flag", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert f"['{tmp_path / 'svc' / '__main__.py'}', '--flag'] __main__ True" in proc.stdout
    assert "1 slow callback(s) >= 50 ms" in proc.stderr
    assert "Profile (pyinstrument" not in proc.stderr


def test_usage_error_without_a_program() -> None:
    proc = profile()
    assert proc.returncode == 2 and "give a script" in proc.stderr


@pytest.mark.skipif(os.name != "posix", reason="paths")
def test_help_lists_the_options() -> None:
    proc = profile("--help")
    for option in ("--slow-callback-ms", "--detect-blocking", "--no-profile", "--html", "--json",
                   "--speedscope", "--interval", "--trace-leaks"):  # fmt: skip
        assert option in proc.stdout


def test_threshold_comes_from_pyproject_unless_given(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.asynccheck]\nslow-callback-ms = 50\n")
    (tmp_path / "app.py").write_text(
        "import asyncio, time\nasync def main():\n    time.sleep(0.08)\nasyncio.run(main())\n"
    )
    configured = profile("--no-profile", str(tmp_path / "app.py"))
    assert "1 slow callback(s) >= 50 ms" in configured.stderr
    explicit = profile("--no-profile", "--slow-callback-ms", "200", str(tmp_path / "app.py"))
    assert "0 slow callback(s) >= 200 ms" in explicit.stderr
    (tmp_path / "pyproject.toml").write_text("[tool.asynccheck]\nslow_callback_ms = 50\n")
    bad = profile("--no-profile", str(tmp_path / "app.py"))
    assert bad.returncode == 2 and "did you mean 'slow-callback-ms'" in bad.stderr
