"""`asynccheck profile` on the servers people deploy, held to the truth they measure themselves.

Each server (servers/) does known slow work on planted routes and records how long each piece
really took (servers/truth.py). The tests run it under `asynccheck profile --json` (harness.py),
load it on 127.0.0.1, stop it as users do, and compare the JSON report with that truth:

- every loop is observed, whoever made it (aiohttp, uvicorn in every form, uvloop, workers);
- each slow callback is its own entry, within +-15 % or +-10 ms of the truth (whichever is
  looser), also for a C call that holds the GIL and for two slow callbacks in one iteration;
- twenty 30 ms callbacks in one iteration are one stall, grouped by site, never one entry;
- the entry names the request it served, the user's line where the time went, the blocking
  call that took the time, its pid and thread; fast routes are never blamed;
- hotspots group the slow callbacks by site; children of `--workers 2` are merged;
- the report is written after SIGTERM / Ctrl-C and the exit status is plain python's.

The expectations are issue 9's ("Runtime truth"); see DESIGN.md for the JSON contract.
"""

from __future__ import annotations

import contextlib
import signal
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from .harness import SERVERS, Run, Server, ServerError, start_all

pytestmark = pytest.mark.slow

THRESHOLD_MS = 100.0
PLANTED_FILE = str(SERVERS / "planted.py")
ASYNCCHECK_DIR = str(Path(__file__).resolve().parents[2] / "asynccheck") + "/"

# What the planted routes do (servers/planted.py), by the `kind` their truth events carry.
HANDLER_KINDS = ("sleep", "dumps", "busy", "sqlite-sleep")  # slow work in the handler's own step
PAIR_KINDS = ("pair-short", "pair-long")  # two slow call_soon callbacks in one iteration
SLOW_KINDS = HANDLER_KINDS + PAIR_KINDS
BURST_KIND = "burst"  # twenty 30 ms call_soon callbacks in one iteration
# One after another on their own connection; /sleep twice for the hotspot counts; a /sleep last,
# so the /burst and /pair callbacks have run before the server is stopped.
PLANTED_SEQUENCE = ("/sleep", "/dumps", "/busy", "/sqlite-sleep", "/burst", "/pair", "/sleep")
FAST_PATHS = ("/fast", "/fast/json")
FAST_HANDLERS = ("fast", "fast_json")
BLOCKING = {"sleep": "time.sleep", "sqlite-sleep": "time.sleep"}  # the call that took the time


# -- reading the truth and the report --------------------------------------------------------
def _marker_lines(kind: str) -> frozenset[int]:
    text = Path(PLANTED_FILE).read_text().splitlines()
    lines = frozenset(i for i, line in enumerate(text, 1) if line.endswith(f"# planted: {kind}"))
    assert lines, f"no '# planted: {kind}' marker in {PLANTED_FILE}"
    return lines


SITES = {kind: _marker_lines(kind) for kind in (*SLOW_KINDS, BURST_KIND)}


def at_site(location: dict[str, Any] | None, kind: str) -> bool:
    """`location` is the planted line of `kind` (for the busy loop: either of its two lines)."""
    return (
        location is not None
        and location.get("file") == PLANTED_FILE
        and location.get("line") in SITES[kind]
    )


def in_burst_callback(location: dict[str, Any] | None) -> bool:
    """A stall names each short callback by its site: any line of the planted function."""
    return (
        location is not None
        and location.get("file") == PLANTED_FILE
        and location.get("function") == "_burst_one"
    )


def planted_kind(location: dict[str, Any] | None) -> str | None:
    return next((k for k in SITES if at_site(location, k)), None)


def tolerance(truth_ms: float) -> float:
    return max(0.15 * truth_ms, 10.0)


def close(measured: float, truth: float) -> bool:
    return abs(measured - truth) <= tolerance(truth)


def report_of(run: Run) -> dict[str, Any]:
    assert run.report is not None, f"no JSON report was written\n{run.describe()}"
    return run.report


