"""AC4xx: tasks and coroutines that are lost or never awaited, and awaits that should not
run one after another.

One module a rule (its class, its examples and the questions only it asks). The asyncio call
index they share with AC5xx and AC6xx is `rules/asyncio_calls.py`.
"""

from asynccheck.rules.tasks.await_in_loop import AwaitInLoop
from asynccheck.rules.tasks.busy_wait import BusyWait
from asynccheck.rules.tasks.coroutine_not_awaited import CoroutineNotAwaited
from asynccheck.rules.tasks.dangling_task import DanglingTask
from asynccheck.rules.tasks.gather_in_taskgroup_era import GatherInTaskgroupEra

__all__ = [
    "AwaitInLoop",
    "BusyWait",
    "CoroutineNotAwaited",
    "DanglingTask",
    "GatherInTaskgroupEra",
]
