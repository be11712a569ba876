"""`asynccheck lint`, `rules` and `rule`: exit codes, selection, formats, fixes, stdin."""

from __future__ import annotations

import json
import re
from pathlib import Path

import libcst

SLEEP = "import time\n\n\nasync def handler():\n    time.sleep(1)\n"
CLEAN = "import asyncio\n\n\nasync def handler():\n    await asyncio.sleep(1)\n"
# AC101 (safe fix), AC102 (unsafe fix), AC104 twice (unsafe fix), AC105 (no fix).
MIXED = (
    "import socket\n"
    "import time\n"
    "\n"
    "import requests\n"
    "\n"
    "\n"
    "async def handler(url):\n"
    "    time.sleep(1)\n"
    "    body = requests.get(url)\n"
    "    with open('log.txt') as f:\n"
    "        f.write(body.text)\n"
    "    socket.create_connection(('example.com', 80))\n"
)


def codes_of(output: str) -> list[str]:
    """Codes in concise output, in order."""
    return re.findall(r"^\S+:\d+:\d+: (AC\d{3})", output, re.MULTILINE)


# --- exit codes ------------------------------------------------------------------------
def test_exit_code_0_for_clean_code(tree, cli):
    tree({"clean.py": CLEAN})
    result = cli("lint", "clean.py")
    assert result.exit_code == 0
    assert "AC1" not in result.stdout


def test_exit_code_1_for_findings(tree, cli):
    tree({"bad.py": SLEEP})
    result = cli("lint", "bad.py")
    assert result.exit_code == 1
    assert "bad.py:5:5: AC101" in result.stdout


def test_exit_code_2_for_usage_errors(tree, cli):
    tree({"bad.py": SLEEP})
    assert cli("lint", "--select", "AC999", "bad.py").exit_code == 2
    assert cli("lint", "--format", "xml", "bad.py").exit_code == 2
    assert cli("lint", "--jobs", "0", "bad.py").exit_code == 2
    assert cli("lint", "missing.py").exit_code == 2


def test_default_path_is_the_current_folder(tree, cli):
    tree({"pkg/bad.py": SLEEP})
    result = cli("lint", "--format", "concise")
    assert result.exit_code == 1
    assert result.stdout.startswith("pkg/bad.py:5:5: AC101")


# --- selection -------------------------------------------------------------------------
def test_select_with_a_prefix(tree, cli):
    tree({"mixed.py": MIXED})
    everything = codes_of(cli("lint", "--format", "concise", "mixed.py").stdout)
    assert everything == ["AC101", "AC102", "AC104", "AC104", "AC105"]
    only_ac10 = cli("lint", "--format", "concise", "--select", "AC10", "mixed.py")
    assert codes_of(only_ac10.stdout) == everything
    only_two = cli("lint", "--format", "concise", "--select", "AC101,AC105", "mixed.py")
    assert codes_of(only_two.stdout) == ["AC101", "AC105"]
    repeated = cli(
        "lint", "--format", "concise", "--select", "AC101", "--select", "ac104", "mixed.py"
    )
    assert codes_of(repeated.stdout) == ["AC101", "AC104", "AC104"]


def test_ignore_with_a_prefix(tree, cli):
    tree({"mixed.py": MIXED})
    result = cli("lint", "--format", "concise", "--ignore", "AC10", "mixed.py")
    assert codes_of(result.stdout) == []
    assert result.exit_code == 0
    result = cli("lint", "--format", "concise", "--ignore", "AC102,AC104", "mixed.py")
    assert codes_of(result.stdout) == ["AC101", "AC105"]


def test_extend_select_adds_to_the_selection(tree, cli):
    tree({"mixed.py": MIXED})
    result = cli(
        "lint", "--format", "concise", "--select", "AC101", "--extend-select", "AC105", "mixed.py"
    )
    assert codes_of(result.stdout) == ["AC101", "AC105"]


