"""Run a real server under `asynccheck profile` (or plain python), load it, stop it as users do.

    with Server(["aiohttp_app.py", "--port", "{port}"], tmp_path) as server:
        server.drive(planted=["/sleep", "/dumps"], fast=2000, concurrency=8)
        run = server.stop(signal.SIGINT)
    run.report        # the parsed --json report (None if none was written)
    run.truth         # what the server's planted work measured itself (servers/truth.py)
    run.stderr, run.returncode, run.leftover

The server runs in its own process group and session, from `servers/` (so `-m uvicorn
starlette_app:app` and `import planted` work), with $ASYNCCHECK_TRUTH and $PORT set. `{port}` in
the arguments is replaced by a free port of 127.0.0.1. Start-up is bounded: the port must accept
a connection within `startup_timeout` s, else the test fails with the child's stderr. `stop()`
signals the way users do (SIGINT to the whole group, as Ctrl-C in a terminal; SIGTERM to the main
process only, as `kill`, Kubernetes or systemd do), waits a bounded time, records which processes
of the group were still alive, then kills the group. Leaving the `with` block always kills the
group and checks that the port is free again.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SERVERS = Path(__file__).resolve().parent / "servers"
HOST = "127.0.0.1"

Event = dict[str, Any]


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def port_is_free(port: int) -> bool:
    """Nothing listens on `port` (TIME_WAIT leftovers of closed connections do not count)."""
    for host in (HOST, "0.0.0.0"):
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind((host, port))
            except OSError:
                return False
    return True


def accepts(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=0.5):
            return True
    except OSError:
        return False


def group_members(pgid: int) -> list[str]:
    """Live (not zombie) processes of a process group: 'pid cmdline' each."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:
            continue
        state, _ppid, pgrp = stat[stat.rindex(")") + 2 :].split()[:3]
        if int(pgrp) == pgid and state not in ("Z", "X"):
            command = cmdline.replace(b"\0", b" ").decode(errors="replace").strip()
            found.append(f"{entry} {command}")
    return found


def profile_command(
    target: Sequence[str],
    json_path: Path,
    *,
    slow_callback_ms: float | None = 100.0,
    options: Sequence[str] = (),
) -> list[str]:
    """`python -m asynccheck profile --json FILE [--slow-callback-ms N] OPTIONS TARGET...`."""
    threshold = ["--slow-callback-ms", f"{slow_callback_ms:g}"] if slow_callback_ms else []
    return [
        sys.executable, "-m", "asynccheck", "profile", "--json", str(json_path),
        *threshold, *options, *target,
    ]  # fmt: skip


@dataclass
class Run:
    """What one server run left behind."""

    argv: list[str]
    returncode: int | None
    report: dict[str, Any] | None  # the --json report; None when none was written
    truth: list[Event]  # the planted work, as the server measured it
    stdout: str
    stderr: str
    port: int
    pid: int  # the process the harness started (asynccheck's, or plain python's)
    leftover: list[str] = field(default_factory=list)  # still alive after the stop; then killed

    def truth_of(self, *kinds: str) -> list[Event]:
        return [e for e in self.truth if e["kind"] in kinds]

    @property
    def slow(self) -> list[dict[str, Any]]:
        return list((self.report or {}).get("slow_callbacks", ()))

    def describe(self) -> str:
        """For assertion messages: what ran, how it ended, and the end of its stderr."""
        tail = "\n".join(self.stderr.splitlines()[-40:])
        return f"argv={self.argv}\nreturncode={self.returncode}\n--- stderr (tail) ---\n{tail}"


class ServerError(AssertionError):
    pass