def where(location: dict[str, Any] | None) -> str:
    if not location:
        return "-"
    file = str(location.get("file", ""))
    if file.startswith(str(SERVERS)):
        file = file[len(str(SERVERS)) + 1 :]
    return f"{file}:{location.get('line')} {location.get('function')}"


def table(report: dict[str, Any]) -> str:
    """Every slow callback and stall, one line each: for assertion messages."""
    rows = [
        f"  {s['duration_ms']:8.1f} ms  {where(s.get('location')):45} req={s.get('request')!s:18} "
        f"blocking={s.get('blocking_call')} pid={s.get('pid')} thread={s.get('thread')} "
        f"cb={str(s.get('callback'))[:50]}"
        for s in report.get("slow_callbacks", ())
    ]
    for st in report.get("stalls", ()):
        groups = ", ".join(
            f"{where(g.get('location'))} x{g.get('count')}" for g in st.get("callbacks", ())
        )
        rows.append(f"  stall {st['duration_ms']:8.1f} ms: {groups}")
    return (
        f"loops={report.get('loops')} processes={report.get('processes')} "
        f"notes={report.get('notes')}\n" + ("\n".join(rows) or "  (no slow callbacks, no stalls)")
    )


def truth_table(events: list[dict[str, Any]]) -> str:
    return ", ".join(f"{e['kind']} {e['path']} {e['duration_ms']:.1f} ms" for e in events)


def match_durations(
    entries: list[dict[str, Any]], events: list[dict[str, Any]], what: str, report: dict[str, Any]
) -> None:
    """One entry per planted event, each within tolerance of its own event: the k-th entry
    of a process in time (`at_s`) is the k-th event that process wrote."""
    assert len(entries) == len(events), (
        f"{what}: {len(events)} planted ({truth_table(events)}) but {len(entries)} report "
        f"entries at that line\n{table(report)}"
    )
    for pid in {e["pid"] for e in events}:
        mine = [e for e in events if e["pid"] == pid]
        got = sorted(
            (s for s in entries if s.get("pid") in (pid, None, 0)), key=lambda s: s["at_s"]
        )
        assert len(got) == len(mine), f"{what}: pid {pid}\n{table(report)}"
        for entry, event in zip(got, mine):
            measured, truth = entry["duration_ms"], event["duration_ms"]
            assert close(measured, truth), (
                f"{what}: reported {measured:.1f} ms, the server measured {truth:.1f} ms "
                f"(allowed +-{tolerance(truth):.1f})\n{table(report)}"
            )


def own_frames(sites: list[dict[str, Any]]) -> list[str]:
    """Frames of asynccheck or pyinstrument: never part of what a user is shown."""
    return [
        where(s)
        for s in sites
        if str(s.get("file", "")).startswith(ASYNCCHECK_DIR)
        or "/pyinstrument/" in str(s.get("file", ""))
    ]


def exit_codes(returncode: int | None) -> set[int | None]:
    """What the JSON may say for a process that exited so: the code, or for a death by signal
    N the shell's 128 + N."""
    return {returncode} | (
        {128 - returncode} if returncode is not None and returncode < 0 else set()
    )


def assert_observed(run: Run) -> dict[str, Any]:
    """The report exists and its loop was seen: what the other checks need to mean anything."""
    report = report_of(run)
    assert report["loops"] >= 1 and not no_loop_note(report), (
        f"no loop observed, nothing to check\n{table(report)}"
    )
    return report


def no_loop_note(report: dict[str, Any]) -> list[str]:
    return [n for n in report.get("notes", ()) if "no event loop" in n or "no loop" in n]


# -- the servers --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Spec:
    target: tuple[str, ...]
    options: tuple[str, ...] = ()
    fast: int = 200  # fast requests driven alongside the planted ones
    stop: signal.Signals = signal.SIGINT
    plain_exit: int | None = None  # what `python <target>` exits with after `stop`, if known
    compare_plain: bool = False  # run the program under plain python too and compare exits


