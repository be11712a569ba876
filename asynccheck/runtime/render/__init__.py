"""Renderers of a `Report`: one format per module, one `render(report) -> str` each.

`render(report, fmt)` picks one from `RENDERERS`; a new format is one line.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    from asynccheck.runtime.report import Report


def _text(report: Report, **options: Any) -> str:
    from asynccheck.runtime.render.text import render

    return render(report, **options)


def _json(report: Report, **options: Any) -> str:
    from asynccheck.runtime.render.json import render

    return render(report, **options)


def _html(report: Report, **options: Any) -> str:
    from asynccheck.runtime.render.html import render

    return render(report, **options)


def _speedscope(report: Report, **options: Any) -> str:
    from asynccheck.runtime.render.speedscope import render

    return render(report, **options)


# Imported lazily so that text output never pays for the HTML template or pyinstrument.
RENDERERS: dict[str, Callable[..., str]] = {
    "text": _text,
    "json": _json,
    "html": _html,
    "speedscope": _speedscope,
}


def render(report: Report, fmt: str = "text", **options: Any) -> str:
    """`report` in one of the formats of `RENDERERS` (text, json, html, speedscope)."""
    return RENDERERS[fmt](report, **options)
