"""Start and stop the emulator as a subprocess: for tests, the dev stack runner and scripts.

    from emulator.testing import start_emulator
    emu = start_emulator("--url-template", "http://127.0.0.1:7071/runtime/webhooks/socketio")
    print(emu.port, emu.connection_string, emu.client_url("chat"))
    emu.stop()

The process runs ``python -m emulator --port 0 --host 127.0.0.1 ...`` (extra flags appended), is awaited until it
prints its ``EMULATOR_READY`` line, and is stopped by its own PID (SIGTERM, then SIGKILL after a grace period).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from shared.protocol.webhook import client_path

from ._server import READY_MARKER

__all__ = ["EmulatorProcess", "EmulatorStartError", "start_emulator"]

_REPO = Path(__file__).resolve().parent.parent


class EmulatorStartError(RuntimeError):
    """The emulator exited or did not become ready in time; the message carries its output."""


@dataclass
class EmulatorProcess:
    process: subprocess.Popen[str]
    port: int
    endpoint: str
    connection_string: str
    output: list[str] = field(default_factory=list)

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client_url(self, hub: str) -> str:
        return f"{self.endpoint}{client_path(hub)}"

    def connection_string_for(self, key: str) -> str:
        return self.connection_string.replace(self.connection_string.split("AccessKey=")[1].split(";")[0], key)

    def stop(self, timeout: float = 5.0) -> int | None:
        """SIGTERM by PID, then SIGKILL if it does not exit within ``timeout``; returns the exit code."""
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout)
        return self.process.returncode

    def __enter__(self) -> EmulatorProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_emulator(
    *flags: str,
    host: str = "127.0.0.1",
    endpoint_host: str | None = "127.0.0.1",
    port: int = 0,
    timeout: float = 20.0,
    python: str | None = None,
    log_level: str = "warning",
    extra_env: dict[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
    args: Sequence[str] = (),
) -> EmulatorProcess:
    """Start ``python -m emulator`` and wait until it is ready. ``endpoint_host`` defaults to ``127.0.0.1`` here
    (the CLI default is ``localhost``) so that clients never depend on how ``localhost`` resolves."""
    cmd = [
        python or sys.executable,
        "-u",
        "-m",
        "emulator",
        "--host",
        host,
        "--port",
        str(port),
        "--log-level",
        log_level,
    ]
    if endpoint_host:
        cmd += ["--endpoint-host", endpoint_host]
    cmd += [*flags, *args]
    env = dict(os.environ, **(extra_env or {}))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_REPO), env.get("PYTHONPATH")]))
    process = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=cwd or _REPO, env=env
    )
    output: list[str] = []
    ready: dict[str, object] = {}
    event = threading.Event()

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            output.append(line.rstrip("\n"))
            if line.startswith(READY_MARKER) and not ready:
                ready.update(json.loads(line[len(READY_MARKER) :]))
                event.set()
        event.set()

    threading.Thread(target=pump, daemon=True, name=f"emulator-{process.pid}-output").start()
    deadline = time.monotonic() + timeout
    while not event.wait(0.05):
        if time.monotonic() > deadline:
            break
    if not ready:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()
        raise EmulatorStartError(f"emulator did not become ready (exit {process.returncode}):\n" + "\n".join(output))
    return EmulatorProcess(
        process=process,
        port=int(ready["port"]),  # type: ignore[call-overload]
        endpoint=str(ready["endpoint"]),
        connection_string=str(ready["connectionString"]),
        output=output,
    )