PORT = ("--port", "{port}")
FULL = {
    # web.run_app: its own loop from asyncio.new_event_loop(); Ctrl-C ends it with exit 0.
    "aiohttp-run_app": Spec(("aiohttp_app.py", *PORT), fast=2000, plain_exit=0),
    # uvicorn hands asyncio.SelectorEventLoop to the runner itself; re-raises SIGINT at the end.
    "uvicorn.Server-asyncio": Spec(
        ("starlette_app.py", *PORT, "--how", "server", "--loop", "asyncio"),
        fast=1000,
        plain_exit=-signal.SIGINT,
    ),
    "uvicorn.Server-uvloop": Spec(
        ("starlette_app.py", *PORT, "--how", "server", "--loop", "uvloop"),
        plain_exit=-signal.SIGINT,
    ),
    # uvloop.run(main()) with an AppRunner: KeyboardInterrupt ends python with SIGINT.
    "uvloop.run-aiohttp": Spec(("aiohttp_app.py", *PORT, "--uvloop"), plain_exit=-signal.SIGINT),
}
LIGHT = {
    "uvicorn.run-auto": Spec(("starlette_app.py", *PORT, "--how", "run", "--loop", "auto")),
    "python-m-uvicorn": Spec(
        ("-m", "uvicorn", "starlette_app:app", *PORT, "--log-level", "warning"),
        compare_plain=True,
    ),
    "profile--uvloop-run_app": Spec(("aiohttp_app.py", *PORT), options=("--uvloop",)),
    # Kubernetes / systemd: SIGTERM to the main process of an asyncio.run() server that set no
    # handler of its own; plain python dies of the signal.
    "k8s-SIGTERM-asyncio.run": Spec(
        ("aiohttp_app.py", *PORT, "--runner"), stop=signal.SIGTERM, compare_plain=True
    ),
    # uvicorn shuts down gracefully on SIGTERM, then re-raises it.
    "uvicorn.Server-SIGTERM": Spec(
        ("starlette_app.py", *PORT, "--how", "server", "--loop", "asyncio"),
        stop=signal.SIGTERM,
        compare_plain=True,
    ),
}
WORKERS = ("-m", "uvicorn", "starlette_app:app", *PORT, "--workers", "2", "--loop", "asyncio")


