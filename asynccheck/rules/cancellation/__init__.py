"""AC301–AC306: cancellation swallowed, dropped in `finally`, or requested and never
waited for.

One module a rule (its class and its examples); the questions they share sit beside them:
`handlers` (which `except` clauses catch cancellation), `swallows` (does one swallow its
task's own cancellation), `cancelled_tasks` (what the function cancels and waits for) and
`blocks` (where a path goes on after a handler). Those never import a rule module.
"""

from asynccheck.rules.cancellation.broad_except_swallows_cancel import BroadExceptSwallowsCancel
from asynccheck.rules.cancellation.cancel_not_awaited import CancelNotAwaited
from asynccheck.rules.cancellation.cancelled_error_swallowed import CancelledErrorSwallowed
from asynccheck.rules.cancellation.finally_swallows import FinallySwallows
from asynccheck.rules.cancellation.task_entry_swallows_cancel import TaskEntrySwallowsCancel
from asynccheck.rules.cancellation.unshielded_await_in_cleanup import UnshieldedAwaitInCleanup

__all__ = [
    "BroadExceptSwallowsCancel",
    "CancelNotAwaited",
    "CancelledErrorSwallowed",
    "FinallySwallows",
    "TaskEntrySwallowsCancel",
    "UnshieldedAwaitInCleanup",
]
