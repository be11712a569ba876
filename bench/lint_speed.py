"""Lint speed against bare parsing and the peers, measured in one run (ratios, not seconds).

    python bench/lint_speed.py            # everything (all of Home Assistant: ~10 minutes)
    python bench/lint_speed.py --quick    # helpers only: the parse ratio, the peers, --jobs 2
    python bench/lint_speed.py --only one-file   # one section: parse, parallel, one-file, full
    python bench/lint_speed.py --instructions    # also the parse ratio in valgrind's counts

Gets the corpus with ../shared/bench/corpus.sh and installs ruff and flake8-async itself.
Every figure is the wall time of a whole process (start-up included), alternated between
contenders and reported as a median: these machines are shared and noisy.
"""

from __future__ import annotations

import argparse
import ast
import concurrent.futures
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS_SCRIPT = Path(
    os.environ.get("ASYNCCHECK_CORPUS_SCRIPT", ROOT.parent / "shared/bench/corpus.sh")
)
WORK = ROOT / "bench" / ".work"

PARSE_ALL = """
import os, sys, libcst
files = sorted(os.path.join(d, f) for d, _, fs in os.walk(sys.argv[1]) for f in fs
               if f.endswith((".py", ".pyi")))
share, shares = (int(sys.argv[2]), int(sys.argv[3])) if len(sys.argv) > 3 else (0, 1)
for path in files[share::shares]:
    with open(path, "rb") as fh:
        libcst.parse_module(fh.read().decode("utf-8"))
"""

# The floor for any libcst-based tool that lints one file: start-up, import, one parse.
BARE_PARSE = "import sys, libcst; libcst.parse_module(open(sys.argv[1], encoding='utf-8').read())"

# Two bare-parse processes side by side, each with half of the files: what two cores give
# to this work on this machine, the ceiling for any --jobs 2 speed-up.
PARSE_HALVES = f"""
import subprocess, sys
code = {PARSE_ALL!r}
halves = [subprocess.Popen([sys.executable, "-c", code, sys.argv[1], str(i), "2"]) for i in (0, 1)]
for half in halves:
    half.wait()
"""


def corpus(which: str) -> Path:
    out = subprocess.run(
        ["bash", str(CORPUS_SCRIPT), which], check=True, capture_output=True, text=True
    )
    return Path(out.stdout.strip().splitlines()[-1])


def ensure_peers() -> None:
    missing = [
        p for p, mod in (("ruff", "ruff"), ("flake8-async", "flake8_async")) if not _importable(mod)
    ]
    if missing:
        print(f"installing {', '.join(missing)} ...", flush=True)
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", *missing], check=True)


def _importable(module: str) -> bool:
    return (
        subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True).returncode
        == 0
    )


