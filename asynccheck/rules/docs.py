"""A rule's explanation as Markdown, built from its metadata: `asynccheck rule` and the docs
site print the same text, in ruff's sections."""

from __future__ import annotations

from asynccheck.rules.base import Rule


def explain(rule: type[Rule]) -> str:
    lines = [f"# {rule.name} ({rule.code})", ""]
    default = "on by default" if rule.default else "opt-in (enable with --select or extend-select)"
    fix = {"safe": "a safe fix", "unsafe": "an unsafe fix (--unsafe-fixes)"}.get(
        rule.fix_safety or "", "no fix"
    )
    lines += [f"Default: {default}. Fix: {fix}.", ""]
    lines += [
        "## What it does",
        "",
        _sentence(rule.message.replace("{call}()", "The call").replace("{reason}", "the reason")),
        "",
    ]
    lines += ["## Why is this bad?", "", rule.explanation(), ""]
    if rule.bad:
        lines += ["## Example", "", "```python", rule.bad[0].code.rstrip(), "```", ""]
    if rule.good:
        good = next((e.fixed for e in rule.bad if e.fixed), None) or rule.good[0].code
        lines += ["## Use instead", "", "```python", good.rstrip(), "```", ""]
    if rule.fix_title:
        safety = "safe" if rule.fix_safety == "safe" else "unsafe: review the change"
        lines += ["## Fix", "", f"{rule.fix_title} ({safety}).", ""]
    if rule.config_keys:
        keys = ", ".join(f"`{key}`" for key in rule.config_keys)
        lines += ["## Configuration", "", f"Read from `[tool.asynccheck]`: {keys}.", ""]
    if rule.references:
        lines += ["## References", "", *(f"- {url}" for url in rule.references), ""]
    return "\n".join(lines).rstrip() + "\n"


def _sentence(text: str) -> str:
    text = text[0].upper() + text[1:] if text else text
    return text if text.endswith(".") else text + "."
