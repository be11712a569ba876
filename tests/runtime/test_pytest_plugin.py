"""The pytest plugin, driven through pytester: fail mode, warn mode, pytest-asyncio, asyncio.run."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

ASYNC_TESTS = """
import asyncio, time
import pytest

@pytest.mark.asyncio
async def test_blocks():
    time.sleep(0.15)

@pytest.mark.asyncio
async def test_yields():
    for _ in range(20):
        await asyncio.sleep(0.005)
"""

SYNC_TESTS = """
import asyncio, time

def test_runs_a_blocking_loop():
    async def main():
        time.sleep(0.15)
    asyncio.run(main())

def test_runs_a_healthy_loop():
    asyncio.run(asyncio.sleep(0.01))
"""


def _ini(pytester: pytest.Pytester, **settings: str) -> None:
    lines = "\n".join(
        f"{k} = {v}"
        for k, v in {
            "asyncio_mode": "strict",
            "asyncio_default_fixture_loop_scope": "function",
            **settings,
        }.items()
    )
    pytester.makeini(f"[pytest]\n{lines}\n")


def test_off_unless_asked(pytester: pytest.Pytester) -> None:
    _ini(pytester)
    pytester.makepyfile(test_a=ASYNC_TESTS)
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=2)


def test_fail_mode_fails_the_blocking_async_test_with_the_report(pytester: pytest.Pytester) -> None:
    _ini(pytester)
    pytester.makepyfile(test_a=ASYNC_TESTS)
    result = pytester.runpytest("-p", "no:cacheprovider", "--asynccheck-slow-ms", "100")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*test_a.py::test_blocks: event loop blocked for * ms (threshold 100 ms) at *test_a.py:6",
            "*time went: test_a.py:6 in test_blocks",
            "*blocking call: time.sleep",
            "FAILED test_a.py::test_blocks*",
        ]
    )


def test_ini_threshold_and_warn_mode(pytester: pytest.Pytester) -> None:
    _ini(pytester, asynccheck_slow_ms="100", asynccheck_mode="warn")
    pytester.makepyfile(test_a=ASYNC_TESTS)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, warnings=1)
    result.stdout.fnmatch_lines(
        ["*AsynccheckSlowCallbackWarning: test_a.py::test_blocks: event loop blocked*"]
    )


def test_pytest_asyncio_gets_the_timing_loop_through_its_hook(pytester: pytest.Pytester) -> None:
    _ini(pytester, asynccheck_slow_ms="100")
    pytester.makepyfile(
        test_b="""
import asyncio
import pytest, pytest_asyncio

@pytest_asyncio.fixture
async def loop_name():
    # made during setup, before the test's call phase: only the hook can reach this loop
    return type(asyncio.get_running_loop()).__name__

@pytest.mark.asyncio
async def test_loop(loop_name):
    assert loop_name == "TimingEventLoop"
"""
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_a_projects_own_loop_factories_win(pytester: pytest.Pytester) -> None:
    _ini(pytester, asynccheck_slow_ms="100")
    pytester.makeconftest(
        """
import asyncio
def pytest_asyncio_loop_factories(config, item):
    return {"plain": asyncio.SelectorEventLoop}
"""
    )
    pytester.makepyfile(
        test_c="""
import asyncio, pytest
@pytest.mark.asyncio
async def test_loop():
    assert type(asyncio.get_running_loop()).__name__ == "_UnixSelectorEventLoop"
"""
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_plain_asyncio_run_in_sync_tests(pytester: pytest.Pytester) -> None:
    _ini(pytester)
    pytester.makepyfile(test_s=SYNC_TESTS)
    result = pytester.runpytest("-p", "no:cacheprovider", "--asynccheck-slow-ms=100")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*test_runs_a_blocking_loop: event loop blocked for *test_s.py:5"])


def test_marker_overrides_the_threshold(pytester: pytest.Pytester) -> None:
    _ini(pytester, asynccheck_slow_ms="100")
    pytester.makepyfile(
        test_m="""
import asyncio, time, pytest

@pytest.mark.asynccheck(slow_ms=0)
def test_off():
    asyncio.run(asyncio.to_thread(time.sleep, 0) if False else asyncio.sleep(0))
    async def main():
        time.sleep(0.15)
    asyncio.run(main())

@pytest.mark.asynccheck(slow_ms=20)
def test_stricter():
    async def main():
        time.sleep(0.05)
    asyncio.run(main())
"""
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["FAILED test_m.py::test_stricter*"])


def test_bad_settings_are_usage_errors(pytester: pytest.Pytester) -> None:
    _ini(pytester, asynccheck_slow_ms="100", asynccheck_mode="explode")
    pytester.makepyfile(test_a=ASYNC_TESTS)
    result = pytester.runpytest("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*asynccheck_mode = 'explode': use 'fail' or 'warn'*"])
