"""`[tool.asynccheck]`: every key DESIGN.md lists, how the file is found, and clear errors."""

from __future__ import annotations

import json

import pytest

from asynccheck.config import CONFIG_KEYS, Config, ConfigError, from_mapping, load, read_file
from asynccheck.lint.api import lint_paths, lint_source

SLEEP = "import time\n\n\nasync def handler():\n    time.sleep(1)\n"
CLEAN = "import asyncio\n\n\nasync def handler():\n    await asyncio.sleep(1)\n"
MIXED = (
    "import socket\nimport time\n\n\nasync def handler():\n"
    "    time.sleep(1)\n    socket.create_connection(('example.com', 80))\n"
)


def pyproject(body: str) -> str:
    return f'[project]\nname = "x"\n\n[tool.asynccheck]\n{body}\n'


def json_codes(result) -> list[tuple[str, str]]:
    return [(item["filename"], item["code"]) for item in json.loads(result.stdout)]


def test_design_lists_every_key():
    assert set(CONFIG_KEYS) >= {
        "select",
        "ignore",
        "extend-select",
        "exclude",
        "extend-exclude",
        "per-file-ignores",
        "target-version",
        "blocking-calls",
        "resource-types",
        "slow-callback-ms",
        "respect-gitignore",
    }


def test_every_key_is_read_into_config(tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        pyproject(
            'select = ["AC1"]\n'
            'ignore = ["ac108"]\n'
            'extend-select = ["AC001"]\n'
            'exclude = ["migrations/"]\n'
            'extend-exclude = ["generated/"]\n'
            'per-file-ignores = { "tests/*" = ["AC101"] }\n'
            'target-version = "py311"\n'
            'blocking-calls = ["mysdk.Client.fetch_all"]\n'
            'resource-types = ["mysdk.Session"]\n'
            "slow-callback-ms = 250\n"
            "respect-gitignore = false\n"
        )
    )
    config = read_file(tmp_path / "pyproject.toml")
    assert config.select == ("AC1",)
    assert config.ignore == ("AC108",)
    assert config.extend_select == ("AC001",)
    assert config.exclude == ("migrations/",)
    assert config.extend_exclude == ("generated/",)
    assert config.per_file_ignores == (("tests/*", ("AC101",)),)
    assert config.target_version == "py311" and config.target == (3, 11)
    assert config.blocking_calls == ("mysdk.Client.fetch_all",)
    assert config.resource_types == ("mysdk.Session",)
    assert config.slow_callback_ms == 250.0
    assert config.respect_gitignore is False
    assert config.root == str(tmp_path)


def test_select_and_ignore_from_the_file(tree, cli):
    tree({"pyproject.toml": pyproject('select = ["AC10"]\nignore = ["AC101"]'), "m.py": MIXED})
    assert json_codes(cli("lint", "--format", "json", "m.py")) == [("m.py", "AC105")]


def test_extend_select_from_the_file(tree, cli):
    tree(
        {
            "pyproject.toml": pyproject('select = ["AC101"]\nextend-select = ["AC105"]'),
            "m.py": MIXED,
        }
    )
    assert [c for _, c in json_codes(cli("lint", "--format", "json", "m.py"))] == [
        "AC101",
        "AC105",
    ]


def test_command_line_select_replaces_the_files(tree, cli):
    tree({"pyproject.toml": pyproject('select = ["AC101"]'), "m.py": MIXED})
    result = cli("lint", "--format", "json", "--select", "AC105", "m.py")
    assert json_codes(result) == [("m.py", "AC105")]


def test_per_file_ignores(tree, cli):
    tree(
        {
            "pyproject.toml": pyproject(
                'per-file-ignores = { "tests/*" = ["AC101"], "legacy.py" = ["AC1"] }'
            ),
            "tests/test_a.py": MIXED,
            "legacy.py": MIXED,
            "app.py": MIXED,
        }
    )
    result = cli("lint", "--format", "json", ".")
    assert sorted(json_codes(result)) == [
        ("app.py", "AC101"),
        ("app.py", "AC105"),
        ("tests/test_a.py", "AC105"),
    ]


def test_per_file_ignores_are_not_fixed_by_fix(tree, cli):
    root = tree(
        {
            "pyproject.toml": pyproject('per-file-ignores = { "tests/*" = ["AC101"] }'),
            "tests/t.py": SLEEP,
        }
    )
    result = cli("lint", "--fix", "tests/t.py")
    assert result.exit_code == 0
    assert (root / "tests" / "t.py").read_text() == SLEEP


