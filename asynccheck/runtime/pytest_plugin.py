"""pytest plugin: fail (or warn about) a test whose event loop was blocked too long.

Enabled by `--asynccheck-slow-ms N` or the ini setting `asynccheck_slow_ms = N`;
`asynccheck_mode = warn` turns failures into warnings. Every test's call phase runs inside
`monitor()`, which observes every event loop that runs there, whoever made it: `asyncio.run()`
in a sync test, pytest-asyncio's runner, a loop from the project's own
`pytest_asyncio_loop_factories`. For pytest-asyncio (1.4+) it also offers a loop factory
through that hook; the hook is `firstresult`, and pytest-asyncio refuses an implementation
that returns None, so it is registered only when the plugin is enabled, runs last, and a
project's own factories win. A loop may live for a module; it records into whichever test's
monitor is active, so a test is charged only for what happened during its call.

An async test during whose call no loop ran under the monitor (its coroutine was driven by
something else: another framework, another process) cannot be watched; the terminal summary
lists those tests and why, rather than passing them silently.

Only the call phase is checked: fixture setup and teardown may legitimately block.

Loading: `-p asynccheck` and `-p asynccheck.runtime.pytest_plugin` both work, and this module
is registered once, under its own name. The `pytest11` entry point named "asynccheck" loads
`ENTRY_POINT`, a module object of its own whose `pytest_plugins` names this module (pytest
refuses one module under two names, and reads `-p` before the entry points). Not the
`asynccheck` package itself: pytest looks for fixtures in every attribute a plugin module lists,
and the package's lazy public API would then import the linter and the runtime into every test
run. (The package names this module in its `pytest_plugins` too, for `-p asynccheck` where the
entry point is not installed.) PYTEST_DONT_REWRITE: nothing here needs pytest's assert rewriting,
and this module is imported before pytest would mark it.
"""

from __future__ import annotations

import inspect
import types
import warnings
from collections.abc import Generator, Mapping
from typing import TYPE_CHECKING, Any, Callable

import pytest

if TYPE_CHECKING:
    from asynccheck.runtime.report import Report

# The entry point loads this module in every pytest run of every project that has asynccheck
# installed: the runtime itself is imported only once the plugin is switched on.

NOT_WATCHED = (
    "no event loop ran under asynccheck's monitor while it was called; its coroutine was "
    "driven by something else (another async framework, a loop asynccheck does not hook, "
    "another process)"
)
PROJECT_FACTORIES = (
    "; pytest-asyncio took its loop from the project's own pytest_asyncio_loop_factories"
)

MODES = ("fail", "warn")

ENTRY_POINT = types.ModuleType(
    "asynccheck_pytest_entry_point", "What pytest's `pytest11` entry point 'asynccheck' loads."
)
ENTRY_POINT.pytest_plugins = [__name__]  # type: ignore[attr-defined]


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


def _is_async_test(item: pytest.Item) -> bool:
    function = getattr(item, "obj", None)
    return item.get_closest_marker("asyncio") is not None or inspect.iscoroutinefunction(function)


class AsynccheckPlugin:
    def __init__(self, threshold_ms: float, mode: str) -> None:
        self.threshold_ms = threshold_ms
        self.mode = mode
        self.watched = 0  # tests during whose call a loop ran under the monitor
        self.not_watched: dict[str, str] = {}  # async tests no loop ran for: nodeid -> why
        self._offered: set[str] = set()  # tests our loop factory was offered to

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

        self._offered.add(item.nodeid)

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
        self._count(item, report)
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

    def _count(self, item: pytest.Item, report: Report) -> None:
        if report.loops or report.slow_callbacks or report.stalls:
            self.watched += 1
        elif _is_async_test(item):
            definition = item.nodeid.partition("[")[0]
            offered = item.nodeid in self._offered or definition in self._offered
            uses_pytest_asyncio = item.get_closest_marker("asyncio") is not None
            why = NOT_WATCHED + (PROJECT_FACTORIES if uses_pytest_asyncio and not offered else "")
            self.not_watched[item.nodeid] = why

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if not self.not_watched:
            return
        tr = terminalreporter
        tr.write_sep("=", "asynccheck")
        tr.write_line(
            f"{len(self.not_watched)} async test(s) could not be watched for blocked event "
            f"loops ({self.watched} test(s) were):"
        )
        for nodeid, why in sorted(self.not_watched.items()):
            tr.write_line(f"  {nodeid}: {why}")
