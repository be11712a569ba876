"""Every rule on all of Home Assistant: crashes, AC001 on valid code, the fix round trip,
findings per code, and a seeded random sample of findings for judging by hand.

    python bench/real_code.py                 # run, print the figures, write the sample
    python bench/real_code.py --sample-only   # re-draw the sample from the last run

The sample goes to bench/real_code_sample.json; each entry has a `verdict` ("real", "false
alarm", or null until judged) and a `why`. Verdicts already given are kept when the same
finding is drawn again, so the judgement can be repeated and extended.
"""

from __future__ import annotations

import argparse
import collections
import json
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS_SCRIPT = ROOT.parent / "shared" / "bench" / "corpus.sh"
SAMPLE = ROOT / "bench" / "real_code_sample.json"
LAST = ROOT / "bench" / ".work" / "real_code_findings.json"
SEED = 2026
SAMPLE_SIZE = 50


def lint(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "asynccheck", "lint", "--no-cache", "--exit-zero", *args]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)


def findings_of(target: Path, cwd: Path) -> list[dict]:
    done = lint("--select", "AC", "--format", "json", str(target), cwd=cwd)
    if done.returncode not in (0, 1):
        raise SystemExit(f"asynccheck failed ({done.returncode}):\n{done.stderr[-4000:]}")
    return json.loads(done.stdout)


def relative(finding: dict, base: Path) -> str:
    return str(Path(finding["filename"]).resolve().relative_to(base.resolve()))


def draw_sample(findings: list[dict], base: Path) -> None:
    previous = {}
    if SAMPLE.exists():
        for entry in json.loads(SAMPLE.read_text(encoding="utf-8")):
            previous[(entry["file"], entry["row"], entry["code"])] = entry
    # Judged findings that still exist stay in the sample, so a verdict is not lost when a
    # rule change adds or drops a finding elsewhere; new draws fill the free places.
    key_of = {id(f): (relative(f, base), f["location"]["row"], f["code"]) for f in findings}
    kept = [f for f in findings if previous.get(key_of[id(f)], {}).get("verdict")]
    kept = kept[:SAMPLE_SIZE]
    rest = [f for f in findings if not previous.get(key_of[id(f)], {}).get("verdict")]
    rng = random.Random(SEED)
    chosen = kept + rng.sample(rest, min(SAMPLE_SIZE - len(kept), len(rest)))
    sample = []
    for f in sorted(chosen, key=lambda f: (relative(f, base), f["location"]["row"], f["code"])):
        key = (relative(f, base), f["location"]["row"], f["code"])
        old = previous.get(key, {})
        sample.append(
            {
                "code": f["code"],
                "file": key[0],
                "row": key[1],
                "column": f["location"]["column"],
                "message": f["message"],
                "verdict": old.get("verdict"),
                "why": old.get("why", ""),
            }
        )
    SAMPLE.write_text(json.dumps(sample, indent=2) + "\n", encoding="utf-8")
    judged = [e for e in sample if e["verdict"]]
    real = sum(e["verdict"] == "real" for e in judged)
    print(f"sample: {len(sample)} findings -> {SAMPLE.relative_to(ROOT)}")
    if judged:
        print(f"judged: {len(judged)}, real problems: {real} ({100 * real / len(judged):.0f} %)")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sample-only", action="store_true")
    options = parser.parse_args()
    corpus = Path(
        subprocess.run(
            ["bash", str(CORPUS_SCRIPT)], capture_output=True, text=True, check=True
        ).stdout.split()[-1]
    )
    LAST.parent.mkdir(parents=True, exist_ok=True)
    if options.sample_only:
        draw_sample(json.loads(LAST.read_text(encoding="utf-8")), corpus.parent)
        return
    work = Path(tempfile.mkdtemp(prefix="asynccheck-real-"))
    try:
        copy = work / "homeassistant"
        shutil.copytree(corpus, copy)
        start = time.perf_counter()
        findings = findings_of(copy, work)
        elapsed = time.perf_counter() - start
        counts = collections.Counter(f["code"] for f in findings)
        print(f"all rules on {copy.name}: {len(findings)} findings in {elapsed:.0f} s")
        for code, count in sorted(counts.items()):
            print(f"  {code}  {count}")
        syntax = [f for f in findings if f["code"] == "AC001"]
        print(f"AC001 on valid code: {len(syntax)}")
        for f in syntax[:10]:
            print(f"  {relative(f, work)}:{f['location']['row']}: {f['message']}")
        fixable = sum(f["fix"] is not None for f in findings)
        fixed = lint("--select", "AC", "--fix", "--unsafe-fixes", "--quiet", str(copy), cwd=work)
        print(f"--fix --unsafe-fixes: {fixable} fixable findings; exit {fixed.returncode}")
        changed = [
            p
            for p in copy.rglob("*.py")
            if p.read_bytes() != (corpus / p.relative_to(copy)).read_bytes()
        ]
        print(f"files changed by the fixes: {len(changed)}")
        broken = check_parses(changed)
        print(f"files that no longer parse after fixing: {len(broken)}")
        for path in broken[:10]:
            print(f"  {path}")
        again = findings_of(copy, work)
        left = [f for f in again if f["fix"] is not None]
        print(f"second run: {len(again)} findings, {len(left)} still fixable")
        stable = [{**f, "filename": str(Path(f["filename"]).resolve())} for f in findings]
        for f in stable:
            f["filename"] = str(corpus.parent / relative(f, work))
        LAST.write_text(json.dumps(stable), encoding="utf-8")
        draw_sample(stable, corpus.parent)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def check_parses(paths: list[Path]) -> list[str]:
    code = (
        "import sys, libcst\n"
        "bad = []\n"
        "for p in sys.stdin.read().split():\n"
        "    try: libcst.parse_module(open(p, 'rb').read())\n"
        "    except Exception: bad.append(p)\n"
        "print('\\n'.join(bad))\n"
    )
    files = "\n".join(str(p) for p in paths)
    done = subprocess.run(
        [sys.executable, "-c", code], input=files, capture_output=True, text=True, check=True
    )
    return [line for line in done.stdout.splitlines() if line]


if __name__ == "__main__":
    main()
