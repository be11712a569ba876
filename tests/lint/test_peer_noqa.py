"""A line already annotated for flake8-async or ruff is not flagged again (issue 12, point 6),
through one table (`lint.peers`) that the docs' table agrees with."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from asynccheck.lint.api import lint_source
from asynccheck.lint.peers import PEER_CODES

DOC = Path(__file__).parents[2] / "docs" / "coming-from-flake8-async.md"

TASK = "import asyncio\n\n\nasync def main(c):\n    asyncio.create_task(c)  {comment}\n"
OPEN = "async def main(p):\n    open(p)  {comment}\n"


@pytest.mark.parametrize(
    "source, comment, code",
    [
        (TASK, "# noqa: RUF006", "AC401"),
        (TASK, "# noqa: ASYNC300", "AC401"),
        (OPEN, "# noqa: ASYNC230", "AC104"),
        (OPEN, "# noqa:E501,async230", "AC104"),
        (OPEN, "# noqa: ASYNC240", "AC104"),
    ],
)
def test_a_peers_code_for_the_same_problem_silences(source, comment, code):
    assert [f.code for f in lint_source(source.format(comment=""))] == [code]
    assert lint_source(source.format(comment=comment)) == []


@pytest.mark.parametrize("comment", ["# noqa: E501", "# noqa: ASYNC251", "# noqa: RUF100"])
def test_another_code_does_not(comment):
    assert [f.code for f in lint_source(OPEN.format(comment=comment))] == ["AC104"]


def test_the_setting_turns_it_off(tree, cli):
    tree(
        {
            "pyproject.toml": "[tool.asynccheck]\nrespect-peer-noqa = false\n",
            "m.py": OPEN.format(comment="# noqa: ASYNC230"),
            "n.py": OPEN.format(comment="# noqa: AC104"),
        }
    )
    result = cli("lint", "--format", "concise", ".")
    assert result.exit_code == 1
    assert "m.py:2:5: AC104" in result.stdout and "n.py" not in result.stdout
    source = OPEN.format(comment="# noqa: ASYNC230")
    assert [f.code for f in lint_source(source, config={"respect-peer-noqa": False})] == ["AC104"]


def _doc_rows() -> set[tuple[frozenset[str], frozenset[str]]]:
    """(peers' codes, our codes) of each row of the docs' table that maps to ours."""
    text = DOC.read_text(encoding="utf-8")
    table = text[text.index("| flake8-async / ruff |") :].split("\n\n", 1)[0]
    rows = set()
    for line in table.splitlines()[2:]:
        peers_cell, ours_cell = line.split("|")[1:3]
        ours = frozenset(re.findall(r"\bAC\d{3}\b", ours_cell))
        if ours:
            rows.add((frozenset(re.findall(r"\b(?:ASYNC|RUF)\d{3}\b", peers_cell)), ours))
    return rows


def test_the_docs_table_is_the_codes_table():
    in_code = {(frozenset(row.peers), frozenset(row.ours)) for row in PEER_CODES}
    assert _doc_rows() == in_code
