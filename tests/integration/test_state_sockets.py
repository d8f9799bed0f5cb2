"""Sessions and presence through emulator + dev host, with real python-socketio clients.

A small app (written to a temp folder) uses ``SocketIOBlueprint(sessions=True, presence=True)``: the user id
from the token reaches later events, the session written at connect is readable and updatable, rooms joined
in handlers show up in presence, and disconnect removes it all.
"""

from __future__ import annotations

import asyncio
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import socketio

from devhost.pytest_plugin import close_client, connect_client
from devhost.stack import Stack
from shared import configure_storage, presence, sessions

pytestmark = pytest.mark.integration

APP = """
from __future__ import annotations

import azure.functions as func

from shared import AckError, ConnectRefused, ConnectRequest, Socket, SocketIOBlueprint, presence

sio = SocketIOBlueprint(hub="state", sessions=True, presence=True)


@sio.route("negotiate")
@sio.generic_input_binding(arg_name="negotiation", type="socketionegotiation", hub="state", userId="{query.userId}")
def negotiate(req: func.HttpRequest, negotiation: str) -> func.HttpResponse:
    return func.HttpResponse(negotiation, mimetype="application/json")


@sio.on_connect()
def connect(socket: Socket, request: ConnectRequest) -> None:
    if not request.user_id:
        raise ConnectRefused("sign in")
    socket.save_session({"greeting": request.query.get_one("greeting") or "hello"})


@sio.on("whoami")
def whoami(socket: Socket) -> dict:
    return {"user": socket.user_id, "session": socket.get_session()}


@sio.on("remember")
async def remember(socket: Socket, key: str, value: str) -> dict:
    session = await socket.get_session_async()
    session[key] = value
    await socket.save_session_async(session)
    return session


@sio.on("join")
def join(socket: Socket, room: str) -> dict:
    socket.join(room)
    return {"room": room}


@sio.on("members")
async def members(socket: Socket, room: str) -> list:
    return sorted(await presence.amembers(socket.hub, socket.namespace, room))


@sio.on("fail")
def fail(socket: Socket) -> None:
    socket.join("never")
    raise AckError("no")

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)
app.register_functions(sio)
"""


@pytest.fixture(scope="module")
def stack(sioless_stack_factory: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    folder = tmp_path_factory.mktemp("state_app")
    (folder / "function_app.py").write_text(textwrap.dedent(APP))
    (folder / "host.json").write_text((Path(__file__).resolve().parents[2] / "host.json").read_text())
    stack = sioless_stack_factory(folder)
    configure_storage(stack.storage)
    yield stack
    configure_storage()


async def connect(stack: Stack, user: str | None) -> socketio.AsyncClient:
    return await connect_client(stack.devhost_url, user, negotiate_path="/api/negotiate")


async def test_user_id_and_session_reach_later_events_and_go_at_disconnect(stack: Stack) -> None:
    with pytest.raises(socketio.exceptions.ConnectionError):
        await connect(stack, None)
    ann = await connect(stack, "ann")
    bob = await connect(stack, "bob")
    try:
        assert await ann.call("whoami", timeout=5) == {"user": "ann", "session": {"greeting": "hello"}}
        assert await ann.call("remember", ("colour", "blue"), timeout=5) == {"greeting": "hello", "colour": "blue"}
        assert (await ann.call("whoami", timeout=5))["session"] == {"greeting": "hello", "colour": "blue"}
        assert (await bob.call("whoami", timeout=5)) == {"user": "bob", "session": {"greeting": "hello"}}
        assert sessions.user_id("state", "/", ann.get_sid()) == "ann"

        assert await ann.call("join", "r1", timeout=5) == {"room": "r1"}
        assert await bob.call("join", "r1", timeout=5) == {"room": "r1"}
        assert await bob.call("members", "r1", timeout=5) == sorted([ann.get_sid(), bob.get_sid()])
        assert await ann.call("fail", timeout=5) == {"error": "no"}
        # An AckError still sends the handler's actions (library rule); presence records them the same way.
        assert presence.rooms("state", "/", ann.get_sid()) == ["never", "r1"] or sorted(
            presence.rooms("state", "/", ann.get_sid())
        ) == ["never", "r1"]
        ann_sid = ann.get_sid()
    finally:
        await close_client(ann)
    for _ in range(50):
        if not presence.is_connected("state", "/", ann_sid):
            break
        await asyncio.sleep(0.1)
    assert presence.rooms("state", "/", ann_sid) == []
    assert presence.members("state", "/", "r1") == [bob.get_sid()]
    with pytest.raises(KeyError):
        sessions.get("state", "/", ann_sid)
    await close_client(bob)
