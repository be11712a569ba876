"""Folder listings kept between runs: a run sees every file added, removed, renamed or
newly ignored since the last one, whatever was kept, and a damaged store changes nothing."""

from __future__ import annotations

import marshal
import os
import time

import pytest

from asynccheck.lint import listings as listings_module
from asynccheck.lint.cachefile import CACHE_DIR_NAME
from asynccheck.lint.discovery import discover
from asynccheck.lint.engine import RunOptions, run
from asynccheck.lint.listings import Listings

SLEEP = "import time\n\n\nasync def handler():\n    time.sleep(1)\n"
TICK = 0.03  # longer than a coarse file-system clock tick (at most 10 ms on Linux)


@pytest.fixture
def settled(monkeypatch):
    """Every folder counts as settled (its last change long past), so listings are kept
    at once; a change made a tick later must still show."""
    real = time.time_ns
    monkeypatch.setattr(listings_module.time, "time_ns", lambda: real() + 3_600 * 10**9)


def files(root, *paths: str) -> list[str]:
    """Discover with the listings kept in `root`'s cache, as a run does."""
    kept = Listings.open(str(root))
    found = list(discover(paths or (".",), listings=kept).files)
    kept.save()
    return found


def kept_folders(root) -> set[str]:
    data = marshal.loads((root / CACHE_DIR_NAME / "listings.marshal").read_bytes())
    return {os.path.relpath(folder, root) for folder in data[2]}


def changed(action) -> None:
    time.sleep(TICK)
    action()


def test_kept_listings_give_the_same_files(tree, settled):
    root = tree({"a.py": "", "pkg/b.py": "", "pkg/sub/c.pyi": "", "pkg/notes.txt": ""})
    first = files(root)
    assert kept_folders(root) == {".", "pkg", "pkg/sub"}
    assert files(root) == first == ["a.py", "pkg/b.py", "pkg/sub/c.pyi"]


@pytest.mark.parametrize(
    "change, expected",
    [
        (lambda r: (r / "pkg" / "new.py").write_text(""), ["a.py", "pkg/b.py", "pkg/new.py"]),
        (lambda r: (r / "pkg" / "b.py").unlink(), ["a.py"]),
        (lambda r: (r / "pkg" / "b.py").rename(r / "pkg" / "c.py"), ["a.py", "pkg/c.py"]),
        (
            lambda r: (r / "pkg" / "deep").mkdir() or (r / "pkg/deep/d.py").write_text(""),
            ["a.py", "pkg/b.py", "pkg/deep/d.py"],
        ),
        (lambda r: (r / "pkg" / ".venv").mkdir(), ["a.py", "pkg/b.py"]),
    ],
    ids=["added", "removed", "renamed", "new-folder", "default-excluded-folder"],
)
def test_a_change_to_a_kept_folder_shows(tree, settled, change, expected):
    root = tree({"a.py": "", "pkg/b.py": ""})
    files(root)
    changed(lambda: change(root))
    assert files(root) == expected


def test_a_folder_replaced_by_a_file_and_back(tree, settled):
    root = tree({"a.py": "", "pkg/b.py": ""})
    files(root)
    changed(lambda: [(root / "pkg" / "b.py").unlink(), (root / "pkg").rmdir()])
    changed(lambda: (root / "pkg").write_text("not a folder"))
    assert files(root) == ["a.py"]
    assert kept_folders(root) == {"."}  # the folder that is gone is not kept
    changed(lambda: [(root / "pkg").unlink(), (root / "pkg").mkdir()])
    changed(lambda: (root / "pkg" / "c.py").write_text(""))
    assert files(root) == ["a.py", "pkg/c.py"]


def test_excludes_and_gitignore_are_applied_on_every_run(tree, settled):
    """Only the raw listing is kept: an edited .gitignore (which does not touch its
    folder) or a new configuration counts at once."""
    root = tree({"a.py": "", "pkg/b.py": "", "pkg/c.py": "", "pkg/.gitignore": "c.py\n"})
    (root / ".git").mkdir()
    assert files(root) == ["a.py", "pkg/b.py"]
    (root / "pkg" / ".gitignore").write_text("b.py\n")  # in place: pkg's ctime stays
    assert files(root) == ["a.py", "pkg/c.py"]


def test_a_listing_too_fresh_to_trust_is_not_kept(tree):
    """Without the settled clock, a folder changed just now is listed again next time:
    a change in the same clock tick would otherwise go unseen."""
    root = tree({"a.py": "", "pkg/b.py": ""})
    assert files(root) == ["a.py", "pkg/b.py"]
    assert not (root / CACHE_DIR_NAME / "listings.marshal").exists()
    (root / "pkg" / "c.py").write_text("")  # no sleep: maybe the same tick
    assert files(root) == ["a.py", "pkg/b.py", "pkg/c.py"]


def test_folders_outside_this_walk_are_kept_as_they_were(tree, settled):
    root = tree({"one/a.py": "", "two/b.py": ""})
    files(root, "one", "two")
    assert kept_folders(root) == {"one", "two"}
    changed(lambda: (root / "two" / "c.py").write_text(""))
    assert files(root, "one") == ["one/a.py"]
    assert kept_folders(root) == {"one", "two"}
    assert files(root, "two") == ["two/b.py", "two/c.py"]


