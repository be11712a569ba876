"""Overhead of asynccheck's run-time monitoring, against a plain loop and against peers.

    python bench/runtime_overhead.py [--rounds 7] [--only callbacks|echo|http] [--configs a,b]
    python bench/runtime_overhead.py --memory 60      # profile mode's memory over a long run
    python bench/runtime_overhead.py --sites          # cost of a leak creation site, per object
    python bench/runtime_overhead.py --trace-leaks    # --trace-leaks on an allocating callback

Three workloads, each run once per fresh subprocess (so no run warms another's caches):
- callbacks: 100 tasks x 2000 `await asyncio.sleep(0)` (every step is a loop callback);
- echo: 20 clients x 1500 round trips of a 64-byte message over 127.0.0.1 (protocol callbacks,
  transports, socket syscalls);
- http: an aiohttp hello-world server in the measured process, loaded by an aiohttp client in
  another process (6000 requests, 50 at a time; the two pinned to different CPUs when there
  are two); the timing is the server's, over the load only.
Configurations: the plain loop; `asynccheck.monitor(detect_blocking=False)`; `monitor()` with
run-time blocking detection; `PYTHONASYNCIODEBUG=1`; aiocop (installed from PyPI if missing);
pyinstrument alone as its CLI runs it (`async_mode="disabled"`, 1 ms) and with
`async_mode="enabled"`; asynccheck's profile mode (`monitor()` + `ProfileSession()`, the
default sampler) and profile mode as it was before (pyinstrument, `async_mode="enabled"`, 1 ms).
The order of configurations rotates every round, each timing is the workload's `asyncio.run`
only (start-up excluded), and the ratios printed are of medians measured in this one run: the
machines are shared and noisy. Wall and CPU time (user + system, all threads, so the watchdog
and the profiler's threads are charged) are both reported; on a loaded machine CPU time is the
steadier of the two.
Last measured here (python 3.11.7, 2 shared cores; CPU-time ratios to the plain loop):
  --rounds 3 (2026-12-05): callbacks: monitor 1.09x, monitor+blocking 1.17x, profile 1.09x,
      pyinstrument 4.78x, asyncio-debug 21.0x; echo: monitor 0.68x, profile 1.30x,
      pyinstrument 2.36x; http: monitor 1.12x, monitor+blocking 1.18x, profile 1.26x,
      pyinstrument 2.18x, profile-async (profile mode before) 2.81x
  --only callbacks --rounds 5 (same day): monitor 1.16x, monitor+blocking 1.11x, profile
      1.26x, pyinstrument 5.82x (the same configuration moves 5-10% between runs here)
  --only callbacks --rounds 5 --configs plain,monitor,monitor+blocking, twice, quiet machine,
      after the loop kept its exact ready deque (2026-12-05): monitor 1.045x / 1.032x,
      monitor+blocking 1.041x / 1.028x (targets 1.05x / 1.10x)
  --memory 60: growth over 60 s at 2,500 tasks/s: monitor 0.0 MB, profile 0.8 MB (208
      records), profile-async 0.8 MB (236), profile-before 135 MB (49,140 records)
  --sites --rounds 9: +11.5 us per socket.socket() (11-12 us without), +18 us per aiohttp
      ClientSession() (70 us without)
  --trace-leaks --rounds 3: a 0.47 s callback: 35.4 s with tracemalloc at 10 frames (22.3 s
      under the old profile), 2.8 s with leaks.start_tracing() (4.6 s under the new profile;
      2.3-4.4 s run to run)
Not part of the test suite.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = (
    "plain",
    "monitor",
    "monitor+blocking",
    "handle-timer",  # the rejected alternative: a timer around every Handle._run
    "asyncio-debug",
    "aiocop",
    "pyinstrument",  # as `pyinstrument app.py` runs it: async_mode="disabled", 1 ms
    "pyinstrument-async",  # async_mode="enabled"
    "profile",  # asynccheck's profile mode: monitor() with blocking detection + ProfileSession()
    "profile-async",  # profile mode before: pyinstrument with async_mode="enabled", 1 ms
)
WORKLOADS = ("callbacks", "echo", "http")
PEERS = ("asyncio-debug", "aiocop", "pyinstrument", "pyinstrument-async", "profile-async")


# -- workloads -------------------------------------------------------------------------------
async def callbacks() -> None:
    async def worker() -> None:
        for _ in range(2000):
            await asyncio.sleep(0)

    await asyncio.gather(*(worker() for _ in range(100)))


# Clients pipeline a burst of small messages before reading the echoes back. Strict one-message
# ping-pong is dominated by the VM's wake-up latency, not by Python: on a 2-core VM its run time
# is bimodal (0.8 s or 3 s for the same code, depending on how round trips happen to batch into
# epoll wake-ups), which drowns any few-percent overhead.
CLIENTS = int(os.environ.get("ECHO_CLIENTS", "4"))
BURSTS = int(os.environ.get("ECHO_BURSTS", "1500"))
BURST = 16  # messages per burst
MESSAGE = b"x" * 64


class Echo(asyncio.Protocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.transport.write(data)  # type: ignore[attr-defined]


async def echo() -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(Echo, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]

    async def client() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        for _ in range(BURSTS):
            for _ in range(BURST):
                writer.write(MESSAGE)
            await writer.drain()
            await reader.readexactly(BURST * len(MESSAGE))
        writer.close()
        await writer.wait_closed()

    await asyncio.gather(*(client() for _ in range(CLIENTS)))
    server.close()
    await server.wait_closed()


# The http workload: the server runs in the measured process, the load generator in another.
HTTP_REQUESTS = int(os.environ.get("HTTP_REQUESTS", "6000"))
HTTP_CONCURRENCY = 50
LOAD_GENERATOR = """
import asyncio, os, sys
import aiohttp
if len(os.sched_getaffinity(0)) > 1:
    os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[1]})