def test_ignore_wins_over_select(tree, cli):
    tree({"mixed.py": MIXED})
    result = cli("lint", "--format", "concise", "--select", "AC1", "--ignore", "AC1", "mixed.py")
    assert result.exit_code == 0
    assert codes_of(result.stdout) == []


def test_unknown_code_on_the_command_line_names_the_nearest(tree, cli):
    tree({"bad.py": SLEEP})
    result = cli("lint", "--select", "AC1011", "bad.py")
    assert result.exit_code == 2
    assert "AC1011" in result.stderr
    assert "did you mean 'AC101'" in result.stderr


# --- formats ---------------------------------------------------------------------------
def test_text_format_is_ruff_like(tree, cli):
    tree({"bad.py": SLEEP})
    out = cli("lint", "bad.py").stdout
    assert "bad.py:5:5: AC101 [*] time.sleep() blocks the event loop" in out
    assert "    time.sleep(1)" in out
    assert "^^^^^^^^^^^^^" in out
    assert "Found 1 finding." in out


def test_concise_format_is_one_line_per_finding(tree, cli):
    tree({"mixed.py": MIXED})
    out = cli("lint", "--format", "concise", "mixed.py").stdout
    finding_lines = [line for line in out.splitlines() if line.startswith("mixed.py:")]
    assert len(finding_lines) == 5
    assert finding_lines[0].startswith("mixed.py:8:5: AC101 ")


def test_json_format_has_ruffs_shape(tree, cli):
    tree({"mixed.py": MIXED})
    result = cli("lint", "--format", "json", "mixed.py")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert isinstance(data, list)
    assert [item["code"] for item in data] == ["AC101", "AC102", "AC104", "AC104", "AC105"]
    for item in data:
        assert {"code", "message", "filename", "location", "end_location", "fix", "url"} <= set(
            item
        )
        assert item["filename"].endswith("mixed.py")
        assert set(item["location"]) == {"row", "column"}
        assert set(item["end_location"]) == {"row", "column"}
        assert item["url"].startswith("https://")
    first = data[0]
    assert first["location"] == {"row": 8, "column": 5}
    assert first["end_location"] == {"row": 8, "column": 18}
    assert first["fix"]["applicability"] == "safe"
    assert any("await" in edit["content"] for edit in first["fix"]["edits"])
    assert any(edit["content"] == "import asyncio\n" for edit in first["fix"]["edits"])
    assert data[4]["fix"] is None  # AC105 has no fix


def test_json_format_for_clean_code_is_an_empty_array(tree, cli):
    tree({"clean.py": CLEAN})
    result = cli("lint", "--format", "json", "clean.py")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == []


def test_sarif_format_parses(tree, cli):
    tree({"bad.py": SLEEP})
    data = json.loads(cli("lint", "--format", "sarif", "bad.py").stdout)
    assert data["version"] == "2.1.0"
    results = data["runs"][0]["results"]
    assert [r["ruleId"] for r in results] == ["AC101"]
    region = results[0]["locations"][0]["physicalLocation"]["region"]
    assert (region["startLine"], region["startColumn"]) == (5, 5)


def test_github_format_is_workflow_annotations(tree, cli):
    tree({"bad.py": SLEEP})
    out = cli("lint", "--format", "github", "bad.py").stdout
    line = out.splitlines()[0]
    assert line.startswith("::error ")
    assert "file=bad.py" in line and "line=5" in line and "col=5" in line
    assert "AC101" in line


# --- summary options -------------------------------------------------------------------
def test_statistics_counts_per_rule(tree, cli):
    tree({"a.py": MIXED, "b.py": SLEEP})
    out = cli("lint", "--statistics", "a.py", "b.py").stdout
    row = next(line for line in out.splitlines() if "AC101" in line)
    assert re.match(r"^\s*2\s+AC101\b", row), out
    assert re.search(r"^\s*1\s+AC105\b", out, re.MULTILINE), out


