"""The findings cache: hits, invalidation, damaged stores, `--no-cache`, atomic writes and a
warm run that never imports libcst."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from asynccheck.config import Config
from asynccheck.lint.cache import Cache
from asynccheck.lint.cachefile import CACHE_DIR_NAME
from asynccheck.lint.checker import Checker
from asynccheck.lint.engine import RunOptions, run

SLEEP = "import time\n\n\nasync def handler():\n    time.sleep(1)\n"
CLEAN = "import asyncio\n\n\nasync def handler():\n    await asyncio.sleep(1)\n"
JOBS1 = RunOptions(jobs=1)


@pytest.fixture
def checked(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths the checker parsed and checked during the test (in-process runs only)."""
    seen: list[str] = []
    original = Checker._check

    def spy(self: Checker, path: str, text: str, *args):
        seen.append(os.path.basename(path))
        return original(self, path, text, *args)

    monkeypatch.setattr(Checker, "_check", spy)
    return seen


def lint(root: Path, config: Config | None = None, options: RunOptions = JOBS1):
    config = config or Config(root=str(root))
    return run(["."], config, options)


def cache_files(root: Path) -> list[str]:
    folder = root / CACHE_DIR_NAME
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def stores(root: Path) -> list[Path]:
    return sorted((root / CACHE_DIR_NAME).glob("lint-*"))


def codes(result) -> list[tuple[str, str]]:
    return [(f.path, f.code) for f in result.findings]


def test_second_run_reads_from_the_cache(tree, checked):
    root = tree({"a.py": SLEEP, "b.py": CLEAN})
    first = lint(root)
    assert sorted(checked) == ["a.py", "b.py"]
    checked.clear()
    second = lint(root)
    assert checked == []  # nothing parsed or checked
    assert second.findings == first.findings
    assert codes(second) == [("a.py", "AC101")]
    f = second.findings[0]
    assert (f.location.row, f.location.column) == (5, 5)
    assert f.source_line == "    time.sleep(1)"
    assert f.fix is not None and f.fix.is_safe


def test_changing_a_file_invalidates_only_that_file(tree, checked):
    root = tree({"a.py": SLEEP, "b.py": CLEAN, "c.py": CLEAN})
    lint(root)
    checked.clear()
    (root / "b.py").write_text(SLEEP)
    result = lint(root)
    assert checked == ["b.py"]
    assert codes(result) == [("a.py", "AC101"), ("b.py", "AC101")]


def test_a_change_that_keeps_size_and_mtime_is_caught_by_content_when_mtime_moves(tree, checked):
    root = tree({"a.py": "import time\nasync def f():\n    time.sleep(1)\n"})
    lint(root)
    checked.clear()
    path = root / "a.py"
    stat = path.stat()
    path.write_text("import time\nasync def f():\n    time.sleep(2)\n")  # same size
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    result = lint(root)
    assert checked == ["a.py"]
    assert "sleep(2)" in result.findings[0].source_line


def test_touching_without_changing_content_reuses_findings(tree, checked):
    root = tree({"a.py": SLEEP})
    first = lint(root)
    checked.clear()
    stat = (root / "a.py").stat()
    os.utime(root / "a.py", ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))
    second = lint(root)
    assert checked == []
    assert second.findings == first.findings
    checked.clear()
    assert lint(root).findings == first.findings  # the new mtime was remembered
    assert checked == []


def test_changing_the_config_invalidates(tree, checked):
    root = tree({"a.py": SLEEP})
    lint(root)
    checked.clear()
    result = lint(root, Config(root=str(root), ignore=("AC101",)))
    assert checked == ["a.py"]
    assert result.findings == ()
    checked.clear()
    result = lint(root, Config(root=str(root), blocking_calls=("x.y",)))
    assert checked == ["a.py"]
    assert codes(result) == [("a.py", "AC101")]
    checked.clear()
    lint(root)  # the first config's store is still there
    assert checked == []


