"""Overhead of asynccheck's run-time monitoring, against a plain loop and against peers.

    python bench/runtime_overhead.py [--rounds 7] [--only callbacks|echo]

Two workloads, each run once per fresh subprocess (so no run warms another's caches):
- callbacks: 100 tasks x 2000 `await asyncio.sleep(0)` (every step is a loop callback);
- echo: 20 clients x 1500 round trips of a 64-byte message over 127.0.0.1 (protocol callbacks,
  transports, socket syscalls).
Configurations: the plain loop; `asynccheck.monitor(detect_blocking=False)`; `monitor()` with
run-time blocking detection; `PYTHONASYNCIODEBUG=1`; aiocop (installed from PyPI if missing);
pyinstrument alone (1 ms interval). The order of configurations rotates every round, each
timing is the workload's `asyncio.run` only (start-up excluded), and the ratios printed are of
medians measured in this one run: the machines are shared and noisy. Wall and CPU time (user +
system, all threads, so the watchdog thread is charged) are both reported; on a loaded machine
CPU time is the steadier of the two.
Not part of the test suite.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = (
    "plain",
    "monitor",
    "monitor+blocking",
    "handle-timer",  # the rejected alternative: a timer around every Handle._run
    "asyncio-debug",
    "aiocop",
    "pyinstrument",
)
WORKLOADS = ("callbacks", "echo")
PEERS = ("asyncio-debug", "aiocop", "pyinstrument")


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
    main = {"callbacks": callbacks, "echo": echo}[workload]
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
    if config == "pyinstrument":
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.001, async_mode="enabled")
        with Clock() as clock:
            profiler.start()
            asyncio.run(main())
            profiler.stop()
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
    parser.add_argument("--worker", nargs=2, metavar=("CONFIG", "WORKLOAD"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        clock = worker(*args.worker)
        print(f"{clock.wall:.6f} {clock.cpu:.6f}")
        return
    ensure_aiocop()
    from importlib.metadata import version

    import aiocop  # noqa: F401  (fail early, not in the middle of the run)

    print(
        f"python {sys.version.split()[0]}, {os.cpu_count()} cpus; aiocop {version('aiocop')}, "
        f"pyinstrument {version('pyinstrument')}; {args.rounds} rounds, configurations rotated, "
        f"plain and asynccheck's {args.own_repeats}x per round"
    )
    for workload in (args.only,) if args.only else WORKLOADS:
        runs: dict[str, list[tuple[float, float]]] = {c: [] for c in CONFIGS}
        for r in range(args.rounds):
            order = CONFIGS[r % len(CONFIGS) :] + CONFIGS[: r % len(CONFIGS)]
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
    for config in CONFIGS:
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
