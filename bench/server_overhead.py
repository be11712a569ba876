"""What `asynccheck profile` costs a real server: aiohttp hello world under an aiohttp load.

    python bench/server_overhead.py [--rounds 5] [--requests 5000] [--concurrency 50] [--uvloop]

The server (this file, run with `--serve PORT`) answers GET / with "Hello, world" from
`web.run_app` (access log off), on asyncio's default loop or, with `--uvloop`, on
`uvloop.new_event_loop()` made by the server itself: asynccheck has to find that loop on its own.
The load generator is an aiohttp client in this process: after 200 warm-up requests, `--requests`
GETs over `--concurrency` keep-alive connections, timed from first to last. The server is pinned
to one CPU and the load generator to another (`os.sched_setaffinity`), so they do not compete.

Modes, each a fresh server process, their order rotated every round:
  plain             python server
  monitor+blocking  asynccheck profile --no-profile   (timing loop + blocking-call detection)
  profile           asynccheck profile                (the same + pyinstrument, the default)
  pyinstrument      pyinstrument server               (pyinstrument alone, 1 ms interval)
  asyncio-debug     PYTHONASYNCIODEBUG=1 python server
  otel              python server --otel              (EventLoopInstrumentor on, the SDK's
                                                       meter provider, an in-memory reader)
Printed: median requests/s per mode and its ratio to plain's median (this run only: the machine
is shared and noisy, compare ratios, not absolute numbers), the server's CPU time per request
(all its threads, from /proc, over the timed window) and its ratio to plain's (steadier than
requests/s when other work shares the CPUs), how busy the load generator's CPU was
(near 100 %: the client, not the server, set the pace, and the ratios understate the cost), and
for asynccheck's modes how many loops
its report saw (0 means nothing was monitored and the ratio means nothing). Targets (issue 9):
monitor+blocking >= 0.95, profile >= pyinstrument; issue 10: otel >= 0.97.
Not part of the test suite.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HERE = str(Path(__file__).resolve())
HOST = "127.0.0.1"
MODES = ("plain", "monitor+blocking", "profile", "pyinstrument", "asyncio-debug", "otel")
WARMUP = 200


# -- the server --------------------------------------------------------------------------------
def serve(port: int, use_uvloop: bool, otel_json: str | None) -> None:
    from aiohttp import web

    if otel_json:
        reader = start_otel()

    async def hello(request: web.Request) -> web.Response:
        return web.Response(text="Hello, world")

    app = web.Application()
    app.router.add_get("/", hello)
    loop = None
    if use_uvloop:
        import uvloop

        loop = uvloop.new_event_loop()
    web.run_app(app, host=HOST, port=port, print=None, access_log=None, loop=loop)
    if otel_json:  # as the report's "loops": did the instrumentor see the server's loop?
        delays = [
            p.count
            for rm in reader.get_metrics_data().resource_metrics
            for sm in rm.scope_metrics
            for m in sm.metrics
            if m.name == "asyncio.eventloop.delay"
            for p in m.data.data_points
        ]
        Path(otel_json).write_text(json.dumps({"loops": int(sum(delays) > 0)}))


def start_otel() -> object:
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader

    from asynccheck.otel import EventLoopInstrumentor

    reader = InMemoryMetricReader()
    EventLoopInstrumentor().instrument(meter_provider=MeterProvider(metric_readers=[reader]))
    return reader


# -- the load generator ----------------------------------------------------------------------
async def load(port: int, requests: int, concurrency: int) -> tuple[float, float]:
    """Seconds for `requests` GETs over `concurrency` connections, after a warm-up, and the
    CPU seconds this load generator spent meanwhile."""
    import aiohttp

    url = f"http://{HOST}:{port}/"
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker(n: int) -> None:
            for _ in range(n):
                async with session.get(url) as response:
                    await response.read()
                    if response.status != 200:
                        raise RuntimeError(f"status {response.status}")

        def split(total: int) -> list[int]:
            return [total // concurrency + (i < total % concurrency) for i in range(concurrency)]

        await asyncio.gather(*(worker(n) for n in split(WARMUP)))
        started, cpu = time.perf_counter(), time.process_time()
        await asyncio.gather(*(worker(n) for n in split(requests)))
        return time.perf_counter() - started, time.process_time() - cpu


# -- one measurement ---------------------------------------------------------------------------
@dataclass
class Sample:
    rps: float
    cpu_us_per_request: float
    load_busy: float  # the load generator's CPU time / wall time: near 1, it is the bottleneck
    loops: int | None = None  # asynccheck's report: loops observed


@dataclass
class Results:
    samples: dict[str, list[Sample]] = field(default_factory=lambda: {m: [] for m in MODES})


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def wait_ready(proc: subprocess.Popen[bytes], port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((HOST, port), timeout=0.5):
                return
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited with {proc.returncode}") from None
            if time.monotonic() > deadline:
                raise RuntimeError(f"server not ready on port {port} after {timeout:g} s") from None
            time.sleep(0.05)


def cpu_seconds(pid: int) -> float:
    """User + system time of a process, all its threads."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def command(mode: str, port: int, use_uvloop: bool, json_path: str) -> list[str]:
    server = [HERE, "--serve", str(port), *(["--uvloop"] if use_uvloop else [])]
    asynccheck = [sys.executable, "-m", "asynccheck", "profile", "--json", json_path]
    return {
        "plain": [sys.executable, *server],
        "monitor+blocking": [*asynccheck, "--no-profile", *server],
        "profile": [*asynccheck, *server],
        "pyinstrument": [sys.executable, "-m", "pyinstrument", *server],
        "asyncio-debug": [sys.executable, *server],
        "otel": [sys.executable, *server, "--otel", json_path],
    }[mode]


