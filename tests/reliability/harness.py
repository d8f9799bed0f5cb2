"""Shared by the reliability tests and ``benchmarks/reliability.py``: node load/reconnect drivers, process memory,
emulator state through its inspector. Nothing here asserts; callers decide what a figure must be."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from devhost.stack import Stack

ROOT = Path(__file__).resolve().parents[2]
NODE_DIR = ROOT / "tests" / "node"
LOAD_JS = NODE_DIR / "reliability_load.mjs"
RECONNECT_JS = NODE_DIR / "reliability_reconnect.mjs"


def node_available() -> bool:
    return shutil.which("node") is not None and (ROOT / "node_modules" / "socket.io-client").is_dir()


@dataclass(frozen=True)
class Memory:
    """Resident set size now and its peak (VmHWM) of one process, in MiB."""

    rss_mib: float
    peak_mib: float


def memory(pid: int) -> Memory:
    fields: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0]) / 1024
    return Memory(rss_mib=fields["VmRSS"], peak_mib=fields["VmHWM"])


def devhost_pid(stack: Stack) -> int:
    return next(p.pid for p in stack.processes if p.name == "devhost" and p.process.poll() is None)


def hub_state(stack: Stack, hub: str) -> dict[str, int]:
    """Connections, sockets and groups the emulator holds for ``hub`` (its inspector's JSON)."""
    data = httpx.get(f"{stack.emulator_url}/inspector/api", timeout=10).json()
    for snapshot in data["hubs"]:
        if snapshot["name"] == hub:
            return {
                "connections": len(snapshot["connections"]),
                "sockets": sum(len(c["sockets"]) for c in snapshot["connections"]),
                "groups": len(snapshot["groups"]),
            }
    return {"connections": 0, "sockets": 0, "groups": 0}


def wait_drained(stack: Stack, hub: str = "chat", timeout: float = 30.0) -> dict[str, int]:
    """``hub_state`` once the emulator holds no connection and no group for ``hub``, or at ``timeout``."""
    deadline = time.monotonic() + timeout
    state = hub_state(stack, hub)
    while (state["connections"] or state["groups"]) and time.monotonic() < deadline:
        time.sleep(0.1)
        state = hub_state(stack, hub)
    return state


def run_load(
    stack: Stack,
    *,
    clients: int,
    rooms: int,
    messages: int,
    pace_ms: float = 0,
    prefix: str = "r",
    ack_timeout_ms: int = 60_000,
    timeout: float = 900,
) -> dict[str, Any]:
    """One round of the chat load (tests/node/reliability_load.mjs); returns its JSON summary."""
    config = {
        "base": stack.devhost_url,
        "clients": clients,
        "rooms": rooms,
        "messages": messages,
        "paceMs": pace_ms,
        "prefix": prefix,
        "ackTimeoutMs": ack_timeout_ms,
    }
    done = subprocess.run(
        ["node", str(LOAD_JS), json.dumps(config)], cwd=ROOT, capture_output=True, text=True, timeout=timeout
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"load driver failed (exit {done.returncode}):\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(lines[-1])
    result["log"] = done.stderr[-2000:]
    return result


class ReconnectDriver:
    """tests/node/reliability_reconnect.mjs: ``start`` waits for ``ready``; ``check`` after a restart."""

    def __init__(self, stack: Stack, clients: int, timeout_ms: int = 20_000) -> None:
        config = {"base": stack.devhost_url, "clients": clients, "timeoutMs": timeout_ms}
        self.process = subprocess.Popen(
            ["node", str(RECONNECT_JS), json.dumps(config)],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.timeout = timeout_ms / 1000 * 3

    def _line(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            self.process.wait(5)
            err = self.process.stderr.read() if self.process.stderr else ""
            raise RuntimeError(f"reconnect driver exited ({self.process.returncode}):\n{err[-3000:]}")
        result: dict[str, Any] = json.loads(line)
        return result

    def ready(self) -> dict[str, Any]:
        return self._line()

    def check(self) -> dict[str, Any]:
        assert self.process.stdin is not None
        self.process.stdin.write("check\n")
        self.process.stdin.flush()
        result = self._line()
        self.process.wait(10)
        return result

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(5)
