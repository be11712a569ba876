"""The terminal report: what blocked the loop, where, and the profile trimmed to what matters."""

from __future__ import annotations

from typing import Any

from asynccheck.runtime.render.common import ms, short_path, source_line, where
from asynccheck.runtime.report import Report

MAX_SLOW = 10
MAX_BLOCKING = 10


def _stack_line(report_stack: tuple[Any, ...]) -> str:
    parts = [f"{short_path(s.file).rsplit('/', 1)[-1]}:{s.line} {s.function}" for s in report_stack]
    if len(parts) > 6:
        parts = [*parts[:2], "...", *parts[-3:]]
    return " > ".join(parts)


def render(report: Report, *, profile_tree: bool = True, color: bool = False) -> str:
    out: list[str] = []
    worst = report.slow_callbacks[0].duration_ms if report.slow_callbacks else 0.0
    out.append(
        f"asynccheck: {len(report.slow_callbacks)} slow callback(s) >= {report.threshold_ms:g} ms"
        + (f" (worst {ms(worst)})" if worst else "")
        + f", {len(report.blocking_calls)} blocking call(s), {len(report.leaks)} leak(s);"
        f" {report.loops} loop(s), wall {report.wall_s:.2f} s"
    )

    if report.slow_callbacks:
        out += ["", "Slow callbacks (longest first):"]
        for cb in report.slow_callbacks[:MAX_SLOW]:
            who = f"task {cb.task!r} {cb.coroutine}()" if cb.task else cb.callback
            out.append(f"  {ms(cb.duration_ms):>10}  {who}")
            out.append(f"{'':14}time went: {where(cb.location)}")
            line = source_line(cb.location)
            if line:
                out.append(f"{'':14}{cb.location.line:>6} | {line.strip()}")
            if cb.blocking_call:
                out.append(f"{'':14}blocking call: {cb.blocking_call}")
            if cb.task_created_at:
                out.append(f"{'':14}task created at {where(cb.task_created_at)}")
            if cb.task:
                out.append(f"{'':14}callback: {cb.callback}")
            if len(cb.stack) > 1:
                out.append(f"{'':14}stack: {_stack_line(cb.stack)}")
        if len(report.slow_callbacks) > MAX_SLOW:
            out.append(
                f"  ... and {len(report.slow_callbacks) - MAX_SLOW} more (see --json/--html)"
            )

    if report.blocking_calls:
        out += ["", "Blocking calls on the loop thread:"]
        for b in report.blocking_calls[:MAX_BLOCKING]:
            approx = "" if b.exact else "<= "
            task = f"task {b.task!r}" if b.task else "no task"
            # the duration is the longest call's: say so when the line made several
            count = f", the longest of {b.count} calls here" if b.count > 1 else ""
            out.append(f"  {approx + ms(b.duration_ms):>12}  {b.call} ({task}){count}")
            out.append(f"{'':14}at {where(b.location)}")
            line = source_line(b.location)
            if line:
                out.append(f"{'':14}{b.location.line:>6} | {line.strip()}")
            if len(b.stack) > 1:
                out.append(f"{'':14}stack: {_stack_line(b.stack)}")
        if len(report.blocking_calls) > MAX_BLOCKING:
            out.append(f"  ... and {len(report.blocking_calls) - MAX_BLOCKING} more")

    if report.leaks:
        out += ["", "Left behind when the loop closed:"]
        for leak in report.leaks:
            out.append(f"  {leak.kind:<9}  {leak.what}")
            if leak.created_at:
                out.append(f"{'':13}created at {where(leak.created_at)}")

    if profile_tree and report.profile_session is not None:
        from asynccheck.runtime.profiler import console_tree

        out += ["", "Profile (pyinstrument; frames under 1% of the run hidden):"]
        out.append(console_tree(report.profile_session, color=color).rstrip())
    files = [p for p in (report.profile_html, report.profile_speedscope) if p]
    if files:
        out += ["", "Profile written: " + ", ".join(files)]
    return "\n".join(out) + "\n"