def test_blocking_calls_makes_ac109_fire(tree, cli):
    source = (
        "from mysdk import Client\nimport legacy.db\n\n\nasync def handler(c: Client):\n"
        "    legacy.db.query('x')\n"
    )
    tree({"pyproject.toml": pyproject('blocking-calls = ["legacy.db.query"]'), "h.py": source})
    result = cli("lint", "--format", "json", "h.py")
    data = json.loads(result.stdout)
    assert [d["code"] for d in data] == ["AC109"]
    assert data[0]["location"] == {"row": 6, "column": 5}
    assert "legacy.db.query" in data[0]["message"]
    assert cli("lint", "--config", "/dev/null", "h.py").exit_code == 0  # no key: no AC109


def test_blocking_calls_must_be_dotted_names():
    with pytest.raises(ConfigError, match="dotted name"):
        from_mapping({"blocking-calls": ["not a name"]})


def test_exclude_and_extend_exclude(tree, cli):
    tree(
        {
            "pyproject.toml": pyproject('exclude = ["migrations/"]\nextend-exclude = ["gen_*.py"]'),
            "migrations/m1.py": SLEEP,
            "gen_models.py": SLEEP,
            "app.py": SLEEP,
        }
    )
    assert json_codes(cli("lint", "--format", "json", ".")) == [("app.py", "AC101")]
    # --exclude on the command line adds to the file's.
    assert cli("lint", "--exclude", "app.py", ".").exit_code == 0


def test_target_version(tree, cli):
    tree({"pyproject.toml": pyproject('target-version = "py312"'), "a.py": SLEEP})
    assert load(["a.py"]).target == (3, 12)
    with pytest.raises(ConfigError, match="did you mean 'py311'"):
        from_mapping({"target-version": "py3111"})
    assert cli("lint", "--target-version", "py314", "a.py").exit_code == 1
    assert cli("lint", "--target-version", "py28", "a.py").exit_code == 2


def test_respect_gitignore_false_in_the_file(tree, cli, tmp_path):
    import subprocess

    tree({"ignored/x.py": SLEEP, ".gitignore": "ignored/\n"})
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    assert cli("lint", ".").exit_code == 0
    (tmp_path / "pyproject.toml").write_text(pyproject("respect-gitignore = false"))
    assert json_codes(cli("lint", "--format", "json", ".")) == [("ignored/x.py", "AC101")]


def test_slow_callback_ms_and_resource_types_are_validated():
    assert from_mapping({"slow-callback-ms": 5}).slow_callback_ms == 5.0
    with pytest.raises(ConfigError, match="positive number"):
        from_mapping({"slow-callback-ms": -1})
    with pytest.raises(ConfigError, match="true or false"):
        from_mapping({"respect-gitignore": "yes"})
    assert from_mapping({"resource-types": ["a.B"]}).resource_types == ("a.B",)


def test_config_option_reads_another_file(tree, cli):
    tree(
        {
            "pyproject.toml": pyproject('ignore = ["AC101"]'),
            "strict.toml": 'select = ["AC101"]\n',
            "a.py": SLEEP,
        }
    )
    assert cli("lint", "a.py").exit_code == 0  # pyproject ignores AC101
    assert cli("lint", "--config", "strict.toml", "a.py").exit_code == 1


def test_config_option_with_a_pyproject_elsewhere(tree, cli, tmp_path):
    tree({"conf/pyproject.toml": pyproject('ignore = ["AC1"]'), "a.py": SLEEP})
    assert cli("lint", "--config", "conf/pyproject.toml", "a.py").exit_code == 0


def test_config_option_with_a_missing_file(tree, cli):
    tree({"a.py": SLEEP})
    result = cli("lint", "--config", "nope.toml", "a.py")
    assert result.exit_code == 2
    assert "nope.toml" in result.stderr


def test_found_by_walking_up_from_the_first_path(tree, cli, tmp_path, monkeypatch):
    tree(
        {
            "project/pyproject.toml": pyproject('ignore = ["AC101"]'),
            "project/src/pkg/a.py": SLEEP,
            "other/a.py": SLEEP,
        }
    )
    assert cli("lint", "project/src/pkg/a.py").exit_code == 0
    assert cli("lint", "project/src").exit_code == 0
    assert cli("lint", "other/a.py").exit_code == 1
    monkeypatch.chdir(tmp_path / "project" / "src")
    assert cli("lint", "pkg").exit_code == 0


