"""code -> (name, on by default): an index of the registry for the paths that must not
import the rules themselves (a warm-cache run validates codes and picks the enabled ones
from this table alone). tests/rules/test_examples.py keeps it equal to the registry;
rewrite it with `python -m asynccheck.rules.index`."""

from __future__ import annotations

RULE_INDEX: dict[str, tuple[str, bool]] = {
    "AC001": ("syntax-error", True),
    "AC002": ("unreadable-file", True),
    "AC101": ("blocking-sleep", True),
    "AC102": ("blocking-http", True),
    "AC103": ("blocking-subprocess", True),
    "AC104": ("blocking-file-io", True),
    "AC105": ("blocking-socket", True),
    "AC106": ("blocking-database", True),
    "AC107": ("blocking-input", True),
    "AC108": ("blocking-wait", True),
    "AC109": ("configured-blocking-call", True),
    "AC110": ("blocking-via-helper", True),
    "AC201": ("unclosed-resource", True),
    "AC202": ("resource-not-async-with", True),
    "AC203": ("unreleased-response", True),
    "AC204": ("resource-in-loop", True),
    "AC205": ("sync-with-on-async-resource", True),
    "AC301": ("cancelled-error-swallowed", True),
    "AC302": ("broad-except-swallows-cancel", True),
    "AC303": ("finally-swallows", True),
    "AC304": ("unshielded-await-in-cleanup", False),
    "AC305": ("cancel-not-awaited", False),
    "AC306": ("task-entry-swallows-cancel", False),
    "AC401": ("dangling-task", True),
    "AC402": ("coroutine-not-awaited", True),
    "AC403": ("await-in-loop", False),
    "AC404": ("busy-wait", True),
    "AC405": ("gather-in-taskgroup-era", False),
    "AC501": ("session-without-timeout", False),
    "AC502": ("wait-without-timeout", False),
    "AC503": ("async-timeout-parameter", False),
    "AC504": ("timeout-error-mixup", True),
    "AC601": ("nested-event-loop", True),
    "AC602": ("get-event-loop-in-coroutine", False),
    "AC603": ("deprecated-loop-policy", True),
}


def _render() -> str:  # pragma: no cover - a maintenance helper
    from asynccheck.rules import REGISTRY

    rows = "\n".join(f'    "{c}": ("{r.name}", {r.default}),' for c, r in REGISTRY.items())
    with open(__file__, encoding="utf-8") as f:
        current = f.read()
    head = current.partition("RULE_INDEX: dict")[0]
    tail = current.partition("\n}\n")[2]
    return f"{head}RULE_INDEX: dict[str, tuple[str, bool]] = {{\n{rows}\n}}\n{tail}"


if __name__ == "__main__":  # pragma: no cover
    text = _render()
    with open(__file__, "w", encoding="utf-8") as f:
        f.write(text)
