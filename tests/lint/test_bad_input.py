"""Bad input never crashes a run: each case yields AC001/AC002 (or nothing) and the other
file of the run, `good.py` with its AC101, is still reported."""

from __future__ import annotations

import builtins
import json
import os
import time

import libcst
import pytest

from asynccheck.config import Config
from asynccheck.lint.engine import RunOptions, run

SLEEP = "import time\n\n\nasync def handler():\n    time.sleep(1)\n"
GOOD_FINDING = ("good.py", 5, 5, "AC101")


def lint_json(cli, *paths: str, options: tuple[str, ...] = ()) -> tuple[int, list[tuple]]:
    result = cli("lint", "--no-cache", "--format", "json", *options, *paths)
    assert result.exit_code in (0, 1), result.stderr
    data = json.loads(result.stdout)
    return result.exit_code, [
        (d["filename"], d["location"]["row"], d["location"]["column"], d["code"], d["message"])
        for d in data
    ]


def without_message(findings: list[tuple]) -> list[tuple]:
    return [f[:4] for f in findings]


def test_syntax_error_is_ac001_at_cpythons_position(tree, cli):
    tree({"bad.py": "async def f(:\n    pass\n", "good.py": SLEEP})
    code, findings = lint_json(cli, ".")
    assert code == 1
    assert without_message(findings) == [("bad.py", 1, 13, "AC001"), GOOD_FINDING]
    assert findings[0][4] == "SyntaxError: invalid syntax"
    try:
        compile("async def f(:\n    pass\n", "bad.py", "exec")
    except SyntaxError as error:
        assert (error.lineno, error.offset) == (1, 13)


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ("x = (1,\n", "'(' was never closed"),
        ("def f():\nreturn 1\n", "expected an indented block"),
        ("async def f():\n    await = 1\n", "invalid syntax"),
        ("x = 1\n  y = 2\n", "unexpected indent"),
        ("print 'hello'\n", "Missing parentheses"),
        ("f(**x, *y)\n", "iterable argument unpacking follows keyword argument unpacking"),
    ],
)
def test_syntax_error_reasons_and_positions_are_cpythons(tree, cli, source, reason):
    with pytest.raises(SyntaxError) as raised:
        compile(source, "bad.py", "exec")
    tree({"bad.py": source, "good.py": SLEEP})
    _, findings = lint_json(cli, ".")
    where = (raised.value.lineno, raised.value.offset)
    assert findings[0][:4] == ("bad.py", *where, "AC001")
    assert reason in findings[0][4]
    assert without_message(findings[1:]) == [GOOD_FINDING]


def test_code_python_accepts_but_libcst_cannot_parse(tree, cli):
    # libcst's parser gives up on thousands of implicitly concatenated strings.
    source = "DATA = (\n" + "".join(f'    "chunk{i}"\n' for i in range(10_000)) + ")\n"
    compile(source, "gen.py", "exec")
    tree({"gen.py": source, "good.py": SLEEP})
    _, findings = lint_json(cli, ".")
    assert findings[0][0] == "gen.py" and findings[0][3] == "AC001"
    assert "Python accepts it" in findings[0][4]
    assert not findings[0][4].startswith("SyntaxError")
    assert without_message(findings[1:]) == [GOOD_FINDING]


def test_undecodable_file_is_ac002(tree, cli):
    tree({"latin.py": b"x = '\xe9\xff'\n", "good.py": SLEEP})
    _, findings = lint_json(cli, ".")
    assert without_message(findings) == [GOOD_FINDING, ("latin.py", 1, 1, "AC002")]
    assert "decode" in findings[1][4] or "encoding" in findings[1][4]


def test_a_coding_cookie_is_honoured(tree, cli):
    latin = (
        b"# -*- coding: latin-1 -*-\nimport time\nasync def f():\n    x = '\xe9'; time.sleep(1)\n"
    )
    tree({"latin.py": latin, "good.py": SLEEP})
    _, findings = lint_json(cli, ".")
    assert without_message(findings) == [GOOD_FINDING, ("latin.py", 4, 14, "AC101")]


def test_binary_file_with_nul_bytes_is_ac002(tree, cli):
    tree({"blob.py": b"\x7fELF\x02\x01\x01\x00\x00\x00async def", "good.py": SLEEP})
    _, findings = lint_json(cli, ".")
    assert without_message(findings) == [("blob.py", 1, 1, "AC002"), GOOD_FINDING]
    assert "NUL" in findings[0][4]


def test_utf8_bom(tree, cli, tmp_path):
    source = "\ufeffimport time\n\n\nasync def handler():\n    é = 1; time.sleep(1)\n"
    tree({"bom.py": source.encode("utf-8"), "good.py": SLEEP})
    _, findings = lint_json(cli, ".")
    assert without_message(findings) == [("bom.py", 5, 12, "AC101"), GOOD_FINDING]
    result = cli("lint", "--no-cache", "--fix", "bom.py")
    assert result.exit_code == 0
    fixed = (tmp_path / "bom.py").read_bytes()
    assert fixed.startswith(b"\xef\xbb\xbfimport asyncio\nimport time\n")
    assert fixed.count(b"\xef\xbb\xbf") == 1
    assert "é = 1; await asyncio.sleep(1)" in fixed.decode("utf-8-sig")


