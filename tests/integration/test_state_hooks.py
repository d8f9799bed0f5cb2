"""SocketIOBlueprint(sessions=True, presence=True): the wrapper's hooks against a real Azurite.

The generated functions are called the way the worker calls them (trigger JSON string + an output binding).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest

from devhost.stack import ManagedProcess, storage_connection_string
from shared import AckError, ConnectRequest, Socket, SocketIOBlueprint, configure_storage, presence, sessions
from tests.fixtures.outputs import RecordingOut, invoke_async, user_functions
from tests.fixtures.recorded import free_port

pytestmark = pytest.mark.integration


def build(hub: str, custom: bool) -> dict[str, Callable[..., Any]]:
    sio = SocketIOBlueprint(hub=hub, sessions=True, presence=True)
    if custom:

        @sio.on_connect()
        def connect(socket: Socket, request: ConnectRequest) -> None:
            assert socket.user_id == request.user_id
            socket.save_session({"name": request.query.get_one("name")})

        @sio.on_disconnect()
        async def gone(socket: Socket, reason: str) -> None:
            session = await socket.get_session_async()
            seen.append((session, presence.count(socket.hub), reason))

    @sio.on("join")
    def join(socket: Socket, room: str) -> dict[str, Any]:
        socket.join(room)
        return {"name": socket.get_session().get("name"), "user": socket.user_id}

    @sio.on("rename")
    async def rename(socket: Socket, name: str) -> None:
        if not name:
            raise AckError("empty")
        await socket.save_session_async({"name": name})

    seen: list[Any] = []
    functions = user_functions(sio)
    functions["seen"] = seen  # type: ignore[assignment]
    return functions


async def call(functions: dict[str, Any], name: str, data: dict[str, Any]) -> tuple[Any, RecordingOut]:
    return await invoke_async(functions[name], data)


def names(functions: dict[str, Any], hub: str) -> dict[str, str]:
    keys = [k for k in functions if k != "seen"]
    return {e: next(k for k in keys if k.lower().endswith(e)) for e in ("connect", "disconnected", "join", "rename")}


@pytest.mark.parametrize("custom", [True, False], ids=["own-handlers", "default-handlers"])
async def test_connect_event_disconnect_keep_sessions_and_presence(azurite: ManagedProcess, custom: bool) -> None:
    hub = f"h{os.urandom(4).hex()}"
    functions = build(hub, custom)
    n = names(functions, hub)
    connect = {"namespace": "/", "socketId": "s1", "claims": {"sub": ["alice"]}, "query": {"name": ["Al"]}}
    assert (await call(functions, n["connect"], connect))[0] == {"statusCode": 200}
    assert presence.sockets(hub) == ["s1"] and sessions.user_id(hub, "/", "s1") == "alice"

    event = {"namespace": "/", "socketId": "s1", "eventName": "join", "parameters": ["room1"], "payload": '42/,1["j"]'}
    reply, out = await call(functions, n["join"], event)
    assert reply == {"ack": [{"name": "Al" if custom else None, "user": "alice"}]}
    assert out.actions()[0]["actionName"] == "addSocketToRoom"
    assert presence.members(hub, "/", "room1") == ["s1"]

    rename = dict(event, eventName="rename", parameters=["Bo"])
    assert (await call(functions, n["rename"], rename))[0] == {}
    assert sessions.get(hub, "/", "s1") == {"name": "Bo"}

    bye = {"namespace": "/", "socketId": "s1", "reason": "client namespace disconnect"}
    assert (await call(functions, n["disconnected"], bye))[0] == {}
    assert presence.sockets(hub) == [] and presence.members(hub, "/", "room1") == []
    if custom:
        assert functions["seen"] == [({"name": "Bo"}, 0, "client namespace disconnect")]

    # An event from a socket the store no longer knows: error ack, nothing sent.
    reply, out = await call(functions, n["join"], event)
    assert "is not connected" in reply["ack"][0]["error"] and out.get() is None


async def test_storage_down_refuses_connect_and_answers_events_with_an_error(azurite: ManagedProcess) -> None:
    hub = f"h{os.urandom(4).hex()}"
    functions = build(hub, True)
    n = names(functions, hub)
    connect = {"namespace": "/", "socketId": "s2", "claims": {"sub": ["bob"]}}
    assert (await call(functions, n["connect"], connect))[0] == {"statusCode": 200}
    try:
        configure_storage(storage_connection_string(free_port(), free_port(), free_port()))
        assert (await call(functions, n["connect"], dict(connect, socketId="s3")))[0] == {"statusCode": 503}
        event = {"namespace": "/", "socketId": "s2", "eventName": "join", "parameters": ["r"], "payload": '42/,1["j"]'}
        reply, out = await call(functions, n["join"], event)
        assert "storage is unavailable" in reply["ack"][0]["error"] and out.get() is None
    finally:
        configure_storage(storage_connection_string(*azurite.ready["ports"]))
    reply, out = await call(functions, n["join"], event)
    assert reply["ack"][0]["user"] == "bob" and presence.members(hub, "/", "r") == ["s2"]
