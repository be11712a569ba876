"""The docs site: `mkdocs build --strict` passes, every registered rule has a generated page,
and the terminal output pasted into the pages is what asynccheck prints today.

Pasted output is checked where a page marks it: a ```console block right after a
`<!-- check-output -->` line runs its `$ ` commands, one after the other, in a temporary folder
holding the page's ```python title="NAME" files written so far, top to bottom, and must
print exactly the lines between the commands. When an output changes on purpose, run
`ASYNCCHECK_UPDATE_DOCS=1 pytest tests/test_docs.py -k pasted` to paste the new one, and
read the diff before committing it.
"""

from __future__ import annotations

import html
import importlib.util
import os
import re
import shlex
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from asynccheck.rule_docs import TERMINAL_WIDTH, explain, rule_page, rules_index, site_pages
from asynccheck.rules import REGISTRY

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


# --- the build ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    missing = [name for name in ("mkdocs", "material") if importlib.util.find_spec(name) is None]
    if missing:
        pytest.skip(
            f"{' and '.join(missing)} not installed: pip install -e '.[test]' (mkdocs-material)"
        )
    out = tmp_path_factory.mktemp("site")
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "-d", str(out)],
        cwd=ROOT,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1", "DISABLE_MKDOCS_2_WARNING": "true"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, f"mkdocs build --strict failed:\n{result.stderr}"
    return out


class _Text(HTMLParser):
    """The text of an HTML page, tags dropped and entities decoded (code keeps its lines)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def _page_text(path: Path) -> str:
    parser = _Text()
    parser.feed(path.read_text(encoding="utf-8"))
    return html.unescape("".join(parser.parts))


def test_every_rule_has_a_page(site: Path) -> None:
    for code, rule in REGISTRY.items():
        page = site / "rules" / code / "index.html"
        assert page.is_file(), f"no page for {code}"
        text = _page_text(page)
        assert code in text and rule.name in text, code
        if rule.bad:
            assert rule.bad[0].code.rstrip("\n") in text, f"{code}: first bad example missing"


def test_rule_urls_point_at_their_pages(site: Path) -> None:
    """`Rule.url()` (in JSON, SARIF and `asynccheck rule`) is where the site puts the page."""
    config = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    site_url = re.search(r"^site_url:\s*(\S+)", config, re.MULTILINE)
    assert site_url is not None
    for rule in REGISTRY.values():
        url = rule.url()
        assert url.startswith(site_url.group(1)), url
        assert (site / url[len(site_url.group(1)) :] / "index.html").is_file(), url


def test_rules_index_lists_every_rule(site: Path) -> None:
    text = _page_text(site / "rules" / "index.html")
    for code, rule in REGISTRY.items():
        assert code in text and rule.name in text, code
    for page in ("getting-started", "configuration", "pre-commit", "ci", "profiling"):
        assert (site / page / "index.html").is_file(), page


# --- the generator, without a build ---------------------------------------------------------


def test_site_pages_cover_the_registry() -> None:
    pages = site_pages(REGISTRY.values())
    assert set(pages) == {"rules/index.md", *(f"rules/{code}.md" for code in REGISTRY)}
    index = rules_index(REGISTRY.values())
    for code in REGISTRY:
        assert f"[{code}]({code}.md)" in index


def test_a_rule_page_shows_real_output_and_the_fix_as_a_diff() -> None:
    page = rule_page(REGISTRY["AC101"])
    assert "example.py:3:5: AC101 [*] time.sleep() blocks the event loop" in page
    assert "-    time.sleep(1)\n+    await asyncio.sleep(1)" in page
    assert "### Not flagged" in page


def test_explain_is_plain_markdown_for_a_terminal() -> None:
    for rule in REGISTRY.values():
        text = explain(rule)
        assert text.startswith(f"# {rule.name} ({rule.code})\n")
        assert "](" not in text, "no links to other pages in the terminal"
        assert "asynccheck reports:" not in text, "no lint run for `asynccheck rule`"
        assert "{" + "call}" not in text
        in_code = False
        for line in text.splitlines():
            in_code ^= line.startswith("```")
            if not in_code and not line.startswith(("```", "- ", " ")) and " " in line:
                assert len(line) <= TERMINAL_WIDTH, f"{rule.code}: {line!r}"


def test_blocking_rules_say_what_they_report_in_sync_code_the_loop_runs() -> None:
    """The sync-callback wording (lint.onloop) is on every AC101-AC109 page, from metadata."""
    for code in [f"AC10{i}" for i in range(1, 10)]:
        text = " ".join(explain(REGISTRY[code]).split())
        assert "`fut.add_done_callback`" in text, code
        assert "Nothing can be awaited there" in text and "offers no fix" in text, code
        assert "no callback" in text, code  # a nested def the coroutine calls
    sleep = " ".join(explain(REGISTRY["AC101"]).split())
    assert "schedule what follows with loop.call_later()" in sleep
    file_io = " ".join(explain(REGISTRY["AC104"]).split())
    assert "loop.run_in_executor(None, ...)" in file_io and "move the work to a task" in file_io
    assert "`BufferedProtocol`" in rule_page(REGISTRY["AC104"])


def test_ac110_says_what_is_followed_across_modules_and_what_is_not() -> None:
    text = " ".join(explain(REGISTRY["AC110"]).split())
    for said in (
        "from .storage import save",  # imports
        "a re-export through a package's `__init__.py`",
        "called on `Class()`",
        "on `self.repo` assigned `Repo()` or annotated in the class body",
        "also through a base class in another module of the project",
        "`asyncio.to_thread`, `loop.run_in_executor`, `anyio.to_thread.run_sync`",
        "`async def` helpers",
        "at most 12 re-exports or base classes",
        "The project is the package tree around the linted files",
        "loop.run_in_executor(None, helper)",
    ):
        assert said in text, said
    assert "reached only through a class of another module" not in text


# --- pages that describe other files ------------------------------------------------------------


def test_configuration_page_documents_every_key() -> None:
    from asynccheck.config import CONFIG_KEYS

    text = (DOCS / "configuration.md").read_text(encoding="utf-8")
    for key in CONFIG_KEYS:
        assert f"### `{key}`" in text, f"docs/configuration.md has no section for '{key}'"


def test_toml_examples_are_valid_configuration() -> None:
    """Every ```toml block of the pages is accepted by the config loader (unknown keys and
    codes are errors there, so a renamed key or code cannot linger in the docs)."""
    from asynccheck.config import CONFIG_FILES, from_mapping, validate_codes

    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    checked = 0
    for page in sorted(DOCS.glob("*.md")):
        for match in _BLOCK.finditer(page.read_text(encoding="utf-8")):
            title = _TITLE.search(match.group(3))
            if match.group(2) != "toml" or (title and title.group(1) not in CONFIG_FILES):
                continue  # another program's TOML (Helix's languages.toml, a Zed extension)
            data = tomllib.loads(match.group(4))
            table = data.get("tool", {}).get("asynccheck", data)
            config = from_mapping(table, where=f"{page.name}: {match.group(4)[:40]!r}")
            validate_codes(config, REGISTRY, where=page.name)
            checked += 1
    assert checked >= 10


def test_pre_commit_page_uses_the_shipped_hook() -> None:
    hooks = (ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8")
    page = (DOCS / "pre-commit.md").read_text(encoding="utf-8")
    ids = re.findall(r"^- id: (\S+)", hooks, re.MULTILINE)
    entry = re.search(r"^\s*entry: (.+)$", hooks, re.MULTILINE)
    assert ids and entry is not None
    assert all(f"- id: {hook_id}" in page for hook_id in ids)
    assert f"`{entry.group(1).strip()}`" in page, "the page names the hook's command"


# --- pasted output ----------------------------------------------------------------------------

_BLOCK = re.compile(r"^(`{3,})(\w*)([^\n]*)\n(.*?)^\1[ \t]*$", re.MULTILINE | re.DOTALL)
_TITLE = re.compile(r'title="([\w.-]+\.\w+)"')
_MARK = "<!-- check-output -->"