@pytest.fixture(scope="module", params=list(FULL), ids=list(FULL))
def full(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Run:
    """A server under load with every planted route hit (PLANTED_SEQUENCE), then Ctrl-C."""
    spec = FULL[request.param]
    tmp = tmp_path_factory.mktemp("full")
    with Server(spec.target, tmp, options=spec.options, name=request.param) as server:
        server.drive(planted=PLANTED_SEQUENCE, fast=spec.fast, concurrency=8)
        return server.stop(spec.stop)


@dataclass
class LightRun:
    run: Run
    plain: Run | None


@pytest.fixture(scope="module")
def light(tmp_path_factory: pytest.TempPathFactory) -> dict[str, LightRun]:
    """Every other way to start a server, each with one /sleep and some fast load; started
    together (plain-python twins too, for the exit status), stopped each its own way."""
    tmp = tmp_path_factory.mktemp("light")
    servers: dict[str, tuple[Server, Server | None]] = {}
    for name, spec in LIGHT.items():
        profiled = Server(spec.target, tmp, options=spec.options, name=name)
        plain = (
            Server(spec.target, tmp, profile=False, name=name + "-plain")
            if spec.compare_plain
            else None
        )
        servers[name] = (profiled, plain)
    everything = [s for pair in servers.values() for s in pair if s is not None]
    start_all(everything)
    try:
        for profiled, plain in servers.values():
            profiled.drive(planted=["/sleep"], fast=50, concurrency=4)
            if plain is not None:
                plain.drive(planted=["/fast"])
        for name, (profiled, plain) in servers.items():
            for s in (profiled, plain):
                if s is not None:
                    s.send(LIGHT[name].stop)
        return {
            name: LightRun(profiled.collect(), plain.collect() if plain is not None else None)
            for name, (profiled, plain) in servers.items()
        }
    finally:  # collect() has checked each port; this only cleans up after a failure
        for s in everything:
            with contextlib.suppress(ServerError):
                s.kill()


@pytest.fixture(scope="module")
def workers(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """`python -m uvicorn app --workers 2`: slow requests until both workers served some."""
    with Server(WORKERS, tmp_path_factory.mktemp("workers"), name="workers") as server:
        for _ in range(6):
            server.drive(planted=["/sleep"] * 4, planted_concurrency=4)
            if len({e["pid"] for e in server.truth()}) > 1:
                break
        return server.stop(signal.SIGINT)


# -- every loop observed ----------------------------------------------------------------------
def test_every_loop_is_observed(full: Run) -> None:
    report = report_of(full)
    assert report["loops"] >= 1 and not no_loop_note(report), table(report)


@pytest.mark.parametrize("name", list(LIGHT))
def test_every_way_to_start_a_server_is_observed(light: dict[str, LightRun], name: str) -> None:
    run = light[name].run
    report = report_of(run)
    assert report["loops"] >= 1 and not no_loop_note(report), f"{table(report)}\n{run.describe()}"
    (event,) = run.truth_of("sleep")
    entries = [s for s in run.slow if at_site(s["location"], "sleep")]
    match_durations(entries, [event], f"{name}: /sleep", report)
    assert entries[0]["request"] == "GET /sleep", table(report)
    assert entries[0]["pid"] == event["pid"], table(report)


# -- one entry per callback, within tolerance, at the user's line ---------------------------
@pytest.mark.parametrize("kind", HANDLER_KINDS)
def test_each_slow_handler_is_its_own_entry(full: Run, kind: str) -> None:
    """sleep, a GIL-holding json.dumps, a pure-Python busy loop, sqlite3.connect + sleep: each
    request's handler step is one entry, as long as the server measured, at the planted line."""
    report = report_of(full)
    events = full.truth_of(kind)
    assert events, f"the server did no {kind} work\n{full.describe()}"
    entries = [s for s in full.slow if at_site(s["location"], kind)]
    match_durations(entries, events, kind, report)


@pytest.mark.parametrize("kind", HANDLER_KINDS)
def test_slow_handler_names_its_request(full: Run, kind: str) -> None:
    report = report_of(full)
    want = Counter(f"GET {e['path']}" for e in full.truth_of(kind))
    got = Counter(s["request"] for s in full.slow if at_site(s["location"], kind))
    assert got == want, table(report)


def test_two_slow_callbacks_in_one_iteration_are_two_entries(full: Run) -> None:
    """A 150 ms and a 250 ms call_soon callback run back to back: two entries, never one
    400 ms entry, each at its own line (the uvloop case of issue 9)."""
    report = report_of(full)
    for kind in PAIR_KINDS:
        entries = [s for s in full.slow if at_site(s["location"], kind)]
        match_durations(entries, full.truth_of(kind), kind, report)
    pair = [s for s in full.slow if planted_kind(s["location"]) in PAIR_KINDS]
    start = min(s["at_s"] for s in pair)
    end = max(s["at_s"] + s["duration_ms"] / 1000 for s in pair)
    overlapping = [
        s
        for s in full.slow
        if s not in pair and s["at_s"] < end and s["at_s"] + s["duration_ms"] / 1000 > start
    ]
    assert not overlapping, f"another entry covers the pair's time\n{table(report)}"


def test_twenty_short_callbacks_are_one_stall_not_one_entry(full: Run) -> None:
    """Twenty 30 ms callbacks in one iteration: no slow callback (each is under the threshold),
    one stall whose callbacks group by site: count 20, total and max as measured."""
    report = report_of(full)
    events = full.truth_of(BURST_KIND)
    assert len(events) == 20, full.describe()
    merged = [
        s
        for s in full.slow
        if in_burst_callback(s["location"]) or "_burst_one" in str(s.get("callback"))
    ]
    assert not merged, f"burst callbacks reported as slow callbacks\n{table(report)}"
    stalls = [
        st
        for st in report.get("stalls", ())
        if any(in_burst_callback(g["location"]) for g in st["callbacks"])
    ]
    assert len(stalls) == 1, f"want one stall holding the burst\n{table(report)}"
    (stall,) = stalls
    (group,) = [g for g in stall["callbacks"] if in_burst_callback(g["location"])]
    total = sum(e["duration_ms"] for e in events)
    longest = max(e["duration_ms"] for e in events)
    assert group["count"] == 20, f"{group['count']} of the 20 burst callbacks\n{table(report)}"
    assert close(group["total_ms"], total), (group, total)
    assert close(group["max_ms"], longest), (group, longest)
    assert stall["duration_ms"] >= total - tolerance(total), (stall["duration_ms"], total)
    assert stall["pid"] == events[0]["pid"], stall
    for st in report.get("stalls", ()):  # several callbacks, never one slow callback again
        assert sum(g["count"] for g in st["callbacks"]) >= 2, f"{st}\n{table(report)}"


# -- right blame ------------------------------------------------------------------------------
def test_blocking_call_is_the_one_that_took_the_time(full: Run) -> None:
    """sqlite3.connect (fast) then time.sleep(0.2) in one handler: the sleep is to blame. The
    busy loop made no blocking call; json.dumps is CPU, not a wait."""
    report = assert_observed(full)
    for kind in ("sleep", "sqlite-sleep", "busy", "dumps"):
        assert any(at_site(s["location"], kind) for s in full.slow), f"{kind}\n{table(report)}"
    for s in full.slow:
        kind = planted_kind(s["location"])
        if kind in BLOCKING:
            assert s["blocking_call"] == BLOCKING[kind], f"{kind}\n{table(report)}"
        elif kind == "busy":
            assert s["blocking_call"] is None, f"{kind}\n{table(report)}"
        elif kind == "dumps":
            assert s["blocking_call"] in (None, "json.dumps"), f"{kind}\n{table(report)}"


def test_no_fast_route_is_blamed(full: Run) -> None:
    """Under load, no entry serves a fast route or names a fast handler, and an entry serving a
    request is planted work: never a framework's or asynccheck's line (issue 9: aiohttp
    `_writelines` 150 ms, uvicorn `send` 119 ms, a GIL-holding neighbour's time). Entries
    serving no request (start-up imports inside the loop, say) are not judged here."""
    report = assert_observed(full)
    fast_requests = {f"GET {p}" for p in FAST_PATHS}
    for s in full.slow:
        assert s["request"] not in fast_requests, f"fast route blamed\n{table(report)}"
        assert s["location"]["function"] not in FAST_HANDLERS, (
            f"fast handler blamed\n{table(report)}"
        )
    stray = [s for s in full.slow if s["request"] and planted_kind(s["location"]) is None]
    assert not stray, (
        f"a request's slow callback away from the planted work (a neighbour's time, or a "
        f"framework's line)\n{table(report)}"
    )


def test_own_frames_never_shown(full: Run) -> None:
    """asynccheck's and pyinstrument's frames are in no stack, location, hotspot or stall."""
    report = assert_observed(full)
    shown = []
    for s in report["slow_callbacks"]:
        shown += [s["location"], *s.get("stack", ())]
    for b in report["blocking_calls"]:
        shown += [b["location"], *b.get("stack", ())]
    shown += [h["location"] for h in report.get("hotspots", ())]
    shown += [g["location"] for st in report.get("stalls", ()) for g in st["callbacks"]]
    assert not own_frames(shown), own_frames(shown)


# -- who and where ----------------------------------------------------------------------------
def test_pid_and_thread_of_each_entry(full: Run) -> None:
    report = report_of(full)
    pid, thread = full.truth[0]["pid"], full.truth[0]["thread"]
    assert pid in report["processes"], table(report)
    planted = [s for s in full.slow if planted_kind(s["location"])]
    assert planted, table(report)
    for s in planted:
        assert (s.get("pid"), s.get("thread")) == (pid, thread), table(report)


def test_hotspots_group_by_site(full: Run) -> None:
    """One hotspot per planted line: count, total and max as the server measured them, the
    blocking call that took the time; ranked by total."""
    report = report_of(full)
    hotspots = report.get("hotspots", [])
    totals = [h["total_ms"] for h in hotspots]
    assert totals == sorted(totals, reverse=True), hotspots
    keys = [(h["location"]["file"], h["location"]["line"]) for h in hotspots]
    assert len(keys) == len(set(keys)), f"a site appears twice: {keys}"
    for kind in SLOW_KINDS:
        events = full.truth_of(kind)
        mine = [h for h in hotspots if at_site(h["location"], kind)]
        assert sum(h["count"] for h in mine) == len(events), f"{kind}: {mine}\n{table(report)}"
        total = sum(e["duration_ms"] for e in events)
        assert close(sum(h["total_ms"] for h in mine), total), (kind, mine, total)
        longest = max(e["duration_ms"] for e in events)
        assert close(max(h["max_ms"] for h in mine), longest), (kind, mine, longest)
        if kind in BLOCKING:
            assert all(h["blocking_call"] == BLOCKING[kind] for h in mine), (kind, mine)
    (sleeps,) = [h for h in hotspots if at_site(h["location"], "sleep")]
    assert sleeps["count"] == PLANTED_SEQUENCE.count("/sleep")


# -- every way out ------------------------------------------------------------------------------
def test_stopped_like_plain_python(full: Run, request: pytest.FixtureRequest) -> None:
    """Ctrl-C: the report is written, the exit status is python's, nothing is left running."""
    spec = FULL[request.node.callspec.params["full"]]
    report = report_of(full)
    assert not full.leftover, full.leftover
    assert full.returncode == spec.plain_exit, full.describe()
    assert report["exit_code"] in exit_codes(full.returncode), report["exit_code"]


@pytest.mark.parametrize("name", [n for n, s in LIGHT.items() if s.compare_plain])
def test_report_written_and_exit_status_as_plain_python(
    light: dict[str, LightRun], name: str
) -> None:
    """SIGTERM (Kubernetes, systemd) or Ctrl-C: the report has what happened before it, and
    the process exits as the same program does under plain python."""
    lr = light[name]
    assert lr.plain is not None
    report = report_of(lr.run)
    assert any(at_site(s["location"], "sleep") for s in lr.run.slow), table(report)
    assert not lr.run.leftover, lr.run.leftover
    assert lr.run.returncode == lr.plain.returncode, (
        f"python exits {lr.plain.returncode}, asynccheck profile {lr.run.returncode}\n"
        f"{lr.run.describe()}"
    )
    assert report["exit_code"] in exit_codes(lr.run.returncode), report["exit_code"]


# -- workers ------------------------------------------------------------------------------------
def test_workers_are_merged_into_one_report(workers: Run) -> None:
    """`uvicorn --workers 2`: both children's loops and slow callbacks are in the parent's
    report, each entry with the pid that served it; Ctrl-C leaves nothing running."""
    by_pid = Counter(e["pid"] for e in workers.truth_of("sleep"))
    assert len(by_pid) == 2, f"the load reached {len(by_pid)} worker(s)\n{workers.describe()}"
    report = report_of(workers)
    assert report["loops"] >= 2 and not no_loop_note(report), table(report)
    assert set(by_pid) <= set(report["processes"]), table(report)
    got = Counter(s["pid"] for s in workers.slow if at_site(s["location"], "sleep"))
    assert got == by_pid, f"want {dict(by_pid)} slow sleeps by pid\n{table(report)}"
    for s in workers.slow:
        if at_site(s["location"], "sleep"):
            assert s["request"] == "GET /sleep", table(report)
    assert not workers.leftover, workers.leftover
