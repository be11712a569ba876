"""A rule's explanation as Markdown, built from its metadata, in ruff's sections.

`asynccheck rule CODE` prints `explain(rule)`; the docs site (docs/hooks/rules.py, at build
time) renders `rule_page(rule)`: the same sections, plus what asynccheck prints for the first
bad example, the fix as a diff and every other example. `rules_index()` is the table of all
rules by family. Nothing here is written by hand per rule, so a new rule is documented as soon
as it is registered, and the docs cannot drift from the code.

It shows what `asynccheck lint` prints for an example, so it sits above the rules, the
engine and the report formats (imports run one way: rules know no output format).
"""

from __future__ import annotations

import difflib
import json
import re
import textwrap
from collections.abc import Iterable, Mapping
from typing import Any, Optional

from asynccheck.rules.base import Example, Rule

# code prefix -> family title; a prefix missing here still gets a section ("AC7xx").
FAMILIES: Mapping[str, str] = {
    "AC0": "The tool itself",
    "AC1": "Blocking calls inside async def",
    "AC2": "Async resources not closed",
    "AC3": "Cancellation",
    "AC4": "Tasks and coroutines",
    "AC5": "Timeouts",
    "AC6": "Event loop management",
}

# What a family is about, for the rules index (a family without an entry gets no intro).
FAMILY_INTROS: Mapping[str, str] = {
    "AC0": "Files asynccheck could not check. They are reported, never a crash, and the rest "
    "of the run goes on.",
    "AC1": "The event loop runs one callback at a time, on one thread. A call that blocks "
    "(sleeping, network or disk I/O, a subprocess, a thread lock) inside `async def` stops "
    "every other task until it returns; so does one in the sync code the loop calls itself "
    "(protocol callbacks such as `data_received`, functions handed to `call_soon` or "
    "`add_done_callback`), where the advice is a thread, not an `await`. AC110 also follows "
    "the plain functions they call, across the project's modules.",
    "AC2": "Sessions, clients, pools, connections and responses hold sockets and file "
    "descriptors. Left open, they leak connections and print `Unclosed client session` "
    "warnings; `async with` closes them on every path, exceptions included.",
    "AC3": "Cancellation is how asyncio stops tasks, enforces timeouts and shuts down. Code "
    "that catches `CancelledError` and carries on, or drops it in a `finally`, makes a task "
    "impossible to stop.",
    "AC4": "A task nobody keeps a reference to can be garbage-collected mid-flight, and a "
    "coroutine nobody awaits never runs. Awaiting independent work one item at a time wastes "
    "the concurrency asyncio is for.",
    "AC5": "A network call or a wait without a bound can hang forever, and before Python 3.11 "
    "asyncio's timeout exception was not the one the rest of the standard library raises.",
    "AC6": "One event loop a thread, started by `asyncio.run()` or `asyncio.Runner`: starting "
    "another inside a coroutine fails or deadlocks, and the loop-policy API is going away.",
}

# Where a config key is documented on the site (docs/configuration.md has one heading a key).
CONFIG_PAGE = "configuration.md"
EXAMPLE_PATH = "example.py"

_PLACEHOLDER = re.compile(r"\{(\w+)\}")


TERMINAL_WIDTH = 88


def explain(rule: type[Rule]) -> str:
    """The rule's explanation for a terminal: plain Markdown, no links to other pages, prose
    wrapped to TERMINAL_WIDTH columns (code is never wrapped)."""
    return _wrap(_render(rule, site=False), TERMINAL_WIDTH)


def rule_page(rule: type[Rule]) -> str:
    """The rule's page on the docs site, `rules/<CODE>.md`."""
    return _render(rule, site=True)


def family(code: str) -> tuple[str, str]:
    """("AC1xx", "Blocking calls inside async def") for "AC101"."""
    prefix = code[:3]
    return f"{prefix}xx", FAMILIES.get(prefix, "Other rules")


def message_template(rule: type[Rule]) -> str:
    """The message with its placeholders shown as `<call>`, `<reason>`, ..."""
    return _PLACEHOLDER.sub(r"<\1>", rule.message)


