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


def test_a_projects_own_loop_factories_are_watched_too(pytester: pytest.Pytester) -> None:
    """monitor() observes every loop that runs in the test's call, whoever made it."""
    _ini(pytester, asynccheck_slow_ms="100")
    pytester.makeconftest(
        """
import asyncio
def pytest_asyncio_loop_factories(config, item):
    return {"plain": asyncio.SelectorEventLoop}
"""
    )
    pytester.makepyfile(test_d=ASYNC_TESTS)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*test_d.py::test_blocks*: event loop blocked for * ms*"])
    assert "could not be watched" not in result.stdout.str()


def test_async_tests_no_loop_ran_for_are_listed(pytester: pytest.Pytester) -> None:
    """A coroutine driven by something other than an event loop cannot be watched: the
    summary says which tests and why, instead of passing them silently."""
    _ini(pytester, asynccheck_slow_ms="100")
    pytester.makeconftest(
        """
import inspect, pytest

@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem):
    if inspect.iscoroutinefunction(pyfuncitem.obj):
        coro = pyfuncitem.obj()
        try:
            coro.send(None)   # a framework of its own: no asyncio loop at all
        except StopIteration:
            pass
        return True
"""
    )
    pytester.makepyfile(
        test_h="""
import asyncio, time

async def test_driven_by_hand():
    time.sleep(0.15)

def test_with_a_loop():
    asyncio.run(asyncio.sleep(0))
"""
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(
        [
            "*= asynccheck =*",
            "1 async test(s) could not be watched for blocked event loops (1 test(s) were):",
            "  test_h.py::test_driven_by_hand: no event loop ran under asynccheck's monitor *",
        ]
    )


BLOCKING_SYNC_TEST = """
import asyncio, sys, time

def test_blocks():
    async def main():
        time.sleep(0.15)
    asyncio.run(main())
"""


@pytest.mark.parametrize(
    ("options", "autoload"),
    [
        pytest.param(["-p", "asynccheck"], True, id="p-asynccheck"),
        pytest.param(["-p", "asynccheck.runtime.pytest_plugin"], True, id="p-module"),
        pytest.param([], True, id="entry-point"),
        pytest.param(["-p", "asynccheck"], False, id="p-asynccheck-no-autoload"),
        pytest.param(["-p", "asynccheck.runtime.pytest_plugin"], False, id="p-module-no-autoload"),
    ],
)
def test_loaded_by_either_name_once(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, options: list[str], autoload: bool
) -> None:
    if not autoload:
        monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    pytester.makepyfile(test_p=BLOCKING_SYNC_TEST)
    result = pytester.runpytest_subprocess(
        *options, "-p", "no:cacheprovider", "--asynccheck-slow-ms", "100"
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*test_p.py::test_blocks: event loop blocked for * ms*"])
    assert "already registered" not in result.stderr.str()


@pytest.mark.parametrize(
    ("options", "autoload"),
    [
        pytest.param(["-p", "no:asynccheck"], True, id="p-no-asynccheck"),
        pytest.param([], False, id="no-autoload"),
    ],
)
def test_not_loaded_when_blocked_or_not_asked_for(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, options: list[str], autoload: bool
) -> None:
    if not autoload:
        monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    pytester.makepyfile(test_p=BLOCKING_SYNC_TEST)
    result = pytester.runpytest_subprocess(
        *options, "-p", "no:cacheprovider", "--asynccheck-slow-ms", "100"
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*unrecognized arguments: --asynccheck-slow-ms*"])


@pytest.mark.parametrize("options", [[], ["-p", "asynccheck"]], ids=["entry-point", "p-asynccheck"])
def test_loading_the_plugin_does_not_import_the_runtime(
    pytester: pytest.Pytester, options: list[str]
) -> None:
    pytester.makepyfile(
        test_lazy="""
import sys

def test_runtime_not_imported():
    assert "asynccheck.runtime.pytest_plugin" in sys.modules   # the plugin is loaded...
    loaded = [m for m in sys.modules if m.startswith("asynccheck.runtime.")]
    assert loaded == ["asynccheck.runtime.pytest_plugin"]       # ...and nothing else of it
"""
    )
    # (pytest-asyncio, if installed, warns at start-up about its own unset option)
    result = pytester.runpytest_subprocess(
        *options, "-p", "no:cacheprovider", "-p", "no:asyncio", "-W", "error"
    )
    result.assert_outcomes(passed=1)
