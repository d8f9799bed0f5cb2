"""Shared by the scale benchmarks: the node load generator, the three servers, process figures, the summary.

Servers run as subprocesses on loopback ports and are stopped by their own PIDs:

- ours: ``python -m emulator`` (``emulator.testing.start_emulator``), with ``benchmarks/_webhook_handler.py``
  as its event handler when a figure needs webhooks;
- python-socketio 5 ``AsyncServer`` on uvicorn (``benchmarks/_psio_server.py``);
- Node's socket.io 4 (``benchmarks/node/socketio_server.mjs``, a devDependency from npm).

The clients are the stock node ``socket.io-client`` (``benchmarks/node/clients.mjs``), many in one process.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CLIENTS_JS = ROOT / "benchmarks" / "node" / "clients.mjs"
NODE_SERVER_JS = ROOT / "benchmarks" / "node" / "socketio_server.mjs"
HUB_PATH = "/clients/socketio/hubs/chat"
NEWS = '42["news",{"n":1,"text":"hello everyone"}]'
RESULTS_ENV = "SIOLESS_BENCH_RESULTS"


def node_ready() -> str | None:
    """None when node, socket.io-client and socket.io are installed; otherwise what is missing."""
    if shutil.which("node") is None:
        return "node is not on PATH"
    for package in ("socket.io-client", "socket.io"):
        if not (ROOT / "node_modules" / package).is_dir():
            return f"node_modules/{package} is missing (run `make setup`)"
    return None


def raise_fd_limit(needed: int) -> int:
    """Raise this process's soft limit on open files (children inherit it); returns the new soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
        soft = want
    return soft


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


def cpu_seconds(pid: int) -> float:
    stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")