def by_family(rules: Iterable[type[Rule]]) -> dict[tuple[str, str], list[type[Rule]]]:
    """Rules grouped by family, families and rules in code order."""
    groups: dict[tuple[str, str], list[type[Rule]]] = {}
    for rule in sorted(rules, key=lambda r: r.code):
        groups.setdefault(family(rule.code), []).append(rule)
    return groups


def rules_index(rules: Iterable[type[Rule]]) -> str:
    """`rules/index.md`: every rule by family, with its message, default and fix."""
    rules = list(rules)
    groups = by_family(rules)
    lines = [
        "# Rules",
        "",
        f"asynccheck has {len(rules)} rules in {len(groups)} families. **Default** says whether "
        "a rule runs without configuration: *on* rules do, *opt-in* rules run once you "
        "select them (`--extend-select AC304`, or `extend-select` in "
        f"[`[tool.asynccheck]`](../{CONFIG_PAGE})). **Fix** says whether asynccheck can fix "
        "the finding: *safe* fixes are applied by `asynccheck lint --fix`, *unsafe* ones only "
        "with `--fix --unsafe-fixes`, because they can change what the code does.",
        "",
        "`asynccheck rules` prints the same table in a terminal, and `asynccheck rule CODE` "
        "explains one rule.",
        "",
    ]
    for (prefix, title), members in groups.items():
        lines += [f"## {prefix}: {title}", ""]
        if prefix[:3] in FAMILY_INTROS:
            lines += [FAMILY_INTROS[prefix[:3]], ""]
        # the wrapper (md_in_html) lets the site's CSS keep codes and names on one line
        lines += ['<div class="rules-table" markdown>', ""]
        lines += ["| Code | Name | Message | Default | Fix |", "|---|---|---|---|---|"]
        for rule in members:
            message = _table_cell(_code_span(message_template(rule)))
            lines.append(
                f"| [{rule.code}]({rule.code}.md) | {rule.name} | {message} "
                f"| {_default_word(rule)} | {rule.fix_safety or '—'} |"
            )
        lines += ["", "</div>", ""]
    return "\n".join(lines).rstrip() + "\n"


def rules_nav(rules: Iterable[type[Rule]], folder: str = "rules") -> list[dict[str, Any]]:
    """The rules section of the mkdocs nav: one sub-section a family, one entry a rule."""
    return [
        {f"{prefix} {title}": [{f"{r.code} {r.name}": f"{folder}/{r.code}.md"} for r in members]}
        for (prefix, title), members in by_family(rules).items()
    ]


def rules_reading(key: str, rules: Iterable[type[Rule]], folder: str = "rules") -> str:
    """A sentence linking the rules that read a `[tool.asynccheck]` key ("" if none does)."""
    readers = sorted((r for r in rules if key in r.config_keys), key=lambda r: r.code)
    if not readers:
        return ""
    links = ", ".join(f"[{r.code} {r.name}]({folder}/{r.code}.md)" for r in readers)
    return f"Rules that read it: {links}."


def site_pages(rules: Iterable[type[Rule]], folder: str = "rules") -> dict[str, str]:
    """Every generated page of the site: path inside docs/ -> Markdown."""
    rules = list(rules)
    pages = {f"{folder}/index.md": rules_index(rules)}
    for rule in sorted(rules, key=lambda r: r.code):
        pages[f"{folder}/{rule.code}.md"] = rule_page(rule)
    return pages


# --- one rule ---------------------------------------------------------------------------


