"""pytest plugin: fail (or warn about) a test whose event loop was blocked too long.

Enabled by `--asynccheck-slow-ms N` or the ini setting `asynccheck_slow_ms = N`;
`asynccheck_mode = warn` turns failures into warnings. It reaches loops two ways:
- every test's call phase runs inside `monitor()`, so `asyncio.run()`/`asyncio.Runner` in a
  plain sync test get a timing loop;
- for pytest-asyncio (1.4+) it offers a loop factory through the `pytest_asyncio_loop_factories`
  hook. That hook is `firstresult`, and pytest-asyncio refuses an implementation that returns
  None, so it is registered only when the plugin is enabled, runs last, and a project's own
  factories (conftest) win. Such a loop may live for a module; it records into whichever
  test's monitor is active, so a test is charged only for what happened during its call.

Only the call phase is checked: fixture setup and teardown may legitimately block.
"""

from __future__ import annotations

import warnings
from collections.abc import Generator, Mapping
from typing import TYPE_CHECKING, Any, Callable

import pytest

if TYPE_CHECKING:
    from asynccheck.runtime.report import Report

# The entry point loads this module in every pytest run of every project that has asynccheck
# installed: the runtime itself is imported only once the plugin is switched on.

MODES = ("fail", "warn")


class AsynccheckSlowCallbackWarning(UserWarning):
    """A test's event loop was blocked for longer than --asynccheck-slow-ms."""


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("asynccheck", "asynccheck: blocked event loops")
    group.addoption(
        "--asynccheck-slow-ms",
        dest="asynccheck_slow_ms",
        type=float,
        default=None,
        metavar="N",
        help="fail a test whose event loop ran one callback for N ms or more",
    )
    parser.addini(
        "asynccheck_slow_ms",
        help="default for --asynccheck-slow-ms (unset: the plugin is off)",
        default=None,
    )
    parser.addini(
        "asynccheck_mode",
        help="fail (default) or warn when a test's loop was blocked",
        default="fail",
    )


def _threshold(config: pytest.Config) -> float | None:
    value = config.getoption("asynccheck_slow_ms")
    if value is None:
        ini = config.getini("asynccheck_slow_ms")
        if ini in (None, ""):
            return None
        try:
            value = float(ini)
        except ValueError:
            raise pytest.UsageError(
                f"asynccheck_slow_ms = {ini!r}: expected a number of milliseconds"
            ) from None
    return float(value)


def pytest_configure(config: pytest.Config) -> None:
    threshold = _threshold(config)
    if threshold is None:
        return
    mode = str(config.getini("asynccheck_mode")).strip().lower()
    if mode not in MODES:
        raise pytest.UsageError(f"asynccheck_mode = {mode!r}: use 'fail' or 'warn'")
    config.addinivalue_line(
        "markers", "asynccheck(slow_ms=None): per-test threshold; slow_ms=0 turns the check off"
    )
    config.pluginmanager.register(AsynccheckPlugin(threshold, mode), "asynccheck-runtime")


def failure_message(report: Report, nodeid: str) -> str:
    from asynccheck.runtime.render import render

    worst = report.slow_callbacks[0]
    head = (
        f"{nodeid}: event loop blocked for {worst.duration_ms:.1f} ms "
        f"(threshold {report.threshold_ms:g} ms) at {worst.location.file}:{worst.location.line}"
    )
    return head + "\n\n" + render(report, "text", profile_tree=False)


class AsynccheckPlugin:
    def __init__(self, threshold_ms: float, mode: str) -> None:
        self.threshold_ms = threshold_ms
        self.mode = mode

    def _threshold_for(self, item: pytest.Item) -> float:
        marker = item.get_closest_marker("asynccheck")
        if marker is not None and marker.kwargs.get("slow_ms") is not None:
            return float(marker.kwargs["slow_ms"])
        return self.threshold_ms

    @pytest.hookimpl(trylast=True, optionalhook=True)
    def pytest_asyncio_loop_factories(
        self, config: pytest.Config, item: pytest.Item
    ) -> Mapping[str, Callable[[], Any]]:
        from asynccheck.runtime.loop import TimingEventLoop

        def asynccheck_loop() -> Any:
            return TimingEventLoop(slow_callback_ms=self._threshold_for(item))

        return {"asynccheck": asynccheck_loop}

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Generator[None, None, None]:
        threshold = self._threshold_for(item)
        if threshold <= 0:
            return (yield)
        from asynccheck.runtime.install import monitor

        with monitor(slow_callback_ms=threshold, log=False) as mon:
            result = yield  # the test's own failure propagates from here untouched
        report = mon.report(collect_garbage=False)  # leaks are not what fails a test
        if not report.slow_callbacks:
            return result
        message = failure_message(report, item.nodeid)
        if self.mode == "warn":
            from asynccheck.runtime.render import render

            item.add_report_section(
                "call", "asynccheck", render(report, "text", profile_tree=False)
            )
            warnings.warn(AsynccheckSlowCallbackWarning(message), stacklevel=1)
            return result
        raise pytest.fail.Exception(message, pytrace=False)