def wall(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(
        cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False
    )
    return time.perf_counter() - start


def alternated(commands: dict[str, list[str]], rounds: int, cwd: Path) -> dict[str, float]:
    """Median wall time of each command, the commands taking turns round by round."""
    times: dict[str, list[float]] = {name: [] for name in commands}
    names = list(commands)
    for round_number in range(rounds):
        # Each round starts with a different contender, so none always runs first.
        start = round_number % len(names)
        for name in names[start:] + names[:start]:
            times[name].append(wall(commands[name], cwd))
    return {name: statistics.median(values) for name, values in times.items()}


def asynccheck(*args: str) -> list[str]:
    return [sys.executable, "-m", "asynccheck", "lint", "--quiet", "--exit-zero", *args]


# The same lint through the library, with the project step (cross-module AC110) on or off:
# the CLI has no switch for it, it is on in every run.
LINT_PROJECT = """
import sys
from asynccheck.config import Config
from asynccheck.lint.engine import RunOptions, run
run([sys.argv[1]], Config(), RunOptions(jobs=1, use_cache=False, project=sys.argv[2] == "on"))
"""


def library_lint(path: Path, project: bool) -> list[str]:
    return [sys.executable, "-c", LINT_PROJECT, str(path), "on" if project else "off"]


def row(label: str, value: str, target: str = "", ok: bool | None = None) -> None:
    verdict = "" if ok is None else ("PASS" if ok else "FAIL")
    print(f"  {label:<58} {value:>12}  {target:<10} {verdict}", flush=True)


def bench_helpers(helpers: Path, cwd: Path, rounds: int) -> None:
    print(f"\nHA helpers ({helpers}), median of {rounds}, alternated:")
    medians = alternated(
        {
            "parse": [sys.executable, "-c", PARSE_ALL, str(helpers)],
            "asynccheck": asynccheck("--jobs", "1", "--no-cache", str(helpers)),
            "asynccheck-all": asynccheck(
                "--jobs", "1", "--no-cache", "--select", "AC", str(helpers)
            ),
            "project-on": library_lint(helpers, project=True),
            "project-off": library_lint(helpers, project=False),
        },
        rounds,
        cwd,
    )
    parse = medians["parse"]
    row("bare libcst.parse_module (process wall)", f"{parse:.2f} s")
    ratio = medians["asynccheck"] / parse
    row("asynccheck --jobs 1 --no-cache / parse", f"{ratio:.2f}x", "<= 1.25x", ratio <= 1.25)
    on, off = medians["project-on"] / parse, medians["project-off"] / parse
    row("  same, project step on (library call) / parse", f"{on:.2f}x", "<= 1.25x", on <= 1.25)
    row("  same, project step off (AC110 in one module) / parse", f"{off:.2f}x")
    ratio_all = medians["asynccheck-all"] / parse
    row(
        "asynccheck --select AC --jobs 1 --no-cache / parse",
        f"{ratio_all:.2f}x",
        "<= 1.25x",
        ratio_all <= 1.25,
    )
    bench_flake8_async(helpers, cwd, rounds)
    ruff = statistics.median(
        wall(
            [
                "ruff",
                "check",
                "--no-cache",
                "--select",
                "ASYNC,RUF006",
                "--exit-zero",
                str(helpers),
            ],
            cwd,
        )
        for _ in range(rounds)
    )
    row("ruff --select ASYNC,RUF006 (cold)", f"{ruff:.2f} s", "(peer)")


PARSE_FILES = """
import sys, libcst
for path in sys.argv[1:]:
    with open(path, "rb") as fh:
        libcst.parse_module(fh.read().decode("utf-8"))
"""


def parsed_by_this_python(files: list[str]) -> list[str]:
    """The files this interpreter's own parser reads: flake8-async's standalone mode reads
    with `ast`, so newer syntax (Home Assistant needs 3.14) stops it on an older Python."""
    readable = []
    for path in files:
        try:
            compile(Path(path).read_bytes(), path, "exec", flags=ast.PyCF_ONLY_AST)
        except SyntaxError:
            continue
        readable.append(path)
    return readable


def bench_flake8_async(helpers: Path, cwd: Path, rounds: int) -> None:
    """flake8-async (standalone, on libcst too) against bare parsing and asynccheck, on the
    helpers files it can read here."""
    files = sorted(str(p) for p in helpers.rglob("*.py"))
    readable = parsed_by_this_python(files)
    medians = alternated(
        {
            "parse": [sys.executable, "-c", PARSE_FILES, *readable],
            "asynccheck": asynccheck("--jobs", "1", "--no-cache", *readable),
            "flake8-async": [sys.executable, "-m", "flake8_async", "--asyncio", *readable],
        },
        rounds,
        cwd,
    )
    label = f"on the {len(readable)} of {len(files)} files Python {sys.version.split()[0]} reads"
    print(f"  {label}:")
    parse = medians["parse"]
    row("  flake8-async standalone / parse", f"{medians['flake8-async'] / parse:.2f}x", "(peer)")
    row("  asynccheck --jobs 1 --no-cache / parse", f"{medians['asynccheck'] / parse:.2f}x")
    row(
        "  asynccheck / flake8-async",
        f"{medians['asynccheck'] / medians['flake8-async']:.2f}x",
    )


def instructions(cmd: list[str], cwd: Path) -> int:
    """Instructions a command executes, counted by valgrind: the same on a busy machine."""
    done = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *cmd],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )
    match = re.search(r"Collected : (\d+)", done.stderr)
    if match is None:
        raise RuntimeError(f"valgrind printed no count: {done.stderr[-500:]}")
    return int(match.group(1))


def bench_instructions(helpers: Path, cwd: Path) -> None:
    """The parse ratio in instructions rather than seconds (valgrind; ~5 minutes).

    Wall times on these shared machines swing by a third from run to run; instruction
    counts do not, so they show what a change to asynccheck really costs.
    """
    if shutil.which("valgrind") is None:
        print("\n(valgrind not found: no instruction counts)")
        return
    print(f"\nInstructions on HA helpers (valgrind, {helpers}):")
    commands = {
        "parse": [sys.executable, "-c", PARSE_ALL, str(helpers)],
        "default": asynccheck("--jobs", "1", "--no-cache", str(helpers)),
        "all": asynccheck("--jobs", "1", "--no-cache", "--select", "AC", str(helpers)),
    }
    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        counts = dict(
            zip(commands, pool.map(lambda cmd: instructions(cmd, cwd), commands.values()))
        )
    parse = counts["parse"]
    row("bare libcst.parse_module", f"{parse / 1e9:.2f} G")
    row("asynccheck --jobs 1 --no-cache / parse", f"{counts['default'] / parse:.3f}x", "<= 1.25x")
    row("asynccheck --select AC --jobs 1 --no-cache / parse", f"{counts['all'] / parse:.3f}x")


