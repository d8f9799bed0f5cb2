"""``python -m devhost.stack``: starts Azurite + emulator + dev host, prints URLs and PIDs, stops all on Ctrl-C;
a busy port or a missing tool gives a clear message."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from devhost.processes import port_is_free
from devhost.stack import StackError, check_tools
from tests.fixtures.devhost_support import run_module

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is gone for our purposes (its parent has not reaped it yet).
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


def test_stack_command_runs_and_stops_everything_on_ctrl_c() -> None:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "devhost.stack",
            "--devhost-port",
            "0",
            "--emulator-port",
            "0",
            "--azurite-ports",
            "0,0,0",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
    )
    lines: list[str] = []
    try:
        deadline = time.monotonic() + 40
        assert process.stdout is not None
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            lines.append(line.rstrip())
            if line.startswith("Press Ctrl-C"):
                break
        text = "\n".join(lines)
        assert "sioless local stack is up." in text, text
        chat = re.search(r"Chat sample:\s+(http://\S+/api/chat)", text)
        inspector = re.search(r"inspector (http://\S+/inspector)", text)
        assert chat and inspector, text
        assert httpx.get(chat.group(1), timeout=5).status_code == 200
        assert httpx.get(inspector.group(1), timeout=5).status_code == 200
        pids = [int(pid) for pid in re.findall(r"\b(?:azurite|emulator|devhost) (\d+)", text.split("PIDs:")[1])]
        assert len(pids) == 3 and all(_alive(pid) for pid in pids)
        # Azurite runs with telemetry off and keeps its data in the app's git-ignored .azurite/ folder.
        azurite = re.search(r"\bazurite (\d+)", text.split("PIDs:")[1])
        assert azurite, text
        argv = Path(f"/proc/{azurite.group(1)}/cmdline").read_bytes().split(b"\0")
        assert b"--disableTelemetry" in argv
        assert argv[argv.index(b"--location") + 1] == bytes(ROOT / ".azurite")
        assert ".azurite/" in (ROOT / ".gitignore").read_text().splitlines()
        process.send_signal(signal.SIGINT)
        assert process.wait(20) == 0
        assert not [pid for pid in pids if _alive(pid)]
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_busy_port_is_a_clear_message() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        run = run_module("devhost.stack", "--devhost-port", str(port), "--emulator-port", "0", "--no-azurite")
    assert run.returncode == 1
    assert f"Port {port} (dev host) is already in use" in run.stderr
    assert "--devhost-port" in run.stderr


def test_devhost_busy_port_is_a_clear_message() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        run = run_module("devhost", "--app-dir", str(ROOT / "tests/fixtures/apps/raw"), "--port", str(port))
    assert run.returncode == 3
    assert f"Cannot listen on 127.0.0.1:{port}" in run.stdout


def test_devhost_refuses_a_broken_app_with_the_worker_message(tmp_path: Path) -> None:
    (tmp_path / "function_app.py").write_text("import azure.functions as func\n")
    run = run_module("devhost", "--app-dir", str(tmp_path), "--port", "0")
    assert run.returncode == 2
    assert "Could not find top level function app instances in function_app.py." in run.stdout


def test_devhost_with_instances_refuses_a_broken_app_the_same_way(tmp_path: Path) -> None:
    """Behind the front the exit code and the worker's message are the single dev host's."""
    (tmp_path / "function_app.py").write_text("import azure.functions as func\n")
    run = run_module("devhost", "--app-dir", str(tmp_path), "--port", "0", "--instances", "2", timeout=60)
    assert run.returncode == 2, run.stdout + run.stderr
    assert "Could not find top level function app instances in function_app.py." in run.stdout


def test_missing_tools_are_named(tmp_path: Path) -> None:
    with pytest.raises(StackError, match=r"Azurite .* is not installed \(run `make setup`"):
        check_tools(tmp_path, azurite=True)
    check_tools(tmp_path, azurite=False)  # Python side present: no error


def _port_with_time_wait() -> int:
    """A port whose server just closed with a connection left in TIME_WAIT (the server closed first).

    The server sets SO_REUSEADDR, as uvicorn (the dev host, the emulator) and node do: the TIME_WAIT entry keeps
    that flag, and only then may a new SO_REUSEADDR listener bind next to it."""
    with socket.socket() as server:
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        client = socket.create_connection(("127.0.0.1", port))
        accepted, _ = server.accept()
        accepted.close()  # the active close: this side's (127.0.0.1:port, client) pair goes to TIME_WAIT
        client.recv(1)
        client.close()
    return port


def test_port_check_tolerates_time_wait() -> None:
    port = _port_with_time_wait()
    with socket.socket() as plain:  # what the check did before: a bind without SO_REUSEADDR
        with pytest.raises(OSError):
            plain.bind(("127.0.0.1", port))
    assert port_is_free(port)
    with socket.socket() as listener:  # a listener still counts as busy
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", port))
        listener.listen()
        assert not port_is_free(port)


def test_stack_starts_at_once_on_a_port_in_time_wait() -> None:
    """`make run` again right after Ctrl-C: the dev host port still has connections in TIME_WAIT."""
    port = _port_with_time_wait()
    process = subprocess.Popen(
        [sys.executable, "-m", "devhost.stack", "--devhost-port", str(port), "--emulator-port", "0", "--no-azurite"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
    )
    try:
        assert process.stdout is not None
        lines = []
        for line in process.stdout:
            lines.append(line.rstrip())
            if line.startswith("Press Ctrl-C") or "devhost.stack:" in line:
                break
        assert "sioless local stack is up." in lines, "\n".join(lines)
        assert httpx.get(f"http://127.0.0.1:{port}/api/chat", timeout=5).status_code == 200
        process.send_signal(signal.SIGINT)
        assert process.wait(20) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_sigint_to_the_group_stops_a_stack_started_in_the_background() -> None:
    """`make run &` from a script: the shell hands the stack SIGINT ignored. Ctrl-C (SIGINT to the whole process
    group) must still stop it as a stop (exit 0), not as children that crashed (exit 1)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "devhost.stack", "--devhost-port", "0", "--emulator-port", "0", "--no-azurite"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
        start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )
    try:
        assert process.stdout is not None
        lines = []
        for line in process.stdout:
            lines.append(line.rstrip())
            if line.startswith("Press Ctrl-C") or "devhost.stack:" in line:
                break
        text = "\n".join(lines)
        assert "sioless local stack is up." in lines, text
        pids = [int(pid) for pid in re.findall(r"\b(?:emulator|devhost) (\d+)", text.split("PIDs:")[1])]
        assert len(pids) == 2, text
        os.killpg(process.pid, signal.SIGINT)
        rest, _ = process.communicate(timeout=20)
        assert process.returncode == 0, rest
        assert "Stopping the stack..." in rest
        assert not [pid for pid in pids if _alive(pid)]
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
