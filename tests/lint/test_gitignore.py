"""gitignore patterns: the answers of `git check-ignore` itself, on generated cases."""

from __future__ import annotations

import random
import shutil
import subprocess

import pytest

from asynccheck.lint.gitignore import GitIgnore

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")

SEGMENTS = ("a", "b", "ab", "*", "**", "?", "a*", "*.py", "[ab]", "[!a]", "x.py", "b?", "[a-c]")
NAMES = ("a", "b", "ab", "x.py", "a.py", "bb", "c")


def _git_ignores(repo, lines, parts, is_dir):
    for entry in repo.iterdir():
        if entry.name != ".git":
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
    (repo / ".gitignore").write_text("\n".join(lines) + "\n", encoding="utf-8")
    target = repo.joinpath(*parts)
    if is_dir:
        target.mkdir(parents=True)
    else:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("", encoding="utf-8")
    done = subprocess.run(
        ["git", "check-ignore", "--no-index", "-q", "/".join(parts)], cwd=repo, check=False
    )
    return done.returncode == 0


@pytest.fixture
def repo(tmp_path):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    return tmp_path


def _random_case(rng):
    lines = []
    for _ in range(rng.randint(1, 3)):
        pattern = "/".join(rng.choice(SEGMENTS) for _ in range(rng.randint(1, 3)))
        if rng.random() < 0.3:
            pattern = "/" + pattern
        if rng.random() < 0.3:
            pattern += "/"
        if rng.random() < 0.2:
            pattern = "!" + pattern
        lines.append(pattern)
    parts = [rng.choice(NAMES) for _ in range(rng.randint(1, 4))]
    return lines, parts, rng.random() < 0.4


def test_generated_patterns_agree_with_git(repo):
    rng = random.Random(2026)
    for _ in range(250):
        lines, parts, is_dir = _random_case(rng)
        path = "/".join(parts) + ("/" if is_dir else "")
        expected = _git_ignores(repo, lines, parts, is_dir)
        assert GitIgnore(lines).match_file(path) == expected, (lines, path)


SPECIAL = [
    (["# comment", "", "b"], ["a", "b"], False),
    (["\\#name"], ["#name"], False),
    (["\\!name"], ["!name"], False),
    (["trail   "], ["trail"], False),
    (["space\\ "], ["space "], False),
    (["[]a]"], ["]"], False),
    (["*.py[co]"], ["m.pyc"], False),
    (["a/**/b"], ["a", "x", "y", "b"], False),
    (["a/**/b"], ["a", "b"], False),
    (["a/**"], ["a"], True),
    (["a/**"], ["a", "x"], False),
    (["**"], ["deep", "er"], False),
    (["build/", "!build/keep.py"], ["build", "keep.py"], False),
    (["build/*", "!build/keep.py"], ["build", "keep.py"], False),
    (["/top.py"], ["sub", "top.py"], False),
    (["sub/x.py"], ["other", "sub", "x.py"], False),
    (["[z-a]", "ok"], ["ok"], False),
]


@pytest.mark.parametrize(("lines", "parts", "is_dir"), SPECIAL)
def test_escapes_comments_classes_and_globstars_agree_with_git(repo, lines, parts, is_dir):
    path = "/".join(parts) + ("/" if is_dir else "")
    assert GitIgnore(lines).match_file(path) == _git_ignores(repo, lines, parts, is_dir)
