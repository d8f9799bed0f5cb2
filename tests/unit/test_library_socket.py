"""Socket, BroadcastOperator and Emitter produce exactly the action JSON of docs/protocol.md#output-actions."""

from __future__ import annotations

import json
from typing import Any

import pytest

from shared import Emitter, SiolessError, Socket, UnsupportedError
from tests.fixtures.outputs import RecordingOut


def socket(ns: str = "/", sid: str = "s1", **kwargs: Any) -> Socket:
    return Socket(sid, ns, "hub", **kwargs)


def test_emit_to_self_is_send_to_socket() -> None:
    s = socket("/ns")
    s.emit("event", 1, "abc")
    assert s.actions == [
        {
            "actionName": "sendToSocket",
            "namespace": "/ns",
            "socketId": "s1",
            "eventName": "event",
            "parameters": [1, "abc"],
        }
    ]


def test_to_from_a_socket_excludes_the_sender() -> None:
    s = socket()
    s.to("r").emit("e", "x")
    s.in_(["r", "r2"]).emit("e")
    s.to("r").to("r2").except_("bad").emit("e")
    assert s.actions == [
        {"actionName": "sendToRooms", "namespace": "/", "rooms": ["r"], "eventName": "e", "parameters": ["x"],
         "exceptRooms": ["s1"]},
        {"actionName": "sendToRooms", "namespace": "/", "rooms": ["r", "r2"], "eventName": "e", "parameters": [],
         "exceptRooms": ["s1"]},
        {"actionName": "sendToRooms", "namespace": "/", "rooms": ["r", "r2"], "eventName": "e", "parameters": [],
         "exceptRooms": ["s1", "bad"]},
    ]  # fmt: skip


def test_broadcast_and_except_and_server_emit() -> None:
    s = socket("/ns")
    s.broadcast.emit("b", {"k": 1})
    s.except_("x").emit("c")
    s.server.emit("d")
    s.server.to("r").emit("e")
    assert s.actions == [
        {"actionName": "sendToNamespace", "namespace": "/ns", "eventName": "b", "parameters": [{"k": 1}],
         "exceptRooms": ["s1"]},
        {"actionName": "sendToNamespace", "namespace": "/ns", "eventName": "c", "parameters": [],
         "exceptRooms": ["s1", "x"]},
        {"actionName": "sendToNamespace", "namespace": "/ns", "eventName": "d", "parameters": []},
        {"actionName": "sendToRooms", "namespace": "/ns", "rooms": ["r"], "eventName": "e", "parameters": []},
    ]  # fmt: skip


def test_join_leave_disconnect() -> None:
    s = socket()
    s.join("a")
    s.join(["b", "c"])
    s.leave("a")
    s.disconnect()
    s.disconnect(close=True)
    assert s.actions == [
        {"actionName": "addSocketToRoom", "namespace": "/", "socketId": "s1", "room": "a"},
        {"actionName": "addSocketToRoom", "namespace": "/", "socketId": "s1", "room": "b"},
        {"actionName": "addSocketToRoom", "namespace": "/", "socketId": "s1", "room": "c"},
        {"actionName": "removeSocketFromRoom", "namespace": "/", "socketId": "s1", "room": "a"},
        {"actionName": "disconnectSockets", "namespace": "/", "rooms": ["s1"], "closeUnderlyingConnection": False},
        {"actionName": "disconnectSockets", "namespace": "/", "rooms": ["s1"], "closeUnderlyingConnection": True},
    ]


def test_room_wide_and_namespace_wide_disconnect() -> None:
    s = socket()
    s.to("r").disconnect_sockets(close=True)
    s.server.disconnect_sockets()
    assert s.actions == [
        {"actionName": "disconnectSockets", "namespace": "/", "rooms": ["r"], "closeUnderlyingConnection": True},
        {"actionName": "disconnectSockets", "namespace": "/", "closeUnderlyingConnection": False},
    ]
    with pytest.raises(UnsupportedError, match="exceptRooms"):
        s.server.except_("x").disconnect_sockets()