def bench_parallel(helpers: Path, cwd: Path, rounds: int) -> None:
    """--jobs 2 against --jobs 1, next to the same ratio for bare parsing in two processes."""
    print(f"\nTwo workers on HA helpers, median of {rounds}, alternated:")
    medians = alternated(
        {
            "parse-1": [sys.executable, "-c", PARSE_ALL, str(helpers)],
            "parse-2": [sys.executable, "-c", PARSE_HALVES, str(helpers)],
            "jobs-1": asynccheck("--jobs", "1", "--no-cache", str(helpers)),
            "jobs-2": asynccheck("--jobs", "2", "--no-cache", str(helpers)),
        },
        rounds,
        cwd,
    )
    ceiling = medians["parse-1"] / medians["parse-2"]
    speedup = medians["jobs-1"] / medians["jobs-2"]
    row("bare parse: two processes over one (the machine's ceiling)", f"{ceiling:.2f}x")
    row("asynccheck --jobs 2 over --jobs 1", f"{speedup:.2f}x", ">= 1.7x", speedup >= 1.7)
    row("asynccheck's share of the ceiling", f"{speedup / ceiling:.0%}")


def bench_full(full: Path, cwd: Path, rounds: int) -> None:
    print(f"\nAll of Home Assistant ({full}):")
    one = wall(asynccheck("--jobs", "1", "--no-cache", str(full)), cwd)
    two = wall(asynccheck("--jobs", "2", "--no-cache", str(full)), cwd)
    row("--jobs 1 --no-cache", f"{one:.1f} s")
    row("--jobs 2 --no-cache", f"{two:.1f} s")
    row("speed-up of --jobs 2 over --jobs 1", f"{one / two:.2f}x", ">= 1.7x", one / two >= 1.7)

    wall(asynccheck(str(full)), cwd)  # fill the cache
    warm = statistics.median(wall(asynccheck(str(full)), cwd) for _ in range(rounds))
    ruff = statistics.median(
        wall(
            [
                "ruff",
                "check",
                "--isolated",
                "--no-cache",
                "--select",
                "ASYNC,RUF006",
                "--exit-zero",
                str(full),
            ],
            cwd,
        )
        for _ in range(rounds)
    )
    row("warm cache, nothing changed (wall)", f"{warm:.2f} s", "<= 0.5 s", warm <= 0.5)
    bench_changed_helper(full, cwd, rounds)
    row("ruff --select ASYNC,RUF006 --no-cache (wall)", f"{ruff:.2f} s", "(peer)")
    row("warm asynccheck / cold ruff", f"{warm / ruff:.2f}x")


def bench_one_file(full: Path, cwd: Path, rounds: int) -> None:
    """The pre-commit case: the hook names one changed file; start-up included.

    Next to it, a bare `import libcst` and parse of the same file: the floor for any
    libcst-based tool on this machine, which moves with the machine's speed.
    """
    print("\nOne changed file (pre-commit), start-up included:")
    target = cwd / "changed.py"
    source = (full / "helpers" / "entity.py").read_text(encoding="utf-8")
    bare = [sys.executable, "-c", BARE_PARSE, str(target)]
    ours_times, bare_times = [], []
    for i in range(rounds):
        target.write_text(source + f"\n# edit {i}\n", encoding="utf-8")
        ours_times.append(wall(asynccheck(str(target)), cwd))
        bare_times.append(wall(bare, cwd))
    ours, floor = statistics.median(ours_times), statistics.median(bare_times)
    lines = source.count("\n")
    row(f"asynccheck lint changed.py ({lines} lines)", f"{ours:.2f} s", "<= 0.6 s", ours <= 0.6)
    row("bare python -c 'import libcst; parse' of the same file", f"{floor:.2f} s")
    row("asynccheck over that floor", f"{ours / floor:.2f}x")
    bench_entity_cold(full, cwd, rounds)


