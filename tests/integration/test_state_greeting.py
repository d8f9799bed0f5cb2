"""Greeting in connect against a real Azurite: the connect function keeps the actions for its socket in the Table
store, the ``connected`` function (called separately, as on another instance) runs them first; a refused socket
keeps nothing. The generated functions are called the way the worker calls them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from shared import ConnectRequest, Socket, SocketIOBlueprint, presence, sessions
from shared import compat as socketio
from tests.fixtures.outputs import invoke, user_functions

pytestmark = pytest.mark.integration


def call(fn: Callable[..., Any], data: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    result, out = invoke(fn, data)
    return result, out.actions()


def connect_data(sid: str, ns: str = "/", **query: str) -> dict[str, Any]:
    return {
        "namespace": ns,
        "socketId": sid,
        "claims": {"sub": ["u"]},
        "query": {k: [v] for k, v in query.items()},
        "headers": {},
        "clientCertificates": [],
    }


def native_app(hub: str) -> dict[str, Callable[..., Any]]:
    bp = SocketIOBlueprint(hub=hub)

    @bp.on_connect()
    def connect(socket: Socket, request: ConnectRequest) -> Any:
        socket.broadcast.emit("arriving", socket.id)  # before the greeting: runs at once
        socket.emit("hello", request.query.get_one("text") or "world")
        socket.join("lobby")
        socket.server.to("lobby").emit("welcome", socket.id)  # after the greeting: waits with it
        mode = request.query.get_one("mode")
        if mode == "false":
            return False
        if mode == "boom":
            raise RuntimeError("after the emit")
        return None

    @bp.on_connected()
    async def connected(socket: Socket) -> None:
        socket.emit("ready")

    return user_functions(bp)


def test_accepted_connect_keeps_the_greeting_for_connected_in_order(azurite: Any) -> None:
    fns = native_app("greet1")
    status, now = call(fns["greet1__connect"], connect_data("a1"))
    assert status == {"statusCode": 200}
    assert [a["eventName"] for a in now] == ["arriving"]  # the others are told at once
    _, later = call(fns["greet1__connected"], {"namespace": "/", "socketId": "a1"})
    assert [(a["actionName"], a.get("eventName") or a.get("room")) for a in later] == [
        ("sendToSocket", "hello"),
        ("addSocketToRoom", "lobby"),
        ("sendToRooms", "welcome"),
        ("sendToSocket", "ready"),  # the app's own connected handler comes after
    ]
    _, again = call(fns["greet1__connected"], {"namespace": "/", "socketId": "a1"})
    assert [a["eventName"] for a in again] == ["ready"]  # taken once: a repeated event sends no second greeting


@pytest.mark.parametrize("mode", ["false", "boom"])
def test_a_refused_socket_gets_nothing(azurite: Any, mode: str) -> None:
    fns = native_app("greet2")
    sid = f"refused-{mode}"
    status, now = call(fns["greet2__connect"], connect_data(sid, mode=mode))
    assert status == {"statusCode": 401 if mode == "false" else 500}
    assert all(a.get("socketId") != sid and sid not in a.get("rooms", []) for a in now)
    _, later = call(fns["greet2__connected"], {"namespace": "/", "socketId": sid})
    assert [a["eventName"] for a in later] == ["ready"]  # no greeting was kept


def test_a_large_greeting_round_trips(azurite: Any) -> None:
    fns = native_app("greet3")
    text = "é" * 100_000  # more than one table property holds
    call(fns["greet3__connect"], connect_data("big", text=text))
    _, later = call(fns["greet3__connected"], {"namespace": "/", "socketId": "big"})
    assert later[0]["parameters"] == [text]


def test_compat_connect_greets_joins_and_saves_the_session(azurite: Any) -> None:
    sio = socketio.AsyncServer(hub="greet4")

    @sio.event
    async def connect(sid: str, environ: dict[str, Any], auth: dict[str, Any]) -> None:
        await sio.save_session(sid, {"user": auth["sub"]})
        await sio.enter_room(sid, "lobby")
        await sio.emit("hello", {"rooms": sio.rooms(sid)}, to=sid)
        await sio.emit("count", len(presence.members("greet4", "/", "lobby")) + 1, to="lobby")

    fns = user_functions(sio)
    status, now = call(fns["greet4__connect"], connect_data("c1"))
    assert status == {"statusCode": 200} and now == []
    assert sessions.get("greet4", "/", "c1") == {"user": "u"}  # stored with the socket, at connect
    assert presence.members("greet4", "/", "lobby") == []  # not in the room before it is connected
    _, later = call(fns["greet4__connected"], {"namespace": "/", "socketId": "c1"})
    assert [a["actionName"] for a in later] == ["addSocketToRoom", "sendToRooms", "sendToRooms"]
    assert later[1]["rooms"] == ["c1"] and later[1]["parameters"] == [{"rooms": ["c1", "lobby"]}]
    assert later[2]["rooms"] == ["lobby"] and later[2]["parameters"] == [1]
    assert presence.members("greet4", "/", "lobby") == ["c1"]  # recorded when it ran


def test_with_sessions_the_greeting_rides_in_the_socket_row_and_survives_a_concurrent_session_save(
    azurite: Any,
) -> None:
    from shared._sockets import TABLE, conn_key, partition
    from shared.storage import table_client

    bp = SocketIOBlueprint(hub="greet5", sessions=True)

    @bp.on_connect()
    def connect(socket: Socket) -> None:
        socket.save_session({"n": 0})
        socket.emit("hello")

    fns = user_functions(bp)
    table = table_client(TABLE)
    status, now = call(fns["greet5__connect"], connect_data("t1"))
    assert status == {"statusCode": 200} and now == []
    row = table.get_entity(partition("greet5", "/"), conn_key("t1"))
    assert row["greeting_parts"] == 1  # no row of its own: the connect hook's write carried it
    sessions.save("greet5", "/", "t1", {"n": 1})  # an event on another instance, before `connected` ran
    _, later = call(fns["greet5__connected"], {"namespace": "/", "socketId": "t1"})
    assert [a["eventName"] for a in later] == ["hello"]
    assert sessions.get("greet5", "/", "t1") == {"n": 1}  # clearing the greeting kept the session
    assert table.get_entity(partition("greet5", "/"), conn_key("t1"))["greeting_parts"] == 0
    _, again = call(fns["greet5__connected"], {"namespace": "/", "socketId": "t1"})
    assert again == []
