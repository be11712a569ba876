"""AC110's questions are placed once answered (lint.project.candidates): the findings must
be the very ones placing every question at once gives, in every file shape."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from asynccheck.config import Config
from asynccheck.lint.checker import Checker
from asynccheck.lint.engine import RunOptions, run
from asynccheck.lint.finding import Finding
from asynccheck.lint.project import candidates

STORAGE = """import time


def save(order):
    with open("orders.json", "w") as f:
        f.write(order)


class Repo:
    def get(self, key):
        time.sleep(0.1)
        return key
"""

HANDLERS = """import asyncio
from .storage import Repo, save


async def handle(order):
    \"\"\"Save it: \u00e9t\u00e9 \u2603.\"\"\"
    save(order)
    x = {"k": Repo().get("a"), "j": 1}; save(
        order
    )
    await asyncio.to_thread(save, order)
    if save(order) or Repo().get("b"):
        pass
"""


def _lint(root: Path, cache: bool = False) -> list[Finding]:
    here = os.getcwd()
    os.chdir(root)
    try:
        config = Config(root=str(root), select=("AC110",))
        result = run(["."], config, RunOptions(jobs=1, use_cache=cache))
    finally:
        os.chdir(here)
    return sorted(result.findings, key=Finding.sort_key)


def _fields(findings: list[Finding]) -> list[tuple[Any, ...]]:
    return [
        (f.path, f.location, f.end_location, f.message, f.source_line, f.help) for f in findings
    ]


@pytest.fixture
def placed_at_once(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Lint with every question placed in the file's own check, as before."""
    check = Checker.check_in_project

    def eager(self: Checker, *args: Any, **kwargs: Any) -> Any:
        kwargs["place_questions"] = True
        return check(self, *args, **kwargs)

    def lint(root: Path) -> list[Finding]:
        with monkeypatch.context() as patch:
            patch.setattr(Checker, "check_in_project", eager)
            return _lint(root)

    return lint


def _write(root: Path, handlers: str, newline: str = "\n") -> None:
    (root / "app").mkdir(exist_ok=True)
    (root / "app" / "__init__.py").write_text("")
    (root / "app" / "storage.py").write_text(STORAGE)
    (root / "app" / "handlers.py").write_bytes(handlers.replace("\n", newline).encode("utf-8"))


@pytest.mark.parametrize(
    "handlers, newline",
    [
        (HANDLERS, "\n"),
        (HANDLERS, "\r\n"),
        ("\x0c\n" + HANDLERS, "\n"),  # a form feed: a line for the tokenizer, not for Python
        (HANDLERS.replace("    save(order)\n", "    save(order)  # noqa: E501\n", 1), "\n"),
    ],
    ids=["lf", "crlf", "form-feed", "other-noqa"],
)
def test_questions_placed_when_answered_match_questions_placed_at_once(
    tmp_path: Path, placed_at_once: Any, handlers: str, newline: str
) -> None:
    _write(tmp_path, handlers, newline)
    late = _lint(tmp_path)
    assert len(late) == 5
    assert _fields(late) == _fields(placed_at_once(tmp_path))


def test_a_noqa_for_ac110_places_the_files_questions_at_once(
    tmp_path: Path, placed_at_once: Any
) -> None:
    _write(tmp_path, HANDLERS.replace("    save(order)\n", "    save(order)  # noqa: AC110\n", 1))
    late = _lint(tmp_path)
    assert [f.location.row for f in late] == [8, 8, 12, 12]
    assert _fields(late) == _fields(placed_at_once(tmp_path))


def test_stored_questions_asked_again_are_placed(tmp_path: Path, placed_at_once: Any) -> None:
    """A warm run whose helper changed asks the cached file's stored questions again."""
    _write(tmp_path, HANDLERS)
    first = _lint(tmp_path, cache=True)
    storage = tmp_path / "app" / "storage.py"
    storage.write_text(STORAGE.replace("time.sleep(0.1)", "pass"))
    again = _lint(tmp_path, cache=True)
    assert len(first) == 5 and len(again) == 3
    assert _fields(again) == _fields(placed_at_once(tmp_path))


def test_a_file_changed_before_its_question_is_answered_is_placed_at_its_first_line(
    tmp_path: Path,
) -> None:
    _write(tmp_path, HANDLERS)
    path = str(tmp_path / "app" / "handlers.py")
    checker = Checker(frozenset(("AC110",)))
    checked, _ = checker.check_in_project(path, HANDLERS, "app.handlers", place_questions=False)
    own, questions = candidates.split(checked)
    assert not own and questions
    assert all(q.finding.location.row == 0 for q in questions)
    placed = questions[0].answered("storage.save() -> open()")
    assert placed.location.row == 7 and placed.source_line == "    save(order)"
    # the parse made for the first answer is of the text asked about: it still places
    assert questions[1].answered("c").location.row == 8
    (tmp_path / "app" / "handlers.py").write_text(HANDLERS + "\n# edited\n")
    candidates._PARSED.clear()
    moved = questions[1].answered("storage.save() -> open()")
    assert (moved.location.row, moved.location.column) == (1, 1)
    assert "storage.save() -> open()" in moved.message
