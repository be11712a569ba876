"""AC101–AC110: calls that block the event loop, made on the loop's thread: directly in an
`async def` or in the sync code the loop runs (AC101–AC109), or through plain helpers, across
the project (AC110).

One module a rule (its class and its examples). What they share sits beside them and imports
no rule: `sites` (which calls block), `base` (the check and the to-thread fix of AC101–AC109)
and `helper_chains` (the helper chains AC110 reports).
"""

from asynccheck.rules.blocking.blocking_database import BlockingDatabase
from asynccheck.rules.blocking.blocking_file_io import BlockingFileIo
from asynccheck.rules.blocking.blocking_http import BlockingHttp
from asynccheck.rules.blocking.blocking_input import BlockingInput
from asynccheck.rules.blocking.blocking_sleep import BlockingSleep
from asynccheck.rules.blocking.blocking_socket import BlockingSocket
from asynccheck.rules.blocking.blocking_subprocess import BlockingSubprocess
from asynccheck.rules.blocking.blocking_via_helper import BlockingViaHelper
from asynccheck.rules.blocking.blocking_wait import BlockingWait
from asynccheck.rules.blocking.configured_blocking_call import ConfiguredBlockingCall

__all__ = [
    "BlockingDatabase",
    "BlockingFileIo",
    "BlockingHttp",
    "BlockingInput",
    "BlockingSleep",
    "BlockingSocket",
    "BlockingSubprocess",
    "BlockingViaHelper",
    "BlockingWait",
    "ConfiguredBlockingCall",
]
