"""Advice that needs a newer Python than the project supports, and what works before it.

Rule messages name the modern API (`asyncio.TaskGroup`, `asyncio.timeout()`: 3.11+). For a
project whose `target-version` is older, the phrase is swapped for what exists there, in
one place, so no rule needs a branch per version and none can forget one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from asynccheck.lint.finding import Finding

TASK_GROUP = (3, 11)  # asyncio.TaskGroup
TIMEOUT = (3, 11)  # asyncio.timeout(), asyncio.timeout_at()
# No message advises eager tasks yet (asyncio.eager_task_factory, 3.12+); one that does
# adds its phrase below, with what works before 3.12.


@dataclass(frozen=True)
class Phrase:
    modern: str  # as it appears in a message
    since: tuple[int, int]  # the first Python that has what it names
    older: str  # what to say instead before that


PHRASES = (
    Phrase(
        "store the task or use asyncio.TaskGroup",
        TASK_GROUP,
        "store the task (a set of tasks, discarded in a done callback) or await it",
    ),
    Phrase("with asyncio.gather() or asyncio.TaskGroup", TASK_GROUP, "with asyncio.gather()"),
    Phrase(
        "asyncio.shield() or asyncio.timeout()", TIMEOUT, "asyncio.shield() or asyncio.wait_for()"
    ),
    Phrase("with asyncio.timeout() or asyncio.wait_for()", TIMEOUT, "with asyncio.wait_for()"),
)


def fit(message: str, target: tuple[int, int]) -> str:
    """`message` with the advice the `target` Python cannot follow replaced."""
    for phrase in PHRASES:
        if target < phrase.since and phrase.modern in message:
            message = message.replace(phrase.modern, phrase.older)
    return message


def fit_findings(findings: Iterable[Finding], target: tuple[int, int]) -> list[Finding]:
    """Findings whose message or fix title the `target` Python could not follow, fitted."""
    fitted = []
    for finding in findings:
        message = fit(finding.message, target)
        fix = finding.fix
        if fix is not None and fit(fix.message, target) != fix.message:
            fix = replace(fix, message=fit(fix.message, target))
        advice = fit(finding.help, target) if finding.help else finding.help
        if message != finding.message or fix is not finding.fix or advice != finding.help:
            finding = replace(finding, message=message, fix=fix, help=advice)
        fitted.append(finding)
    return fitted
