"""Child processes for the offline stack: start, read their output, wait for a ready line, stop by PID; ports.

Orchestration (which processes, in which order, with which settings) is in :mod:`devhost.stack`; this module
only knows processes and ports.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "ManagedProcess",
    "ProcessError",
    "accepts",
    "free_port",
    "kill_pid",
    "pid_alive",
    "popen",
    "port_is_free",
    "wait_until_closed",
]


class ProcessError(RuntimeError):
    """A tool is missing, a port is busy or a process did not start; the message says what to do."""


def free_port(host: str = "127.0.0.1") -> int:
    """A port the kernel says is free now (another process may take it before it is used)."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """Whether a server could listen on ``port``.

    Binds with SO_REUSEADDR, as uvicorn, node and the dev host do when they listen: connections of a stopped
    server left in TIME_WAIT do not block them, so they must not block this check either. A listening socket
    still does (Linux refuses SO_REUSEADDR binds next to a listener)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def accepts(port: int, host: str = "127.0.0.1", timeout: float = 0.2) -> bool:
    """Whether something accepts TCP connections on ``port`` now."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_until_closed(port: int, timeout: float, what: str, host: str = "127.0.0.1") -> None:
    """Wait until nothing listens on ``port`` (a stopped server's socket may linger for a moment)."""
    deadline = time.monotonic() + timeout
    while accepts(port, host):
        if time.monotonic() > deadline:
            raise ProcessError(f"something still listens on port {port}; cannot restart {what}")
        time.sleep(0.05)


def pid_alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie, exited but not yet reaped by its parent, counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def kill_pid(pid: int, sig: int = signal.SIGKILL) -> bool:
    """Send ``sig`` to ``pid``; False when it is already gone."""
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        return False
    return True


def popen(cmd: Sequence[str], cwd: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    """Start ``cmd`` with stdout and stderr merged into one line-buffered text pipe."""
    return subprocess.Popen(
        list(cmd), cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
    )


@dataclass
class ManagedProcess:
    """A child process whose output is collected line by line; stopped by its own PID.

    ``pump(marker)`` reads the output on a thread; the first line starting with ``marker`` is parsed as JSON into
    ``ready``."""

    name: str
    process: subprocess.Popen[str]
    output: list[str] = field(default_factory=list)
    ready: dict[str, Any] = field(default_factory=dict)
    _ready_event: threading.Event = field(default_factory=threading.Event)

    @property
    def pid(self) -> int:
        return self.process.pid

    def pump(self, marker: str | None) -> None:
        def run() -> None:
            assert self.process.stdout is not None
            for line in self.process.stdout:
                line = line.rstrip("\n")
                self.output.append(line)
                if marker and line.startswith(marker) and not self.ready:
                    self.ready.update(json.loads(line[len(marker) :]))
                    self._ready_event.set()
            self._ready_event.set()

        threading.Thread(target=run, daemon=True, name=f"{self.name}-{self.pid}-output").start()

    def wait_ready(self, timeout: float) -> None:
        """Wait for the ready line; on timeout or exit, stop the process and raise with its last output."""
        self._ready_event.wait(timeout)
        if not self.ready:
            self.stop()
            tail = "\n".join(self.output[-30:])
            raise ProcessError(
                f"{self.name} did not become ready in {timeout:.0f} s (exit {self.process.returncode}):\n{tail}"
            )

    def stop(self, timeout: float = 5.0, sig: int = signal.SIGTERM) -> None:
        """``sig`` (SIGTERM: graceful) by PID, then SIGKILL if it has not exited within ``timeout``."""
        if self.process.poll() is None:
            os.kill(self.process.pid, sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout)