def _checked_blocks(page: Path) -> list[tuple[dict[str, str], list[str], str]]:
    """(files written so far, commands, expected output) for each marked console block."""
    text = page.read_text(encoding="utf-8")
    files: dict[str, str] = {}
    blocks = []
    for match in _BLOCK.finditer(text):
        _, language, info, body = match.groups()
        title = _TITLE.search(info)
        if title and language == "python":
            files[title.group(1)] = body
        elif language == "console" and text[: match.start()].rstrip().endswith(_MARK):
            lines = body.rstrip("\n").split("\n")
            commands = [line[2:] for line in lines if line.startswith("$ ")]
            expected = "\n".join(line for line in lines if not line.startswith("$ "))
            blocks.append((dict(files), commands, expected))
    return blocks


CHECKED = [
    pytest.param(page, index, id=f"{page.stem}-{index}")
    for page in sorted(DOCS.glob("*.md"))
    for index in range(len(_checked_blocks(page)))
]


@pytest.mark.parametrize(("page", "index"), CHECKED)
def test_pasted_output_is_current(
    page: Path, index: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files, commands, expected = _checked_blocks(page)[index]
    for name, body in files.items():
        (tmp_path / name).write_text(body, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    for name in ("FORCE_COLOR", "NO_COLOR"):
        monkeypatch.delenv(name, raising=False)
    output = "".join(_run(command) for command in commands)
    actual = "\n".join(line.rstrip() for line in output.rstrip("\n").split("\n"))
    expected = "\n".join(line.rstrip() for line in expected.split("\n"))
    if actual != expected and os.environ.get("ASYNCCHECK_UPDATE_DOCS"):
        _paste(page, index, actual)
        return
    assert actual == expected, (
        f"{page.relative_to(ROOT)}: the output of `{'; '.join(commands)}` has changed; "
        f"paste the current one:\n{output}"
    )


def _run(command: str) -> str:
    """What the command prints: its standard output, then its standard error.

    `asynccheck ...` runs in-process (a child process costs a second of imports); anything
    else goes to bash.
    """
    args = shlex.split(command)
    if args and args[0] == "asynccheck":
        from click.testing import CliRunner

        from asynccheck.cli import main

        result = CliRunner().invoke(main, args[1:], catch_exceptions=False)
        return result.stdout + result.stderr  # stderr only carries the closing summary
    result = subprocess.run(
        ["bash", "-c", command], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    return result.stdout


def _paste(page: Path, index: int, output: str) -> None:
    """Replace the output of the index-th checked block of `page` with `output`."""
    text = page.read_text(encoding="utf-8")
    found = -1
    for match in _BLOCK.finditer(text):
        if match.group(2) == "console" and text[: match.start()].rstrip().endswith(_MARK):
            found += 1
            if found == index:
                fence = match.group(1)
                lines = match.group(4).rstrip("\n").split("\n")
                commands = "\n".join(line for line in lines if line.startswith("$ "))
                block = f"{fence}console\n{commands}\n{output}\n{fence}"
                page.write_text(text[: match.start()] + block + text[match.end() :], "utf-8")
                return