class Server:
    """One server process: started on `__enter__`, ready when its port accepts connections."""

    def __init__(
        self,
        target: Sequence[str],
        tmp: Path,
        *,
        profile: bool = True,
        options: Sequence[str] = (),
        slow_callback_ms: float | None = 100.0,
        env: dict[str, str] | None = None,
        startup_timeout: float = 40.0,
        name: str = "server",
    ) -> None:
        self.port = free_port()
        self.dir = tmp / name
        self.dir.mkdir(parents=True, exist_ok=True)
        self.json_path = self.dir / "r.json"
        self.truth_path = self.dir / "truth.jsonl"
        args = [a.replace("{port}", str(self.port)) for a in target]
        if profile:
            self.argv = profile_command(
                args, self.json_path, slow_callback_ms=slow_callback_ms, options=options
            )
        else:
            self.argv = [sys.executable, *args]
        self.env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(
                p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p
            ),
            "ASYNCCHECK_TRUTH": str(self.truth_path),
            "PORT": str(self.port),
            "NO_COLOR": "1",
            "PYTHONUNBUFFERED": "1",
            **(env or {}),
        }
        self.env.pop("PYTHONASYNCIODEBUG", None)
        self.startup_timeout = startup_timeout
        self.proc: subprocess.Popen[bytes] | None = None
        self.run: Run | None = None

    # -- life cycle ------------------------------------------------------------------------
    def start(self) -> Server:
        self._out = open(self.dir / "stdout.txt", "wb")  # noqa: SIM115 (closed in kill)
        self._err = open(self.dir / "stderr.txt", "wb")  # noqa: SIM115
        self.proc = subprocess.Popen(
            self.argv,
            cwd=SERVERS,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=self._out,
            stderr=self._err,
            start_new_session=True,  # its own process group: Ctrl-C to the group, kill it whole
        )
        return self

    def wait_ready(self) -> Server:
        assert self.proc is not None
        deadline = time.monotonic() + self.startup_timeout
        while not accepts(self.port):
            if self.proc.poll() is not None:
                raise ServerError(
                    f"server exited with {self.proc.returncode} before accepting connections on "
                    f"port {self.port}\nargv={self.argv}\n--- stderr ---\n{self._read('stderr')}"
                )
            if time.monotonic() > deadline:
                raise ServerError(
                    f"server did not accept connections on port {self.port} within "
                    f"{self.startup_timeout:g} s\nargv={self.argv}\n--- stderr ---\n"
                    f"{self._read('stderr')}"
                )
            time.sleep(0.05)
        return self

    def __enter__(self) -> Server:
        try:
            return self.start().wait_ready()
        except BaseException:
            self.kill()
            raise

    def __exit__(self, exc_type: object, *exc: object) -> None:
        try:
            self.kill()
        except ServerError:
            if exc_type is None:  # else the test's own failure is the one to see
                raise

    def stop(
        self, sig: int = signal.SIGINT, *, group: bool | None = None, timeout: float = 30.0
    ) -> Run:
        """Signal the server and wait for it to exit; the run's report, truth and output.

        `group` (default: True for SIGINT, False otherwise) sends the signal to the whole process
        group, as a terminal's Ctrl-C does; else only to the main process, as `kill` does.
        """
        self.send(sig, group=group)
        return self.collect(timeout)

    def send(self, sig: int, *, group: bool | None = None) -> None:
        """The first half of `stop()`: signal, do not wait (to stop several servers at once)."""
        assert self.proc is not None
        if group is None:
            group = sig == signal.SIGINT
        self._sent = signal.Signals(sig).name
        with contextlib.suppress(ProcessLookupError):
            if group:
                os.killpg(self.proc.pid, sig)
            else:
                self.proc.send_signal(sig)

    def collect(self, timeout: float = 30.0) -> Run:
        """The second half of `stop()`: wait (bounded) for the exit, note what is left, clean up."""
        assert self.proc is not None
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            leftover = group_members(self.proc.pid)
            self.kill()
            raise ServerError(
                f"server did not exit within {timeout:g} s of {getattr(self, '_sent', '?')}; "
                f"alive: {leftover}\nargv={self.argv}\n--- stderr ---\n{self._read('stderr')}"
            ) from None
        # The main process is gone; its children must be too (give them a moment to finish).
        deadline = time.monotonic() + 5.0
        leftover = group_members(self.proc.pid)
        while leftover and time.monotonic() < deadline:
            time.sleep(0.1)
            leftover = group_members(self.proc.pid)
        self.kill()
        self.run = Run(
            argv=self.argv,
            returncode=self.proc.returncode,
            report=self._report(),
            truth=self.truth(),
            stdout=self._read("stdout"),
            stderr=self._read("stderr"),
            port=self.port,
            pid=self.proc.pid,
            leftover=leftover,
        )
        return self.run

    def kill(self) -> None:
        """Kill whatever is left of the group, reap the child, check the port is free (always
        safe to call again)."""
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(10)
        for f in (getattr(self, "_out", None), getattr(self, "_err", None)):
            if f is not None:
                f.close()
        deadline = time.monotonic() + 5.0
        while not port_is_free(self.port) or group_members(self.proc.pid):
            if time.monotonic() > deadline:
                raise ServerError(
                    f"after killing the server's process group, port {self.port} is still bound "
                    f"or processes remain: {group_members(self.proc.pid)}"
                )
            time.sleep(0.1)

    # -- reading what it left ----------------------------------------------------------------
    def _read(self, which: str) -> str:
        path = self.dir / f"{which}.txt"
        try:
            return path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def _report(self) -> dict[str, Any] | None:
        try:
            return json.loads(self.json_path.read_text())
        except FileNotFoundError:
            return None

    def truth(self) -> list[Event]:
        try:
            lines = self.truth_path.read_text().splitlines()
        except FileNotFoundError:
            return []
        return [json.loads(line) for line in lines if line.strip()]

    # -- load ----------------------------------------------------------------------------------
    def get(self, path: str, timeout: float = 30.0) -> tuple[int, bytes]:
        """One GET on a fresh connection."""
        return asyncio.run(_one(self.port, path, timeout))

    def drive(
        self,
        *,
        planted: Sequence[str] = (),
        fast: int = 0,
        fast_paths: Sequence[str] = ("/fast", "/fast/json"),
        concurrency: int = 8,
        planted_concurrency: int = 1,
        timeout: float = 60.0,
    ) -> collections.Counter[tuple[str, int]]:
        """`fast` requests over `concurrency` keep-alive connections while the `planted` paths
        go one after another on their own connection(s); every response must be 200.

        Bounded: the whole drive fails after `timeout` s. Returns {(path, status): count}.
        """
        counts = asyncio.run(
            _drive(
                self.port,
                list(planted),
                [fast_paths[i % len(fast_paths)] for i in range(fast)],
                concurrency,
                planted_concurrency,
                timeout,
            )
        )
        bad = {k: v for k, v in counts.items() if k[1] != 200}
        if bad:
            raise ServerError(f"non-200 responses: {bad}\n--- stderr ---\n{self._read('stderr')}")
        return counts


