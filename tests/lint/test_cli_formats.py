"""Options that meet a format (issue 12, point 7): `--statistics` as JSON, `--diff` only beside
a human format, and a path with no Python file said so."""

from __future__ import annotations

import json

import pytest

SLEEP = "import time\n\n\nasync def f():\n    time.sleep(1)\n    time.sleep(2)\n"
HTTP = "import requests\n\n\nasync def g(u):\n    requests.get(u)\n"


def test_statistics_in_json(tree, cli):
    tree({"a.py": SLEEP, "b.py": HTTP})
    result = cli("lint", "--statistics", "--format", "json", ".")
    assert result.exit_code == 1
    assert json.loads(result.stdout) == [
        {"code": "AC101", "count": 2, "fixable": True, "name": "blocking-sleep"},
        {"code": "AC102", "count": 1, "fixable": False, "name": "blocking-http"},
    ]


def test_statistics_in_json_when_clean(tree, cli):
    tree({"a.py": "x = 1\n"})
    result = cli("lint", "--statistics", "--format", "json", ".")
    assert (result.exit_code, json.loads(result.stdout)) == (0, [])


@pytest.mark.parametrize("fmt", ["sarif", "json", "github"])
def test_diff_with_a_machine_format_is_a_usage_error(tree, cli, fmt):
    tree({"a.py": SLEEP})
    result = cli("lint", "--diff", "--format", fmt, "a.py")
    assert result.exit_code == 2
    assert f"--diff prints a diff, not {fmt}" in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize("fmt", ["text", "concise"])
def test_diff_with_a_human_format(tree, cli, fmt):
    tree({"a.py": SLEEP})
    result = cli("lint", "--diff", "--format", fmt, "a.py")
    assert result.exit_code == 1 and "+import asyncio" in result.stdout


@pytest.mark.parametrize("fmt", ["sarif", "github"])
def test_statistics_with_a_format_that_has_none_is_a_usage_error(tree, cli, fmt):
    tree({"a.py": SLEEP})
    result = cli("lint", "--statistics", "--format", fmt, "a.py")
    assert result.exit_code == 2
    assert f"--statistics has no {fmt} form" in result.stderr


def test_a_path_with_no_python_files_warns_and_passes(tree, cli):
    root = tree({"notes.txt": "hello\n"})
    (root / "empty").mkdir()
    result = cli("lint", "empty")
    assert result.exit_code == 0
    assert "asynccheck: warning: no Python files found in empty" in result.stderr
    (root / "a.py").write_text("x = 1\n")
    assert "no Python files" not in cli("lint", ".", "empty").stderr
