"""Which files a run looks at: `.py`/`.pyi`, sorted, minus excludes, .gitignore and the
folders nobody wants linted; files named explicitly are linted unless `--force-exclude`."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from asynccheck.lint.discovery import PathError, discover

SLEEP = "import time\n\n\nasync def handler():\n    time.sleep(1)\n"


def git_init(folder) -> None:
    subprocess.run(["git", "init", "-q"], cwd=folder, check=True)


def files(*paths: str, **kwargs) -> list[str]:
    return list(discover(paths, **kwargs).files)


def test_py_and_pyi_found_other_files_not(tree):
    tree(
        {
            "a.py": "",
            "b.pyi": "",
            "c.txt": "",
            "d.pyc": b"\x00",
            "e.py.bak": "",
            "Makefile": "",
            "script": "#!/usr/bin/env python\n",
            "pkg/__init__.py": "",
            "pkg/mod.pyx": "",
        }
    )
    assert files(".") == ["a.py", "b.pyi", "pkg/__init__.py"]


def test_order_is_sorted_and_stable(tree):
    names = [f"m{n:02d}/f{k}.py" for n in (7, 3, 11, 0) for k in (2, 0, 1)]
    tree(dict.fromkeys(names, ""))
    found = files(".")
    assert found == sorted(found)
    assert found == files(".") == files("m11", "m00", "m03", "m07")
    assert len(found) == 12


def test_a_file_given_twice_is_linted_once(tree):
    tree({"a.py": ""})
    assert files("a.py", "./a.py", ".") == ["a.py"]


def test_paths_are_reported_as_given_without_dot_prefix(tree, tmp_path):
    tree({"pkg/a.py": ""})
    assert files(".") == ["pkg/a.py"]
    assert files("pkg") == ["pkg/a.py"]
    assert files("pkg/") == ["pkg/a.py"]
    assert files(str(tmp_path)) == [str(tmp_path / "pkg" / "a.py")]


@pytest.mark.parametrize(
    "folder", [".venv", "venv", "__pycache__", "node_modules", ".git", ".tox", "build"]
)
def test_default_excluded_folders(tree, folder):
    tree({f"{folder}/x.py": SLEEP, f"src/{folder}/y.py": SLEEP, "src/ok.py": ""})
    assert files(".") == ["src/ok.py"]


def test_default_excluded_folder_given_explicitly_is_linted(tree):
    tree({".venv/x.py": ""})
    assert files(".venv") == [".venv/x.py"]
    assert files(".venv/x.py") == [".venv/x.py"]


def test_gitignore_respected_inside_a_git_repo(tree, tmp_path, cli):
    tree(
        {
            ".gitignore": "generated/\n*_pb2.py\n",
            "generated/a.py": SLEEP,
            "api_pb2.py": SLEEP,
            "pkg/.gitignore": "local.py\n",
            "pkg/local.py": SLEEP,
            "pkg/kept.py": SLEEP,
            "kept.py": SLEEP,
        }
    )
    git_init(tmp_path)
    assert files(".") == ["kept.py", "pkg/kept.py"]
    # A sub-folder given on the command line still inherits the repository's .gitignore...
    assert files("pkg") == ["pkg/kept.py"]
    # ...but one that is itself ignored is linted when named, like .venv above (and ruff).
    assert files("generated") == ["generated/a.py"]
    result = cli("lint", "--format", "json", ".")
    assert sorted(d["filename"] for d in json.loads(result.stdout)) == ["kept.py", "pkg/kept.py"]


def test_no_respect_gitignore(tree, tmp_path, cli):
    tree({".gitignore": "generated/\n", "generated/a.py": SLEEP})
    git_init(tmp_path)
    assert cli("lint", ".").exit_code == 0
    assert files(".", respect_gitignore=False) == ["generated/a.py"]
    result = cli("lint", "--no-respect-gitignore", "--format", "concise", ".")
    assert result.exit_code == 1
    assert "generated/a.py:5:5: AC101" in result.stdout


def test_gitignore_outside_a_git_repo_above_the_given_folder_is_ignored(tree, tmp_path):
    # A parent's .gitignore only applies inside its repository.
    tree({".gitignore": "src/\n", "src/a.py": ""})
    assert files("src") == ["src/a.py"]


def test_exclude_globs(tree):
    tree({"migrations/0001.py": "", "app/models.py": "", "app/test_models.py": ""})
    assert files(".", exclude=["migrations/", "test_*.py"]) == ["app/models.py"]
    assert files(".", exclude=["app/*.py"]) == ["migrations/0001.py"]


def test_exclude_globs_at_depth_and_anchored(tree):
    tree(
        {
            "a/generated/x.py": "",
            "generated/y.py": "",
            "a/b/keep.py": "",
            "a/b/gen.py": "",
            "b/gen.py": "",
        }
    )
    # one segment: a name anywhere; several: relative to the root; `/x`: the root's own
    assert files(".", exclude=["generated"]) == ["a/b/gen.py", "a/b/keep.py", "b/gen.py"]
    assert files(".", exclude=["a/b/gen.py"]) == [
        "a/b/keep.py",
        "a/generated/x.py",
        "b/gen.py",
        "generated/y.py",
    ]
    assert files(".", exclude=["/generated/"]) == [
        "a/b/gen.py",
        "a/b/keep.py",
        "a/generated/x.py",
        "b/gen.py",
    ]


def test_exclude_names_apply_to_folders_outside_the_root(tree, tmp_path):
    tree({"project/pyproject.toml": "", "elsewhere/generated/x.py": "", "elsewhere/y.py": ""})
    found = files(
        str(tmp_path / "elsewhere"), root=str(tmp_path / "project"), exclude=["generated"]
    )
    assert [os.path.basename(path) for path in found] == ["y.py"]


def test_explicit_file_is_linted_even_when_excluded(tree, tmp_path, cli):
    tree({".gitignore": "ignored.py\n", "ignored.py": SLEEP, "pyproject.toml": ""})
    git_init(tmp_path)
    (tmp_path / "pyproject.toml").write_text('[tool.asynccheck]\nexclude = ["excluded.py"]\n')
    (tmp_path / "excluded.py").write_text(SLEEP)
    assert files("ignored.py") == ["ignored.py"]
    assert cli("lint", "ignored.py").exit_code == 1
    assert cli("lint", "excluded.py").exit_code == 1
    assert cli("lint", ".").exit_code == 0


def test_force_exclude_applies_excludes_to_explicit_files(tree, tmp_path, cli):
    tree(
        {
            ".gitignore": "ignored.py\n",
            "ignored.py": SLEEP,
            "excluded.py": SLEEP,
            ".venv/lib.py": SLEEP,
            "kept.py": SLEEP,
            "pyproject.toml": '[tool.asynccheck]\nexclude = ["excluded.py"]\n',
        }
    )
    git_init(tmp_path)
    assert files("ignored.py", force_exclude=True) == []
    assert files(".venv/lib.py", force_exclude=True) == []
    assert files("excluded.py", exclude=["excluded.py"], force_exclude=True) == []
    result = cli(
        "lint", "--force-exclude", "--format", "concise", "ignored.py", "excluded.py",
        ".venv/lib.py", "kept.py",
    )  # fmt: skip
    assert result.exit_code == 1
    assert [line.split(":")[0] for line in result.stdout.splitlines() if ": AC" in line] == [
        "kept.py"
    ]
    only_excluded = cli("lint", "--force-exclude", "excluded.py", "ignored.py")
    assert only_excluded.exit_code == 0


def test_missing_path_raises(tree):
    tree({})
    with pytest.raises(PathError, match=r"nope\.py"):
        discover(["nope.py"])


def test_symlinked_folders_are_not_followed(tree, tmp_path):
    tree({"real/a.py": ""})
    os.symlink(tmp_path / "real", tmp_path / "link")
    assert files(".") == ["real/a.py"]


def test_a_folder_named_explicitly_is_walked_even_if_a_parent_ignores_it(tmp_path):
    import subprocess

    from asynccheck.lint.discovery import discover

    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    (tmp_path / ".gitignore").write_text("/versions\n")
    package = tmp_path / "versions" / "pkg"
    package.mkdir(parents=True)
    (package / "mod.py").write_text("x = 1\n")
    assert discover([str(package)]).files == (str(package / "mod.py"),)
    assert discover([str(tmp_path)]).files == ()