def test_quiet_prints_findings_without_the_summary(tree, cli):
    tree({"bad.py": SLEEP})
    result = cli("lint", "--quiet", "--format", "concise", "bad.py")
    assert result.exit_code == 1
    assert "bad.py:5:5: AC101" in result.stdout
    assert "Found" not in result.stdout
    clean = tree({"clean.py": CLEAN})
    assert cli("lint", "--quiet", str(clean / "clean.py")).stdout.strip() == ""


def test_exit_zero_reports_but_exits_0(tree, cli):
    tree({"bad.py": SLEEP})
    result = cli("lint", "--exit-zero", "bad.py")
    assert result.exit_code == 0
    assert "AC101" in result.stdout


# --- fixes -----------------------------------------------------------------------------
def test_fix_writes_a_file_that_parses_and_a_second_fix_changes_nothing(tree, cli):
    root = tree({"bad.py": SLEEP})
    result = cli("lint", "--fix", "bad.py")
    assert result.exit_code == 0, result.stdout
    fixed = (root / "bad.py").read_text()
    assert (
        fixed
        == "import asyncio\nimport time\n\n\nasync def handler():\n    await asyncio.sleep(1)\n"
    )
    libcst.parse_module(fixed)
    again = cli("lint", "--fix", "bad.py")
    assert again.exit_code == 0
    assert (root / "bad.py").read_text() == fixed


def test_fix_leaves_unsafe_fixes_alone(tree, cli):
    root = tree({"mixed.py": MIXED})
    result = cli("lint", "--fix", "--format", "concise", "mixed.py")
    assert result.exit_code == 1  # AC102, AC104, AC105 remain
    assert codes_of(result.stdout) == ["AC102", "AC104", "AC104", "AC105"]
    text = (root / "mixed.py").read_text()
    assert "await asyncio.sleep(1)" in text
    assert "requests.get(url)" in text and "to_thread" not in text


def test_unsafe_fixes_wraps_in_to_thread(tree, cli):
    root = tree({"mixed.py": MIXED})
    result = cli("lint", "--fix", "--unsafe-fixes", "--format", "concise", "mixed.py")
    assert codes_of(result.stdout) == ["AC105"]  # the only one without a fix
    assert result.exit_code == 1
    text = (root / "mixed.py").read_text()
    libcst.parse_module(text)
    assert "await asyncio.to_thread(requests.get, url)" in text
    assert "await asyncio.sleep(1)" in text
    again = cli("lint", "--fix", "--unsafe-fixes", "mixed.py")
    assert (root / "mixed.py").read_text() == text
    assert again.exit_code == 1


def test_diff_changes_nothing_and_exits_1(tree, cli):
    root = tree({"bad.py": SLEEP})
    result = cli("lint", "--diff", "bad.py")
    assert result.exit_code == 1
    assert "--- a/bad.py" in result.stdout and "+++ b/bad.py" in result.stdout
    assert "-    time.sleep(1)" in result.stdout
    assert "+    await asyncio.sleep(1)" in result.stdout
    assert "+import asyncio" in result.stdout
    assert (root / "bad.py").read_text() == SLEEP


def test_diff_without_anything_to_fix_exits_0(tree, cli):
    tree({"clean.py": CLEAN})
    result = cli("lint", "--diff", "clean.py")
    assert result.exit_code == 0
    assert result.stdout == ""


def test_diff_shows_unsafe_fixes_only_when_asked(tree, cli):
    root = tree({"mixed.py": MIXED})
    safe = cli("lint", "--diff", "mixed.py").stdout
    unsafe = cli("lint", "--diff", "--unsafe-fixes", "mixed.py").stdout
    assert "to_thread" not in safe and "asyncio.sleep" in safe
    assert "to_thread(requests.get, url)" in unsafe
    assert (root / "mixed.py").read_text() == MIXED


# --- stdin -----------------------------------------------------------------------------
def test_stdin_reports_under_the_given_filename(tree, cli):
    tree({})
    result = cli(
        "lint", "-", "--stdin-filename", "app/handler.py", "--format", "concise", input=SLEEP
    )
    assert result.exit_code == 1
    assert result.stdout.startswith("app/handler.py:5:5: AC101")


