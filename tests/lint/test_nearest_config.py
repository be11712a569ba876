"""Each file is checked with the configuration nearest to it (issue 12, point 4): sub-projects,
`extend`, `--config`, excludes and per-file-ignores relative to the file that declares them,
and the cache keyed by each file's own settings."""

from __future__ import annotations

import json
import os

import pytest

from asynccheck.config import ConfigError, read_file
from asynccheck.config_finder import ConfigFinder, config_for_path
from asynccheck.globs import rebase_excludes, rebase_glob

SLEEP = "import time\n\n\nasync def handler():\n    time.sleep(1)\n"
SOCKET = (
    "import socket\nimport time\n\n\nasync def handler():\n"
    "    time.sleep(1)\n    socket.create_connection(('example.com', 80))\n"
)


def pyproject(body: str, requires: str = "") -> str:
    project = f'requires-python = "{requires}"\n' if requires else ""
    return f'[project]\nname = "x"\n{project}\n[tool.asynccheck]\n{body}\n'


def findings(result) -> list[tuple[str, str]]:
    assert result.exit_code in (0, 1), result.stderr
    return sorted((item["filename"], item["code"]) for item in json.loads(result.stdout))


@pytest.fixture
def monorepo(tree):
    """A root project and a sub-project that ignores AC101 and selects AC105 only."""
    return tree(
        {
            "pyproject.toml": pyproject('select = ["AC1"]'),
            "app.py": SOCKET,
            "lib/pyproject.toml": pyproject('select = ["AC105"]'),
            "lib/pkg/mod.py": SOCKET,
        }
    )


EXPECTED = [
    ("app.py", "AC101"),
    ("app.py", "AC105"),
    ("lib/pkg/mod.py", "AC105"),
]


@pytest.mark.parametrize(
    "paths",
    [(".",), ("app.py", "lib"), ("lib", "app.py"), ("lib/pkg/mod.py", "app.py")],
    ids=["tree", "root-first", "sub-first", "files"],
)
def test_each_file_gets_its_nearest_config_in_any_order(monorepo, cli, paths):
    assert findings(cli("lint", "--format", "json", "--no-cache", *paths)) == EXPECTED


def test_the_cache_keeps_each_files_settings_apart(monorepo, cli):
    cold = findings(cli("lint", "--format", "json", "."))
    warm = findings(cli("lint", "--format", "json", "lib", "app.py"))
    assert cold == warm == EXPECTED
    (monorepo / "lib" / "pyproject.toml").write_text(pyproject('select = ["AC101"]'))
    assert findings(cli("lint", "--format", "json", ".")) == [
        ("app.py", "AC101"),
        ("app.py", "AC105"),
        ("lib/pkg/mod.py", "AC101"),
    ]


def test_config_option_overrides_every_file(monorepo, cli):
    (monorepo / "strict.toml").write_text('select = ["AC101"]\n')
    result = cli("lint", "--format", "json", "--config", "strict.toml", "lib", "app.py")
    assert findings(result) == [("app.py", "AC101"), ("lib/pkg/mod.py", "AC101")]


def test_command_line_options_apply_over_each_file(monorepo, cli):
    result = cli("lint", "--format", "json", "--ignore", "AC105", ".")
    assert findings(result) == [("app.py", "AC101")]


def test_an_asynccheck_toml_is_a_config_too(tree, cli):
    tree(
        {
            "pyproject.toml": pyproject('select = ["AC1"]'),
            "tools/asynccheck.toml": 'ignore = ["AC101"]\n',
            "tools/t.py": SLEEP,
        }
    )
    assert cli("lint", ".").exit_code == 0


def test_extend_inherits_and_rebases_paths(tree, cli):
    tree(
        {
            "pyproject.toml": pyproject(
                'select = ["AC1"]\nextend-select = ["AC503"]\n'
                'per-file-ignores = { "lib/gen/*" = ["AC105"] }\n'
                'exclude = ["/lib/vendor/", "scratch/"]'
            ),
            "lib/pyproject.toml": pyproject(
                'extend = "../pyproject.toml"\nextend-select = ["AC001"]'
            ),
            "lib/gen/g.py": SOCKET,
            "lib/vendor/v.py": SOCKET,
            "lib/scratch/s.py": SOCKET,
        }
    )
    config = read_file(tree({}) / "lib" / "pyproject.toml")
    assert config.select == ("AC1",)
    assert config.extend_select == ("AC503", "AC001")
    assert config.exclude == ("/vendor/", "scratch/")
    assert config.root == os.path.abspath("lib")
    assert findings(cli("lint", "--format", "json", "lib")) == [("lib/gen/g.py", "AC101")]


def test_extend_cycle_is_a_clear_error(tree, cli):
    tree(
        {
            "a/pyproject.toml": pyproject('extend = "../b/pyproject.toml"'),
            "b/pyproject.toml": pyproject('extend = "../a/pyproject.toml"'),
            "a/m.py": SLEEP,
        }
    )
    result = cli("lint", "a")
    assert result.exit_code == 2
    assert "'extend' makes a cycle" in result.stderr
    assert os.path.join("a", "pyproject.toml") in result.stderr


def test_extend_of_a_missing_file(tree):
    root = tree({"pyproject.toml": pyproject('extend = "base.toml"')})
    with pytest.raises(ConfigError, match=r"base\.toml, which is not a file"):
        read_file(root / "pyproject.toml")


