"""The Rule base class: a code, a name, a message, examples that double as tests, a check."""

from __future__ import annotations

import inspect
import re
import textwrap
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, ClassVar, Optional

if TYPE_CHECKING:
    from asynccheck.lint.context import FileContext, RawFinding

DOCS_URL = "https://asynccheck.readthedocs.io/en/latest/rules/{code}/"


@dataclass(frozen=True)
class Example:
    """A snippet for a rule; a `bad` one may carry the code its fix must produce."""

    code: str
    fixed: Optional[str] = None
    unsafe: bool = False  # the fix is applied only with --unsafe-fixes

    def __post_init__(self) -> None:
        object.__setattr__(self, "code", _dedent(self.code))
        if self.fixed is not None:
            object.__setattr__(self, "fixed", _dedent(self.fixed))


def _dedent(code: str) -> str:
    code = textwrap.dedent(code).lstrip("\n")
    return code if code.endswith("\n") else code + "\n"


class Rule:
    """One code. Subclasses set the metadata below and implement `check`.

    The docstring is the rule's *why*; `asynccheck rule CODE` and the docs page print it.
    """

    code: ClassVar[str]
    name: ClassVar[str]
    message: ClassVar[str]  # a template; `{call}` and other fields come from the check
    default: ClassVar[bool] = True
    fix_safety: ClassVar[Optional[str]] = None  # "safe" | "unsafe" | None
    fix_title: ClassVar[Optional[str]] = None
    fix_awaits: ClassVar[bool] = False  # the fix adds an `await`: no use as advice in sync code
    needs_async: ClassVar[bool] = True  # only fires in files that contain the text "async"
    # libcst node types (class names) whose sites the one walk must keep for this rule;
    # calls are always kept (`ctx.facts.calls`), anything else is read with `ctx.sites(name)`.
    site_types: ClassVar[tuple[str, ...]] = ()
    config_keys: ClassVar[tuple[str, ...]] = ()
    example_config: ClassVar[Mapping[str, Any]] = {}  # [tool.asynccheck] keys the examples need
    references: ClassVar[tuple[str, ...]] = ()
    bad: ClassVar[tuple[Example, ...]] = ()
    good: ClassVar[tuple[Example, ...]] = ()

    def check(self, ctx: FileContext) -> Iterable[RawFinding]:
        """Yield findings for one file. Engine-emitted codes (AC001/AC002) yield nothing."""
        return ()

    def advise(self, ctx: FileContext, found: Iterable[RawFinding]) -> Iterator[RawFinding]:
        """Each finding with the rule's advice: a finding whose fix cannot be made at its
        spot (a call in a comprehension, a handler with a `return` path) still gets the
        `help:` line its fixable siblings show; not advice to `await` in sync code (a
        protocol callback, a helper the coroutine calls)."""
        for raw in found:
            if raw.fix is None and not raw.help and self.fix_title and self._can_await(ctx, raw):
                raw = replace(raw, help=self.fix_title)
            yield raw

    def _can_await(self, ctx: FileContext, raw: RawFinding) -> bool:
        if not self.fix_awaits:
            return True
        scope = ctx.facts.statement_scopes.get(id(raw.stmt))
        return scope is not None and scope.is_async

    # --- metadata helpers -------------------------------------------------------------
    @classmethod
    def summary(cls) -> str:
        """The message without its placeholders, for tables and SARIF."""
        return re.sub(r"\{(\w+)\}", r"<\1>", cls.message)

    @classmethod
    def explanation(cls) -> str:
        return inspect.cleandoc(cls.__doc__ or "")

    @classmethod
    def url(cls) -> str:
        return DOCS_URL.format(code=cls.code)

    @classmethod
    def fixable(cls) -> bool:
        return cls.fix_safety is not None