def test_stdin_clean_exits_0(tree, cli):
    tree({})
    assert cli("lint", "-", "--stdin-filename", "x.py", input=CLEAN).exit_code == 0


def test_stdin_fix_prints_the_fixed_code_to_stdout(tree, cli):
    tree({})
    result = cli("lint", "-", "--stdin-filename", "x.py", "--fix", input=SLEEP)
    assert result.stdout == (
        "import asyncio\nimport time\n\n\nasync def handler():\n    await asyncio.sleep(1)\n"
    )
    assert "fixed" in result.stderr
    assert result.exit_code == 0


def test_stdin_fix_with_findings_left_exits_1(tree, cli):
    tree({})
    result = cli("lint", "-", "--stdin-filename", "x.py", "--fix", input=MIXED)
    assert "await asyncio.sleep(1)" in result.stdout
    assert "AC102" in result.stderr and "AC102" not in result.stdout
    assert result.exit_code == 1


def test_stdin_respects_per_file_ignores_and_exclude_for_its_filename(tree, cli):
    tree(
        {
            "pyproject.toml": '[tool.asynccheck]\nper-file-ignores = { "tests/*" = ["AC101"] }\n',
        }
    )
    result = cli("lint", "-", "--stdin-filename", "tests/test_x.py", input=SLEEP)
    assert result.exit_code == 0, result.stdout
    other = cli("lint", "-", "--stdin-filename", "app/x.py", input=SLEEP)
    assert other.exit_code == 1


def test_stdin_in_a_real_process(tmp_path, run_asynccheck):
    result = run_asynccheck(
        "lint", "-", "--stdin-filename", "x.py", "--fix", cwd=tmp_path, input=SLEEP.encode()
    )
    assert result.stdout.startswith("import asyncio\n")
    assert result.exit_code == 0


# --- rules / rule / version ------------------------------------------------------------
def test_rules_table(cli):
    result = cli("rules")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["Code", "Name", "Default", "Fix"]
    rows = {line.split()[0]: line.split() for line in lines[2:]}
    assert rows["AC101"][1:] == ["blocking-sleep", "on", "safe"]
    assert rows["AC102"][3] == "unsafe"
    assert rows["AC105"][3] == "-"
    codes = [line.split()[0] for line in lines[2:]]
    assert codes == sorted(codes)
    assert {"AC001", "AC002", "AC109"} <= set(codes)


def test_rule_explains_one_rule(cli):
    result = cli("rule", "AC101")
    assert result.exit_code == 0
    out = result.stdout
    assert "blocking-sleep" in out
    assert "time.sleep" in out
    assert "asyncio.sleep" in out
    assert cli("rule", "ac101").stdout == out  # case does not matter


def test_rule_with_an_unknown_code_names_the_nearest(cli):
    result = cli("rule", "AC101X")
    assert result.exit_code == 2
    assert "'AC101X'" in result.stderr
    assert "did you mean 'AC101'" in result.stderr


def test_version_with_python_m(tmp_path, run_asynccheck):
    from asynccheck import __version__

    result = run_asynccheck("--version", cwd=tmp_path)
    assert result.exit_code == 0
    assert __version__ in result.stdout


def test_end_to_end_in_a_real_process(tmp_path, run_asynccheck):
    (tmp_path / "bad.py").write_text(SLEEP)
    (tmp_path / "clean.py").write_text(CLEAN)
    result = run_asynccheck("lint", "--format", "json", ".", cwd=tmp_path)
    assert result.exit_code == 1, result.stderr
    data = json.loads(result.stdout)
    assert [(Path(d["filename"]).name, d["code"]) for d in data] == [("bad.py", "AC101")]
    clean = run_asynccheck("lint", "clean.py", cwd=tmp_path)
    assert clean.exit_code == 0
    missing = run_asynccheck("lint", "nope.py", cwd=tmp_path)
    assert missing.exit_code == 2
    assert "nope.py" in missing.stderr