@pytest.mark.parametrize(
    "broken, message",
    [
        ("[tool.asynccheck\n", "invalid TOML"),
        (pyproject('select = ["AC999"]'), "unknown rule code 'AC999'"),
        (pyproject("selec = []"), "unknown key 'selec'"),
    ],
)
def test_a_broken_sub_config_names_its_file(monorepo, cli, broken, message):
    (monorepo / "lib" / "pyproject.toml").write_text(broken)
    result = cli("lint", "app.py", "lib")
    assert result.exit_code == 2
    assert message in result.stderr
    assert os.path.join("lib", "pyproject.toml") in result.stderr
    assert "Traceback" not in result.stderr


def test_a_bad_select_on_the_command_line_names_the_command_line(monorepo, cli):
    result = cli("lint", "--select", "AC1O1", ".")
    assert result.exit_code == 2
    assert "command line: unknown rule code 'AC1O1'" in result.stderr
    assert "pyproject.toml" not in result.stderr


def test_excludes_are_relative_to_the_config_that_declares_them(tree, cli):
    tree(
        {
            "pyproject.toml": pyproject('exclude = ["/gen/"]'),
            "gen/a.py": SLEEP,
            "lib/pyproject.toml": pyproject('exclude = ["/build_out/"]'),
            "lib/gen/b.py": SLEEP,
            "lib/build_out/c.py": SLEEP,
        }
    )
    assert findings(cli("lint", "--format", "json", ".")) == [("lib/gen/b.py", "AC101")]


def test_config_for_path_for_editors(monorepo):
    assert config_for_path("lib/pkg/mod.py").select == ("AC105",)
    assert config_for_path("app.py").select == ("AC1",)
    assert config_for_path("lib/pkg/mod.py", config_file="pyproject.toml").select == ("AC1",)


def test_a_file_outside_every_project_takes_the_current_folders(tmp_path, monkeypatch):
    (tmp_path / "outside").mkdir()
    project = tmp_path / "project"
    project.mkdir()
    (project / "pyproject.toml").write_text(pyproject('ignore = ["AC101"]'))
    monkeypatch.chdir(project)
    assert ConfigFinder().for_path(str(tmp_path / "outside")).ignore == ("AC101",)


@pytest.mark.parametrize(
    "pattern, expected",
    [
        ("build/", "build/"),  # a name at any depth
        ("sub/gen/", "/gen/"),
        ("/sub/gen/*.py", "/gen/*.py"),
        ("*/gen/", "/gen/"),
        ("other/gen/", None),
        ("sub/", "sub/"),
        ("/sub/", None),  # the sub-project itself: nothing below it
        ("**/tmp", "/**/tmp"),
        ("!sub/keep.py", "!/keep.py"),
    ],
)
def test_rebase_excludes(pattern, expected):
    base, root = os.path.abspath("p"), os.path.abspath(os.path.join("p", "sub"))
    assert rebase_excludes([pattern], base, root) == ((expected,) if expected else ())


def test_rebase_glob_makes_folder_globs_absolute():
    base = os.path.abspath("p[1]")
    assert rebase_glob("test_*.py", base, "/elsewhere") == "test_*.py"
    assert rebase_glob("tests/*", base, "/elsewhere").endswith("p[[]1]/tests/*")
    assert rebase_glob("tests/*", base, base) == "tests/*"


@pytest.mark.parametrize(
    "requires, target",
    [
        (">=3.8", "py39"),  # below what asynccheck knows: its oldest
        (">=3.9,<4", "py39"),
        ("~=3.10", "py310"),
        ("^3.11", "py311"),
        (">= 3.12", "py312"),
        ("==3.13.*", "py313"),
        (">=3.10.2, !=3.11.0", "py310"),
        ("^3.8 || ^3.12", "py39"),
        ("<4", "py39"),
        ("python 3 please", "py39"),  # unreadable: the default, no crash
        (">=4", "py39"),
    ],
)
def test_target_version_from_requires_python(tree, requires, target):
    root = tree({"pyproject.toml": pyproject("", requires=requires)})
    assert read_file(root / "pyproject.toml").target_version == target


def test_target_version_wins_over_requires_python(tree):
    root = tree({"pyproject.toml": pyproject('target-version = "py310"', requires=">=3.12")})
    assert read_file(root / "pyproject.toml").target_version == "py310"


def test_requires_python_beside_an_asynccheck_toml_and_through_extend(tree):
    root = tree(
        {
            "pyproject.toml": '[project]\nname = "x"\nrequires-python = ">=3.11"\n',
            "asynccheck.toml": "select = []\n",
            "sub/pyproject.toml": pyproject('extend = "../asynccheck.toml"', requires=">=3.12"),
            "other/pyproject.toml": pyproject('extend = "../base.toml"', requires=">=3.12"),
            "base.toml": 'target-version = "py310"\n',
        }
    )
    assert read_file(root / "asynccheck.toml").target_version == "py311"
    assert read_file(root / "sub" / "pyproject.toml").target_version == "py312"
    assert read_file(root / "other" / "pyproject.toml").target_version == "py310"


def test_a_non_string_requires_python_is_ignored(tree):
    root = tree({"pyproject.toml": "[project]\nrequires-python = 3.11\n[tool.asynccheck]\n"})
    assert read_file(root / "pyproject.toml").target_version == "py39"


def test_stdin_takes_the_config_of_its_filename(monorepo, cli):
    result = cli(
        "lint", "--format", "json", "--stdin-filename", "lib/pkg/new.py", "-", input=SOCKET
    )
    assert findings(result) == [("lib/pkg/new.py", "AC105")]


def test_lint_paths_applies_each_files_config(monorepo):
    from asynccheck.lint.api import lint_paths

    result = lint_paths(["lib", "app.py"])
    assert sorted((f.path, f.code) for f in result.findings) == EXPECTED
