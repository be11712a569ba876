"""What the editor says (initializationOptions, workspace/didChangeConfiguration), as data.

The editor's settings sit over each file's own configuration, as the command line's options
do: `select` replaces, `ignore` and `extendSelect` add. They are validated apart from any
file, so a bad code in the editor's settings is not blamed on a pyproject.toml.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Optional

from asynccheck.config import Config

# LSP DiagnosticSeverity values, by the names a user writes in the settings
SEVERITIES: Mapping[str, int] = {"error": 1, "warning": 2, "information": 3, "hint": 4}

# code prefix -> severity; the longest matching prefix wins. A file that cannot be checked
# is an error; every asyncio finding is a warning until the user says otherwise.
DEFAULT_SEVERITY: Mapping[str, str] = {"AC": "warning", "AC0": "error"}


@dataclass(frozen=True)
class Settings:
    select: Optional[tuple[str, ...]] = None
    ignore: tuple[str, ...] = ()
    extend_select: tuple[str, ...] = ()
    unsafe_fixes: bool = False
    severity: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_SEVERITY))

    def apply(self, config: Config) -> Config:
        """The editor's choices over a file's configuration."""
        changes: dict[str, Any] = {}
        if self.select is not None:
            changes["select"] = self.select
        if self.ignore:
            changes["ignore"] = (*config.ignore, *self.ignore)
        if self.extend_select:
            changes["extend_select"] = (*config.extend_select, *self.extend_select)
        return dataclasses.replace(config, **changes) if changes else config

    def severity_of(self, code: str) -> int:
        prefix = max((p for p in self.severity if code.startswith(p)), key=len, default="AC")
        return SEVERITIES.get(self.severity.get(prefix, "warning"), SEVERITIES["warning"])


def _codes(value: Any) -> tuple[str, ...]:
    """["AC1", "ac201"] or "AC1,AC201" -> ("AC1", "AC201")."""
    items = value.split(",") if isinstance(value, str) else list(value or ())
    return tuple(str(item).strip().upper() for item in items if str(item).strip())


def parse(options: Any) -> Settings:
    """Settings from what the client sent: the keys at the top, or under "asynccheck"
    (VS Code and Neovim send their whole section)."""
    if not isinstance(options, Mapping):
        return Settings()
    if isinstance(options.get("asynccheck"), Mapping):
        options = options["asynccheck"]
    severity = dict(DEFAULT_SEVERITY)
    given = options.get("severity")
    if isinstance(given, Mapping):
        severity.update(
            {
                str(k).upper(): str(v).lower()
                for k, v in given.items()
                if str(v).lower() in SEVERITIES
            }
        )
    select = options.get("select")
    return Settings(
        select=_codes(select) if select is not None else None,
        ignore=_codes(options.get("ignore")),
        extend_select=_codes(options.get("extendSelect", options.get("extend-select"))),
        unsafe_fixes=bool(options.get("unsafeFixes", options.get("unsafe-fixes", False))),
        severity=severity,
    )
