"""What the text and HTML renderers both need: paths and source lines, durations, who a callback
was, and the report's slow work grouped by site."""

from __future__ import annotations

import linecache
import os
from collections.abc import Iterable
from dataclasses import replace

from asynccheck.runtime.report import CallbackGroup, Hotspot, Report, SlowCallback, Stall
from asynccheck.runtime.sites import Site

# A slow callback's unsampled time is worth a line once it is this share of its duration; below
# it, it is the sampler's own jitter (a few ms in a 250 ms pure-Python loop), not a C call.
GIL_WORTH_SAYING = 0.1


def short_path(path: str) -> str:
    """A path relative to the working directory when it is under it, else as it is."""
    if path.startswith("<"):
        return path
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return path
    return path if rel.startswith("..") else rel


def where(site: Site) -> str:
    if site.line <= 0 and site.file.startswith(
        "<"
    ):  # not a line of code: "<loop>", "<not sampled>"
        return site.function
    return f"{short_path(site.file)}:{site.line} in {site.function}"


def source_line(site: Site) -> str:
    return linecache.getline(site.file, site.line).rstrip() if site.line > 0 else ""


def source_lines(site: Site, around: int = 2) -> list[tuple[int, str]]:
    """(line number, text) for the lines around `site`, for a code excerpt."""
    if site.line <= 0 or not linecache.getline(site.file, site.line):
        return []  # the file is not here (another machine, a child's temp file)
    out = []
    for n in range(max(1, site.line - around), site.line + around + 1):
        text = linecache.getline(site.file, n)
        if not text and n > site.line:
            break
        out.append((n, text.rstrip("\n")))
    return out


def percent(share: float) -> str:
    """A share of 0-100 as '34%', and '<1%' rather than a misleading '0%'."""
    return f"{share:.0f}%" if share >= 0.5 else "<1%"


def ms(value: float) -> str:
    return f"{value:,.1f} ms" if value < 10_000 else f"{value / 1000:,.2f} s"


def plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n:,} {word if n == 1 else many or word + 's'}"


def who(cb: SlowCallback) -> str:
    """The task and coroutine a callback stepped, or the callback itself."""
    if cb.task:
        return f"task {cb.task!r} {cb.coroutine}()" if cb.coroutine else f"task {cb.task!r}"
    return cb.callback


def slow_seen(report: Report) -> int:
    """How many slow callbacks the run had (`slow_callbacks` may keep only the longest)."""
    return max(report.slow_callbacks_seen, len(report.slow_callbacks))


def several_processes(report: Report) -> bool:
    """Whether pids are worth showing: the report merges more than one process."""
    pids = set(report.processes)
    if len(pids) > 1:
        return True
    seen = {cb.pid for cb in report.slow_callbacks} | {b.pid for b in report.blocking_calls}
    seen |= {leak.pid for leak in report.leaks} | {st.pid for st in report.stalls}
    return len((seen | pids) - {0}) > 1  # 0: a record from before pids were kept


def notes_of(report: Report) -> list[str]:
    """What the reader must see before anything else. Never a silent "0 loops": a run that
    timed nothing says so, and why that may be, when the recorder has not said it already."""
    notes = list(report.notes)
    observed = report.loops or report.slow_callbacks or report.stalls
    if not observed and not any("loop" in n for n in notes):
        notes.append(
            "no event loop was observed, so nothing was timed: the program may not use asyncio,"
            " may make its loop in a way asynccheck does not hook, or may run it in a process"
            " or thread that was not followed"
        )
    return notes


def ran_on(thread: str, pid: int, *, show_pid: bool) -> str:
    """'thread 'worker-1', pid 812' with the parts worth saying; '' for the main thread of a
    report with one process."""
    parts = []
    if thread and thread != "MainThread":
        parts.append(f"thread {thread!r}")
    if show_pid and pid:
        parts.append(f"pid {pid}")
    return ", ".join(parts)


def hotspots_of(report: Report) -> tuple[Hotspot, ...]:
    """The report's hotspots, ranked by total; for a report made without them (an older JSON
    file), the slow callbacks it kept, grouped by location the same way."""
    if report.hotspots or not report.slow_callbacks:
        return tuple(sorted(report.hotspots, key=Hotspot.sort_key))
    groups: dict[Site, list[SlowCallback]] = {}
    for cb in report.slow_callbacks:
        groups.setdefault(cb.location, []).append(cb)
    spots = []
    for site, members in groups.items():
        longest = max(members, key=lambda c: c.duration_ms)
        spots.append(
            Hotspot(
                location=site,
                count=len(members),
                total_ms=sum(c.duration_ms for c in members),
                max_ms=longest.duration_ms,
                blocking_call=longest.blocking_call,
                example=who(longest),
            )
        )
    return tuple(sorted(spots, key=Hotspot.sort_key))


def longest_by_site(callbacks: Iterable[SlowCallback]) -> dict[Site, SlowCallback]:
    """The longest kept slow callback of each location: a hotspot's request, thread and pid."""
    out: dict[Site, SlowCallback] = {}
    for cb in callbacks:
        best = out.get(cb.location)
        if best is None or cb.duration_ms > best.duration_ms:
            out[cb.location] = cb
    return out


def example_of(spot: Hotspot, longest: SlowCallback | None) -> str:
    """Who the hotspot's longest callback was, and the request it served when known."""
    text = spot.example or (who(longest) if longest else "")
    if longest is not None and longest.request and longest.request not in text:
        text = f"{text} serving {longest.request}" if text else f"serving {longest.request}"
    return text


def stall_sites(stalls: Iterable[Stall]) -> list[CallbackGroup]:
    """The callbacks of all stalls grouped by site, by total, largest first: what to fix when
    the loop is held by many short callbacks rather than one long one."""
    acc: dict[Site, CallbackGroup] = {}
    for stall in stalls:
        for g in stall.callbacks:
            seen = acc.get(g.location)
            acc[g.location] = (
                g
                if seen is None
                else replace(
                    seen,
                    count=seen.count + g.count,
                    total_ms=seen.total_ms + g.total_ms,
                    max_ms=max(seen.max_ms, g.max_ms),
                )
            )
    return sorted(acc.values(), key=lambda g: (-g.total_ms, g.location.file, g.location.line))
