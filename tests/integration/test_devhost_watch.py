"""The dev loop: a change under the app folder restarts the dev host instances (as ``func start`` restarts its
host), while the emulator keeps the clients: a client connected before the edit keeps its connection and ids and
gets answers from the new code. A change that breaks the app keeps the previous instances serving."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from devhost.pytest_plugin import close_client, connect_client
from devhost.stack import Stack

pytestmark = pytest.mark.integration

APP = """
import json

import azure.functions as func
from azure.functions.decorators.core import DataType

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)
VERSION = "v1"


@app.generic_trigger(arg_name="sio", type="socketiotrigger", data_type=DataType.STRING, hub="chat", eventName="connect")
def on_connect(sio: str) -> str:
    return json.dumps({"statusCode": 200})


@app.generic_trigger(arg_name="sio", type="socketiotrigger", data_type=DataType.STRING, hub="chat", eventName="version")
def version(sio: str) -> str:
    return json.dumps({"ack": [VERSION, json.loads(sio)["socketId"]]})


@app.route(route="chat/negotiate")
@app.generic_input_binding(arg_name="negotiation", type="socketionegotiation", hub="chat", userId="{query.userId}")
def negotiate(req: func.HttpRequest, negotiation: str) -> func.HttpResponse:
    return func.HttpResponse(negotiation, mimetype="application/json")
"""


@pytest.fixture
def watched_stack(tmp_path: Path) -> Iterator[Stack]:
    (tmp_path / "function_app.py").write_text(APP)
    (tmp_path / "host.json").write_text('{"version": "2.0"}')
    with Stack(app_dir=tmp_path, azurite_ports=None, watch=True) as stack:
        yield stack


async def _logged(stack: Stack, text: str, after: int, timeout: float = 30.0) -> None:
    lines = stack.outputs()["devhost"]
    deadline = asyncio.get_running_loop().time() + timeout
    while not any(text in line for line in lines[after:]):
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{text!r} not logged within {timeout} s:\n" + "\n".join(lines[after:][-30:]))
        await asyncio.sleep(0.05)


async def test_edit_restarts_the_instances_and_clients_stay(watched_stack: Stack) -> None:
    app = watched_stack.app_dir / "function_app.py"
    client = await connect_client(watched_stack.devhost_url, "alice")
    try:
        sid = client.get_sid()
        version, socket_id = await client.call("version", timeout=5)
        assert version == "v1"
        before = watched_stack.instance_pids()

        mark = len(watched_stack.outputs()["devhost"])
        app.write_text(APP.replace('VERSION = "v1"', 'VERSION = "v2"'))
        await _logged(watched_stack, "Restarted:", mark)
        assert "Detected a change in function_app.py" in "\n".join(watched_stack.outputs()["devhost"][mark:])
        assert set(watched_stack.instance_pids()).isdisjoint(before)
        # The same connection and socket, new code.
        assert client.connected and client.get_sid() == sid
        assert await client.call("version", timeout=5) == ("v2", socket_id)

        # A change that cannot load: the previous instances keep serving, and say so.
        mark = len(watched_stack.outputs()["devhost"])
        app.write_text(APP.replace('VERSION = "v1"', "VERSION = (  # unclosed"))
        await _logged(watched_stack, "the previous instances keep serving", mark)
        assert await client.call("version", timeout=5) == ("v2", socket_id)

        mark = len(watched_stack.outputs()["devhost"])
        (watched_stack.app_dir / "host.json").write_text('{"version": "2.0", "functionTimeout": "00:00:20"}')
        app.write_text(APP.replace('VERSION = "v1"', 'VERSION = "v3"'))
        await _logged(watched_stack, "Restarted:", mark)
        assert await client.call("version", timeout=5) == ("v3", socket_id)
    finally:
        await close_client(client)
