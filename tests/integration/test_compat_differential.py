"""Differential tests: python-socketio-style apps run unchanged on python-socketio and on the sioless facade.

Each app in tests/fixtures/compat_apps/ runs (a) on a real python-socketio server (uvicorn, or werkzeug for the
sync ``Server``) in this process, and (b) on the offline stack (emulator + dev host + Azurite) through
function_app.py there, which only points ``socketio_impl`` at ``shared.compat``. The same scenario
(scenarios.json) runs with python-socketio clients (compat_runner.py) and node socket.io-client (compat_runner.mjs);
the two recordings must be equal after ``normalise``, whose rules are the documented differences
(docs/migration.md "Differences you can observe").
"""

from __future__ import annotations

import asyncio
import copy
import importlib.util
import json
import shutil
import socket
import subprocess
import sys
import threading
import time
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import socketio
import uvicorn
from werkzeug.serving import make_server

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
APP_DIR = ROOT / "tests" / "fixtures" / "compat_apps"
NODE_RUNNER = ROOT / "tests" / "node" / "compat_runner.mjs"
APPS = {
    "chat": "compat_chat",
    "counter": "compat_counter",
    "spaces": "compat_namespaced",
    "gate": "compat_gate",
    "greeter": "compat_greeter",
}

sys.path.insert(0, str(APP_DIR))
import python_socketio_timers  # noqa: E402
from compat_runner import run  # noqa: E402

sys.path.remove(str(APP_DIR))


def normalise(recording: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The documented differences (docs/migration.md), applied to both recordings alike:

    1. a refused connect is compared as "refused": the message (and data) of ConnectionRefusedError does not
       reach the client in serverless mode (the connect function answers with a status code only);
    2. an ack with no arguments (python-socketio's ack of a handler returning None) equals an ack with one
       null argument (the facade's: the extension drops empty ack lists);
    3. a disconnect reason "server disconnect" equals "client disconnect": the service reports no reason for
       a normal close (docs/protocol.md#disconnected), which the facade passes on as "client disconnect".
    """
    result = copy.deepcopy(recording)
    for entry in result:
        entry.pop("message", None)
        if entry.get("ack") == []:
            entry["ack"] = [None]
        for events in entry["received"].values():
            for event in events:
                if event[1:] == ["server disconnect"]:
                    event[1] = "client disconnect"
    return result


def _load_with_python_socketio(module_name: str) -> types.ModuleType:
    """Import an app module with ``socketio_impl`` injected as python-socketio (not via the environment), plus the
    timer helper the facade offers (``sio.every``), done with python-socketio's own background task."""
    impl = types.ModuleType("socketio_impl")
    impl.socketio = python_socketio_timers.module()  # type: ignore[attr-defined]
    saved = sys.modules.get("socketio_impl")
    sys.modules["socketio_impl"] = impl
    try:
        spec = importlib.util.spec_from_file_location(f"differential_{module_name}", APP_DIR / f"{module_name}.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        if saved is None:
            sys.modules.pop("socketio_impl", None)
        else:
            sys.modules["socketio_impl"] = saved


class _Uvicorn:
    def __init__(self, app: Any) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        config = uvicorn.Config(app, lifespan="off", log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.sock.close()


class _Werkzeug:
    def __init__(self, app: Any) -> None:
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.port = self.server.server_port
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(10)


@pytest.fixture(scope="module")
def python_socketio_urls() -> Iterator[dict[str, str]]:
    servers: list[Any] = []
    urls = {}
    try:
        for app, module_name in APPS.items():
            sio = _load_with_python_socketio(module_name).sio
            if isinstance(sio, socketio.AsyncServer):
                server: Any = _Uvicorn(socketio.ASGIApp(sio))
            else:
                server = _Werkzeug(socketio.WSGIApp(sio))
            servers.append(server)
            urls[app] = f"http://127.0.0.1:{server.port}"
        yield urls
    finally:
        for server in servers:
            server.stop()


@pytest.fixture(scope="module")
def compat_stack(request: pytest.FixtureRequest, sioless_stack_factory: Any) -> Any:
    """One dev host, or three behind a front where a test is parametrized with ``compat_stack`` = 3 (indirect)."""
    return sioless_stack_factory(APP_DIR, instances=getattr(request, "param", 1))


def _assert_meaningful(app: str, oracle: list[dict[str, Any]]) -> None:
    """Two equally broken worlds would compare equal: the oracle itself must show acks with values, deliveries
    to other clients, connects and (gate) refusals, and no ack that never came."""
    assert [e["step"] for e in oracle if e.get("ack") == "timeout"] == [], f"{app}: python-socketio never acked"
    assert any(e.get("ack") not in (None, [], [None]) for e in oracle), f"{app}: no ack carried a value"
    results = {e["result"] for e in oracle if e["op"] == "connect"}
    assert "connected" in results and (app != "gate" or "refused" in results), (app, results)
    if app != "gate":
        assert any(other != e["client"] for e in oracle for other in e["received"]), f"{app}: nothing reached a peer"
    if app == "greeter":  # the greeting in connect and the timer's broadcast both happened
        names = [event[0] for e in oracle for events in e["received"].values() for event in events]
        assert "welcome" in names and "arrived" in names and names.count("tick") == 1, names


def _assert_same(app: str, oracle: list[dict[str, Any]], ours: list[dict[str, Any]]) -> None:
    _assert_meaningful(app, oracle)
    expected, got = normalise(oracle), normalise(ours)
    for left, right in zip(expected, got, strict=True):
        assert left == right, f"{app}: step {left['step']} differs\npython-socketio: {left}\nsioless:         {right}"


@pytest.mark.parametrize("compat_stack", [1, 3], indirect=True)
@pytest.mark.parametrize("app", list(APPS))
async def test_python_client_sees_the_same(app: str, python_socketio_urls: dict[str, str], compat_stack: Any) -> None:
    # Both worlds at once: they share nothing but this test's time.
    oracle, ours = await asyncio.gather(
        run(app, "direct", python_socketio_urls[app]), run(app, "sioless", compat_stack.devhost_url)
    )
    _assert_same(app, oracle, ours)


def _node(app: str, *runs: tuple[str, str]) -> list[list[dict[str, Any]]]:
    """Run the node runner once per (mode, base url), concurrently; the recordings in the same order."""
    processes = [
        subprocess.Popen(
            ["node", str(NODE_RUNNER), app, mode, base],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        for mode, base in runs
    ]
    recordings = []
    for process in processes:
        try:
            stdout, stderr = process.communicate(timeout=90)
        except subprocess.TimeoutExpired:
            process.kill()
            stdout, stderr = process.communicate()
        assert process.returncode == 0 and stdout.strip(), stderr
        recordings.append(json.loads(stdout.strip().splitlines()[-1]))
    return recordings


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed (make setup)")
@pytest.mark.parametrize("app", list(APPS))
def test_node_client_sees_the_same(app: str, python_socketio_urls: dict[str, str], compat_stack: Any) -> None:
    oracle, ours = _node(app, ("direct", python_socketio_urls[app]), ("sioless", compat_stack.devhost_url))
    _assert_same(app, oracle, ours)
