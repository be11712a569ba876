"""One self-contained HTML page: the loop-lag timeline coloured by site, a card per hotspot, the
stalls and the evidence, beside the profile.

No scripts and no external assets of our own: the timeline is inline SVG drawn here, so the page
works offline, from a CI artifact or an email attachment. The profile is pyinstrument's own
interactive page, embedded through `<iframe srcdoc>` (its JS and CSS are inlined by
pyinstrument), so the file stays one file.

The page must stay light for a service run (20,000 requests, 1,200 slow callbacks): the timeline
draws at most one bar per slice of time and site (the longest), the grey loop iterations are one
SVG path, and the individual callbacks, stalls and tables are capped. Every site keeps its card.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from typing import Any, Callable, TypeVar

from asynccheck.runtime.render.common import (
    GIL_WORTH_SAYING,
    example_of,
    hotspots_of,
    longest_by_site,
    ms,
    notes_of,
    percent,
    ran_on,
    several_processes,
    short_path,
    slow_seen,
    source_line,
    source_lines,
    stall_sites,
    where,
    who,
)
from asynccheck.runtime.report import CallbackGroup, Hotspot, Report, SlowCallback, Stall
from asynccheck.runtime.sites import Site

T = TypeVar("T")

# One colour per top site, in rank order, then one for all the others. Distinct in hue and
# lightness, so neighbours on the timeline stay apart.
PALETTE = (
    "#e4572e",
    "#2e86ab",
    "#f2a541",
    "#3b8e5a",
    "#8e44ad",
    "#17a398",
    "#d6336c",
    "#8c6d1f",
    "#1d3fa8",
    "#8fbf26",
    "#5a3e36",
    "#f78fb3",
)
OTHER_COLOR = "#52606d"
IDLE_COLOR = "#cbd2d9"
OTHER = len(PALETTE)  # the colour slot of every site past the top ones

BUCKETS = 900  # timeline slices: about one per pixel of the plot
MAX_SLOW_CARDS = 50  # individual slow callbacks; every site already has its card
CODE_CARDS = 24  # hotspots past this get a slim card: numbers and location, no excerpt
MAX_STALLS = 30
MAX_ROWS = 200  # blocking calls, leaks

CSS = (
    """