def measure(mode: str, args: argparse.Namespace, cpus: tuple[int, int] | None) -> Sample:
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        json_path = os.path.join(tmp, "r.json")
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        env.pop("PYTHONASYNCIODEBUG", None)
        if mode == "asyncio-debug":
            env["PYTHONASYNCIODEBUG"] = "1"
        server_cpu = cpus[0] if cpus else None
        proc = subprocess.Popen(
            command(mode, port, args.uvloop, json_path),
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
            preexec_fn=(lambda: os.sched_setaffinity(0, {server_cpu})) if cpus else None,
        )
        try:
            wait_ready(proc, port)
            before = cpu_seconds(proc.pid)
            seconds, load_cpu = asyncio.run(load(port, args.requests, args.concurrency))
            cpu = cpu_seconds(proc.pid) - before
            proc.send_signal(signal.SIGINT)
            _, stderr = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        loops = None
        if mode in ("monitor+blocking", "profile", "otel"):
            try:
                loops = int(json.loads(Path(json_path).read_text())["loops"])
            except (OSError, ValueError, KeyError):
                tail = stderr.decode(errors="replace").strip().splitlines()[-3:]
                print(f"  ({mode}: no JSON report; stderr: {tail})", file=sys.stderr)
    return Sample(args.requests / seconds, cpu / args.requests * 1e6, load_cpu / seconds, loops)


# What each mode needs beyond the test extra, installed from PyPI on first use.
NEEDS = {"otel": {"opentelemetry.sdk": "opentelemetry-sdk"}, "pyinstrument": {}}


def ensure_installed(modes: list[str]) -> None:
    import importlib

    wanted = {pkg for m in modes for mod, pkg in NEEDS.get(m, {}).items() if not _has(mod)}
    if wanted:
        print(f"installing {', '.join(sorted(wanted))} ...", file=sys.stderr, flush=True)
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", *sorted(wanted)], check=True)
        importlib.invalidate_caches()


def _has(module: str) -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def pick_cpus() -> tuple[int, int] | None:
    try:
        available = sorted(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return None
    return (available[0], available[1]) if len(available) >= 2 else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--uvloop", action="store_true", help="the server runs on uvloop")
    parser.add_argument("--modes", default=",".join(MODES), help="comma-separated subset")
    parser.add_argument("--serve", type=int, metavar="PORT", help=argparse.SUPPRESS)
    parser.add_argument("--otel", metavar="JSON", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve is not None:
        serve(args.serve, args.uvloop, args.otel)
        return
    modes = [m for m in MODES if m in args.modes.split(",")]
    ensure_installed(modes)
    cpus = pick_cpus()
    if cpus:
        os.sched_setaffinity(0, {cpus[1]})  # the load generator; the server gets cpus[0]
    loop_name = "uvloop" if args.uvloop else "asyncio"
    where = f"server on CPU {cpus[0]}, load on CPU {cpus[1]}" if cpus else "not pinned (<2 CPUs)"
    print(
        f"server_overhead: aiohttp hello world on {loop_name}, {args.requests} requests, "
        f"{args.concurrency} concurrent, {args.rounds} rounds; {where}",
        flush=True,
    )
    results = Results()
    for r in range(args.rounds):
        order = modes[r % len(modes) :] + modes[: r % len(modes)]
        for mode in order:
            sample = measure(mode, args, cpus)
            results.samples[mode].append(sample)
            print(f"  round {r + 1} {mode:17} {sample.rps:8.0f} req/s", file=sys.stderr)
    plain, plain_cpu = 0.0, 0.0
    if "plain" in modes:
        plain = statistics.median(s.rps for s in results.samples["plain"])
        plain_cpu = statistics.median(s.cpu_us_per_request for s in results.samples["plain"])
    print(
        f"{'mode':18} {'req/s':>8} {'ratio':>6} {'CPU us/req':>11} {'CPU x':>6} "
        f"{'load busy':>9} {'loops':>6}  rounds (req/s)"
    )
    for mode in modes:
        samples = results.samples[mode]
        rps = statistics.median(s.rps for s in samples)
        cpu = statistics.median(s.cpu_us_per_request for s in samples)
        busy = statistics.median(s.load_busy for s in samples)
        loops = {s.loops for s in samples}
        loops_text = "-" if loops == {None} else ",".join(str(n) for n in sorted(loops, key=str))
        ratio = f"{rps / plain:.2f}" if plain else "-"
        cpu_ratio = f"{cpu / plain_cpu:.2f}" if plain_cpu else "-"
        spread = " ".join(f"{s.rps:.0f}" for s in samples)
        print(
            f"{mode:18} {rps:8.0f} {ratio:>6} {cpu:11.0f} {cpu_ratio:>6} {busy:9.0%} "
            f"{loops_text:>6}  {spread}"
        )


if __name__ == "__main__":
    main()
