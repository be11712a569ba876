"""One self-contained HTML page: the loop-lag timeline and what blocked, beside the profile.

No scripts and no external assets of our own: the timeline is inline SVG drawn here, so the page
works offline, from a CI artifact or an email attachment. The profile is pyinstrument's own
interactive page, embedded through `<iframe srcdoc>` (its JS and CSS are inlined by
pyinstrument), so the file stays one file.
"""

from __future__ import annotations

import hashlib
import html
from typing import Any

from asynccheck.runtime.render.common import ms, short_path, source_lines, where
from asynccheck.runtime.report import Report, SlowCallback
from asynccheck.runtime.sites import Site

PALETTE = ("#e4572e", "#2e86ab", "#a23b72", "#f18f01", "#3b8e5a", "#6c4ab6", "#c73e1d", "#1b998b")
IDLE_COLOR = "#9aa5b1"

CSS = """
:root { --bg:#f6f7f9; --card:#fff; --ink:#1f2933; --muted:#616e7c; --line:#e4e7eb;
        --bad:#d64545; --warn:#f0b429; --ok:#3b8e5a; }
* { box-sizing: border-box; }
body { margin:0; font:14px/1.45 -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif;
       color:var(--ink); background:var(--bg); }
header { padding:18px 24px 8px; }
h1 { margin:0 0 4px; font-size:20px; }
h1 small { font-weight:400; color:var(--muted); font-size:13px; margin-left:8px; }
.argv { font-family:ui-monospace, Menlo, Consolas, monospace; color:var(--muted); font-size:12px; }
.cards { display:flex; gap:10px; flex-wrap:wrap; padding:8px 24px 14px; }
.card { background:var(--card); border:1px solid var(--line); border-radius:8px; padding:8px 14px;
        min-width:120px; }
.card b { display:block; font-size:20px; }
.card span { color:var(--muted); font-size:12px; }
.card.bad b { color:var(--bad); } .card.ok b { color:var(--ok); }
main { display:grid; grid-template-columns:minmax(0,1fr) minmax(0,1fr); gap:16px; padding:0 24px 24px; }
@media (max-width:1100px) { main { grid-template-columns:1fr; } }
section { background:var(--card); border:1px solid var(--line); border-radius:8px; padding:12px 16px;
          margin-bottom:16px; }
h2 { font-size:15px; margin:0 0 10px; }
h2 .n { color:var(--muted); font-weight:400; }
.legend { display:flex; flex-wrap:wrap; gap:12px; font-size:12px; color:var(--muted); margin-top:6px; }
.legend i { display:inline-block; width:10px; height:10px; border-radius:2px; margin-right:4px;
            vertical-align:-1px; }
.slow { border-top:1px solid var(--line); padding:10px 0; }
.slow:first-of-type { border-top:0; }
.slow .head { display:flex; align-items:baseline; gap:10px; flex-wrap:wrap; }
.dur { font-weight:700; font-size:16px; min-width:90px; }
.bar { height:6px; border-radius:3px; margin:4px 0 6px; }
.tag { font-size:12px; background:#eef2f7; border-radius:10px; padding:1px 8px; }
.tag.block { background:#fde2e2; color:#8a1c1c; }
.loc { font-family:ui-monospace, Menlo, Consolas, monospace; font-size:12px; color:var(--muted); }
pre.code { margin:6px 0 0; background:#0f1720; color:#d9e2ec; border-radius:6px; padding:6px 0;
           font:12px/1.5 ui-monospace, Menlo, Consolas, monospace; overflow-x:auto; }
pre.code span { display:block; padding:0 10px; white-space:pre; }
pre.code span.hot { background:#5c1f1f; color:#fff; }
pre.code em { color:#829ab1; font-style:normal; display:inline-block; width:42px; }
details { margin-top:6px; } summary { cursor:pointer; color:var(--muted); font-size:12px; }
ol.stack { margin:4px 0 0; padding-left:22px; font:12px/1.5 ui-monospace, Menlo, Consolas, monospace; }
table { border-collapse:collapse; width:100%; font-size:13px; }
td, th { text-align:left; padding:5px 6px; border-top:1px solid var(--line); vertical-align:top; }
th { color:var(--muted); font-weight:500; border-top:0; }
.kind { font-weight:600; text-transform:uppercase; font-size:11px; letter-spacing:.04em; }
.empty { color:var(--muted); }
iframe { width:100%; height:calc(100vh - 190px); min-height:640px; border:1px solid var(--line);
         border-radius:8px; background:#fff; }
.profile { position:sticky; top:12px; align-self:start; }
"""


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def task_color(task: str | None) -> str:
    """A stable color per task name, so a task keeps its color across the page."""
    if not task:
        return "#52606d"
    digest = hashlib.blake2b(task.encode(), digest_size=2).digest()
    return PALETTE[int.from_bytes(digest, "big") % len(PALETTE)]


