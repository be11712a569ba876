"""AC6xx: event loop management: nested loops, get_event_loop, deprecated policies.

One module a rule (its class and its examples). The asyncio call index they ask is
`rules/asyncio_calls.py`, shared with AC4xx and AC5xx.
"""

from asynccheck.rules.loops.deprecated_loop_policy import DeprecatedLoopPolicy
from asynccheck.rules.loops.get_event_loop_in_coroutine import GetEventLoopInCoroutine
from asynccheck.rules.loops.nested_event_loop import NestedEventLoop

__all__ = ["DeprecatedLoopPolicy", "GetEventLoopInCoroutine", "NestedEventLoop"]
