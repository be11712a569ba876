"""The terminal report: notes first, every site ranked by total, then the evidence."""

from __future__ import annotations

import re
from pathlib import Path

from asynccheck.runtime.render import render
from asynccheck.runtime.report import Hotspot, Report, Site

from .test_render_json import full_report, group, report_of, service_report, site, slow, stall


def section(text: str, title: str) -> str:
    """The lines of one section: from its title to the next blank line."""
    start = text.index(title)
    end = text.find("\n\n", start)
    return text[start : end if end >= 0 else len(text)]


def test_every_hotspot_is_listed_with_many_sites() -> None:
    # 14 callbacks from 2 sites once showed 10 near-identical entries and "... and 4 more",
    # hiding the second site. With 150 sites, every one of them is still named.
    cbs = [slow(site(i), 100.0 + i, i * 0.1) for i in range(150)]
    cbs += [slow(site(0), 300.0, 20.0 + k) for k in range(13)]
    text = render(report_of(cbs), "text", profile_tree=False)
    spots = section(text, "Hotspots:")
    assert "(150 sites)" in spots
    for i in range(150):
        assert f"h{i}.py:{10 + i} in handler_{i}" in spots
    assert "more" not in spots


def test_many_hotspots_take_at_most_two_lines_each(tmp_path: Path) -> None:
    app = tmp_path / "app.py"
    app.write_text("".join(f"def f{i}():\n    work({i})\n" for i in range(60)))
    cbs = [slow(Site(str(app), 2 * i + 2, f"f{i}"), 100.0 + i) for i in range(60)]
    spots = section(render(report_of(cbs), "text"), "Hotspots:")
    rows = spots.splitlines()[2:]  # past the title and the column heads
    assert len(rows) == 2 * 60  # the numbers and the source line; no example line
    assert rows[0].endswith(f"{app.name}:120 in f59") and rows[1].strip() == "120 | work(59)"


def test_hotspots_are_ranked_by_total_and_lead_the_report() -> None:
    once, often, some = site(1), site(2), site(3)
    cbs = [slow(once, 900.0, 1.0)]  # the longest single callback, but 900 ms in all
    cbs += [slow(often, 120.0, 2.0 + k) for k in range(10)]  # 1,200 ms
    cbs += [slow(some, 350.0, 20.0 + k) for k in range(3)]  # 1,050 ms
    report = report_of(cbs)
    shuffled = Report(**{**report.__dict__, "hotspots": report.hotspots[::-1]})
    text = render(shuffled, "text", profile_tree=False)
    rows = [line for line in section(text, "Hotspots:").splitlines() if " in handler_" in line]
    assert [row.rsplit(" ", 1)[-1] for row in rows] == ["handler_2", "handler_3", "handler_1"]
    assert re.search(r"1,200\.0 ms\s+38%\s+10\s+120\.0 ms  .*h2\.py:12 in handler_2", rows[0])
    # the site to fix comes before the single callbacks that prove it
    assert text.index("Hotspots:") < text.index("Longest slow callbacks (10 of 14;")


def test_hotspot_shows_the_source_line_the_blocking_call_and_an_example_request(
    tmp_path: Path,
) -> None:
    app = tmp_path / "app.py"
    app.write_text("async def fetch_user():\n    time.sleep(0.3)  # blocks\n")
    where = Site(str(app), 2, "fetch_user")
    cbs = [
        slow(where, 310.0, 1.0, task="Task-7", request="GET /users/7", blocking_call="time.sleep"),
        slow(where, 305.0, 2.0, task="Task-8", request="GET /users/8"),
    ]
    spots = section(render(report_of(cbs), "text"), "Hotspots:")
    assert "in fetch_user  [time.sleep]" in spots
    assert "2 | time.sleep(0.3)  # blocks" in spots
    assert "e.g. task 'Task-7' fetch_user() serving GET /users/7" in spots


def test_notes_come_right_after_the_summary() -> None:
    report = report_of(
        [slow(site(1), 150.0)], notes=("3 tests could not be watched: own loop factory",)
    )
    lines = render(report, "text", profile_tree=False).splitlines()
    assert lines[0].startswith("asynccheck: 1 slow callback(s) >= 100 ms")
    assert lines[1] == "note: 3 tests could not be watched: own loop factory"