def _render(rule: type[Rule], *, site: bool) -> str:
    prefix, title = family(rule.code)
    lines = [f"# {rule.name} ({rule.code})", ""]
    status = f"Default: {_default_word(rule)}. Fix: {rule.fix_safety or 'none'}."
    if site:
        status = f"{status} Family: [{prefix} {title.lower()}](index.md#{_anchor(prefix, title)})."
    lines += [status, ""]

    template = message_template(rule)
    what = f"Reports {_code_span(template)}." if site else f"Reports: {template}"
    lines += ["## What it does", "", what, ""]
    lines += _sync_text(rule, site)
    if rule.explanation():
        lines += ["## Why is this bad?", "", rule.explanation(), ""]

    example = featured(rule)
    if example is not None:
        lines += ["## Example", "", *_code_block(example.code)]
        if site:
            reported = _reported(rule, example)
            if reported:
                lines += ["asynccheck reports:", "", *_code_block(reported, "text")]
    use_instead = _use_instead(rule, example)
    if use_instead is not None:
        lines += ["## Use instead", "", *_code_block(use_instead)]

    lines += ["## Fix", "", *_fix_text(rule, example, site)]
    lines += ["## Configuration", "", *_config_text(rule, site)]

    if site:
        lines += _more_examples(rule, example)
    if rule.references:
        lines += ["## References", ""]
        lines += [f"- <{url}>" if site else f"- {url}" for url in rule.references]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _sync_text(rule: type[Rule], site: bool) -> list[str]:
    """What a blocking-call rule (AC101-AC109: those with `sync_help`) says in sync code the
    loop runs, where no `await` can go."""
    if not hasattr(rule, "sync_help"):
        return []
    sync = _PLACEHOLDER.sub(r"<\1>", getattr(rule, "sync_message", None) or rule.message)
    help_text = getattr(rule, "sync_help", "")
    said = _code_span(sync) if site else f'"{sync}"'
    text = (
        "Also in sync code the loop runs itself: the callbacks of `asyncio.Protocol`, "
        "`BufferedProtocol`, `DatagramProtocol` and `SubprocessProtocol` subclasses (also "
        "through a base class in another module of the project), and functions handed to "
        "`loop.call_soon`, `call_later`, `call_at`, `call_soon_threadsafe`, `add_reader`, "
        "`add_writer`, `add_signal_handler` or `fut.add_done_callback`. Nothing can be "
        f"awaited there, so it reports {said}"
        + (f', with the help line "{help_text}"' if help_text else "")
        + ", and offers no fix. A sync def nested in a coroutine and called there runs on "
        "the loop too, but it is no callback: it gets the message above, no fix, and the help "
        "to make it an `async def` or call it with `await asyncio.to_thread(...)`."
    )
    return [text, ""]


def _wrap(markdown: str, width: int) -> str:
    """Re-flow prose paragraphs to `width`; fenced code, headings and lists stay as they are.

    A paragraph is re-filled as a whole, so a docstring's own line breaks never leave a
    short line behind a wrapped one.
    """
    out: list[str] = []
    paragraph: list[str] = []
    fence: Optional[str] = None

    def flush() -> None:
        if paragraph:
            text = " ".join(part.strip() for part in paragraph)
            out.append(textwrap.fill(text, width, break_long_words=False, break_on_hyphens=False))
            paragraph.clear()

    for line in markdown.split("\n"):
        opening = re.match(r"`{3,}", line)
        if opening and (fence is None or line.strip() == fence):
            flush()
            fence = opening.group(0) if fence is None else None
            out.append(line)
        elif fence is None and line.strip() and not line.startswith(("#", "- ", " ", "|", ">")):
            paragraph.append(line)
        else:
            flush()
            out.append(line)
    flush()
    return "\n".join(out)


def _default_word(rule: type[Rule]) -> str:
    return "on" if rule.default else "opt-in"


def _anchor(prefix: str, title: str) -> str:
    """The id Python-Markdown's toc gives the heading `## AC1xx: Blocking calls ...`."""
    return re.sub(r"[\s]+", "-", re.sub(r"[^\w\s-]", "", f"{prefix}: {title}").strip().lower())


def _code_block(code: str, language: str = "python") -> list[str]:
    fence = "````" if "```" in code else "```"
    return [f"{fence}{language}", code.rstrip("\n"), fence, ""]


def featured(rule: type[Rule]) -> Optional[Example]:
    """The bad example a page shows first: the first one with a fix, so that the example,
    "Use instead" and the fix's diff are about the same code; else the first one."""
    return next((example for example in rule.bad if example.fixed), None) or (
        rule.bad[0] if rule.bad else None
    )


def _use_instead(rule: type[Rule], example: Optional[Example]) -> Optional[str]:
    """The featured example once fixed; else the first good example that is async code (a
    good example that is sync code only shows where the rule does not apply)."""
    if example is not None and example.fixed is not None:
        return example.fixed
    good = [example.code for example in rule.good]
    return next((code for code in good if "async" in code), good[0] if good else None)