def test_crlf_line_endings(tree, cli, tmp_path):
    source = SLEEP.replace("\n", "\r\n").replace("async def", "x = 1\r\nasync def")
    tree({"crlf.py": source.encode(), "good.py": SLEEP})
    _, findings = lint_json(cli, ".")
    assert without_message(findings) == [("crlf.py", 6, 5, "AC101"), GOOD_FINDING]
    assert cli("lint", "--no-cache", "--fix", "crlf.py").exit_code == 0
    fixed = (tmp_path / "crlf.py").read_bytes()
    assert fixed == (
        b"import asyncio\r\nimport time\r\n\r\n\r\nx = 1\r\nasync def handler():\r\n"
        b"    await asyncio.sleep(1)\r\n"
    )
    assert b"\n" not in fixed.replace(b"\r\n", b"")


def test_crlf_import_after_a_docstring_and_future_import(tree, cli, tmp_path):
    source = (
        b'"""Doc."""\r\nfrom __future__ import annotations\r\nimport time\r\n'
        b"async def f():\r\n    time.sleep(1)\r\n"
    )
    tree({"crlf.py": source})
    assert cli("lint", "--no-cache", "--fix", "crlf.py").exit_code == 0
    fixed = (tmp_path / "crlf.py").read_bytes()
    assert b"\n" not in fixed.replace(b"\r\n", b"")
    assert b"annotations\r\nimport asyncio\r\nimport time\r\n" in fixed
    libcst.parse_module(fixed.decode())


def test_crlf_keeps_lf_inside_a_string_of_a_replaced_call(tmp_path, monkeypatch):
    # Only inserted lines get the file's line ending; the text of the file is kept.
    from asynccheck.lint.api import lint_source

    source = "import requests\r\nasync def f():\r\n    requests.post('u', data='a\\nb')\r\n"
    [finding] = lint_source(source)
    assert finding.fix is not None
    assert all("\r\n" not in e.content for e in finding.fix.edits if e.start != e.end)


def test_form_feeds(tree, cli):
    source = "import time\n\x0c\n\x0casync def handler():\n    x = 1\x0c\n    time.sleep(1)\n"
    tree({"ff.py": source, "good.py": SLEEP})
    _, findings = lint_json(cli, ".")
    assert without_message(findings) == [("ff.py", 5, 5, "AC101"), GOOD_FINDING]


def test_empty_file(tree, cli):
    tree({"empty.py": "", "blank.py": "\n\n   \n", "good.py": SLEEP})
    _, findings = lint_json(cli, ".")
    assert without_message(findings) == [GOOD_FINDING]


def test_only_a_comment_without_newline(tree, cli):
    tree({"c.py": "# async", "good.py": SLEEP})
    _, findings = lint_json(cli, ".")
    assert without_message(findings) == [GOOD_FINDING]


@pytest.mark.slow
def test_a_5_mb_generated_file(tree, cli):
    # A generated module: code with `async def`, then embedded data and commented tables.
    parts = [SLEEP, "\n\nBLOB = '''\n"]
    parts += [f"{'x' * 70}{i:09d}\n" for i in range(31_000)]
    parts.append("'''\n\n")
    parts += [f"# {'y' * 70}{i:09d}\n" for i in range(31_000)]
    parts += [f"async def gen_{i}(x):\n    return await x.step({i})\n\n" for i in range(300)]
    parts.append("async def tail():\n    time.sleep(2)\n")
    source = "".join(parts)
    assert len(source.encode()) > 5_000_000
    tree({"huge.py": source, "good.py": SLEEP})
    started = time.monotonic()
    _, findings = lint_json(cli, ".")
    assert time.monotonic() - started < 20
    rows = source.count("\n")
    assert without_message(findings) == [
        GOOD_FINDING,
        ("huge.py", 5, 5, "AC101"),
        ("huge.py", rows, 5, "AC101"),
    ]


def test_unreadable_file_chmod_000(tree, cli, tmp_path):
    tree({"secret.py": SLEEP, "good.py": SLEEP})
    os.chmod(tmp_path / "secret.py", 0)
    try:
        _, findings = lint_json(cli, ".")
    finally:
        os.chmod(tmp_path / "secret.py", 0o644)
    if os.geteuid() == 0:  # root reads it anyway
        assert without_message(findings) == [GOOD_FINDING, ("secret.py", 5, 5, "AC101")]
    else:
        assert without_message(findings) == [GOOD_FINDING, ("secret.py", 1, 1, "AC002")]


def test_unreadable_file_open_raises(tree, monkeypatch):
    root = tree({"secret.py": SLEEP, "good.py": SLEEP})
    real_open = builtins.open

    def guarded(file, *args, **kwargs):
        if str(file).endswith("secret.py"):
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", guarded)
    result = run(["."], Config(root=str(root)), RunOptions(jobs=1, use_cache=False))
    found = [(f.path, f.location.row, f.code, f.message) for f in result.findings]
    assert found == [
        ("good.py", 5, "AC101", found[0][3]),
        ("secret.py", 1, "AC002", "cannot read file: Permission denied"),
    ]


