"""AC5xx: waits without a timeout, and timeout mix-ups.

One module a rule (its class and its examples); `arguments` reads a call's timeout for them.
"""

from asynccheck.rules.timeouts.async_timeout_parameter import AsyncTimeoutParameter
from asynccheck.rules.timeouts.session_without_timeout import SessionWithoutTimeout
from asynccheck.rules.timeouts.timeout_error_mixup import TimeoutErrorMixup
from asynccheck.rules.timeouts.wait_without_timeout import WaitWithoutTimeout

__all__ = [
    "AsyncTimeoutParameter",
    "SessionWithoutTimeout",
    "TimeoutErrorMixup",
    "WaitWithoutTimeout",
]
