"""The ported examples (examples/) on the offline stack, each driven by its own client logic:

- socket.io's chat demo (examples/chat_demo) with the demo page's logic in node (examples/chat_demo/client.mjs),
  on three dev host instances: numUsers comes from presence, not from a module global;
- python-socketio's server example (examples/python_socketio_app) with its page's logic in a python-socketio client
  (examples/python_socketio_app/client.py): the greeting in connect, echo, broadcast, rooms, close_room, the
  background task as a timer, and the disconnect request.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed (make setup)")
def test_chat_demo_with_its_page_logic_on_three_instances(sioless_stack_factory: Any) -> None:
    stack = sioless_stack_factory(EXAMPLES / "chat_demo", instances=3)
    run = subprocess.run(
        ["node", str(ROOT / "tests" / "node" / "chat_demo_scenario.mjs"), stack.devhost_url],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert run.stdout.strip(), run.stderr[-3000:]
    result = json.loads(run.stdout.strip().splitlines()[-1])
    failed = [c for c in result["checks"] if not c["ok"]]
    assert not failed, json.dumps(failed, indent=1)
    assert run.returncode == 0 and len(result["checks"]) >= 8


def _page_class() -> Any:
    spec = importlib.util.spec_from_file_location("siodemo_client", EXAMPLES / "python_socketio_app" / "client.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.ExamplePage


async def _until(page: Any, text: str, timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while text not in page.log:
            await asyncio.sleep(0.02)


async def test_python_socketio_example_with_its_page_logic(sioless_stack_factory: Any) -> None:
    stack = sioless_stack_factory(EXAMPLES / "python_socketio_app", extra_env={"SIODEMO_BACKGROUND_SECONDS": "2"})
    page = _page_class()
    a, b = page(), page()
    try:
        await a.open(stack.devhost_url)
        await _until(a, "Connected")  # the connect handler's greeting
        await _until(a, "I'm connected!")  # the reply to what the page emits on connect
        assert sorted(a.log[:2]) == sorted(["Connected", "I'm connected!"])  # these two race: docs/api.md
        await b.open(stack.devhost_url)
        await _until(b, "I'm connected!")

        await a.echo("echo me")
        await _until(a, "echo me")
        await a.broadcast("hello all")
        await _until(a, "hello all")
        await _until(b, "hello all")

        await a.join("r1")
        await _until(a, "Entered room: r1")
        await b.send_room("r1", "to r1")  # b is not in r1 and sends to it
        await _until(a, "to r1")
        assert "to r1" not in b.log

        await b.join("r1")
        await a.close_room("r1")
        await _until(a, "Room r1 is closing.")
        await _until(b, "Room r1 is closing.")
        await b.send_room("r1", "after close")  # nobody is in r1 any more
        await a.broadcast("marker")
        await _until(a, "marker")
        assert "after close" not in a.log and "after close" not in b.log

        await a.join("r2")
        await a.leave("r2")
        await _until(a, "Left room: r2")

        await _until(a, "Server generated event", timeout=10)  # the background task, as a timer
        await _until(b, "Server generated event", timeout=10)

        await a.disconnect_request()
        await _until(a, "Disconnected")
        assert a.client.connected is False
    finally:
        for client in (a.client, b.client):
            if client.connected:
                await client.disconnect()