def test_unreadable_file_stat_raises(tree, monkeypatch):
    root = tree({"secret.py": SLEEP, "good.py": SLEEP})
    real_stat = os.stat

    def guarded(path, *args, **kwargs):
        if str(path).endswith("secret.py"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_stat(path, *args, **kwargs)

    monkeypatch.setattr(os, "stat", guarded)
    result = run(["."], Config(root=str(root)), RunOptions(jobs=1, use_cache=False))
    assert [(f.path, f.code) for f in result.findings] == [
        ("good.py", "AC101"),
        ("secret.py", "AC002"),
    ]
    assert "Permission denied" in result.findings[1].message


def test_unlistable_folder_is_a_warning(tree, monkeypatch, cli):
    tree({"locked/a.py": SLEEP, "good.py": SLEEP})
    real_scandir = os.scandir

    def guarded(path="."):
        if str(path).endswith("locked"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", guarded)
    result = cli("lint", "--no-cache", "--format", "concise", ".")
    assert result.exit_code == 1
    assert "good.py:5:5: AC101" in result.stdout
    assert "locked" in result.stderr and "Permission denied" in result.stderr


def test_directory_symlink_loop(tree, cli, tmp_path):
    tree({"pkg/a.py": SLEEP, "good.py": SLEEP})
    os.symlink("..", tmp_path / "pkg" / "parent")
    os.symlink(".", tmp_path / "pkg" / "self")
    _, findings = lint_json(cli, ".")
    assert without_message(findings) == [GOOD_FINDING, ("pkg/a.py", 5, 5, "AC101")]


def test_file_symlink_loop(tree, cli, tmp_path):
    tree({"good.py": SLEEP})
    os.symlink("b.py", tmp_path / "a.py")
    os.symlink("a.py", tmp_path / "b.py")
    _, findings = lint_json(cli, ".")
    assert without_message(findings) == [
        ("a.py", 1, 1, "AC002"),
        ("b.py", 1, 1, "AC002"),
        GOOD_FINDING,
    ]
    assert "symbolic links" in findings[0][4]
    _, explicit = lint_json(cli, "a.py", "good.py")
    assert without_message(explicit) == [("a.py", 1, 1, "AC002"), GOOD_FINDING]


def test_a_directory_named_like_a_python_file(tree, cli):
    tree({"x.py/inner.py": SLEEP, "good.py": SLEEP})
    _, findings = lint_json(cli, ".")
    assert without_message(findings) == [GOOD_FINDING, ("x.py/inner.py", 5, 5, "AC101")]
    _, explicit = lint_json(cli, "x.py", "good.py")
    assert without_message(explicit) == [GOOD_FINDING, ("x.py/inner.py", 5, 5, "AC101")]


def test_an_empty_directory_named_like_a_python_file(tree, cli, tmp_path):
    tree({"good.py": SLEEP})
    (tmp_path / "x.py").mkdir()
    _, findings = lint_json(cli, "x.py", "good.py")
    assert without_message(findings) == [GOOD_FINDING]


def test_dangling_symlink(tree, cli, tmp_path):
    tree({"good.py": SLEEP})
    os.symlink("gone.py", tmp_path / "dangling.py")
    _, findings = lint_json(cli, ".")
    assert without_message(findings) == [("dangling.py", 1, 1, "AC002"), GOOD_FINDING]


def test_missing_path_is_exit_2_naming_it(tree, cli):
    tree({"good.py": SLEEP})
    result = cli("lint", "good.py", "no/such/file.py")
    assert result.exit_code == 2
    assert "no/such/file.py" in result.stderr
    assert "no such file or directory" in result.stderr.lower()
    assert result.stdout == ""


def test_fix_on_a_file_with_a_syntax_error_leaves_it_alone(tree, cli, tmp_path):
    tree({"bad.py": "import time\nasync def f(:\n    time.sleep(1)\n", "good.py": SLEEP})
    result = cli("lint", "--no-cache", "--fix", "--format", "concise", ".")
    assert "bad.py:2:13: AC001" in result.stdout
    assert (tmp_path / "bad.py").read_text() == "import time\nasync def f(:\n    time.sleep(1)\n"
    assert "await asyncio.sleep(1)" in (tmp_path / "good.py").read_text()


def test_a_stub_is_parsed_but_its_code_is_not_checked(tree, cli):
    """A `.pyi` never runs: no rule reports its bodies (gradio ships stubs with whole
    bodies, which repeated every finding of the module), but a syntax error still shows."""
    tree({"good.py": SLEEP, "good.pyi": SLEEP, "broken.pyi": "def f(:\n"})
    _, findings = lint_json(cli, ".")
    assert [(f[0], f[3]) for f in findings] == [("broken.pyi", "AC001"), ("good.py", "AC101")]