async def main(port, n, concurrency):
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        left = n
        async def worker():
            nonlocal left
            while left > 0:
                left -= 1
                async with session.get(f"http://127.0.0.1:{port}/") as response:
                    await response.read()
        await asyncio.gather(*(worker() for _ in range(concurrency)))

asyncio.run(main(int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])))
"""
MEASURED: list[tuple[float, float]] = []  # a workload that times itself puts (wall, cpu) here


async def http() -> None:
    from aiohttp import web

    async def hello(request: web.Request) -> web.Response:
        return web.Response(text="Hello, world")

    app = web.Application()
    app.router.add_get("/", hello)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    load = await asyncio.create_subprocess_exec(
        sys.executable, "-c", LOAD_GENERATOR, str(port), str(HTTP_REQUESTS), str(HTTP_CONCURRENCY)
    )
    wall, cpu = time.perf_counter(), time.process_time()
    if await load.wait() != 0:
        raise SystemExit("the load generator failed")
    MEASURED.append((time.perf_counter() - wall, time.process_time() - cpu))
    await runner.cleanup()


def pin_to_first_cpu() -> None:
    """The server on one CPU, its load generator on another (see LOAD_GENERATOR)."""
    if hasattr(os, "sched_setaffinity") and len(os.sched_getaffinity(0)) > 1:
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})


# -- one measured run (in a fresh process) ------------------------------------------------------
class Clock:
    """Wall and CPU time (all threads: the watchdog's share counts) around one asyncio.run."""

    def __enter__(self) -> Clock:
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self.wall
        self.cpu = time.process_time() - self.cpu


def worker(config: str, workload: str) -> Clock:
    if workload == "http":
        pin_to_first_cpu()
    clock = run_config(config, {"callbacks": callbacks, "echo": echo, "http": http}[workload])
    if MEASURED:  # the workload timed itself (http: the load, not the server's start-up)
        clock.wall, clock.cpu = MEASURED[-1]
    return clock


def run_config(config: str, main: Callable[[], Coroutine[Any, Any, None]]) -> Clock:
    if config in ("plain", "asyncio-debug"):  # debug mode comes from the environment
        with Clock() as clock:
            asyncio.run(main())
        return clock
    if config in ("monitor", "monitor+blocking"):
        sys.path.insert(0, str(ROOT))
        from asynccheck.runtime.install import monitor

        blocking = config == "monitor+blocking"
        with monitor(detect_blocking=blocking, log=False) as mon, Clock() as clock:
            asyncio.run(main())
        assert mon.report().loops == 1
        return clock
    if config == "handle-timer":
        # Per-callback timing, the design asynccheck does not use: what does it cost here?
        from asyncio import events

        run, perf = events.Handle._run, time.perf_counter
        slow: list[float] = []

        def timed_run(self: events.Handle) -> None:
            t0 = perf()
            run(self)
            dt = perf() - t0
            if dt >= 0.1:
                slow.append(dt)

        events.Handle._run = timed_run  # type: ignore[method-assign]
        with Clock() as clock:
            asyncio.run(main())
        return clock
    if config == "aiocop":
        import aiocop

        async def with_aiocop() -> None:
            # As aiocop's quick start does it: from inside the loop, which it then patches.
            aiocop.patch_audit_functions()
            aiocop.start_blocking_io_detection()
            aiocop.detect_slow_tasks(threshold_ms=100, on_slow_task=lambda event: None)
            aiocop.activate()
            await main()

        with Clock() as clock:
            asyncio.run(with_aiocop())
        return clock
    if config in ("pyinstrument", "pyinstrument-async"):
        from pyinstrument import Profiler

        mode = "enabled" if config == "pyinstrument-async" else "disabled"
        profiler = Profiler(interval=0.001, async_mode=mode)
        with Clock() as clock:
            profiler.start()
            asyncio.run(main())
            profiler.stop()
        return clock
    if config in ("profile", "profile-async"):
        sys.path.insert(0, str(ROOT))
        from asynccheck.runtime.install import monitor
        from asynccheck.runtime.profiler import ProfileOptions, ProfileSession

        options = (
            ProfileOptions(interval=0.001, async_mode="enabled")
            if config == "profile-async"
            else ProfileOptions()
        )
        with monitor(log=False) as mon, Clock() as clock:
            session = ProfileSession(options)
            session.start()
            asyncio.run(main())
            session.stop()
        assert mon.report().loops == 1
        return clock
    raise SystemExit(f"unknown config {config}")


def measure(config: str, workload: str) -> tuple[float, float]:
    env = dict(os.environ)
    env.pop("PYTHONASYNCIODEBUG", None)
    if config == "asyncio-debug":
        env["PYTHONASYNCIODEBUG"] = "1"
    out = subprocess.run(
        [sys.executable, __file__, "--worker", config, workload],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    wall, cpu = out.stdout.strip().splitlines()[-1].split()
    return float(wall), float(cpu)


def ensure_aiocop() -> None:
    if importlib.util.find_spec("aiocop") is None:
        print("installing aiocop from PyPI ...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "aiocop"], check=True)


# -- profile mode's memory over a long run (--memory) ----------------------------------------------
MEMORY_CONFIGS = ("monitor", "otel", "profile", "profile-async", "profile-before")
TASKS_PER_TICK, TICK_S = 50, 0.02  # 2,500 short tasks a second


async def short_work(i: int) -> int:
    payload = json.dumps({"id": i, "items": list(range(i % 16)), "name": f"task-{i}"})
    await asyncio.sleep(0)
    return len(json.loads(payload)["items"])


async def steady_tasks(seconds: float, tick: Callable[[float, int], None]) -> None:
    """~2,500 short tasks a second (a server's requests), for `seconds`."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    made = 0
    while loop.time() - start < seconds:
        await asyncio.gather(*(short_work(made + i) for i in range(TASKS_PER_TICK)))
        made += TASKS_PER_TICK
        await asyncio.sleep(max(0.0, start + made / (TASKS_PER_TICK / TICK_S) - loop.time()))
        tick(loop.time() - start, made)


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def memory_worker(config: str, seconds: float) -> None:
    """Run `steady_tasks` under `config` for 5 s of warm-up plus `seconds`; print the resident
    memory every 10 s and, at the end, one JSON line."""
    sys.path.insert(0, str(ROOT))
    from asynccheck.runtime.install import monitor
    from asynccheck.runtime.profiler import ProfileOptions, ProfileSession

    held: Callable[[], int] = lambda: 0  # noqa: E731
    marks: dict[str, float] = {}

    def tick(t: float, made: int) -> None:
        for mark in [m for m in range(5, int(seconds) + 6, 10) if f"{m}" not in marks]:
            if t >= mark:
                marks[f"{mark}"] = rss_mb()
                print(f"  {config:15} t={mark:3d}s  rss {marks[f'{mark}']:7.1f} MB  "
                      f"records held {held():>8}  tasks {made}", file=sys.stderr, flush=True)  # fmt: skip

    with contextlib.ExitStack() as scope:
        stop: Callable[[], object] = lambda: None  # noqa: E731
        if config == "otel":  # metrics on, collected every 10 s as an exporter would
            held, stop = otel_metrics(tick_marks=marks)
        else:
            scope.enter_context(monitor(log=False))
        if config in ("profile", "profile-async"):
            options = ProfileOptions(interval=0.001, async_mode="enabled")
            session = ProfileSession(options if config == "profile-async" else ProfileOptions())
            session.start()
            held, stop = lambda: len(session.held_records()), session.stop
        elif config == "profile-before":  # what asynccheck ran until now: every sample kept
            from pyinstrument import Profiler

            profiler = Profiler(interval=0.001, async_mode="enabled")
            profiler.start()
            held = lambda: len(profiler._active_session.frame_records)  # type: ignore[union-attr]  # noqa: E731
            stop = profiler.stop
        asyncio.run(steady_tasks(seconds + 5.0, tick))
        records = held()
        stop()
    start, end = marks.get("5", 0.0), rss_mb()
    print(json.dumps({"config": config, "start_mb": start, "end_mb": end, "records": records}))


def otel_metrics(tick_marks: dict[str, float]) -> tuple[Callable[[], int], Callable[[], object]]:
    """EventLoopInstrumentor with an in-memory reader, collected at every 10 s mark; "records
    held" is the number of data points the last collection returned."""
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader

    from asynccheck.otel import EventLoopInstrumentor

    reader = InMemoryMetricReader()
    EventLoopInstrumentor().instrument(meter_provider=MeterProvider(metric_readers=[reader]))
    collected = [0, 0]  # marks seen, points in the last collection

    def held() -> int:
        if len(tick_marks) != collected[0]:
            data = reader.get_metrics_data()
            collected[:] = [
                len(tick_marks),
                sum(
                    len(m.data.data_points)
                    for rm in data.resource_metrics
                    for sm in rm.scope_metrics
                    for m in sm.metrics
                ),
            ]
        return collected[1]

    return held, EventLoopInstrumentor().uninstrument


def memory(seconds: float) -> None:
    print(
        f"memory: {TASKS_PER_TICK / TICK_S:.0f} short tasks/s under monitor(), resident memory "
        f"after 5 s of warm-up and {seconds:g} s later (python {sys.version.split()[0]})"
    )
    rows = []
    for config in MEMORY_CONFIGS:
        out = subprocess.run(
            [sys.executable, __file__, "--memory-worker", config, str(seconds)],
            stdout=subprocess.PIPE,
            text=True,
            check=True,
        )
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    print(f"  {'config':15} {'at 5 s':>9} {'at end':>9} {'growth':>9} {'records':>9}")
    for row in rows:
        growth = row["end_mb"] - row["start_mb"]
        print(
            f"  {row['config']:15} {row['start_mb']:7.1f}MB {row['end_mb']:7.1f}MB "
            f"{growth:7.1f}MB {row['records']:9d}"
        )


# -- what a leak's creation site costs per object (--sites) --------------------------------------
def sites(rounds: int) -> None:
    """Objects made per second with and without `leaks.track_allocations()` (what every
    monitor turns on), alternating, in this process; medians of `rounds`."""
    import socket

    sys.path.insert(0, str(ROOT))
    from asynccheck.runtime import leaks

    def sockets(n: int) -> None:
        for _ in range(n):
            socket.socket().close()

    def socketpairs(n: int) -> None:  # made one frame down, in the standard library
        for _ in range(n // 2):
            a, b = socket.socketpair()
            a.close()
            b.close()

    def sessions(n: int) -> None:
        import aiohttp

        async def make() -> None:
            for _ in range(n):
                await aiohttp.ClientSession().close()

        asyncio.run(make())

    cases = {"socket.socket()": (sockets, 20000), "socket.socketpair()": (socketpairs, 20000)}
    if importlib.util.find_spec("aiohttp") is not None:
        cases["aiohttp.ClientSession()"] = (sessions, 5000)
    print(f"sites: cost of a creation site, {rounds} rounds (python {sys.version.split()[0]})")
    print(f"  {'made':24} {'plain':>10} {'tracked':>10} {'cost':>9}")
    for name, (make, n) in cases.items():
        plain: list[float] = []
        tracked: list[float] = []
        for _ in range(rounds):
            for on in (False, True):
                if on:
                    leaks.track_allocations()
                t = time.perf_counter()
                make(n)
                (tracked if on else plain).append((time.perf_counter() - t) / n * 1e6)
                if on:
                    leaks.untrack_allocations()
        a, b = statistics.median(plain), statistics.median(tracked)
        print(f"  {name:24} {a:8.2f}us {b:8.2f}us {b - a:+7.2f}us")


# -- --trace-leaks on an allocating callback, before and after (--trace-leaks) ---------------------
# (tracing: tracemalloc frames or "-", profile: "-", "before" = pyinstrument async, "after")
TRACE_VARIANTS = (
    ("-", "-"),
    ("10", "-"),
    ("1", "-"),
    ("-", "before"),
    ("10", "before"),
    ("-", "after"),
    ("1", "after"),
)


def allocate(n: int) -> None:
    """Builds and drops small objects, as parsing or serializing does."""
    kept: list[object] = []
    for i in range(n):
        kept.append({"id": i, "tags": [str(j) for j in range(8)], "name": f"item-{i}"})
        if len(kept) >= 1000:
            kept.clear()


def trace_worker(tracing: str, profile: str) -> None:
    """One callback of `allocate(60_000)` in a monitored loop; print its duration and the
    whole run's (with the profile's stop, which runs under tracemalloc too)."""
    import tracemalloc

    sys.path.insert(0, str(ROOT))
    from asynccheck.runtime import leaks
    from asynccheck.runtime.install import monitor
    from asynccheck.runtime.profiler import ProfileOptions, ProfileSession

    async def main() -> float:
        await asyncio.sleep(0.01)
        t = time.perf_counter()
        allocate(60_000)
        return time.perf_counter() - t

    started = time.perf_counter()
    with monitor(log=False):
        if tracing == "10":  # what install.monitor(trace_leaks=True) did
            tracemalloc.start(10)
        elif tracing == "1":
            leaks.start_tracing()
        session = None
        if profile != "-":
            before = ProfileOptions(interval=0.001, async_mode="enabled")
            session = ProfileSession(before if profile == "before" else ProfileOptions())
            session.start()
        callback = asyncio.run(main())
        if session is not None:
            session.stop()
        if tracing == "10":
            tracemalloc.stop()
        elif tracing == "1":
            leaks.stop_tracing()
    print(f"{callback:.4f} {time.perf_counter() - started:.4f}")


def trace_leaks(rounds: int) -> None:
    print(
        "trace-leaks: one callback allocating ~1.4M small objects, under monitor(); tracemalloc "
        "at 10 frames (before) or leaks.start_tracing() (after); profile before = pyinstrument "
        f"async_mode='enabled', after = ProfileSession(); medians of {rounds}"
    )
    print(f"  {'tracemalloc frames':>18} {'profile':>8} {'callback':>9} {'whole run':>10}")
    for tracing, profile in TRACE_VARIANTS:
        callback, whole = [], []
        for _ in range(rounds):
            out = subprocess.run(
                [sys.executable, __file__, "--trace-worker", tracing, profile],
                stdout=subprocess.PIPE,
                text=True,
                check=True,
            )
            a, b = out.stdout.split()
            callback.append(float(a))
            whole.append(float(b))
        print(
            f"  {tracing:>18} {profile:>8} {statistics.median(callback):8.2f}s "
            f"{statistics.median(whole):9.2f}s"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument(
        "--own-repeats",
        type=int,
        default=3,
        help="in each round, measure plain and asynccheck's configurations this many times "
        "(their ratios are a few percent: they need more samples than the peers' 4x-30x)",
    )
    parser.add_argument("--only", choices=WORKLOADS)
    parser.add_argument("--configs", help="comma-separated subset of: " + ",".join(CONFIGS))
    parser.add_argument(
        "--memory", type=float, metavar="SECONDS", help="profile mode's memory over a long run"
    )
    parser.add_argument("--sites", action="store_true", help="cost of leak creation sites")
    parser.add_argument("--trace-leaks", action="store_true", help="--trace-leaks, before/after")
    parser.add_argument("--worker", nargs=2, metavar=("CONFIG", "WORKLOAD"), help=argparse.SUPPRESS)
    parser.add_argument("--memory-worker", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--trace-worker", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        clock = worker(*args.worker)
        print(f"{clock.wall:.6f} {clock.cpu:.6f}")
        return
    if args.memory_worker:
        memory_worker(args.memory_worker[0], float(args.memory_worker[1]))
        return
    if args.trace_worker:
        trace_worker(*args.trace_worker)
        return
    if args.memory is not None:
        memory(args.memory)
        return
    if args.sites:
        sites(args.rounds)
        return
    if args.trace_leaks:
        trace_leaks(args.rounds)
        return
    configs = tuple(c for c in CONFIGS if not args.configs or c in args.configs.split(","))
    if "plain" not in configs:
        configs = ("plain", *configs)
    if "aiocop" in configs:
        ensure_aiocop()
        import aiocop  # noqa: F401  (fail early, not in the middle of the run)
    from importlib.metadata import version

    print(
        f"python {sys.version.split()[0]}, {os.cpu_count()} cpus; pyinstrument "
        f"{version('pyinstrument')}; {args.rounds} rounds, configurations rotated, "
        f"plain and asynccheck's {args.own_repeats}x per round"
    )
    for workload in (args.only,) if args.only else WORKLOADS:
        runs: dict[str, list[tuple[float, float]]] = {c: [] for c in configs}
        for r in range(args.rounds):
            order = configs[r % len(configs) :] + configs[: r % len(configs)]
            for config in order:
                repeats = 1 if config in PEERS else args.own_repeats
                for _ in range(repeats):
                    runs[config].append(measure(config, workload))
        report(workload, runs)


TARGETS = {"monitor": 1.05, "monitor+blocking": 1.10}


def report(workload: str, runs: dict[str, list[tuple[float, float]]]) -> None:
    """Ratios to the plain loop: of median wall times, of median CPU times, and the median of
    per-round wall ratios (each round's plain run was measured minutes, not hours, apart)."""
    base_wall = statistics.median(w for w, _ in runs["plain"])
    base_cpu = statistics.median(c for _, c in runs["plain"])
    print(f"\n{workload}: plain loop median {base_wall:.3f} s wall, {base_cpu:.3f} s cpu")
    print(f"  {'config':<17} {'wall':>8} {'ratio':>7} {'cpu':>8} {'ratio':>7} {'paired':>7}")
    for config in runs:
        walls = [w for w, _ in runs[config]]
        cpus = [c for _, c in runs[config]]
        wall, cpu = statistics.median(walls), statistics.median(cpus)
        # pair each run with a plain run of the same round (peers run once a round)
        plain = runs["plain"][:: max(1, len(runs["plain"]) // len(runs[config]))]
        paired = statistics.median(w / pw for (w, _), (pw, _) in zip(runs[config], plain))
        target = TARGETS.get(config)
        note = ""
        if target is not None:
            ok = min(cpu / base_cpu, wall / base_wall) <= target
            note = f"  target <= {target:.2f}x: {'ok' if ok else 'OVER'}"
        print(
            f"  {config:<17} {wall:7.3f}s {wall / base_wall:6.3f}x {cpu:7.3f}s "
            f"{cpu / base_cpu:6.3f}x {paired:6.3f}x{note}"
        )


if __name__ == "__main__":
    main()
