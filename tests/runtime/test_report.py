"""The Report as data, and its renderers: JSON (against the schema), text, HTML, speedscope."""

from __future__ import annotations

import asyncio
import json
import re
import time
from pathlib import Path

import jsonschema
import pytest

from asynccheck.runtime.profiler import ProfileSession
from asynccheck.runtime.render import RENDERERS, render
from asynccheck.runtime.report import BlockingCall, Leak, Report, Site, SlowCallback

from .conftest import run_monitored

SCHEMA = json.loads((Path(__file__).parent / "report.schema.json").read_text())


async def stalls() -> None:
    time.sleep(0.15)


async def main() -> None:
    asyncio.create_task(asyncio.sleep(10), name="left-behind")  # noqa: RUF006 - a leak to report
    await asyncio.create_task(stalls(), name="staller")


@pytest.fixture(scope="module")
def report() -> Report:
    profiler = ProfileSession()
    profiler.start()
    r = run_monitored(main)
    session = profiler.stop()
    return Report(**{**r.__dict__, "profile_session": session, "argv": ("app.py", "--port", "1")})


def test_json_matches_the_schema_and_names_file_line_task(report: Report) -> None:
    data = json.loads(render(report, "json"))
    jsonschema.validate(data, SCHEMA)
    [cb] = data["slow_callbacks"]
    assert cb["task"] == "staller" and cb["coroutine"] == "stalls"
    assert cb["location"]["file"] == __file__ and cb["location"]["function"] == "stalls"
    assert data["leaks"][0]["kind"] == "task" and "left-behind" in data["leaks"][0]["what"]
    assert data["argv"] == ["app.py", "--port", "1"]


def test_to_json_keeps_the_schema_1_keys_in_order() -> None:
    data = Report().to_json()
    assert list(data)[:9] == [
        "version", "argv", "exit_code", "wall_s", "threshold_ms",
        "slow_callbacks", "blocking_calls", "leaks", "profile",
    ]  # fmt: skip
    jsonschema.validate(data, SCHEMA)


def test_renderers_are_a_table() -> None:
    assert set(RENDERERS) == {"text", "json", "html", "speedscope"}


def test_text_report_ranks_and_shows_the_source_line(report: Report) -> None:
    text = render(report, "text")
    assert text.startswith("asynccheck: 1 slow callback(s) >= 100 ms")
    assert "task 'staller' stalls()" in text
    # the site leads, then the callback that proves it
    assert text.index("Hotspots: where the time went, by total (1 site):") < text.index(
        "Slow callbacks (longest first):"
    )
    assert "time.sleep(0.15)" in text  # the line itself, from linecache
    assert "Left behind when the loop closed:" in text and "left-behind" in text
    assert "Profile (pyinstrument" in text


def test_html_is_one_self_contained_file(report: Report) -> None:
    page = render(report, "html")
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    # nothing fetched from elsewhere: no external scripts, styles, images or frames
    assert not re.search(r"""<(script|link|img|iframe)[^>]+(src|href)=["']?(https?:)?//""", page)
    assert "<svg" in page and "staller" in page
    assert page.count('<div class="spot"') == 1 and 'class="cb c0"' in page  # coloured by site
    assert "<iframe" in page and "srcdoc=" in page  # pyinstrument's page, inlined
    assert page.count("<html") == 1  # the embedded page is escaped inside srcdoc


def test_html_without_profile_says_so() -> None:
    page = render(Report(), "html")
    assert "Profiling was off" in page and "<iframe" not in page


def test_speedscope_comes_from_pyinstrument(report: Report) -> None:
    data = json.loads(render(report, "speedscope"))
    assert data["$schema"] == "https://www.speedscope.app/file-format-schema.json"
    with pytest.raises(ValueError, match="no-profile"):
        render(Report(), "speedscope")


def test_ordering_is_deterministic() -> None:
    site_a, site_b = Site("/a.py", 1, "f"), Site("/b.py", 2, "g")
    cbs = [
        SlowCallback(120.0, "<Handle>", None, None, site_b, (site_b,)),
        SlowCallback(300.0, "<Handle>", None, None, site_a, (site_a,)),
        SlowCallback(120.0, "<Handle>", None, None, site_a, (site_a,)),
    ]
    ordered = sorted(cbs, key=SlowCallback.sort_key)
    assert [(c.duration_ms, c.location.file) for c in ordered] == [
        (300.0, "/a.py"),
        (120.0, "/a.py"),
        (120.0, "/b.py"),
    ]
    leaks = sorted([Leak("task", "b", None), Leak("exception", "a", None)], key=Leak.sort_key)
    assert [x.kind for x in leaks] == ["exception", "task"]
    call = BlockingCall("time.sleep", 5.0, None, site_a, (site_a,))
    assert call.to_json()["location"] == {"file": "/a.py", "line": 1, "function": "f"}