:root { --bg:#f6f7f9; --card:#fff; --ink:#1f2933; --muted:#616e7c; --line:#e4e7eb;
        --bad:#d64545; --ok:#3b8e5a; }
* { box-sizing: border-box; }
body { margin:0; font:14px/1.45 -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif;
       color:var(--ink); background:var(--bg); }
header { padding:18px 24px 8px; }
h1 { margin:0 0 4px; font-size:20px; }
h1 small { font-weight:400; color:var(--muted); font-size:13px; margin-left:8px; }
.mono, .argv, .loc, .src, pre, ol.stack { font-family:ui-monospace, Menlo, Consolas, monospace; }
.argv { color:var(--muted); font-size:12px; }
.notes { margin:6px 24px 4px; }
.notes p { margin:0 0 6px; padding:8px 12px; background:#fff8e1; border:1px solid #f0b429;
           border-radius:6px; }
.notes p::before { content:"note: "; font-weight:700; }
.cards { display:flex; gap:10px; flex-wrap:wrap; padding:8px 24px 14px; }
.card { background:var(--card); border:1px solid var(--line); border-radius:8px; padding:8px 14px;
        min-width:110px; }
.card b { display:block; font-size:20px; }
.card span { color:var(--muted); font-size:12px; }
.card.bad b { color:var(--bad); } .card.ok b { color:var(--ok); }
.wide { padding:0 24px; }
main { display:grid; grid-template-columns:minmax(0,1fr); gap:16px; padding:0 24px 24px; }
main.two { grid-template-columns:minmax(0,1fr) minmax(0,1fr); }
@media (max-width:1100px) { main.two { grid-template-columns:1fr; } }
section { background:var(--card); border:1px solid var(--line); border-radius:8px; padding:12px 16px;
          margin-bottom:16px; }
h2 { font-size:15px; margin:0 0 10px; }
h3 { font-size:13px; margin:12px 0 6px; }
h2 .n, .muted { color:var(--muted); font-weight:400; }
.legend { display:flex; flex-wrap:wrap; gap:6px 14px; font-size:12px; margin-top:6px; }
.legend span { white-space:nowrap; }
.caption { font-size:12px; color:var(--muted); margin-top:4px; }
i.sw { display:inline-block; width:10px; height:10px; border-radius:2px; margin-right:4px;
       vertical-align:-1px; }
svg .lag { fill:IDLE; }
svg rect.st { fill:none; stroke-width:1.5; stroke-dasharray:3 2; }
svg rect.cb { stroke:#fff; stroke-width:.4; }
.spots { display:grid; grid-template-columns:repeat(auto-fill, minmax(420px, 1fr)); gap:10px; }
.spot { border:1px solid var(--line); border-left:6px solid; border-radius:6px; padding:8px 12px; }
.spot .head, .slow .head { display:flex; align-items:baseline; gap:8px; flex-wrap:wrap; }
.dur { font-weight:700; font-size:16px; }
.bar { height:5px; border-radius:3px; margin:4px 0 6px; }
.tag { font-size:12px; background:#eef2f7; border-radius:10px; padding:1px 8px; }
.tag.block { background:#fde2e2; color:#8a1c1c; }
.tag.req { background:#e3f2fd; color:#0b4f8a; }
.loc { font-size:12px; color:var(--muted); overflow-wrap:anywhere; }
.src { font-size:12px; white-space:pre; overflow-x:auto; }
pre.code { margin:6px 0 0; background:#0f1720; color:#d9e2ec; border-radius:6px; padding:6px 0;
           font-size:12px; line-height:1.5; overflow-x:auto; }
pre.code span { display:block; padding:0 10px; white-space:pre; }
pre.code span.hot { background:#5c1f1f; color:#fff; }
pre.code em { color:#829ab1; font-style:normal; display:inline-block; width:42px; }
.slow { border-top:1px solid var(--line); padding:8px 0; }
details { margin-top:6px; } summary { cursor:pointer; color:var(--muted); font-size:12px; }
section > details > summary { font-size:14px; color:var(--ink); }
ol.stack { margin:4px 0 0; padding-left:22px; font-size:12px; }
table { border-collapse:collapse; width:100%; font-size:13px; }
td, th { text-align:left; padding:5px 6px; border-top:1px solid var(--line); vertical-align:top; }
th { color:var(--muted); font-weight:500; border-top:0; }
td.num, th.num { text-align:right; white-space:nowrap; }
.kind { font-weight:600; text-transform:uppercase; font-size:11px; letter-spacing:.04em; }
.empty { color:var(--muted); }
iframe { width:100%; height:calc(100vh - 190px); min-height:640px; border:1px solid var(--line);
         border-radius:8px; background:#fff; }
.profile { position:sticky; top:12px; align-self:start; }
""".replace("IDLE", IDLE_COLOR)
    + "".join(
        f".c{i} {{ fill:{c}; stroke:{c}; background:{c}; }}\n"
        for i, c in enumerate((*PALETTE, OTHER_COLOR))
    )
)


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _capped(items: Sequence[T], cap: int, what: str) -> tuple[Sequence[T], str]:
    """The first `cap` items, and a line saying how many more the JSON report has."""
    if len(items) <= cap:
        return items, ""
    rest = len(items) - cap
    return items[:cap], f'<p class="empty">{rest:,} more {what} in the --json report.</p>'


class SiteColors:
    """The colour slot of each site: the top sites by total time get their own colour (the
    hotspots first, then sites seen only in stalls), every other site shares one."""

    def __init__(self, spots: Sequence[Hotspot], stalls: Sequence[Stall]) -> None:
        ranked: dict[Site, float] = {h.location: h.total_ms for h in spots}
        for g in stall_sites(stalls):
            ranked.setdefault(g.location, g.total_ms)
        self.ranked = list(ranked)
        self.totals = ranked
        self.slots = {site: i for i, site in enumerate(self.ranked[: len(PALETTE)])}

    def slot(self, site: Site) -> int:
        return self.slots.get(site, OTHER)

    def legend(self) -> str:
        items = [
            f'<span title="{_e(where(site))}"><i class="sw c{i}"></i>{_e(site.function)} '
            f'<span class="muted">{_e(_short_where(site))}</span></span>'
            for site, i in self.slots.items()
        ]
        others = len(self.ranked) - len(self.slots)
        if others:
            total = sum(self.totals[s] for s in self.ranked[len(self.slots) :])
            items.append(
                f'<span><i class="sw c{OTHER}"></i>{others:,} other site(s), {_e(ms(total))}</span>'
            )
        return f'<div class="legend">{"".join(items)}</div>' if items else ""


def _short_where(site: Site) -> str:
    return f"{short_path(site.file).rsplit('/', 1)[-1]}:{site.line}"


def _bucketed(
    items: Iterable[T], at: Callable[[T], float], size: Callable[[T], float], span: float
) -> dict[int, tuple[T, int]]:
    """The largest item of each of `BUCKETS` slices of [0, span], and how many fell there."""
    out: dict[int, tuple[T, int]] = {}
    for item in items:
        b = min(int(at(item) / span * BUCKETS), BUCKETS - 1) if span > 0 else 0
        best = out.get(b)
        if best is None:
            out[b] = (item, 1)
        else:
            out[b] = (item if size(item) > size(best[0]) else best[0], best[1] + 1)
    return out


def _timeline(report: Report, colors: SiteColors) -> str:
    """Inline SVG: x = when, height = how long the loop was held. Grey: the longest loop
    iteration of each slice; coloured: the longest slow callback of each site in each slice;
    dashed outlines: stalls."""
    width, height, left, right, bottom, top = 1000, 220, 46, 10, 26, 12
    plot_w, plot_h = width - left - right, height - bottom - top
    ends = [p.at_s + p.duration_ms / 1000 for p in report.loop_lag]
    ends += [cb.at_s + cb.duration_ms / 1000 for cb in report.slow_callbacks]
    ends += [st.start_s + st.duration_ms / 1000 for st in report.stalls]
    span = max([report.wall_s, 1e-3, *ends])
    peak = max(
        [p.duration_ms for p in report.loop_lag]
        + [cb.duration_ms for cb in report.slow_callbacks]
        + [st.duration_ms for st in report.stalls]
        + [report.threshold_ms * 1.25]
    )
    base = top + plot_h

    def y(v: float) -> float:
        return base - (v / peak) * plot_h

    def x(at: float) -> float:
        return left + plot_w * at / span

    def w(dur_ms: float) -> float:
        return max(plot_w * (dur_ms / 1000) / span, 1.6)

    parts = [
        f'<svg viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-label="loop lag over time" xmlns="http://www.w3.org/2000/svg" '
        f'font-family="sans-serif" font-size="10">',
        f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="#fbfcfd" stroke="#e4e7eb"/>',
    ]
    for i in range(5):  # y grid and labels
        v = peak * i / 4
        parts.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="#eef0f3"/>'
            f'<text x="{left - 4}" y="{y(v) + 3:.1f}" text-anchor="end" fill="#7b8794">{v:,.0f}</text>'
        )
    digits = 0 if span >= 30 else 1 if span >= 3 else 2
    for i in range(6):  # x ticks; the outer two anchored inward so they are not clipped
        t = span * i / 5
        anchor = "start" if i == 0 else "end" if i == 5 else "middle"
        parts.append(
            f'<text x="{left + plot_w * i / 5:.1f}" y="{height - 8}" text-anchor="{anchor}" '
            f'fill="#7b8794">{t:.{digits}f}s</text>'
        )
    parts.append(
        f'<text x="10" y="{top + plot_h / 2:.0f}" transform="rotate(-90 10 {top + plot_h / 2:.0f})" '
        f'text-anchor="middle" fill="#7b8794">blocked (ms)</text>'
    )

    # Grey: whole loop iterations, the longest of each slice, as one path (20,000 points in,
    # at most BUCKETS bars out, no element each).
    lag = _bucketed(report.loop_lag, lambda p: p.at_s, lambda p: p.duration_ms, span)
    if lag:
        d = "".join(
            f"M{x(p.at_s):.1f} {base}V{y(p.duration_ms):.1f}h{w(p.duration_ms):.1f}V{base}z"
            for _, (p, _n) in sorted(lag.items())
        )
        parts.append(
            f'<path class="lag" d="{d}"><title>{len(report.loop_lag):,} long loop iterations;'
            f" the longest of each {span / BUCKETS:.3g} s slice is drawn</title></path>"
        )

    # Coloured: slow callbacks, the longest of each (slice, site colour); the tallest first so
    # that shorter bars in the same slice stay visible in front of them.
    bars: dict[tuple[int, int], tuple[SlowCallback, int]] = {}
    by_slot: dict[int, list[SlowCallback]] = {}
    for cb in report.slow_callbacks:
        by_slot.setdefault(colors.slot(cb.location), []).append(cb)
    for slot, members in by_slot.items():
        for b, best in _bucketed(members, lambda c: c.at_s, lambda c: c.duration_ms, span).items():
            bars[(b, slot)] = best
    for (_, slot), (cb, n) in sorted(bars.items(), key=lambda kv: -kv[1][0].duration_ms):
        more = f" (the longest of {n} here)" if n > 1 else ""
        req = f" serving {cb.request}" if cb.request else ""
        label = (
            f"{cb.at_s:.3f}s: {ms(cb.duration_ms)}{more} at {where(cb.location)}, {who(cb)}{req}"
        )
        parts.append(
            f'<rect class="cb c{slot}" x="{x(cb.at_s):.1f}" y="{y(cb.duration_ms):.1f}" '
            f'width="{w(cb.duration_ms):.1f}" height="{base - y(cb.duration_ms):.1f}">'
            f"<title>{_e(label)}</title></rect>"
        )

    stalls = _bucketed(report.stalls, lambda s: s.start_s, lambda s: s.duration_ms, span)
    for _, (st, n) in sorted(stalls.items()):
        slot = colors.slot(st.callbacks[0].location) if st.callbacks else OTHER
        groups = "; ".join(
            f"{g.count} x {g.location.function} ({_short_where(g.location)}) {ms(g.total_ms)}"
            for g in st.callbacks[:4]
        )
        more = f" (the longest of {n} stalls here)" if n > 1 else ""
        label = f"{st.start_s:.3f}s: stall of {ms(st.duration_ms)}{more}: {groups}"
        parts.append(
            f'<rect class="st c{slot}" x="{x(st.start_s):.1f}" y="{y(st.duration_ms):.1f}" '
            f'width="{w(st.duration_ms):.1f}" height="{base - y(st.duration_ms):.1f}">'
            f"<title>{_e(label)}</title></rect>"
        )

    ty = y(report.threshold_ms)
    parts.append(
        f'<line x1="{left}" x2="{left + plot_w}" y1="{ty:.1f}" y2="{ty:.1f}" stroke="#d64545" '
        f'stroke-dasharray="5 4"/><text x="{left + plot_w - 4}" y="{ty - 4:.1f}" '
        f'text-anchor="end" fill="#d64545" stroke="#fff" stroke-width="3" paint-order="stroke">'
        f"threshold {report.threshold_ms:g} ms</text>"
    )
    parts.append("</svg>")
    return "".join(parts)


def _code(site: Site) -> str:
    lines = source_lines(site)
    if not lines:
        return ""
    rows = "".join(
        f'<span class="{"hot" if n == site.line else ""}"><em>{n}</em>{_e(text)}</span>'
        for n, text in lines
    )
    return f'<pre class="code">{rows}</pre>'


def _stack(stack: tuple[Site, ...]) -> str:
    if len(stack) <= 1:
        return ""
    items = "".join(f"<li>{_e(where(s))}</li>" for s in stack)
    return (
        f"<details><summary>stack ({len(stack)} frames, outermost first)</summary>"
        f'<ol class="stack">{items}</ol></details>'
    )


def _tag(text: str | None, cls: str = "") -> str:
    return f'<span class="tag {cls}">{_e(text)}</span>' if text else ""


def _hotspot(
    rank: int, h: Hotspot, share: float, slot: int, longest: SlowCallback | None, code: bool
) -> str:
    example = example_of(h, longest)
    return (
        f'<div class="spot" style="border-left-color:{(*PALETTE, OTHER_COLOR)[slot]}">'
        f'<div class="head"><span class="muted">#{rank}</span>'
        f'<span class="dur">{_e(ms(h.total_ms))}</span><span>total, {h.count:,} x,'
        f" max {_e(ms(h.max_ms))}</span>"
        f'<span class="muted">{percent(share)} of the slow time</span>{_tag(h.blocking_call, "block")}'
        f"</div>"
        f'<div class="bar c{slot}" style="width:{max(share, 1):.0f}%"></div>'
        f'<div class="loc">{_e(where(h.location))}</div>'
        + (f'<div class="loc">e.g. {_e(example)}</div>' if example else "")
        + (_code(h.location) if code else "")
        + "</div>"
    )


def _hotspots(report: Report, spots: Sequence[Hotspot], colors: SiteColors) -> str:
    if not spots:
        return f'<p class="empty">No callback held the loop for {report.threshold_ms:g} ms or more.</p>'
    grand = sum(h.total_ms for h in spots) or 1.0
    longest = longest_by_site(report.slow_callbacks)
    cards = "".join(
        _hotspot(
            i + 1,
            h,
            h.total_ms / grand * 100,
            colors.slot(h.location),
            longest.get(h.location),
            i < CODE_CARDS,
        )
        for i, h in enumerate(spots)
    )
    return f'<div class="spots">{cards}</div>'


def _slow(cb: SlowCallback, colors: SiteColors, show_pid: bool) -> str:
    place = ran_on(cb.thread, cb.pid, show_pid=show_pid)
    line = source_line(cb.location).strip()
    created = (
        f'<div class="loc">task created at {_e(where(cb.task_created_at))}</div>'
        if cb.task_created_at
        else ""
    )
    gil = (
        f'<div class="loc">a C call held the GIL for {_e(ms(cb.gil_held_ms))}'
        " (no sample could be taken)</div>"
        if cb.gil_held_ms >= GIL_WORTH_SAYING * cb.duration_ms
        else ""
    )
    return (
        f'<div class="slow"><div class="head"><i class="sw c{colors.slot(cb.location)}"></i>'
        f'<span class="dur">{_e(ms(cb.duration_ms))}</span>{_tag(who(cb))}'
        f"{_tag(cb.request, 'req')}{_tag(cb.blocking_call, 'block')}"
        f'<span class="loc">at {cb.at_s:.3f}s{_e(", " + place) if place else ""}</span></div>'
        f'<div class="loc">time went: {_e(where(cb.location))}</div>'
        + (f'<div class="src">{cb.location.line:>5} | {_e(line)}</div>' if line else "")
        + f"{gil}{created}{_stack(cb.stack)}</div>"
    )


def _slow_list(report: Report, colors: SiteColors, show_pid: bool) -> str:
    kept = report.slow_callbacks
    if not kept:
        return '<p class="empty">None.</p>'
    shown = kept[:MAX_SLOW_CARDS]
    seen = slow_seen(report)
    what = (
        f"all {seen:,}, longest first"
        if len(shown) == seen
        else f"the {len(shown):,} longest of {seen:,}; every site has its card above"
    )
    body = "".join(_slow(cb, colors, show_pid) for cb in shown)
    opened = " open" if len(shown) <= 10 else ""
    return f"<details{opened}><summary>Show them ({_e(what)})</summary>{body}</details>"


def _groups(groups: Sequence[CallbackGroup], colors: SiteColors) -> str:
    return "".join(
        f'<div><i class="sw c{colors.slot(g.location)}"></i>{g.count:,} x '
        f'<span class="loc">{_e(where(g.location))}</span> total {_e(ms(g.total_ms))},'
        f" max {_e(ms(g.max_ms))}{_e(f' (task {g.task})') if g.task else ''}</div>"
        for g in groups
    )


def _stalls(report: Report, colors: SiteColors, show_pid: bool) -> str:
    stalls = report.stalls
    if not stalls:
        return ""
    out = [
        f'<p class="muted">Loop iterations that held the loop past {report.threshold_ms:g} ms'
        " although no single callback did: many shorter callbacks back to back.</p>"
    ]
    if len(stalls) > 1:
        rows = "".join(
            f'<tr><td><i class="sw c{colors.slot(g.location)}"></i>'
            f'<span class="loc">{_e(where(g.location))}</span></td>'
            f'<td class="num">{g.count:,}</td><td class="num">{_e(ms(g.total_ms))}</td>'
            f'<td class="num">{_e(ms(g.max_ms))}</td></tr>'
            for g in stall_sites(stalls)
        )
        out.append(
            "<h3>Their callbacks by site, over all stalls</h3><table><tr><th>site</th>"
            f'<th class="num">count</th><th class="num">total</th><th class="num">max</th></tr>'
            f"{rows}</table><h3>Longest stalls</h3>"
        )
    shown, more = _capped(stalls, MAX_STALLS, "stalls")
    places = [ran_on(st.thread, st.pid, show_pid=show_pid) for st in shown]
    ran = any(places)  # a column only when some stall was off the main thread or process
    rows = "".join(
        f'<tr><td class="num"><b>{_e(ms(st.duration_ms))}</b></td>'
        f'<td class="num">{st.start_s:.3f}s</td>'
        + (f'<td class="loc">{_e(place or "-")}</td>' if ran else "")
        + f"<td>{_groups(st.callbacks, colors)}</td></tr>"
        for st, place in zip(shown, places)
    )
    out.append(
        '<table><tr><th class="num">held</th><th class="num">start</th>'
        + ("<th>where</th>" if ran else "")
        + f"<th>callbacks, by site</th></tr>{rows}</table>{more}"
    )
    return "".join(out)


def _blocking(report: Report, show_pid: bool) -> str:
    if not report.blocking_calls:
        return '<p class="empty">No known blocking call was made on the loop thread.</p>'
    shown, more = _capped(report.blocking_calls, MAX_ROWS, "blocking calls")
    pid_head = "<th>pid</th>" if show_pid else ""
    rows = "".join(
        f"<tr><td><b>{_e(b.call)}</b>{' x' + str(b.count) if b.count > 1 else ''}</td>"
        f'<td class="num">{"&le; " if not b.exact else ""}{_e(ms(b.duration_ms))}</td>'
        f"<td>{_e(b.task or '-')}</td>"
        + (f"<td>{b.pid or '-'}</td>" if show_pid else "")
        + f'<td class="loc">{_e(where(b.location))}{_stack(b.stack)}</td></tr>'
        for b in shown
    )
    return (
        f'<table><tr><th>call</th><th class="num">longest</th><th>task</th>{pid_head}'
        f"<th>where</th></tr>{rows}</table>{more}"
    )


def _leaks(report: Report, show_pid: bool) -> str:
    if not report.leaks:
        return '<p class="empty">Nothing was left pending or unclosed.</p>'
    shown, more = _capped(report.leaks, MAX_ROWS, "leaks")
    pid_head = "<th>pid</th>" if show_pid else ""
    rows = "".join(
        f'<tr><td class="kind">{_e(leak.kind)}</td><td>{_e(leak.what)}</td>'
        + (f"<td>{leak.pid or '-'}</td>" if show_pid else "")
        + f'<td class="loc">{_e(where(leak.created_at)) if leak.created_at else "-"}</td></tr>'
        for leak in shown
    )
    return (
        f"<table><tr><th>kind</th><th>what</th>{pid_head}<th>created at</th></tr>{rows}</table>"
        f"{more}"
    )


def _processes(report: Report) -> str:
    pids = list(dict.fromkeys(report.processes))
    if len(pids) <= 1:
        return ""

    def count(items: Iterable[Any], pid: int) -> int:
        return sum(1 for item in items if item.pid == pid)

    rows = "".join(
        f'<tr><td class="mono">{pid}</td><td>{"parent" if i == 0 else "child"}</td>'
        f'<td class="num">{count(report.slow_callbacks, pid):,}</td>'
        f'<td class="num">{count(report.stalls, pid):,}</td>'
        f'<td class="num">{count(report.blocking_calls, pid):,}</td>'
        f'<td class="num">{count(report.leaks, pid):,}</td></tr>'
        for i, pid in enumerate(pids)
    )
    table = (
        '<table><tr><th>pid</th><th></th><th class="num">slow callbacks kept</th>'
        '<th class="num">stalls</th><th class="num">blocking calls</th><th class="num">leaks</th>'
        f"</tr>{rows}</table>"
    )
    return _section("Processes", len(pids), table)


def _section(title: str, count: int | None, body: str) -> str:
    n = f' <span class="n">({count:,})</span>' if count is not None else ""
    return f"<section><h2>{_e(title)}{n}</h2>{body}</section>"


def render(report: Report, **options: Any) -> str:
    spots = hotspots_of(report)
    colors = SiteColors(spots, report.stalls)
    show_pid = several_processes(report)
    seen = slow_seen(report)
    worst = max((cb.duration_ms for cb in report.slow_callbacks), default=0.0)
    cards = [
        ("wall time", f"{report.wall_s:.2f} s", ""),
        ("slow callbacks", f"{seen:,}", "bad" if seen else "ok"),
        ("sites", f"{len(spots):,}", "bad" if spots else "ok"),
        ("worst block", ms(worst) if worst else "-", "bad" if worst else "ok"),
        ("stalls", f"{len(report.stalls):,}", "bad" if report.stalls else "ok"),
        (
            "blocking calls",
            f"{len(report.blocking_calls):,}",
            "bad" if report.blocking_calls else "ok",
        ),
        ("leaks", f"{len(report.leaks):,}", "bad" if report.leaks else "ok"),
        ("exit code", str(report.exit_code), "bad" if report.exit_code else "ok"),
    ]
    cards_html = "".join(
        f'<div class="card {cls}"><b>{_e(v)}</b><span>{_e(k)}</span></div>' for k, v, cls in cards
    )
    notes = "".join(f"<p>{_e(n)}</p>" for n in notes_of(report))
    if report.profile_session is not None:
        from asynccheck.runtime.profiler import html_page

        profile = (
            '<div class="profile"><section><h2>Profile <span class="n">(pyinstrument)</span></h2>'
            f'<iframe title="pyinstrument profile" srcdoc="{_e(html_page(report.profile_session))}">'
            "</iframe></section></div>"
        )
    else:
        profile = ""
    pids = list(dict.fromkeys(report.processes))
    where_ran = f"{report.loops} loop(s)" if report.loops else "no loop observed"
    if len(pids) > 1:
        where_ran += f" in {len(pids)} processes"
    argv = " ".join(short_path(a) for a in report.argv) or "(library run)"
    timeline = (
        '<section><h2>Loop lag <span class="n">(when the loop was held, for how long,'
        " coloured by the site the time went to)</span></h2>"
        f"{_timeline(report, colors)}{colors.legend()}"
        '<div class="caption"><i class="sw" style="background:'
        f'{IDLE_COLOR}"></i>grey: the longest loop iteration of each slice of time;'
        " dashed outline: a stall. Hover a bar for its callback.</div></section>"
    )
    stalls = _stalls(report, colors, show_pid)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>asynccheck profile: {_e(argv)}</title><style>{CSS}</style></head>
<body>
<header><h1>asynccheck profile<small>{_e(where_ran)}, threshold {report.threshold_ms:g} ms</small></h1>
<div class="argv">{_e(argv)}</div></header>
{f'<div class="notes">{notes}</div>' if notes else ""}
<div class="cards">{cards_html}</div>
<div class="wide">{timeline}</div>
<main class="{"two" if profile else "one"}">
<div>
{_section("Hotspots: where the time went, by total", len(spots), _hotspots(report, spots, colors))}
{_section("Stalls", len(report.stalls), stalls) if stalls else ""}
{_section("Slow callbacks", seen, _slow_list(report, colors, show_pid))}
{_section("Blocking calls on the loop thread", len(report.blocking_calls), _blocking(report, show_pid))}
{_section("Left behind when the loop closed", len(report.leaks), _leaks(report, show_pid))}
{_processes(report)}
{"" if profile else _section("Profile", None, '<p class="empty">Profiling was off (--no-profile).</p>')}
</div>
{profile}
</main>
</body></html>
"""
