"""The check AC101–AC109 share (each rule keeps the blocking sites of its own code) and
the fix that runs a call in a worker thread; subclasses carry the metadata.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, ClassVar, Optional

from asynccheck.lint.context import FixPlan, NodeEdit, RawFinding
from asynccheck.lint.finding import UNSAFE
from asynccheck.rules.base import Rule
from asynccheck.rules.blocking.sites import blocking_sites

if TYPE_CHECKING:
    from asynccheck.lint.context import FileContext
    from asynccheck.lint.facts import Site


# Parents under which `await ...` can replace a call without parentheses or changing what a
# comprehension produces.
STATEMENT_PARENTS = frozenset(("Expr", "Assign", "AnnAssign", "AugAssign", "Return"))
_EXPRESSION_PARENTS = STATEMENT_PARENTS | frozenset(
    ("Arg", "WithItem", "If", "While", "Comparison", "ComparisonTarget", "UnaryOperation",
     "BooleanOperation", "Element")
)  # fmt: skip

# A sync def nested in a coroutine and called there (lint.facts) runs on the loop; it is
# not a loop callback, so neither `await` (a sync body) nor the callback advice fits.
_HELPER_HELP = (
    "`{helper}()` runs on the loop when the coroutine calls it: make it an `async def` and "
    "await it, or call it with `await asyncio.to_thread({helper})`"
)


class BlockingCall(Rule):
    """Shared check of AC101–AC109; subclasses carry the metadata and the fix."""

    # The message for sync code the loop runs (a protocol callback, a `call_soon` callback),
    # where the advice cannot be to `await`; None when `message` already fits there.
    sync_message: ClassVar[Optional[str]] = None
    # The help line there, in place of a fix title that awaits (no fix is offered there).
    sync_help: ClassVar[str] = ""

    def check(self, ctx: FileContext) -> Iterable[RawFinding]:
        for blocking in blocking_sites(ctx):
            if blocking.code != self.code:
                continue
            site = blocking.site
            template, advice = self.message, ""
            if site.scope.loop_callback and not site.scope.is_async:
                template, advice = self.sync_message or self.message, self.sync_help
            elif not site.scope.is_async:  # a nested def the coroutine calls: not a callback
                advice = _HELPER_HELP.format(helper=site.scope.node.name.value)
            yield RawFinding(
                self.code,
                template.format(call=blocking.call),
                site.node,
                site.stmt,
                self.make_fix(ctx, site),
                advice,
            )

    def make_fix(self, ctx: FileContext, site: Site) -> Optional[FixPlan]:
        return None


class ToThreadFix(BlockingCall):
    """Blocking calls whose unsafe fix runs them in a worker thread."""

    fix_safety = UNSAFE
    fix_title = "Run the call in a worker thread with `await asyncio.to_thread(...)`"
    fix_awaits = True
    sync_help = (
        "Run the call in a worker thread with `loop.run_in_executor(None, ...)` and take its "
        "result in a done callback, or move the work to a task"
    )

    def make_fix(self, ctx: FileContext, site: Site) -> Optional[FixPlan]:
        if not can_await_here(site, _EXPRESSION_PARENTS):
            return None
        asyncio_name, imports = ctx.module_name_for(site.scope, "asyncio")
        if asyncio_name is None:
            return None
        call = site.node
        func = ctx.code_for(call.func)
        # Edits around the arguments, never a rewrite of them: comments and line breaks stay.
        handed = (
            NodeEdit(call.args[0], f"{func}, ", "before")
            if call.args
            else NodeEdit(call, func, "before_end")
        )
        edits = (
            NodeEdit(call, "await ", "before"),
            NodeEdit(call.func, f"{asyncio_name}.to_thread"),
            handed,
            *imports,
        )
        return FixPlan(self.fix_safety, self.fix_title or "", edits)


def can_await_here(site: Site, parents: frozenset[str]) -> bool:
    return site.scope.is_async and not site.awaited and type(site.parent).__name__ in parents