def test_config_change_through_the_cli(tree, cli):
    root = tree({"a.py": SLEEP})
    assert cli("lint", "a.py").exit_code == 1
    (root / "pyproject.toml").write_text('[tool.asynccheck]\nignore = ["AC101"]\n')
    assert cli("lint", "a.py").exit_code == 0


def test_exclude_changes_do_not_invalidate(tree, checked):
    root = tree({"a.py": SLEEP, "gen/b.py": SLEEP})
    lint(root)
    checked.clear()
    result = lint(root, Config(root=str(root), exclude=("gen/",)))
    assert checked == []
    assert codes(result) == [("a.py", "AC101")]


@pytest.mark.parametrize(
    "damage",
    ["corrupt", "truncated", "empty", "foreign", "other-version", "directory", "folder-is-file"],
)
def test_a_damaged_cache_is_ignored(tree, checked, damage):
    root = tree({"a.py": SLEEP, "b.py": CLEAN})
    lint(root)
    [store] = stores(root)
    if damage == "corrupt":
        store.write_bytes(os.urandom(64))
    elif damage == "truncated":
        store.write_bytes(store.read_bytes()[: store.stat().st_size // 2])
    elif damage == "empty":
        store.write_bytes(b"")
    elif damage == "foreign":
        import marshal

        store.write_bytes(marshal.dumps({"format": 2, "key": "other", "paths": ["x"]}))
    elif damage == "other-version":
        import marshal

        data = marshal.loads(store.read_bytes())
        data["key"] = "0.0.0:" + data["key"].split(":", 1)[1]
        data["format"] = 1
        store.write_bytes(marshal.dumps(data))
    elif damage == "directory":
        store.unlink()
        store.mkdir()
        (store / "x").write_text("x")
    elif damage == "folder-is-file":
        import shutil

        shutil.rmtree(root / CACHE_DIR_NAME)
        (root / CACHE_DIR_NAME).write_text("not a folder")
    checked.clear()
    result = lint(root)
    assert sorted(checked) == ["a.py", "b.py"]  # everything checked afresh
    assert codes(result) == [("a.py", "AC101")]
    checked.clear()
    again = lint(root)
    assert codes(again) == [("a.py", "AC101")]
    if damage not in ("directory", "folder-is-file"):
        assert checked == []  # the store was rewritten and is used again
    assert not list(root.rglob("*.tmp"))


def test_a_store_with_wrong_column_types_is_ignored(tree, checked):
    import marshal

    root = tree({"a.py": SLEEP})
    lint(root)
    [store] = stores(root)
    data = marshal.loads(store.read_bytes())
    data["findings"] = [("garbage",)]
    store.write_bytes(marshal.dumps(data))
    checked.clear()
    result = lint(root)
    assert codes(result) == [("a.py", "AC101")]


def test_no_cache_neither_reads_nor_writes(tree, checked):
    root = tree({"a.py": SLEEP})
    lint(root, options=RunOptions(jobs=1, use_cache=False))
    assert not (root / CACHE_DIR_NAME).exists()
    lint(root)
    checked.clear()
    lint(root, options=RunOptions(jobs=1, use_cache=False))
    assert checked == ["a.py"]  # a store existed, but --no-cache did not read it


def test_no_cache_option_on_the_cli(tree, cli):
    root = tree({"a.py": SLEEP})
    assert cli("lint", "--no-cache", "a.py").exit_code == 1
    assert not (root / CACHE_DIR_NAME).exists()
    assert cli("lint", "a.py").exit_code == 1
    assert stores(root)


def test_fix_and_diff_do_not_write_stale_entries(tree, cli):
    tree({"a.py": SLEEP})
    assert cli("lint", "a.py").exit_code == 1
    assert cli("lint", "--diff", "a.py").exit_code == 1
    assert cli("lint", "a.py").exit_code == 1  # --diff changed nothing, findings stay
    assert cli("lint", "--fix", "a.py").exit_code == 0
    assert cli("lint", "a.py").exit_code == 0  # the fixed file is not served old findings


def test_the_cache_is_written_atomically(tree, monkeypatch):
    root = tree({"a.py": SLEEP})
    lint(root)
    project = [name for name in cache_files(root) if name.startswith("project-")]
    assert cache_files(root) == [".gitignore", *(p.name for p in stores(root)), *project]
    assert not list((root / CACHE_DIR_NAME).glob("*.tmp"))

    # A failure while writing leaves the old store whole and no temporary file behind.
    import marshal

    before = stores(root)[0].read_bytes()
    (root / "b.py").write_text(SLEEP)

    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(marshal, "dumps", broken)
    result = lint(root)  # never fatal
    assert codes(result) == [("a.py", "AC101"), ("b.py", "AC101")]
    assert stores(root)[0].read_bytes() == before
    assert not list((root / CACHE_DIR_NAME).glob("*.tmp"))


def test_cache_folder_is_gitignored(tree):
    root = tree({"a.py": SLEEP})
    lint(root)
    assert (root / CACHE_DIR_NAME / ".gitignore").read_text().strip().endswith("*")


def test_a_read_only_tree_still_lints(tree, monkeypatch):
    root = tree({"a.py": SLEEP})

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "makedirs", refuse)
    assert codes(lint(root)) == [("a.py", "AC101")]


def test_a_warm_run_does_not_import_libcst(tmp_path, run_asynccheck):
    for index in range(30):
        (tmp_path / f"m{index}.py").write_text(SLEEP if index % 3 == 0 else CLEAN)
    cold = run_asynccheck("lint", "--format", "concise", ".", cwd=tmp_path)
    assert cold.exit_code == 1
    warm = run_asynccheck(
        "lint", "--format", "concise", ".", cwd=tmp_path, python_flags=("-X", "importtime")
    )
    assert warm.exit_code == 1
    assert warm.stdout == cold.stdout
    imported = {line.rsplit("|", 1)[-1].strip() for line in warm.stderr.splitlines() if "|" in line}
    assert "asynccheck.lint.engine" in imported  # the import log is really there
    assert not {name for name in imported if name.startswith("libcst")}
    # One changed file brings libcst back, and only that file is new.
    (tmp_path / "m1.py").write_text(SLEEP)
    changed = run_asynccheck(
        "lint", "--format", "concise", ".", cwd=tmp_path, python_flags=("-X", "importtime")
    )
    assert "m1.py:5:5: AC101" in changed.stdout
    assert "libcst._nodes" in {
        line.rsplit("|", 1)[-1].strip() for line in changed.stderr.splitlines() if "|" in line
    }


def test_linting_leaves_no_reference_cycles_behind():
    """A parsed tree kept alive by a cycle (memoized facts pointing back at the context)
    is only freed by a full collection, which a run over thousands of files pays for."""
    import gc

    from asynccheck.config import Config
    from asynccheck.lint.checker import checker_for

    source = "import aiohttp, asyncio, time\n" + "".join(
        f"async def f{i}(s):\n    try:\n        time.sleep(1)\n        await s.get('u')\n"
        f"    except asyncio.CancelledError:\n        pass\n"
        for i in range(20)
    )
    checker = checker_for(Config(select=("AC",)))
    checker.check("warm.py", source)
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        checker.check("x.py", source)
        gc.collect()
        leaked = len(gc.garbage)
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
    assert leaked == 0


def stored_paths(root: Path) -> set[str]:
    import marshal

    [store] = stores(root)
    data = marshal.loads(store.read_bytes())
    return {os.path.relpath(p, root) for p in data["paths"]}


def test_files_gone_leave_the_store_when_it_is_saved(tree, checked):
    root = tree({"a.py": SLEEP, "pkg/b.py": SLEEP, "pkg/c.py": CLEAN, "old/d.py": CLEAN})
    lint(root)
    assert stored_paths(root) == {"a.py", "pkg/b.py", "pkg/c.py", "old/d.py"}
    (root / "pkg" / "c.py").unlink()
    (root / "old" / "d.py").unlink()
    (root / "old").rmdir()
    lint(root)  # nothing changed that is linted: the store is not even written
    assert stored_paths(root) == {"a.py", "pkg/b.py", "pkg/c.py", "old/d.py"}
    (root / "a.py").write_text(CLEAN)
    assert codes(lint(root)) == [("pkg/b.py", "AC101")]
    assert stored_paths(root) == {"a.py", "pkg/b.py"}


def test_a_run_over_one_folder_keeps_the_others_while_they_exist(tree, checked):
    root = tree({"one/a.py": SLEEP, "two/b.py": SLEEP, "three/c.py": SLEEP})
    config = Config(root=str(root))
    run(["one", "two", "three"], config, JOBS1)
    shutil.rmtree(root / "three")
    (root / "one" / "a.py").write_text(CLEAN)
    run(["one"], config, JOBS1)
    assert stored_paths(root) == {"one/a.py", "two/b.py"}
    checked.clear()
    assert codes(run(["two"], config, JOBS1)) == [("two/b.py", "AC101")]
    assert checked == []  # still served from the store


def test_answers_read_through_a_compacted_store_stay_right(tree, checked):
    """Leaving entries out renumbers the table of modules the answers read: the answers
    kept must still be reused, and still be checked against the right modules."""
    root = tree(
        {
            "app/__init__.py": "",
            "app/aaa.py": "import os\n\n\ndef where():\n    return os.getcwd()\n",
            "app/storage.py": "import time\n\n\ndef save():\n    time.sleep(1)\n",
            "app/handlers.py": "from app.aaa import where\nfrom app.storage import save\n\n\n"
            "async def handle():\n    where()\n    save()\n",
            "app/only.py": "def alone():\n    return 1\n",
            # the biggest file is linted first: the modules it reads come first in the table
            "app/gone.py": "from app.only import alone\n\n\nasync def h():\n    alone()\n"
            + "# padding\n" * 50,
        }
    )
    assert [c for _, c in codes(lint(root))] == ["AC110"]
    (root / "app" / "gone.py").unlink()  # what it alone read leaves the table
    (root / "app" / "__init__.py").write_text("# changed\n")
    lint(root)
    assert "app/gone.py" not in stored_paths(root)
    checked.clear()
    assert codes(lint(root)) == [("app/handlers.py", "AC110")]
    assert checked == []
    (root / "app" / "storage.py").write_text("def save():\n    return 1\n")
    assert codes(lint(root)) == []  # the answer read storage.py, found through the new table


def test_compacting_renumbers_what_links_read_and_drops_damaged_rows():
    from asynccheck.lint.cache import _compacted

    table = ["/gone", "/a", "/b", "/c"]
    links = [((3, 1), b"s1", ("x",)), (), ("garbage",), ((9,), b"", ()), ((1,), b"s2", ())]
    used, out, damaged = _compacted(table, links)
    assert used == ["/c", "/a"]
    assert out[0] == ((0, 1), b"s1", ("x",)) and out[4] == ((1,), b"s2", ())
    assert out[1] == ()  # a file that asks nothing stays so
    assert damaged == {2, 3}  # not indexes; an index past the table


def test_summaries_of_a_deleted_tree_leave_the_summary_store(tree):
    from asynccheck.lint.project.store import SummaryStore

    root = tree(
        {"keep/__init__.py": "", "keep/a.py": SLEEP, "old/__init__.py": "", "old/b.py": SLEEP}
    )
    config = Config(root=str(root))
    run(["keep", "old"], config, JOBS1)

    def summarised() -> set[str]:
        [store] = stores(root)
        key = Cache.open(str(root), config.fingerprint()).key
        rows = SummaryStore.open(str(store.parent), key).index
        return {os.path.relpath(p, root) for p in rows}

    assert {"keep/a.py", "old/b.py"} <= summarised()
    shutil.rmtree(root / "old")
    (root / "keep" / "a.py").write_text(CLEAN)
    run(["keep"], config, JOBS1)
    assert not {p for p in summarised() if p.startswith("old")}
    assert "keep/a.py" in summarised()
