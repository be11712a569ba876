"""Worker processes change nothing but the speed: byte-identical output, deterministic order."""

from __future__ import annotations

import json

import pytest

BODIES = (
    "import time\n\n\nasync def f{n}():\n    time.sleep({n})\n",
    "import requests\n\n\nasync def f{n}(url):\n    return requests.get(url)\n",
    "import asyncio\n\n\nasync def f{n}():\n    await asyncio.sleep({n})\n",
    "import subprocess\n\n\nasync def f{n}():\n    subprocess.run(['ls'])\n    open('x').read()\n",
    "async def f{n}(:\n",  # AC001
)


@pytest.fixture
def forty_files(tree):
    files = {}
    for n in range(40):
        folder = ("pkg_b", "pkg_a", "")[n % 3]
        name = f"{folder}/mod_{(n * 7) % 40:02d}.py" if folder else f"top_{n:02d}.py"
        files[name] = BODIES[n % len(BODIES)].format(n=n)
    return tree(files)


@pytest.mark.parametrize("output_format", ["text", "json", "concise"])
def test_jobs_2_matches_jobs_1_byte_for_byte(forty_files, cli, output_format):
    one = cli("lint", "--no-cache", "--jobs", "1", "--format", output_format, ".")
    two = cli("lint", "--no-cache", "--jobs", "2", "--format", output_format, ".")
    assert one.exit_code == two.exit_code == 1
    assert two.stdout == one.stdout
    assert one.stdout.count("AC1") >= 30


def test_order_is_by_path_row_column(forty_files, cli):
    out = cli("lint", "--no-cache", "--jobs", "2", "--format", "json", ".").stdout
    data = json.loads(out)
    keys = [(d["filename"], d["location"]["row"], d["location"]["column"], d["code"]) for d in data]
    assert keys == sorted(keys)
    assert {d["code"] for d in data} == {"AC001", "AC101", "AC102", "AC103", "AC104"}
    assert len({d["filename"] for d in data}) == 32  # every file but the clean ones


def test_repeated_parallel_runs_are_identical(forty_files, cli):
    runs = {cli("lint", "--no-cache", "--jobs", "2", ".").stdout for _ in range(3)}
    assert len(runs) == 1


def test_parallel_fix_matches_serial_fix(forty_files, tmp_path, cli):
    import shutil

    copy = tmp_path.parent / (tmp_path.name + "-copy")
    shutil.copytree(tmp_path, copy)
    two = cli("lint", "--jobs", "2", "--fix", "--unsafe-fixes", "--format", "concise", ".")
    import os

    os.chdir(copy)
    try:
        one = cli("lint", "--jobs", "1", "--fix", "--unsafe-fixes", "--format", "concise", ".")
    finally:
        os.chdir(tmp_path)
    assert two.stdout == one.stdout
    for path in sorted(tmp_path.rglob("*.py")):
        assert path.read_bytes() == (copy / path.relative_to(tmp_path)).read_bytes()


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_run_restores_the_garbage_collector_settings(forty_files, jobs):
    """Linting tunes the GC for itself; a program linting through the API gets its own back."""
    import gc

    from asynccheck.config import from_mapping
    from asynccheck.lint import engine

    before = (gc.get_threshold(), gc.get_freeze_count(), gc.isenabled())
    result = engine.run(["."], from_mapping({}), engine.RunOptions(jobs=jobs, use_cache=False))
    assert len(result.findings) >= 30
    assert (gc.get_threshold(), gc.get_freeze_count(), gc.isenabled()) == before