def bench_changed_helper(full: Path, cwd: Path, rounds: int) -> None:
    """All of HA with one helper module edited and the rest cached, start-up included.

    On a copy of the corpus (the shared one is never written). A comment leaves the
    module's summary as it was: only that file is linted again. A new blocking helper
    changes the summary: the files whose chains read it are answered again (not parsed).
    Under each file, the floor of linting it at all (start-up, `import libcst`, a parse),
    timed alternately with the runs: it moves with the machine's speed.
    """
    copy = cwd / "ha" / "homeassistant"
    if not copy.exists():
        shutil.copytree(full, copy)
    wall(asynccheck(str(copy)), cwd)  # fill the cache
    wall(asynccheck(str(copy)), cwd)
    edits = {
        "a comment": lambda i: f"\n# edit {i}\n",
        "a new blocking def": lambda i: f"\n\ndef _bench_{i}():\n    open('x').close()\n",
    }
    # entity.py (1,976 lines: its bare parse with start-up is most of the target alone),
    # and the helper of median size, for scale
    for changed in (copy / "helpers" / "entity.py", _median_helper(copy / "helpers")):
        original = changed.read_text(encoding="utf-8")
        lines = original.count("\n")
        bare = [sys.executable, "-c", BARE_PARSE, str(changed)]
        floors = []
        try:
            for label, edit in edits.items():
                times = []
                for i in range(rounds):
                    changed.write_text(original + edit(i), encoding="utf-8")
                    times.append(wall(asynccheck(str(copy)), cwd))
                    floors.append(wall(bare, cwd))
                median = statistics.median(times)
                row(f"helpers/{changed.name} ({lines} lines) changed ({label}), rest cached",
                    f"{median:.2f} s", "<= 0.6 s", median <= 0.6)  # fmt: skip
        finally:
            changed.write_text(original, encoding="utf-8")
        floor = statistics.median(floors)
        row(f"  floor: bare python -c 'import libcst; parse' of {changed.name}", f"{floor:.2f} s")


def _median_helper(helpers: Path) -> Path:
    """The module of median length among HA's helpers (ties by name)."""
    sized = sorted(
        (p.read_text(encoding="utf-8").count("\n"), p.name, p) for p in helpers.glob("*.py")
    )
    return sized[len(sized) // 2][2]


def bench_entity_cold(full: Path, cwd: Path, rounds: int) -> None:
    """Linting only helpers/entity.py with no cache: the modules it reaches are summarised.
    (`--no-cache`: the cache folder is the nearest configuration's, maybe not `cwd`.)"""
    target = full / "helpers" / "entity.py"
    times = [wall(asynccheck("--no-cache", str(target)), cwd) for _ in range(rounds)]
    row(
        "lint only homeassistant/helpers/entity.py, cold cache", f"{statistics.median(times):.2f} s"
    )


def compile_bytecode() -> None:
    """Write asynccheck's .pyc files, as `pip install` does.

    An editable install under PYTHONDONTWRITEBYTECODE=1 (set on these machines) would
    otherwise compile every module from source on every start: 0.09 s of the one-file case.
    """
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(ROOT / "asynccheck")],
        check=True,
        stdout=subprocess.DEVNULL,
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="helpers only")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--only",
        choices=("parse", "parallel", "one-file", "full", "instructions"),
        help="run one section (the figures are the same as in a whole run)",
    )
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="also count instructions with valgrind (adds ~5 minutes)",
    )
    options = parser.parse_args()
    ensure_peers()
    compile_bytecode()
    helpers = corpus("helpers")
    WORK.mkdir(parents=True, exist_ok=True)
    cwd = Path(tempfile.mkdtemp(dir=WORK))
    # The runs' own (default) configuration: without it, the nearest one is this repository's
    # pyproject.toml, whose folder would hold the cache (kept after the bench, and grown by
    # each bench's copy of the corpus) and count as a project root.
    (cwd / "asynccheck.toml").write_text("# asynccheck's bench: the defaults\n")
    try:
        wanted = {options.only} if options.only else {"parse", "parallel", "one-file", "full"}
        if options.quick:
            wanted &= {"parse", "parallel"}
        if "parse" in wanted:
            bench_helpers(helpers, cwd, options.rounds)
        if options.instructions or options.only == "instructions":
            bench_instructions(helpers, cwd)
        if "parallel" in wanted:
            bench_parallel(helpers, cwd, options.rounds)
        full = corpus("full") if wanted & {"one-file", "full"} else None
        if full is not None and "one-file" in wanted:
            bench_one_file(full, cwd, options.rounds)
        if full is not None and "full" in wanted:
            bench_full(full, cwd, options.rounds)
    finally:
        shutil.rmtree(cwd, ignore_errors=True)


if __name__ == "__main__":
    main()