def test_a_run_that_observed_no_loop_says_so_and_why() -> None:
    text = render(Report(wall_s=1.0), "text", profile_tree=False)
    first, note = text.splitlines()[:2]
    assert "no loop observed" in first and "0 loop(s)" not in first
    assert note.startswith("note: no event loop was observed, so nothing was timed: ")
    # the recorder's own explanation is shown instead, not a second one beside it
    told = Report(notes=("no event loop was observed: uvloop's policy was installed after us",))
    lines = render(told, "text").splitlines()
    assert [line for line in lines if line.startswith("note:")] == [
        "note: no event loop was observed: uvloop's policy was installed after us"
    ]


def test_slow_callbacks_name_request_thread_pid_and_gil_time() -> None:
    text = render(full_report(), "text", profile_tree=False)
    evidence = section(text, "Longest slow callbacks (2 of 7; every site is listed above):")
    assert "251.2 ms  task 'Task-1500' handler_1() serving GET /orders" in evidence
    assert "on thread 'worker-1', pid 815" in evidence  # two processes: pids are shown
    assert "on pid 812" in evidence  # the main thread is not named, the pid is
    assert "a C call held the GIL for 40.1 ms" in evidence
    assert "task created at /srv/app/main.py:30 in main" in evidence
    assert "processes: 812 (parent), 815" in text
    assert "(pid 815)" in section(text, "Left behind")
    # one process: no pids anywhere
    single = render(report_of([slow(site(1), 150.0, pid=812)]), "text", profile_tree=False)
    assert "pid" not in single


def test_stalls_show_their_callbacks_grouped_by_site() -> None:
    tick, render_orders = site(1), site(2)
    one = stall(180.0, 3.5, group(tick, 20, 150.0, 9.5), group(render_orders, 2, 30.0, 16.0))
    text = render(report_of([], stalls=(one,)), "text", profile_tree=False)
    assert "0 slow callback(s) >= 100 ms, 1 stall(s)" in text
    stalls = section(text, "Stalls:")
    assert "180.0 ms  at 3.500 s" in stalls
    assert "20 x  total 150.0 ms, max 9.5 ms  /srv/app/handlers/h1.py:11 in handler_1" in stalls
    assert "2 x  total 30.0 ms, max 16.0 ms  /srv/app/handlers/h2.py:12 in handler_2" in stalls


def test_many_stalls_sum_their_sites_and_show_the_longest() -> None:
    stalls = tuple(
        stall(300.0 - k, float(k), group(site(k % 3), 10, 120.0, 15.0)) for k in range(25)
    )
    text = render(report_of([], stalls=stalls), "text", profile_tree=False)
    by_site = section(text, "  Their callbacks by site, over all stalls:")
    assert re.search(r"1,080\.0 ms\s+36%\s+90\s+15\.0 ms  .*in handler_0", by_site)
    assert "in handler_1" in by_site and "in handler_2" in by_site
    assert "... and 15 shorter stalls" in text
    assert text.count("  at ") == 10


def test_a_service_run_reads_top_down() -> None:
    text = render(service_report(), "text", profile_tree=False)
    assert text.startswith("asynccheck: 1,200 slow callback(s) >= 100 ms")
    assert "at 3 site(s), 4 stall(s)" in text.splitlines()[0]
    order = ["Hotspots:", "Longest slow callbacks (10 of 1,200", "Stalls:"]
    assert [text.index(title) for title in order] == sorted(text.index(t) for t in order)
    assert len(text.splitlines()) < 200  # 1,200 callbacks do not make 1,200 entries


def test_profile_tree_and_color_options() -> None:
    report = report_of(
        [slow(site(1), 150.0)],
        notes=("a note",),
        profile_html="r.html",
        profile_speedscope="p.json",
    )
    plain = render(report, "text", profile_tree=False, color=False)
    colored = render(report, "text", profile_tree=False, color=True)
    assert "\x1b[" not in plain and "\x1b[1;33mnote: a note\x1b[0m" in colored
    assert re.sub(r"\x1b\[[0-9;]*m", "", colored) == plain
    assert plain.rstrip().endswith("HTML report: r.html\nspeedscope profile: p.json")


def test_text_is_deterministic() -> None:
    report = service_report(sites=8, callbacks=300, lag_points=100)
    assert render(report, "text") == render(Report.from_json(report.to_json()), "text")


def test_hotspot_without_the_recorders_example_uses_its_longest_callback() -> None:
    where = site(4)
    report = report_of(
        [slow(where, 200.0, 1.0, task="Task-2", request="POST /pay")],
        hotspots=(Hotspot(where, 1, 200.0, 200.0),),
    )
    assert "e.g. task 'Task-2' handler_4() serving POST /pay" in render(report, "text")