def test_a_pyproject_without_the_table_is_skipped(tree, cli):
    tree(
        {
            "pyproject.toml": pyproject('ignore = ["AC101"]'),
            "sub/pyproject.toml": '[project]\nname = "sub"\n',
            "sub/a.py": SLEEP,
        }
    )
    assert cli("lint", "sub/a.py").exit_code == 0


def test_per_file_ignores_are_relative_to_the_config_folder(tree, cli, tmp_path, monkeypatch):
    tree(
        {
            "project/pyproject.toml": pyproject('per-file-ignores = { "tests/*" = ["AC101"] }'),
            "project/tests/t.py": SLEEP,
        }
    )
    assert cli("lint", "project/tests/t.py").exit_code == 0
    monkeypatch.chdir(tmp_path / "project" / "tests")
    assert cli("lint", "t.py").exit_code == 0


def test_unknown_key_names_the_nearest(tree, cli):
    tree({"pyproject.toml": pyproject('blocking_calls = ["a.b"]'), "a.py": CLEAN})
    result = cli("lint", "a.py")
    assert result.exit_code == 2
    assert "unknown key 'blocking_calls'" in result.stderr
    assert "did you mean 'blocking-calls'?" in result.stderr
    assert "pyproject.toml" in result.stderr


def test_unknown_code_names_the_nearest(tree, cli):
    tree({"pyproject.toml": pyproject('ignore = ["AC0101"]'), "a.py": CLEAN})
    result = cli("lint", "a.py")
    assert result.exit_code == 2
    assert "unknown rule code 'AC0101'" in result.stderr
    assert "did you mean 'AC101'?" in result.stderr


def test_unknown_code_in_per_file_ignores(tree, cli):
    tree({"pyproject.toml": pyproject('per-file-ignores = { "t/*" = ["AC1O1"] }'), "a.py": CLEAN})
    result = cli("lint", "a.py")
    assert result.exit_code == 2
    assert "'AC1O1'" in result.stderr


def test_wrong_type_is_a_clear_error(tree, cli):
    tree({"pyproject.toml": pyproject('select = "AC101"'), "a.py": CLEAN})
    result = cli("lint", "a.py")
    assert result.exit_code == 2
    assert "'select' must be a list" in result.stderr


def test_invalid_toml_is_a_clear_error(tree, cli):
    tree({"pyproject.toml": '[tool.asynccheck]\nselect = ["AC101"\n', "a.py": CLEAN})
    result = cli("lint", "a.py")
    assert result.exit_code == 2
    assert "invalid TOML" in result.stderr
    assert "pyproject.toml" in result.stderr
    assert "Traceback" not in result.stderr


def test_lint_source_accepts_a_mapping():
    source = "import legacy\n\n\nasync def f():\n    legacy.query()\n"
    findings = lint_source(source, config={"blocking-calls": ["legacy.query"]})
    assert [f.code for f in findings] == ["AC109"]
    with pytest.raises(ConfigError):
        lint_source(source, config={"blocking_calls": ["legacy.query"]})


def test_lint_paths_uses_the_nearest_config(tree):
    root = tree({"pyproject.toml": pyproject('ignore = ["AC101"]'), "a.py": SLEEP})
    assert lint_paths([str(root / "a.py")]).findings == ()
    assert [f.code for f in lint_paths([str(root / "a.py")], config=Config()).findings] == ["AC101"]


def test_a_symlinked_project_folder(tmp_path, cli, monkeypatch):
    real = tmp_path / "real"
    (real / "tests").mkdir(parents=True)
    (real / "pyproject.toml").write_text(pyproject('per-file-ignores = { "tests/*" = ["AC101"] }'))
    (real / "tests" / "t.py").write_text(SLEEP)
    (real / "app.py").write_text(SLEEP)
    (tmp_path / "link").symlink_to(real)
    monkeypatch.chdir(tmp_path / "link")
    result = cli("lint", "--format", "json", ".")
    assert json_codes(result) == [("app.py", "AC101")]


def test_a_symlink_loop_as_the_first_path_does_not_crash(tree, cli, tmp_path):
    tree({"good.py": SLEEP})
    (tmp_path / "a.py").symlink_to("b.py")
    (tmp_path / "b.py").symlink_to("a.py")
    result = cli("lint", "--format", "json", "a.py", "good.py")
    assert result.exit_code == 1
    assert [code for _, code in json_codes(result)] == ["AC002", "AC101"]
