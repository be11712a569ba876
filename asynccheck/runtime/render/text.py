"""The terminal report: what blocked the loop, where, and the profile trimmed to what matters.

Order is what a reader acts on: the notes they must not miss, then the sites to fix (every one
of them: a site hidden behind "N more" is a bug nobody fixes), then the longest single
callbacks as evidence, then stalls, blocking calls, leaks and the profile.
"""

from __future__ import annotations

from collections.abc import Sequence

from asynccheck.runtime.render.common import (
    GIL_WORTH_SAYING,
    example_of,
    hotspots_of,
    longest_by_site,
    ms,
    notes_of,
    percent,
    plural,
    ran_on,
    several_processes,
    short_path,
    slow_seen,
    source_line,
    stall_sites,
    where,
    who,
)
from asynccheck.runtime.report import CallbackGroup, Hotspot, Report, Stall
from asynccheck.runtime.sites import Site

MAX_SLOW = 10  # individual callbacks: evidence only, every site is already listed above them
MAX_BLOCKING = 10
MAX_STALLS = 10
MAX_STALL_GROUPS = 6  # per stall; all of their sites are listed in the table before them
COMPACT_AFTER = 20  # more hotspots than this: two lines each (numbers and source line)

# Columns of the site tables: total, share, count, max, where.
_HEAD = f"  {'total':>10} {'share':>5} {'count':>7} {'max':>10}  where"
_INDENT = " " * 39  # under "where"

_STYLES = {"title": "1", "note": "1;33", "hot": "1;31", "dim": "2"}


def _paint(text: str, style: str, color: bool) -> str:
    return f"\x1b[{_STYLES[style]}m{text}\x1b[0m" if color and text else text


def _stack_line(stack: Sequence[Site]) -> str:
    parts = [f"{short_path(s.file).rsplit('/', 1)[-1]}:{s.line} {s.function}" for s in stack]
    if len(parts) > 6:
        parts = [*parts[:2], "...", *parts[-3:]]
    return " > ".join(parts)


def _summary(report: Report, spots: Sequence[Hotspot]) -> str:
    seen = slow_seen(report)
    worst = max((cb.duration_ms for cb in report.slow_callbacks), default=0.0)
    loops = "no loop observed" if report.loops == 0 else f"{report.loops} loop(s)"
    if len(set(report.processes)) > 1:
        loops += f" in {len(set(report.processes))} processes"
    return (
        f"asynccheck: {seen:,} slow callback(s) >= {report.threshold_ms:g} ms"
        + (f" (worst {ms(worst)})" if worst else "")
        + (f" at {len(spots):,} site(s)" if spots else "")
        + (f", {len(report.stalls):,} stall(s)" if report.stalls else "")
        + f", {len(report.blocking_calls)} blocking call(s), {len(report.leaks)} leak(s);"
        f" {loops}, wall {report.wall_s:.2f} s"
    )


def _source(site: Site, indent: str) -> list[str]:
    line = source_line(site)
    return [f"{indent}{site.line:>6} | {line.strip()}"] if line else []


def _site_row(total: float, share: float, count: int, longest: float, site: Site) -> str:
    return f"  {ms(total):>10} {percent(share):>5} {count:>7,} {ms(longest):>10}  {where(site)}"


def _hotspots(report: Report, spots: Sequence[Hotspot], color: bool) -> list[str]:
    grand = sum(h.total_ms for h in spots) or 1.0
    longest = longest_by_site(report.slow_callbacks)
    compact = len(spots) > COMPACT_AFTER
    out = [
        "",
        _paint(
            f"Hotspots: where the time went, by total ({plural(len(spots), 'site')}):",
            "title",
            color,
        ),
        _paint(_HEAD, "dim", color),
    ]
    for h in spots:
        row = _site_row(h.total_ms, h.total_ms / grand * 100, h.count, h.max_ms, h.location)
        if h.blocking_call:
            row += f"  [{h.blocking_call}]"
        out.append(_paint(row, "hot", color) if h is spots[0] else row)
        out += _source(h.location, _INDENT)
        if not compact:
            cb = longest.get(h.location)
            example = example_of(h, cb)
            if example:
                out.append(f"{_INDENT}e.g. {example}")
    return out


def _slow(report: Report, color: bool) -> list[str]:
    kept = report.slow_callbacks
    seen = slow_seen(report)
    shown = kept[:MAX_SLOW]
    title = (
        "Slow callbacks (longest first):"
        if len(shown) == seen
        else f"Longest slow callbacks ({len(shown):,} of {seen:,}; every site is listed above):"
    )
    show_pid = several_processes(report)
    out = ["", _paint(title, "title", color)]
    pad = " " * 14
    for cb in shown:
        head = f"  {ms(cb.duration_ms):>10}  {who(cb)}"
        if cb.request:
            head += f" serving {cb.request}"
        out.append(head)
        out.append(f"{pad}time went: {where(cb.location)}")
        out += _source(cb.location, pad)
        place = ran_on(cb.thread, cb.pid, show_pid=show_pid)
        if place:
            out.append(f"{pad}on {place}")
        if cb.blocking_call:
            out.append(f"{pad}blocking call: {cb.blocking_call}")
        if cb.gil_held_ms >= GIL_WORTH_SAYING * cb.duration_ms:
            out.append(
                f"{pad}a C call held the GIL for {ms(cb.gil_held_ms)} (no sample could be taken)"
            )
        if cb.task_created_at:
            out.append(f"{pad}task created at {where(cb.task_created_at)}")
        if cb.task:
            out.append(f"{pad}callback: {cb.callback}")
        if len(cb.stack) > 1:
            out.append(f"{pad}stack: {_stack_line(cb.stack)}")
    return out


