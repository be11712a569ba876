"""The profile in speedscope's format, by pyinstrument's own renderer."""

from __future__ import annotations

from typing import Any

from asynccheck.runtime.report import Report


def render(report: Report, **options: Any) -> str:
    if report.profile_session is None:
        raise ValueError("no profile to render: the run was made with --no-profile")
    from asynccheck.runtime.profiler import speedscope_json

    return speedscope_json(report.profile_session)