def test_emitter_excludes_nobody_and_flushes_once() -> None:
    out = RecordingOut()
    with Emitter("/", hub="chat", out=out) as emitter:
        emitter.to("r").emit("e", 1)
    assert out.values == [
        json.dumps({"actionName": "sendToRooms", "namespace": "/", "rooms": ["r"], "eventName": "e", "parameters": [1]})
    ]
    emitter = Emitter("/")
    emitter.emit("a")
    emitter.of("/other").emit("b")
    value = emitter.flush(out)
    assert isinstance(value, list) and [a["namespace"] for a in value] == ["/", "/other"]
    assert out.values[-1] == value
    assert emitter.flush(out) is None and len(out.values) == 2  # nothing pending: nothing set


def test_emitter_context_manager_does_not_flush_on_error() -> None:
    out = RecordingOut()
    with pytest.raises(RuntimeError), Emitter(out=out) as emitter:
        emitter.emit("a")
        raise RuntimeError("boom")
    assert out.values == []


def test_binary_arguments_are_refused_with_a_reason() -> None:
    s = socket()
    for bad in (b"x", bytearray(b"x"), {"nested": [b"x"]}):
        with pytest.raises(UnsupportedError, match="binary"):
            s.emit("e", bad)
    with pytest.raises(UnsupportedError, match="binary"):
        Emitter().to("r").emit("e", b"x")
    assert s.actions == []


def test_non_json_arguments_and_bad_names_are_refused() -> None:
    s = socket()
    with pytest.raises(SiolessError, match="not JSON-serializable"):
        s.emit("e", object())
    with pytest.raises(ValueError, match="reserved"):
        s.emit("connect")
    with pytest.raises(ValueError, match="non-empty"):
        s.emit("")
    with pytest.raises(ValueError, match="non-empty"):
        s.to("")
    with pytest.raises(ValueError, match="at least one"):
        s.to([])


def test_server_to_client_acks_are_refused() -> None:
    s = socket()
    with pytest.raises(UnsupportedError, match="acknowledgements"):
        s.emit("e", callback=lambda *a: None)
    with pytest.raises(UnsupportedError, match="acknowledgements"):
        s.call("e")
    with pytest.raises(UnsupportedError, match="acknowledgements"):
        s.to("r").emit("e", callback=print)
    with pytest.raises(UnsupportedError, match="acknowledgements"):
        Emitter().call("e")


def test_connecting_socket_without_greetings_refuses_self_operations() -> None:
    # A connect handler registered without the `connected` companion (greets=False, or acting through a helper
    # the registration could not see): its own-socket actions could reach nobody, so they raise.
    s = socket(connecting=True)
    for operation in (lambda: s.emit("e"), lambda: s.join("r"), lambda: s.leave("r")):
        with pytest.raises(UnsupportedError, match=r"greets=True"):
            operation()
    with pytest.raises(UnsupportedError, match="refuse the socket instead"):
        s.disconnect()
    s.broadcast.emit("someone is connecting")  # others can still be told
    assert len(s.actions) == 1


def test_connecting_socket_with_greetings_records_self_operations() -> None:
    from shared._greeting import GREETS

    s = socket(connecting=True)
    s.state[GREETS] = True  # what the dispatch sets when the blueprint has the `connected` companion
    s.emit("hello", "world")
    s.join("lobby")
    s.leave("lobby")
    assert [a["actionName"] for a in s.actions] == ["sendToSocket", "addSocketToRoom", "removeSocketFromRoom"]
    with pytest.raises(UnsupportedError, match="refuse the socket instead"):
        s.disconnect()


def test_wildcard_namespace_is_refused() -> None:
    with pytest.raises(UnsupportedError, match="wildcard"):
        Emitter("*")
    with pytest.raises(ValueError, match="starting with '/'"):
        Emitter("ns")


def test_other_sockets_by_id_share_the_actions() -> None:
    s = socket("/ns")
    s.server.socket("other").join("r")
    s.server.socket("other").emit("hi")
    assert [a["socketId"] for a in s.actions] == ["other", "other"]
    assert s.actions[0] == {"actionName": "addSocketToRoom", "namespace": "/ns", "socketId": "other", "room": "r"}
    with pytest.raises(ValueError, match="socket id"):
        s.server.socket("")