def _group_line(g: CallbackGroup) -> str:
    task = f" (task {g.task!r})" if g.task else ""
    return (
        f"{'':14}{g.count:>5,} x  total {ms(g.total_ms)}, max {ms(g.max_ms)}"
        f"  {where(g.location)}{task}"
    )


def _stall(stall: Stall, show_pid: bool) -> list[str]:
    place = ran_on(stall.thread, stall.pid, show_pid=show_pid)
    head = f"  {ms(stall.duration_ms):>10}  at {stall.start_s:.3f} s" + (
        f", on {place}" if place else ""
    )
    out = [head]
    out += [_group_line(g) for g in stall.callbacks[:MAX_STALL_GROUPS]]
    rest = stall.callbacks[MAX_STALL_GROUPS:]
    if rest:
        total = sum(g.total_ms for g in rest)
        out.append(f"{'':14}and {plural(len(rest), 'other site')}, {ms(total)} together")
    return out


def _stalls(report: Report, color: bool) -> list[str]:
    stalls = report.stalls
    show_pid = several_processes(report)
    out = [
        "",
        _paint(
            f"Stalls: the loop held past {report.threshold_ms:g} ms by several shorter"
            f" callbacks together ({len(stalls):,}, longest first):",
            "title",
            color,
        ),
    ]
    if len(stalls) > 1:
        sites = stall_sites(stalls)
        grand = sum(g.total_ms for g in sites) or 1.0
        out += ["  Their callbacks by site, over all stalls:", _paint(_HEAD, "dim", color)]
        for g in sites:
            out.append(
                _site_row(g.total_ms, g.total_ms / grand * 100, g.count, g.max_ms, g.location)
            )
            out += _source(g.location, _INDENT)
        out.append("  The longest stalls:" if len(stalls) > MAX_STALLS else "  Each stall:")
    for stall in stalls[:MAX_STALLS]:
        out += _stall(stall, show_pid)
    if len(stalls) > MAX_STALLS:
        out.append(f"  ... and {len(stalls) - MAX_STALLS:,} shorter stalls (see --json/--html)")
    return out


def _blocking(report: Report, color: bool) -> list[str]:
    show_pid = several_processes(report)
    out = ["", _paint("Blocking calls on the loop thread:", "title", color)]
    for b in report.blocking_calls[:MAX_BLOCKING]:
        approx = "" if b.exact else "<= "
        task = f"task {b.task!r}" if b.task else "no task"
        if show_pid and b.pid:
            task += f", pid {b.pid}"
        # the duration is the longest call's: say so when the line made several
        count = f", the longest of {b.count} calls here" if b.count > 1 else ""
        out.append(f"  {approx + ms(b.duration_ms):>12}  {b.call} ({task}){count}")
        out.append(f"{'':14}at {where(b.location)}")
        out += _source(b.location, " " * 14)
        if len(b.stack) > 1:
            out.append(f"{'':14}stack: {_stack_line(b.stack)}")
    if len(report.blocking_calls) > MAX_BLOCKING:
        out.append(
            f"  ... and {len(report.blocking_calls) - MAX_BLOCKING} more (see --json/--html)"
        )
    return out


def _leaks(report: Report, color: bool) -> list[str]:
    show_pid = several_processes(report)
    out = ["", _paint("Left behind when the loop closed:", "title", color)]
    for leak in report.leaks:
        pid = f"  (pid {leak.pid})" if show_pid and leak.pid else ""
        out.append(f"  {leak.kind:<9}  {leak.what}{pid}")
        if leak.created_at:
            out.append(f"{'':13}created at {where(leak.created_at)}")
    return out


def render(report: Report, *, profile_tree: bool = True, color: bool = False) -> str:
    spots = hotspots_of(report)
    out = [_summary(report, spots)]
    pids = list(dict.fromkeys(report.processes))
    if len(pids) > 1:
        out.append(f"processes: {pids[0]} (parent), " + ", ".join(str(p) for p in pids[1:]))
    out += [_paint(f"note: {note}", "note", color) for note in notes_of(report)]

    if spots:
        out += _hotspots(report, spots, color)
    if report.slow_callbacks:
        out += _slow(report, color)
    if report.stalls:
        out += _stalls(report, color)
    if report.blocking_calls:
        out += _blocking(report, color)
    if report.leaks:
        out += _leaks(report, color)

    if profile_tree and report.profile_session is not None:
        from asynccheck.runtime.profiler import console_tree

        out += ["", "Profile (pyinstrument; frames under 1% of the run hidden):"]
        out.append(console_tree(report.profile_session, color=color).rstrip())
    # The HTML file is this report (the profile inside it only when profiling was on).
    files = [
        ("HTML report", report.profile_html),
        ("speedscope profile", report.profile_speedscope),
    ]
    if any(path for _, path in files):
        out += ["", *(f"{label}: {path}" for label, path in files if path)]
    return "\n".join(out) + "\n"