async def _request(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, path: str
) -> tuple[int, bytes]:
    """One HTTP/1.1 GET on a keep-alive connection (a raw client: the load must cost the
    machine far less than the server it measures)."""
    writer.write(f"GET {path} HTTP/1.1\r\nHost: {HOST}\r\n\r\n".encode())
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    headers = {}
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        headers[name.strip().lower()] = value.strip()
    if headers.get(b"transfer-encoding", b"").lower() == b"chunked":
        body = b""
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            chunk = await reader.readexactly(size + 2)
            if size == 0:
                break
            body += chunk[:-2]
    else:
        body = await reader.readexactly(int(headers.get(b"content-length", b"0")))
    return status, body


async def _one(port: int, path: str, timeout: float) -> tuple[int, bytes]:
    async def go() -> tuple[int, bytes]:
        reader, writer = await asyncio.open_connection(HOST, port)
        try:
            return await _request(reader, writer, path)
        finally:
            writer.close()

    return await asyncio.wait_for(go(), timeout)


async def _drive(
    port: int,
    planted: list[str],
    fast: list[str],
    concurrency: int,
    planted_concurrency: int,
    timeout: float,
) -> collections.Counter[tuple[str, int]]:
    counts: collections.Counter[tuple[str, int]] = collections.Counter()

    async def worker(paths: Iterator[str]) -> None:
        reader, writer = await asyncio.open_connection(HOST, port)
        try:
            for path in paths:  # a shared iterator: each path is taken by one worker
                status, _ = await _request(reader, writer, path)
                counts[path, status] += 1
        finally:
            writer.close()

    async def pool(paths: list[str], n: int) -> None:
        it = iter(paths)
        await asyncio.gather(*(worker(it) for _ in range(min(n, len(paths)))))

    await asyncio.wait_for(
        asyncio.gather(pool(fast, concurrency), pool(planted, planted_concurrency)), timeout
    )
    return counts


def start_all(servers: Sequence[Server]) -> None:
    """Start several servers at once (their start-ups overlap), then wait for each."""
    try:
        for s in servers:
            s.start()
        for s in servers:
            s.wait_ready()
    except BaseException:
        for s in servers:
            with contextlib.suppress(ServerError):
                s.kill()
        raise
