"""asynccheck on flake8-async's own test suite: what it expects, what we find.

    python bench/peer_suites.py              # summary per peer code, then every disagreement
    python bench/peer_suites.py --summary    # the summary table only

flake8-async's sdist on PyPI ships its eval files (tests/eval_files/*.py). Each expected
error is a comment on the offending line, `# ASYNC210: 4, 'requests.get'` (0-based column),
or `# error: 4` in a file named after the code it tests.
For the peer codes that mean the same as one of ours (the table below), this prints how many
of the peer's expected findings we report on the same line (recall), how many of ours it does
not expect there (each one to be judged: our rules are sometimes broader on purpose), and the
lines behind both. Files of other peer codes (trio cancel scopes, checkpoints) are not read.
"""

from __future__ import annotations

import argparse
import collections
import json
import re
import subprocess
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "bench" / ".work" / "peer_suites"
FLAKE8_ASYNC = "flake8-async==26.8.1"

# Peer code -> our code, for rules that mean the same thing.
SAME_MEANING = {
    "ASYNC109": "AC503",  # async function with a timeout parameter
    "ASYNC110": "AC404",  # busy-wait on a sleep loop
    "ASYNC210": "AC102",  # blocking HTTP call
    "ASYNC211": "AC102",  # blocking HTTP call through a urllib3 pool
    "ASYNC212": "AC102",  # blocking httpx client
    "ASYNC220": "AC103",  # subprocess.Popen
    "ASYNC221": "AC103",  # waiting process calls
    "ASYNC222": "AC103",  # os.wait*
    "ASYNC230": "AC104",  # open()
    "ASYNC231": "AC104",  # os.fdopen
    "ASYNC232": "AC104",  # method of a sync file object
    "ASYNC240": "AC104",  # os.path
    "ASYNC250": "AC107",  # input()
    "ASYNC251": "AC101",  # time.sleep
    "ASYNC300": "AC401",  # create_task result not saved
}

# Only files named after a mapped code are compared (e.g. async22x_asyncio.py, async251.py).
FILE_CODES = re.compile(r"async(\d{2}[\dx])")
EXPECTED = re.compile(r"#\s*(ASYNC\d{3}|error)(?:_\w+)?:\s*(\d+)")


@dataclass(frozen=True)
class Expected:
    file: str
    row: int
    column: int  # 1-based, as ours
    peer_code: str


def fetch_eval_files() -> Path:
    """flake8-async's sdist from PyPI, its eval files extracted under bench/.work."""
    target = WORK / FLAKE8_ASYNC.replace("==", "-")
    if (target / "eval_files").is_dir():
        return target / "eval_files"
    target.mkdir(parents=True, exist_ok=True)
    pip = [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", ":all:"]
    subprocess.run(
        [*pip, "-d", str(target), FLAKE8_ASYNC],
        check=False,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    sdist = next(target.glob("flake8_async-*.tar.gz"))
    with tarfile.open(sdist) as archive:
        for member in archive.getmembers():
            if "/tests/eval_files/" in member.name and member.name.endswith(".py"):
                member.name = "eval_files/" + Path(member.name).name
                archive.extract(member, target)
    return target / "eval_files"


def compared_files(folder: Path) -> list[Path]:
    """Eval files whose name says they test a mapped code (`async22x` covers 220-229)."""
    chosen = []
    for path in sorted(folder.glob("async*.py")):
        match = FILE_CODES.match(path.stem)
        if match and any(
            re.fullmatch("ASYNC" + match.group(1).replace("x", r"\d"), code)
            for code in SAME_MEANING
        ):
            chosen.append(path)
    return chosen


def expectations(path: Path) -> list[Expected]:
    """`# ASYNC210: 4, ...`, or `# error: 4, ...` in a file named after one code."""
    own = re.fullmatch(r"async(\d{3})(_.*)?", path.stem)
    text = path.read_text(encoding="utf-8")
    if "# ASYNCIO_NO_ERROR" in text:
        return []  # its expectations are for trio and anyio: with asyncio it expects none
    found = []
    for row, line in enumerate(text.splitlines(), start=1):
        for code, column in EXPECTED.findall(line):
            if code == "error" and own is not None:
                code = f"ASYNC{own.group(1)}"
            if code in SAME_MEANING:
                found.append(Expected(path.name, row, int(column) + 1, code))
    return found


def our_findings(files: list[Path]) -> list[dict]:
    codes = ",".join(sorted(set(SAME_MEANING.values())))
    lint = [sys.executable, "-m", "asynccheck", "lint", "--no-cache", "--exit-zero"]
    done = subprocess.run(
        [*lint, "--select", codes, "--format", "json", *map(str, files)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)


def source_line(folder: Path, file: str, row: int) -> str:
    return folder.joinpath(file).read_text(encoding="utf-8").splitlines()[row - 1].strip()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--summary", action="store_true", help="the table only")
    options = parser.parse_args()

    folder = fetch_eval_files()
    files = compared_files(folder)
    expected = [e for path in files for e in expectations(path)]
    ours = our_findings(files)
    # A file's own peer codes decide which of our codes are compared in it.
    file_codes = collections.defaultdict(set)
    for e in expected:
        file_codes[e.file].add(SAME_MEANING[e.peer_code])
    ours_at = {
        (Path(f["filename"]).name, f["location"]["row"], f["code"]): f
        for f in ours
        if f["code"] in file_codes[Path(f["filename"]).name]
    }
    expected_at = {(e.file, e.row, SAME_MEANING[e.peer_code]): e for e in expected}

    tally = collections.Counter()
    missed, extra, column_off = [], [], []
    for key, e in expected_at.items():
        tally[e.peer_code, "expected"] += 1
        if key in ours_at:
            tally[e.peer_code, "found"] += 1
            if ours_at[key]["location"]["column"] != e.column:
                column_off.append((e, ours_at[key]["location"]["column"]))
        else:
            missed.append(e)
    extra = [f for key, f in ours_at.items() if key not in expected_at]

    print(f"flake8-async {FLAKE8_ASYNC.split('==')[1]} eval files: {len(files)} compared")
    print(f"  {'peer':<9} {'ours':<6} {'expected':>8} {'found':>6} {'recall':>7}")
    for peer, ac in SAME_MEANING.items():
        total = tally[peer, "expected"]
        if total:
            found = tally[peer, "found"]
            print(f"  {peer:<9} {ac:<6} {total:>8} {found:>6} {found / total:>7.0%}")
    all_expected = sum(v for (_, kind), v in tally.items() if kind == "expected")
    all_found = sum(v for (_, kind), v in tally.items() if kind == "found")
    print(f"  {'all':<16} {all_expected:>8} {all_found:>6} {all_found / all_expected:>7.0%}")
    print(f"  ours where the peer expects nothing: {len(extra)}")
    print(f"  found on the right line, another column: {len(column_off)}")
    if options.summary:
        return
    print("\nmissed (the peer expects it, we are silent):")
    for e in missed:
        print(f"  {e.file}:{e.row} {e.peer_code}  {source_line(folder, e.file, e.row)}")
    print("\nours, not expected by the peer (judge each):")
    for f in sorted(extra, key=lambda f: (f["filename"], f["location"]["row"])):
        name, row = Path(f["filename"]).name, f["location"]["row"]
        print(f"  {name}:{row} {f['code']}  {source_line(folder, name, row)}")
    print("\nright line, other column (peer, ours):")
    for e, column in column_off:
        print(f"  {e.file}:{e.row} {e.column} {column}  {source_line(folder, e.file, e.row)}")


if __name__ == "__main__":
    main()
