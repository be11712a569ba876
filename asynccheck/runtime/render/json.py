"""The schema-1 JSON report (DESIGN.md), pretty-printed with a stable key order."""

from __future__ import annotations

import json
from typing import Any

from asynccheck.runtime.report import Report


def render(report: Report, **options: Any) -> str:
    return json.dumps(report.to_json(), indent=2) + "\n"