@pytest.mark.parametrize(
    "damage",
    [
        b"",
        b"\x00garbage",
        marshal.dumps((1, "0.0.0", {})),
        marshal.dumps([1, 2, 3]),
        marshal.dumps((1, "VERSION", {"/x": (1, 2)})),
        marshal.dumps((1, "VERSION", "not rows")),
    ],
    ids=["empty", "corrupt", "other-version", "not-a-tuple", "short-row", "not-rows"],
)
def test_a_damaged_store_is_ignored(tree, settled, damage):
    from asynccheck import __version__

    root = tree({"a.py": "", "pkg/b.py": ""})
    files(root)
    store = root / CACHE_DIR_NAME / "listings.marshal"
    store.write_bytes(damage.replace(b"VERSION", __version__.encode()))
    changed(lambda: (root / "pkg" / "c.py").write_text(""))
    assert files(root) == ["a.py", "pkg/b.py", "pkg/c.py"]
    assert kept_folders(root) == {".", "pkg"}  # written afresh


def test_an_unreadable_folder_is_reported_whatever_was_kept(tree, settled, monkeypatch):
    root = tree({"a.py": "", "pkg/b.py": ""})
    files(root)
    changed(lambda: (root / "pkg" / "c.py").write_text(""))
    real = os.scandir

    def refuse(path="."):
        if os.path.basename(os.fspath(path)) == "pkg":
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real(path)

    monkeypatch.setattr(os, "scandir", refuse)
    found = discover(["."], listings=Listings.open(str(root)))
    assert found.files == ("a.py",)
    assert found.unreadable == (("./pkg", "Permission denied"),)


def test_a_run_keeps_listings_and_no_cache_neither_reads_nor_writes(tree, settled):
    root = tree({"a.py": SLEEP, "pkg/b.py": SLEEP})
    store = root / CACHE_DIR_NAME / "listings.marshal"
    run(["."], _config(root), RunOptions(jobs=1, use_cache=False))
    assert not store.exists()
    assert len(run(["."], _config(root), RunOptions(jobs=1)).findings) == 2
    assert store.exists()
    foreign = marshal.dumps((1, "x", {}))
    store.write_bytes(foreign)
    changed(lambda: (root / "pkg" / "c.py").write_text(SLEEP))
    assert len(run(["."], _config(root), RunOptions(jobs=1, use_cache=False)).findings) == 3
    assert store.read_bytes() == foreign  # --no-cache wrote nothing


def _config(root):
    from asynccheck.config import Config

    return Config(root=str(root))


def test_nothing_is_kept_on_windows(tree, settled, monkeypatch):
    root = tree({"a.py": "", "pkg/b.py": ""})
    monkeypatch.setattr(listings_module.os, "name", "nt")
    assert files(root) == ["a.py", "pkg/b.py"]
    assert not (root / CACHE_DIR_NAME / "listings.marshal").exists()


def test_listings_live_with_the_walked_projects_cache_and_no_other_config_is_read(
    tree, settled, cli, monkeypatch
):
    """The listings go to the cache of the first folder's configuration: the current
    folder's configuration is not read for them (a broken one there must not matter)."""
    root = tree(
        {
            "here/pyproject.toml": '[tool.asynccheck]\nselect = ["NOPE999"]\n',
            "other/pyproject.toml": '[tool.asynccheck]\nselect = ["AC1"]\n',
            "other/pkg/a.py": SLEEP,
        }
    )
    monkeypatch.chdir(root / "here")
    result = cli("lint", "--format", "concise", "../other")
    assert result.exit_code == 1, result.stderr
    assert "AC101" in result.stdout
    assert (root / "other" / CACHE_DIR_NAME / "listings.marshal").exists()
    assert not (root / "here" / CACHE_DIR_NAME).exists()
    assert cli("lint", "../other/pkg/a.py").exit_code == 1  # a file alone: no listing kept


def test_folders_of_other_trees_are_not_kept_without_bound(tree, settled, monkeypatch):
    monkeypatch.setattr(listings_module, "_MAX_FOLDERS", 3)
    root = tree({"one/a.py": "", "two/b.py": "", "three/c.py": "", "four/d.py": ""})
    files(root, "one", "two", "three")
    assert kept_folders(root) == {"one", "two", "three"}
    changed(lambda: (root / "four" / "e.py").write_text(""))
    assert files(root, "four") == ["four/d.py", "four/e.py"]
    assert kept_folders(root) == {"four"}


def test_a_deleted_tree_outside_the_walk_is_dropped_when_the_store_is_saved(tree, settled):
    import shutil

    root = tree({"one/a.py": "", "two/sub/b.py": ""})
    files(root, "one", "two")
    assert kept_folders(root) == {"one", "two", "two/sub"}
    shutil.rmtree(root / "two")
    changed(lambda: (root / "one" / "c.py").write_text(""))
    assert files(root, "one") == ["one/a.py", "one/c.py"]
    assert kept_folders(root) == {"one"}