def _timeline(report: Report) -> str:
    """Inline SVG: one bar per long loop iteration; x = when, height and width = how long."""
    width, height, left, bottom, top = 640, 190, 44, 26, 12
    plot_w, plot_h = width - left - 10, height - bottom - top
    span = max(
        report.wall_s, max((p.at_s + p.duration_ms / 1000 for p in report.loop_lag), default=0)
    )
    span = max(span, 1e-3)
    peak = max([p.duration_ms for p in report.loop_lag] + [report.threshold_ms * 1.25])
    y = lambda v: top + plot_h - (v / peak) * plot_h  # noqa: E731
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
            f'<text x="{left - 4}" y="{y(v) + 3:.1f}" text-anchor="end" fill="#7b8794">{v:.0f}</text>'
        )
    for i in range(6):  # x ticks; the outer two anchored inward so they are not clipped
        t = span * i / 5
        x = left + plot_w * i / 5
        anchor = "start" if i == 0 else "end" if i == 5 else "middle"
        parts.append(
            f'<text x="{x:.1f}" y="{height - 8}" text-anchor="{anchor}" fill="#7b8794">{t:.2f}s</text>'
        )
    parts.append(
        f'<text x="10" y="{top + plot_h / 2:.0f}" transform="rotate(-90 10 {top + plot_h / 2:.0f})" '
        f'text-anchor="middle" fill="#7b8794">blocked (ms)</text>'
    )

    def bar(at: float, dur_ms: float, color: str, opacity: float, label: str) -> str:
        x = left + plot_w * at / span
        w = max(plot_w * (dur_ms / 1000) / span, 2.5)
        return (
            f'<rect x="{x:.1f}" y="{y(dur_ms):.1f}" width="{w:.1f}" '
            f'height="{top + plot_h - y(dur_ms):.1f}" fill="{color}" opacity="{opacity}" '
            f'stroke="#fff" stroke-width="0.5"><title>{_e(label)}</title></rect>'
        )

    # Whole iterations in grey; the callbacks that made them slow on top, in their task's color.
    for p in report.loop_lag:
        parts.append(
            bar(
                p.at_s,
                p.duration_ms,
                IDLE_COLOR,
                0.45,
                f"{p.at_s:.3f}s: one loop iteration took {p.duration_ms:.1f} ms",
            )
        )
    for cb in report.slow_callbacks:
        who = f"task {cb.task} ({cb.coroutine})" if cb.task else cb.callback
        parts.append(
            bar(
                cb.at_s,
                cb.duration_ms,
                task_color(cb.task),
                0.92,
                f"{cb.at_s:.3f}s: loop blocked {cb.duration_ms:.1f} ms by {who} at {where(cb.location)}",
            )
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


def _legend(report: Report) -> str:
    tasks = sorted({cb.task or "" for cb in report.slow_callbacks})
    items = [
        f'<span><i style="background:{task_color(t or None)}"></i>'
        f"{_e('task ' + t if t else 'plain callback (no task)')}</span>"
        for t in tasks
    ]
    items.append(
        f'<span><i style="background:{IDLE_COLOR};opacity:.45"></i>whole loop iteration</span>'
    )
    return f'<div class="legend">{"".join(items)}</div>'


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
    return f'<details><summary>stack ({len(stack)} frames, outermost first)</summary><ol class="stack">{items}</ol></details>'


def _slow(cb: SlowCallback, worst: float) -> str:
    color = task_color(cb.task)
    who = (
        f'<span class="tag">task {_e(cb.task)}</span><span class="tag">{_e(cb.coroutine)}()</span>'
        if cb.task
        else f'<span class="tag">{_e(cb.callback)}</span>'
    )
    block = f'<span class="tag block">{_e(cb.blocking_call)}</span>' if cb.blocking_call else ""
    created = (
        f'<div class="loc">task created at {_e(where(cb.task_created_at))}</div>'
        if cb.task_created_at
        else ""
    )
    pct = max(cb.duration_ms / worst * 100, 2) if worst else 0
    return (
        f'<div class="slow"><div class="head"><span class="dur">{_e(ms(cb.duration_ms))}</span>{who}{block}'
        f'<span class="loc">at {cb.at_s:.3f}s</span></div>'
        f'<div class="bar" style="width:{pct:.0f}%;background:{color}"></div>'
        f'<div class="loc">time went: {_e(where(cb.location))}</div>{created}'
        f"{_code(cb.location)}{_stack(cb.stack)}</div>"
    )


def _section(title: str, count: int, body: str) -> str:
    return f'<section><h2>{_e(title)} <span class="n">({count})</span></h2>{body}</section>'


def render(report: Report, **options: Any) -> str:
    worst = report.slow_callbacks[0].duration_ms if report.slow_callbacks else 0.0
    cards = [
        ("wall time", f"{report.wall_s:.2f} s", ""),
        (
            "slow callbacks",
            str(len(report.slow_callbacks)),
            "bad" if report.slow_callbacks else "ok",
        ),
        ("worst block", ms(worst) if worst else "-", "bad" if worst else "ok"),
        (
            "blocking calls",
            str(len(report.blocking_calls)),
            "bad" if report.blocking_calls else "ok",
        ),
        ("leaks", str(len(report.leaks)), "bad" if report.leaks else "ok"),
        ("exit code", str(report.exit_code), "bad" if report.exit_code else "ok"),
    ]
    cards_html = "".join(
        f'<div class="card {cls}"><b>{_e(v)}</b><span>{_e(k)}</span></div>' for k, v, cls in cards
    )
    slow_html = "".join(_slow(cb, worst) for cb in report.slow_callbacks[:50]) or (
        f'<p class="empty">No callback held the loop for {report.threshold_ms:g} ms or more.</p>'
    )
    blocking_rows = "".join(
        f"<tr><td><b>{_e(b.call)}</b>{' x' + str(b.count) if b.count > 1 else ''}</td>"
        f"<td>{'&le; ' if not b.exact else ''}{_e(ms(b.duration_ms))}</td><td>{_e(b.task or '-')}</td>"
        f'<td class="loc">{_e(where(b.location))}{_stack(b.stack)}</td></tr>'
        for b in report.blocking_calls
    )
    blocking_html = (
        f"<table><tr><th>call</th><th>longest</th><th>task</th><th>where</th></tr>{blocking_rows}</table>"
        if blocking_rows
        else '<p class="empty">No known blocking call was made on the loop thread.</p>'
    )
    leak_rows = "".join(
        f'<tr><td class="kind">{_e(leak.kind)}</td><td>{_e(leak.what)}</td>'
        f'<td class="loc">{_e(where(leak.created_at)) if leak.created_at else "-"}</td></tr>'
        for leak in report.leaks
    )
    leaks_html = (
        f"<table><tr><th>kind</th><th>what</th><th>created at</th></tr>{leak_rows}</table>"
        if leak_rows
        else '<p class="empty">Nothing was left pending or unclosed.</p>'
    )
    if report.profile_session is not None:
        from asynccheck.runtime.profiler import html_page

        profile_html = f'<iframe title="pyinstrument profile" srcdoc="{_e(html_page(report.profile_session))}"></iframe>'
    else:
        profile_html = '<p class="empty">Profiling was off (--no-profile).</p>'
    argv = " ".join(short_path(a) for a in report.argv) or "(library run)"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>asynccheck profile: {_e(argv)}</title><style>{CSS}</style></head>
<body>
<header><h1>asynccheck profile<small>{report.loops} loop(s), threshold {report.threshold_ms:g} ms</small></h1>
<div class="argv">{_e(argv)}</div></header>
<div class="cards">{cards_html}</div>
<main>
<div>
<section><h2>Loop lag <span class="n">(when the loop was blocked, for how long, by which task)</span></h2>
{_timeline(report)}{_legend(report)}</section>
{_section("Slow callbacks, longest first", len(report.slow_callbacks), slow_html)}
{_section("Blocking calls on the loop thread", len(report.blocking_calls), blocking_html)}
{_section("Left behind when the loop closed", len(report.leaks), leaks_html)}
</div>
<div class="profile"><section><h2>Profile <span class="n">(pyinstrument)</span></h2>{profile_html}</section></div>
</main>
</body></html>
"""
