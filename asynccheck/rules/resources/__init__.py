"""AC201–AC205: async resources (sessions, clients, pools, files) that are never closed.

One module a rule (its class and its examples). What they share sits beside them and imports
no rule: `sites` (each constructed resource and what the code does with it) and `sessions`
(is this an aiohttp session).
"""

from asynccheck.rules.resources.resource_in_loop import ResourceInLoop
from asynccheck.rules.resources.resource_not_async_with import ResourceNotAsyncWith
from asynccheck.rules.resources.sync_with_on_async_resource import SyncWithOnAsyncResource
from asynccheck.rules.resources.unclosed_resource import UnclosedResource
from asynccheck.rules.resources.unreleased_response import UnreleasedResponse

__all__ = [
    "ResourceInLoop",
    "ResourceNotAsyncWith",
    "SyncWithOnAsyncResource",
    "UnclosedResource",
    "UnreleasedResponse",
]
