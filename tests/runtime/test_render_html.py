"""The HTML report: coloured by site, a card per hotspot, light with a service's numbers."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

from asynccheck.runtime.render import render
from asynccheck.runtime.render.html import BUCKETS, MAX_SLOW_CARDS, PALETTE
from asynccheck.runtime.report import LagPoint, Leak, Report, Site

from .test_render_json import full_report, group, report_of, service_report, site, slow, stall


def legend(page: str) -> list[str]:
    """The text of each entry of the timeline's legend."""
    [body] = re.findall(r'<div class="legend">(.*?)</div>', page)
    return [
        re.sub(r"<[^>]+>", "", entry)
        for entry in re.split(r'(?=<span[^>]*><i class="sw)', body)[1:]
    ]


def forty_sites() -> Report:
    """1,200 slow callbacks over 40 sites, 30 each; site i is slower than site i + 1."""
    cbs = [
        slow(site(i), 500.0 - 10 * i + k / 10, (i * 30 + k) * 0.05, task=f"Task-{i}-{k}")
        for i in range(40)
        for k in range(30)
    ]
    return report_of(cbs, loop_lag=tuple(LagPoint(c.at_s, c.duration_ms) for c in cbs))


def test_the_legend_stays_bounded_with_1200_callbacks_over_40_sites() -> None:
    page = render(forty_sites(), "html")
    entries = legend(page)
    assert len(entries) == len(PALETTE) + 1 == 13  # a dozen sites and "other"
    assert entries[-1].startswith("28 other site(s)")
    assert not any("Task-" in e for e in entries)  # by site, not one colour per task


def test_the_timeline_is_coloured_by_site() -> None:
    page = render(forty_sites(), "html")
    svg = page[page.index("<svg") : page.index("</svg>")]
    slots = set(re.findall(r'class="cb c(\d+)"', svg))
    assert slots == {str(i) for i in range(len(PALETTE) + 1)}
    # the top site has the first colour; the 40th shares "other" with the tail
    assert re.search(r'class="cb c0"[^>]*><title>[^<]*h0\.py:10 in handler_0', svg)
    assert re.search(r'class="cb c11"[^>]*><title>[^<]*h11\.py:21 in handler_11', svg)
    assert re.search(rf'class="cb c{len(PALETTE)}"[^>]*><title>[^<]*h39\.py:49', svg)
    assert f"c{len(PALETTE) + 1}" not in page


def test_every_hotspot_has_a_card_with_its_code(tmp_path: Path) -> None:
    app = tmp_path / "app.py"
    app.write_text("async def fetch_user():\n    row = db.get()\n    time.sleep(0.2)\n")
    hot = Site(str(app), 3, "fetch_user")
    cbs = [slow(hot, 300.0, 1.0, request="GET /users/1", blocking_call="time.sleep")]
    cbs += [slow(site(i), 110.0, 2.0 + i) for i in range(40)]
    page = render(report_of(cbs), "html")
    cards = re.findall(r'<div class="spot".*?(?=<div class="spot"|</div></section>)', page)
    assert len(cards) == 41
    assert ">#1<" in cards[0] and "300.0 ms" in cards[0] and "time.sleep" in cards[0]
    assert '<span class="hot"><em>3</em>    time.sleep(0.2)</span>' in cards[0]
    assert "e.g. task &#x27;Task-1000&#x27; fetch_user() serving GET /users/1" in cards[0]
    assert all("h" in c and "handler_" in c for c in cards[1:])


def test_a_service_report_stays_light() -> None:
    # 1,200 slow callbacks from 3 sites, 20,000 long loop iterations, a few stalls, no profile
    report = service_report()
    page = render(report, "html")
    assert len(page.encode()) < 400_000  # about 250 kB measured
    svg = page[page.index("<svg") : page.index("</svg>")]
    assert svg.count("<path") == 1  # the 20,000 iterations are one path of <= BUCKETS bars
    assert svg.count("M") <= BUCKETS + 1
    assert svg.count('class="cb ') <= 3 * BUCKETS
    assert page.count('<div class="slow">') == MAX_SLOW_CARDS
    assert "the 50 longest of 1,200; every site has its card above" in page
    assert page.count('<div class="spot"') == 3


def test_the_timeline_keeps_the_longest_iteration_of_each_slice() -> None:
    lag = [LagPoint(i * 0.003, 5.0) for i in range(20_000)]
    lag[12_345] = LagPoint(lag[12_345].at_s, 900.0)
    page = render(Report(wall_s=60.0, loops=1, loop_lag=tuple(lag)), "html")
    svg = page[page.index("<svg") : page.index("</svg>")]
    assert ">900</text>" in svg  # the y axis reaches the spike
    assert "V12.0h" in svg  # and its bar reaches the top of the plot


def test_user_strings_are_escaped() -> None:
    evil = "<script>alert(1)</script>"
    cb = slow(site(1), 150.0, 1.0, request=f"GET /search?q={evil}", task=f"Task {evil}")
    report = report_of(
        [cb],
        notes=(f"note {evil}",),
        leaks=(Leak("resource", f"unclosed {evil}", None),),
        argv=("app.py", evil),
        stalls=(stall(160.0, 2.0, group(Site("/a.py", 1, evil), 3, 120.0, 50.0)),),
    )
    page = render(report, "html")
    assert "<script" not in page
    assert "GET /search?q=&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert page.count("&lt;script&gt;") >= 6

    class Tags(HTMLParser):
        seen: set[str] = set()

        def handle_starttag(self, tag: str, attrs: object) -> None:
            self.seen.add(tag)

    parser = Tags()
    parser.feed(page)
    assert "script" not in parser.seen


def test_notes_are_shown_first_and_a_run_without_loops_says_so() -> None:
    page = render(Report(), "html")
    notes = page[page.index('<div class="notes">') : page.index('<div class="cards">')]
    assert "no event loop was observed, so nothing was timed" in notes
    assert "no loop observed" in page and "Profiling was off" in page
    told = render(report_of([slow(site(1), 150.0)], notes=("uvloop ran in a thread",)), "html")
    assert "<p>uvloop ran in a thread</p>" in told


def test_stalls_are_listed_with_their_sites() -> None:
    report = full_report()
    page = render(report, "html")
    stalls = page[page.index("<h2>Stalls") : page.index("<h2>Slow callbacks")]
    assert "180.5 ms" in stalls and "3.000s" in stalls
    assert "20 x <span" in stalls and "h1.py:11 in handler_1" in stalls
    assert "thread &#x27;worker-1&#x27;, pid 815" in stalls
    svg = page[page.index("<svg") : page.index("</svg>")]
    assert 'class="st c' in svg and "stall of 180.5 ms" in svg


def test_several_processes_are_shown() -> None:
    page = render(full_report(), "html")
    assert "2 loop(s) in 2 processes" in page
    procs = page[page.index("<h2>Processes") :]
    assert "<td>parent</td>" in procs and "<td>child</td>" in procs
    assert "<th>pid</th>" in page[page.index("<h2>Left behind") :]
    single = render(report_of([slow(site(1), 150.0)]), "html")
    assert "<h2>Processes" not in single and "<th>pid</th>" not in single


def test_a_short_list_of_slow_callbacks_is_open_a_long_one_collapsed() -> None:
    few = render(report_of([slow(site(1), 150.0, k) for k in range(3)]), "html")
    many = render(report_of([slow(site(1), 150.0, k) for k in range(30)]), "html")
    assert "<details open><summary>Show them (all 3, longest first)" in few
    assert "<details><summary>Show them (all 30, longest first)" in many
