"""Greeting in connect (shared._greeting): which actions wait for ``connected``, which connect handlers get the
``connected`` companion, and what the blueprint registers for them. Storage round trips: tests/integration/
test_state_greeting.py; the whole stack: tests/integration/test_greeting_stack.py."""

from __future__ import annotations

import json
from typing import Any

import azure.functions as func
import pytest

from shared import ConnectRefused, Socket, SocketIOBlueprint
from shared import compat as socketio
from shared._actions import ActionList
from shared._greeting import concerns, may_greet, split

SID = "s1"


def to_socket(sid: str = SID, ns: str = "/") -> dict[str, Any]:
    return {"actionName": "sendToSocket", "namespace": ns, "socketId": sid, "eventName": "e", "parameters": []}


def to_namespace(ns: str = "/", except_rooms: list[str] | None = None) -> dict[str, Any]:
    action: dict[str, Any] = {"actionName": "sendToNamespace", "namespace": ns, "eventName": "e", "parameters": []}
    if except_rooms:
        action["exceptRooms"] = except_rooms
    return action


def to_rooms(rooms: list[str], except_rooms: list[str] | None = None) -> dict[str, Any]:
    action: dict[str, Any] = {
        "actionName": "sendToRooms",
        "namespace": "/",
        "rooms": rooms,
        "eventName": "e",
        "parameters": [],
    }
    if except_rooms:
        action["exceptRooms"] = except_rooms
    return action


def join(room: str, sid: str = SID) -> dict[str, Any]:
    return {"actionName": "addSocketToRoom", "namespace": "/", "socketId": sid, "room": room}


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        (to_socket(), True),
        (to_socket("other"), False),
        (to_socket(ns="/admin"), False),  # another namespace: another socket
        (join("lobby"), True),
        (join("lobby", "other"), False),
        ({"actionName": "removeSocketFromRoom", "namespace": "/", "socketId": SID, "room": "r"}, True),
        (to_rooms([SID]), True),  # python-socketio's emit(..., to=sid)
        (to_rooms(["lobby"]), False),
        (to_rooms([SID, "lobby"], except_rooms=[SID]), False),
        (to_namespace(), True),  # python-socketio and socket.io deliver it to the connecting socket too
        (to_namespace(except_rooms=[SID]), False),  # skip_sid=sid / socket.broadcast
        (to_namespace("/admin"), False),
        ({"actionName": "disconnectSockets", "namespace": "/", "rooms": ["lobby"]}, False),
        ({"actionName": "disconnectSockets", "namespace": "/"}, True),
    ],
)
def test_which_actions_concern_the_connecting_socket(action: dict[str, Any], expected: bool) -> None:
    assert concerns(action, SID, "/") is expected  # type: ignore[arg-type]


def test_split_keeps_order_and_defers_from_the_first_action_for_the_connecting_socket() -> None:
    first = to_namespace(except_rooms=[SID])  # "someone arrived" to the others: runs at once
    greeting = to_socket()
    later = [to_namespace(except_rooms=[SID]), join("lobby"), to_rooms(["lobby"])]
    actions = ActionList([first, greeting, *later])  # type: ignore[list-item]
    now, deferred = split(actions, SID, "/")
    assert now == [first]
    assert deferred == [greeting, *later]  # nothing after the greeting overtakes it
    assert split(ActionList([first]), SID, "/") == ([first], [])  # type: ignore[list-item]


class Namespaced(socketio.AsyncNamespace):
    async def on_connect(self, sid: str, environ: dict[str, Any]) -> None:
        await self.emit("hello", to=sid)


def test_may_greet_reads_the_handler_s_own_code() -> None:
    def greets(socket: Socket) -> None:
        socket.emit("hello", "world")

    def joins_in_a_lambda(socket: Socket) -> None:
        (lambda: socket.join("r"))()

    def checks_only(socket: Socket, request: Any) -> None:
        if not request.user_id:
            raise ConnectRefused("sign in first")

    async def compat_style(sid: str, environ: dict[str, Any]) -> None:
        await sio.enter_room(sid, "lobby")

    sio: Any = None
    assert may_greet(greets) and may_greet(joins_in_a_lambda) and may_greet(compat_style)
    assert may_greet(Namespaced("/x").on_connect)
    assert not may_greet(checks_only)


def _functions(bp: Any) -> dict[str, dict[str, Any]]:
    app = func.FunctionApp()
    app.register_functions(bp)
    return {
        f.get_function_name(): {"bindings": [json.loads(raw) for raw in f.get_raw_bindings()]}
        for f in app.get_functions()
    }


def _connected(functions: dict[str, dict[str, Any]], ns: str = "/") -> list[str]:
    return [
        name
        for name, fn in functions.items()
        for binding in fn["bindings"]
        if binding.get("eventName") == "connected" and binding.get("namespace") == ns
    ]


def test_a_greeting_connect_handler_gets_a_connected_function_and_others_do_not() -> None:
    bp = SocketIOBlueprint(hub="g")

    @bp.on_connect()
    def connect(socket: Socket) -> None:
        socket.emit("hello")

    @bp.on_connect(namespace="/quiet")
    def quiet(socket: Socket, request: Any) -> None:
        if not request.user_id:
            raise ConnectRefused()

    functions = _functions(bp)
    assert _connected(functions) == ["g__connected"]
    assert _connected(functions, "/quiet") == []  # costs nothing: no function, no webhook, no read
    trigger = next(b for b in functions["g__connected"]["bindings"] if b["type"] == "socketiotrigger")
    assert trigger == {
        "direction": "IN",
        "dataType": "STRING",
        "type": "socketiotrigger",
        "name": "sio",
        "hub": "g",
        "namespace": "/",
        "eventName": "connected",
    }


def test_greets_overrides_the_reading_and_the_app_s_connected_handler_is_kept() -> None:
    bp = SocketIOBlueprint(hub="g")
    calls: list[str] = []

    def helper(socket: Socket) -> None:
        socket.emit("hello")

    @bp.on_connect(greets=True)
    def connect(socket: Socket) -> None:
        helper(socket)

    @bp.on_connected()  # registered after: replaces the blueprint's default, keeps the greeting
    def connected(socket: Socket) -> None:
        calls.append(socket.id)

    @bp.on_connect(namespace="/never", greets=False)
    def never(socket: Socket) -> None:
        socket.emit("hello")

    functions = _functions(bp)
    assert _connected(functions) == ["g__connected"]
    assert _connected(functions, "/never") == []
    spec = next(s for s in bp.handlers if s.kind == "connected")
    assert spec.handler is connected and spec.greetings is not None and "/" in spec.greetings


def test_compat_server_greets_when_its_connect_handler_emits() -> None:
    sio = socketio.AsyncServer(state=False)

    @sio.event
    async def connect(sid: str, environ: dict[str, Any]) -> None:
        await sio.emit("hello", "world", to=sid)

    quiet = socketio.AsyncServer(state=False, namespaces=["/"])

    @quiet.event
    async def connect_quiet(sid: str) -> None: ...

    quiet.on("connect", lambda sid, environ: None)
    assert _connected(_functions(sio)) == ["socketio__connected"]
    assert _connected(_functions(quiet)) == []