def _fix_text(rule: type[Rule], example: Optional[Example], site: bool) -> list[str]:
    if rule.fix_safety is None:
        return ["There is no automatic fix.", ""]
    title = _sentence(rule.fix_title or "asynccheck can fix this")
    if rule.fix_safety == "safe":
        safety = "The fix is safe: `asynccheck lint --fix` applies it."
    else:
        safety = (
            "The fix is unsafe: it can change what the code does, so review it. "
            "`asynccheck lint --fix --unsafe-fixes` applies it; "
            "`asynccheck lint --diff --unsafe-fixes` shows it first."
        )
    lines = [f"{title} {safety}", ""]
    if site and example is not None and example.fixed is not None:
        diff = difflib.unified_diff(
            example.code.splitlines(keepends=True),
            example.fixed.splitlines(keepends=True),
            f"a/{EXAMPLE_PATH}",
            f"b/{EXAMPLE_PATH}",
        )
        flag = " --unsafe-fixes" if example.unsafe else ""
        lines += [f"`asynccheck lint --diff{flag}` on the example:", ""]
        lines += _code_block("".join(line.rstrip("\n") + "\n" for line in diff), "diff")
    return lines


def _config_text(rule: type[Rule], site: bool) -> list[str]:
    code = rule.code
    if rule.default:
        toggle = (
            f'On by default. Turn it off with `ignore = ["{code}"]` in `[tool.asynccheck]` '
            f"(or `--ignore {code}`), or on one line with `# noqa: {code}`."
        )
    else:
        toggle = (
            f'Off by default. Turn it on with `extend-select = ["{code}"]` in '
            f"`[tool.asynccheck]` (or `--extend-select {code}`)."
        )
    lines = [toggle, ""]
    if rule.config_keys:
        keys = ", ".join(
            f"[`{key}`](../{CONFIG_PAGE}#{key})" if site else f"`{key}`" for key in rule.config_keys
        )
        lines += [f"Settings it reads from `[tool.asynccheck]`: {keys}.", ""]
    if rule.example_config:
        lines += ["The examples assume:", ""]
        lines += _code_block(_toml_table(rule.example_config), "toml")
    return lines


def _more_examples(rule: type[Rule], shown: Optional[Example]) -> list[str]:
    """Every example but the featured one: they are the rule's test cases, so they are exact."""
    lines: list[str] = []
    flagged = [example for example in rule.bad if example is not shown]
    if flagged:
        lines += ["## More examples", "", "### Flagged", ""]
        lines += _examples(flagged)
    if rule.good:
        if not flagged:
            lines += ["## More examples", ""]
        lines += ["### Not flagged", ""]
        lines += _examples(rule.good)
    return lines


def _examples(examples: Iterable[Example]) -> list[str]:
    lines: list[str] = []
    for example in examples:
        lines += _code_block(example.code)
        if example.fixed is not None:
            how = "`--fix --unsafe-fixes`" if example.unsafe else "`--fix`"
            lines += [f"After {how}:", "", *_code_block(example.fixed)]
    return lines


def _reported(rule: type[Rule], example: Example) -> str:
    """What `asynccheck lint` prints for the example (findings only), or "" if nothing."""
    from asynccheck.lint.api import lint_source
    from asynccheck.lint.report import LintReport, renderer

    findings = lint_source(
        example.code, select=[rule.code], path=EXAMPLE_PATH, config=dict(rule.example_config)
    )
    if not findings:
        return ""
    report = LintReport(tuple(findings), files_checked=1, quiet=True)
    return renderer("text")(report).rstrip("\n")


def _toml_table(table: Mapping[str, Any]) -> str:
    return "\n".join(["[tool.asynccheck]", *(f"{k} = {_toml(v)}" for k, v in table.items())])


def _toml(value: Any) -> str:
    """Enough TOML for config examples: strings, numbers, booleans, lists, inline tables."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, str)):
        return json.dumps(value)
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{json.dumps(k)} = {_toml(v)}" for k, v in value.items()) + " }"
    return "[" + ", ".join(_toml(item) for item in value) + "]"


def _code_span(text: str) -> str:
    """`text` as inline code, even when it holds backticks (CommonMark's longer fence)."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _table_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _sentence(text: str) -> str:
    text = text[0].upper() + text[1:] if text else text
    return text if text.endswith(".") else text + "."