def stop(process: subprocess.Popen[Any] | asyncio.subprocess.Process, timeout: float = 10.0) -> None:
    """SIGTERM by PID, SIGKILL after ``timeout``."""
    if process.returncode is not None:
        return
    try:
        os.kill(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            done, _ = os.waitpid(process.pid, os.WNOHANG)
        except ChildProcessError:
            return
        if done:
            return
        time.sleep(0.05)
    os.kill(process.pid, signal.SIGKILL)
    try:
        os.waitpid(process.pid, 0)
    except ChildProcessError:
        pass


def profile(pid: int, out: str, seconds: int = 8) -> subprocess.Popen[bytes]:
    """py-spy (``pip install py-spy``) samples ``pid`` for ``seconds``: collapsed stacks in ``out``."""
    spy = Path(sys.executable).with_name("py-spy")
    return subprocess.Popen(
        [str(spy), "record", "--pid", str(pid), "--duration", str(seconds), "--format", "raw", "--nonblocking"]
        + ["-o", out],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


@dataclass
class Server:
    """A started server: its PID, the client connect target and how to trigger one fan-out."""

    name: str
    process: subprocess.Popen[Any]
    endpoint: str
    negotiate: str | None = None
    token: str = ""
    connection_string: str = ""
    extra: list[subprocess.Popen[Any]] = field(default_factory=list)

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def pids(self) -> list[int]:
        """The server's process, then its helpers' (ours with webhooks: the event handler)."""
        return [self.process.pid, *(process.pid for process in self.extra)]

    def stop(self) -> None:
        for process in [*self.extra, self.process]:
            stop(process)


def _wait_line(process: subprocess.Popen[str], prefix: str, timeout: float = 30.0) -> str:
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        if line.startswith(prefix):
            return line.strip()
    stop(process)
    raise RuntimeError(f"{process.args!r} did not print {prefix!r}")


def start_psio() -> Server:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-u", str(ROOT / "benchmarks" / "_psio_server.py"), str(port)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    _wait_line(process, "READY")
    base = f"http://127.0.0.1:{port}"
    return Server("python-socketio", process, base, negotiate=f"{base}/negotiate")


def start_node_server() -> Server:
    process = subprocess.Popen(["node", str(NODE_SERVER_JS), "0"], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    port = int(_wait_line(process, "READY").split()[1])
    base = f"http://127.0.0.1:{port}"
    return Server("node socket.io", process, base, negotiate=f"{base}/negotiate")


def start_ours(*, webhooks: bool) -> Server:
    """The emulator; with ``webhooks`` also the minimal event handler (negotiate, connect, join via REST)."""
    from emulator.testing import start_emulator

    handler: subprocess.Popen[str] | None = None
    flags = ["--hub", "chat", "--no-hubs-on-demand"]
    if webhooks:
        handler_port = free_port()
        flags += ["--url-template", f"http://127.0.0.1:{handler_port}/webhook"]
    else:
        flags += ["--url-template", ""]
    emu = start_emulator(*flags)
    if webhooks:
        handler = subprocess.Popen(
            [
                sys.executable,
                "-u",
                str(ROOT / "benchmarks" / "_webhook_handler.py"),
                str(handler_port),
                emu.connection_string,
                emu.endpoint,
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        _wait_line(handler, "READY")
    token = _client_token(emu.connection_string)
    server = Server(
        "ours",
        emu.process,
        emu.endpoint,
        negotiate=f"http://127.0.0.1:{handler_port}/negotiate" if webhooks else None,
        token=token,
        connection_string=emu.connection_string,
    )
    if handler is not None:
        server.extra.append(handler)
    return server


async def each_server[T](
    measure: Callable[[Server], Awaitable[T]], *, webhooks: bool, baselines: bool = True
) -> dict[str, T]:
    """Ours (``start_ours(webhooks=...)``), then python-socketio and Node's socket.io unless not ``baselines``, one
    at a time: each started, measured, stopped by its PIDs. The figures by server name."""
    starts: list[Callable[[], Server]] = [lambda: start_ours(webhooks=webhooks)]
    if baselines:
        starts += [start_psio, start_node_server]
    results: dict[str, T] = {}
    for start in starts:
        server = start()
        try:
            results[server.name] = await measure(server)
        finally:
            server.stop()
    return results


def run_with_node(
    script: str, parser: argparse.ArgumentParser, main: Callable[[argparse.Namespace], Coroutine[Any, Any, None]]
) -> None:
    """A node benchmark's entry point: exits naming what is missing when node cannot run, else runs ``main``."""
    problem = node_ready()
    if problem:
        sys.exit(f"{script}: {problem}")
    asyncio.run(main(parser.parse_args()))


def _client_token(connection_string: str) -> str:
    from azure.messaging.webpubsubservice import WebPubSubServiceClient

    service = WebPubSubServiceClient.from_connection_string(connection_string, hub="chat")
    return str(
        service.get_client_access_token(client_protocol="SocketIO", user_id="bench", minutes_to_expire=180)["token"]
    )


class Clients:
    """One node load-generator process (``benchmarks/node/clients.mjs``) and its sockets."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    @classmethod
    async def start(
        cls,
        server: Server,
        *,
        negotiate: bool = False,
        join: str | None = None,
        sids: bool = False,
        parallel: int = 50,
        event: str = "news",
    ) -> Clients:
        config = {
            "event": event,
            "url": server.endpoint,
            "path": HUB_PATH,
            "token": server.token,
            "negotiate": server.negotiate if negotiate else None,
            "join": join,
            "sids": sids,
            "parallel": parallel,
        }
        process = await asyncio.create_subprocess_exec(
            "node",
            str(CLIENTS_JS),
            json.dumps(config),
            cwd=ROOT,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            limit=1 << 24,
        )
        return cls(process)

    @property
    def pid(self) -> int:
        return self.process.pid

    async def _ask(self, command: dict[str, Any], timeout: float = 600) -> dict[str, Any]:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write((json.dumps(command) + "\n").encode())
        await self.process.stdin.drain()
        line = await asyncio.wait_for(self.process.stdout.readline(), timeout)
        if not line:
            raise RuntimeError(f"the load generator exited ({command['op']})")
        answer: dict[str, Any] = json.loads(line)
        return answer

    async def connect(self, count: int) -> dict[str, Any]:
        answer = await self._ask({"op": "connect", "count": count})
        if answer["errors"]:
            raise RuntimeError(f"{answer['errors']} of {count} clients failed to connect: {answer['firstError']}")
        return answer

    async def arm(self) -> None:
        await self._ask({"op": "arm"})

    async def received(self, timeout_s: float = 60) -> dict[str, Any]:
        return await self._ask({"op": "await", "timeoutMs": int(timeout_s * 1000)}, timeout=timeout_s + 30)

    async def acks(self, count: int, room: str) -> list[float]:
        """The first client's round trips (ms) of ``count`` acked ``message`` events to ``room``, one at a time."""
        answer = await self._ask({"op": "acks", "count": count, "room": room})
        if answer["op"] == "error":
            raise RuntimeError(f"acked messages failed: {answer['message']}")
        return [float(ms) for ms in answer["ms"]]

    async def flood(self, count: int, window: int, room: str) -> float:
        """Acked ``message`` events per second: ``count`` in all, ``window`` in flight, round-robin over clients."""
        answer = await self._ask({"op": "flood", "count": count, "window": window, "room": room})
        if answer["op"] == "error":
            raise RuntimeError(f"acked messages failed: {answer['message']}")
        return float(answer["perSecond"])

    async def tally(self, expect: int, timeout_s: float = 30) -> int:
        """How many ``event`` arrivals in all since start, once ``expect`` arrived or at the timeout."""
        answer = await self._ask({"op": "tally", "expect": expect, "timeoutMs": int(timeout_s * 1000)}, timeout_s + 30)
        return int(answer["count"])

    async def cpu_seconds(self) -> float:
        return float((await self._ask({"op": "cpu"}))["micros"]) / 1e6

    async def close(self) -> None:
        try:
            await self._ask({"op": "close"}, timeout=60)
            await asyncio.wait_for(self.process.wait(), 10)
        except (RuntimeError, TimeoutError, BrokenPipeError, ConnectionResetError):
            pass
        stop(self.process)


class CpuUse:
    """CPU time a server's processes and a load generator spend over one measured span."""

    def __init__(self, server: Server, clients: Clients, server_before: list[float], generator_before: float) -> None:
        self.pids = server.pids
        self.clients = clients
        self.server_before = server_before
        self.generator_before = generator_before

    @classmethod
    async def begin(cls, server: Server, clients: Clients) -> CpuUse:
        return cls(server, clients, [cpu_seconds(pid) for pid in server.pids], await clients.cpu_seconds())

    async def end(self, count: int, wall: float) -> tuple[list[float], float]:
        """CPU ms per operation (``count`` of them) of each of the server's processes, and the generator's CPU
        seconds as a share of ``wall`` seconds (near 100% says the generator, not the server, was the bound)."""
        cpu = [
            (cpu_seconds(pid) - before) / count * 1000
            for pid, before in zip(self.pids, self.server_before, strict=True)
        ]
        return cpu, (await self.clients.cpu_seconds() - self.generator_before) / wall


# ---------------------------------------------------------------------------------------------- the summary
def record(
    figure: str,
    unit: str,
    ours: float | None,
    psio: float | None = None,
    node: float | None = None,
    *,
    ratio: str = "",
    goal: str = "",
    note: str = "",
) -> None:
    """Append one row for ``benchmarks/_summary.py`` (only when ``make bench`` set the results file)."""
    path = os.environ.get(RESULTS_ENV)
    if not path:
        return
    row = {
        "figure": figure,
        "unit": unit,
        "ours": ours,
        "psio": psio,
        "node": node,
        "ratio": ratio,
        "goal": goal,
        "note": note,
    }
    with open(path, "a", encoding="utf-8") as out:
        out.write(json.dumps(row) + "\n")
