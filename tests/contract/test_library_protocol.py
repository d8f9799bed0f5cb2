"""Contract: the trigger JSON of docs/protocol.md#trigger-payloads, fed through REAL registered functions, gives exactly
the
output-binding values (docs/protocol.md#output-actions field names) and return strings (docs/protocol.md#return-values)
the extension expects, and the actions map
to the concrete REST strings listed in docs/protocol.md#output-actions (checked with
``shared.protocol.action_to_rest_calls``)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import azure.functions as func
import pytest

from shared import Socket, SocketIOBlueprint
from shared.protocol import RestCall, action_to_rest_calls, encode_ack, parse_actions, parse_event_payload
from tests.fixtures.outputs import RecordingOut
from tests.fixtures.real_app import load_real_app

sio = SocketIOBlueprint(hub="hub", namespace="/ns")


@sio.on_connect(namespace="/")
@sio.on_connect()
def connect(socket: Socket) -> None: ...


@sio.on_connected(namespace="/")
@sio.on_connected()
def connected(socket: Socket) -> None: ...


@sio.on_disconnect(namespace="/")
@sio.on_disconnect()
def disconnected(socket: Socket, reason: str) -> None: ...


@sio.on("server to")
def server_to(socket: Socket, rooms: list[str], except_rooms: list[str], params: list[Any]) -> None:
    operator = socket.server.to(rooms)
    if except_rooms:
        operator = operator.except_(except_rooms)
    operator.emit("event", *params)


@sio.on("to")
def to(socket: Socket, rooms: list[str], *params: Any) -> None:
    socket.to(rooms).emit("event", *params)


@sio.on("self")
async def to_self(socket: Socket, *params: Any) -> None:
    socket.emit("event", *params)


@sio.on("namespace")
def namespace(socket: Socket) -> None:
    socket.server.emit("event")


@sio.on("join")
def join(socket: Socket, room: str) -> None:
    socket.join(room)


@sio.on("kick")
def kick(socket: Socket, rooms: list[str], close: bool) -> None:
    (socket.server.to(rooms) if rooms else socket.server).disconnect_sockets(close=close)


@sio.on("bye", namespace="/")
def bye(socket: Socket) -> None:
    socket.disconnect()


@sio.on("foo", namespace="/")
@sio.on("foo")
def foo(socket: Socket) -> str:
    return "bar"


@sio.route("upload", methods=["POST"])
@sio.emitter_output("out")
def upload(req: func.HttpRequest, out: func.Out[str]) -> func.HttpResponse:
    with sio.emitter(out) as emitter:
        emitter.to("rm").emit("uploaded", req.get_body().decode())
        emitter.of("/").emit("count", 1)
    return func.HttpResponse("ok")


app = func.FunctionApp()
app.register_functions(sio)
FUNCTIONS = {f.get_function_name(): f for f in app.get_functions()}
BY_EVENT = {(spec.namespace, spec.event): FUNCTIONS[spec.function_name] for spec in sio.handlers}


def invoke(ns: str, event: str, data: dict[str, Any]) -> tuple[str, list[Any]]:
    out = RecordingOut()
    result = BY_EVENT[(ns, event)].get_user_function()(json.dumps(data), out)
    if asyncio.iscoroutine(result):
        result = asyncio.run(result)
    return result, out.values


def user_event(ns: str, sid: str, event: str, *params: Any, ack_id: int | None = None) -> dict[str, Any]:
    """docs/protocol.md#trigger-payloads user-event JSON, with the raw payload the service sends
    (docs/protocol.md#user-events)."""
    prefix = "" if ns == "/" else f"{ns},"
    ack = "" if ack_id is None else str(ack_id)
    payload = "42" + prefix + ack + json.dumps([event, *params], separators=(",", ":"))
    return {
        "namespace": ns,
        "socketId": sid,
        "payload": payload,
        "eventName": event,
        "parameters": list(params) or None,
    }


def one_action(values: list[Any]) -> dict[str, Any]:
    assert len(values) == 1 and isinstance(values[0], str)  # one action: one JSON object string
    (action,) = parse_actions(values[0])
    assert json.loads(values[0]) == action
    return action


# -- return values (docs/protocol.md#return-values)
# ------------------------------------------------------------------------------------


@pytest.mark.parametrize("ns", ["/", "/ns"])
def test_connect_connected_disconnected_returns(ns: str) -> None:
    connect_json = {
        "namespace": ns,
        "socketId": "sid",
        "claims": {"sub": ["alice"]},
        "query": {"EIO": ["4"]},
        "headers": {"User-Agent": ["node"]},
        "clientCertificates": [{"thumbprint": "", "content": ""}],
    }
    assert invoke(ns, "connect", connect_json) == ('{"statusCode": 200}', [])
    assert invoke(ns, "connected", {"namespace": ns, "socketId": "sid"}) == ("{}", [])
    assert invoke(ns, "disconnected", {"namespace": ns, "socketId": "sid", "reason": ""}) == ("{}", [])


@pytest.mark.parametrize(("ns", "wire"), [("/", '4313["bar"]'), ("/ns", '43/ns,13["bar"]')])
def test_ack_with_and_without_ack_id(ns: str, wire: str) -> None:
    with_id = user_event(ns, "sid", "foo", ack_id=13)
    result, values = invoke(ns, "foo", with_id)
    assert result == '{"ack": ["bar"]}' and values == []
    reply = json.loads(result)
    assert isinstance(reply, dict) and isinstance(reply["ack"], list)  # JObject.Parse, ack is an array
    packet = parse_event_payload(with_id["payload"])
    assert packet.ack_id == 13 and packet.namespace == ns
    assert "4" + encode_ack(ns, packet.ack_id, reply["ack"]) == "4" + wire  # what the extension sends back
    # Without an ack id the extension ignores the value; the function still answers a JSON object.
    without = user_event(ns, "sid", "foo")
    assert parse_event_payload(without["payload"]).ack_id is None
    assert invoke(ns, "foo", without) == ('{"ack": ["bar"]}', [])


# -- actions (docs/protocol.md#output-actions)
# ------------------------------------------------------------------------------------------


def test_send_to_rooms_one_room() -> None:
    _, values = invoke("/ns", "server to", user_event("/ns", "sid", "server to", ["rm"], [], ["abc"]))
    action = one_action(values)
    assert action == {"actionName": "sendToRooms", "namespace": "/ns", "rooms": ["rm"], "eventName": "event",
                      "parameters": ["abc"]}  # fmt: skip
    assert action_to_rest_calls(action) == [RestCall("sendToGroup", '42/ns,["event","abc"]', "0~L25z~cm0", "")]


def test_send_to_rooms_from_a_socket_excludes_it() -> None:
    _, values = invoke("/ns", "to", user_event("/ns", "sid", "to", ["rm"], "abc"))
    action = one_action(values)
    assert action["exceptRooms"] == ["sid"]
    assert action_to_rest_calls(action) == [
        RestCall("sendToGroup", '42/ns,["event","abc"]', "0~L25z~cm0", "not ('0~L25z~c2lk' in groups)")
    ]


def test_send_to_two_rooms_with_except() -> None:
    _, values = invoke("/ns", "server to", user_event("/ns", "sid", "server to", ["rm", "rm2"], ["ex1"], ["abc"]))
    (call,) = action_to_rest_calls(one_action(values))
    assert call.operation == "sendToAll"
    assert call.filter == "'0~L25z~cm0' in groups or '0~L25z~cm0y' in groups and not ('0~L25z~ZXgx' in groups)"


def test_parameters_are_encoded_compactly() -> None:
    params = [1, "abc", {"a": 1, "b": True}]
    _, values = invoke("/ns", "server to", user_event("/ns", "sid", "server to", ["rm"], [], params))
    (call,) = action_to_rest_calls(one_action(values))
    assert call.body == '42/ns,["event",1,"abc",{"a":1,"b":true}]'


def test_send_to_socket() -> None:
    _, values = invoke("/ns", "self", user_event("/ns", "socket1", "self", "x"))
    action = one_action(values)
    assert action == {"actionName": "sendToSocket", "namespace": "/ns", "socketId": "socket1", "eventName": "event",
                      "parameters": ["x"]}  # fmt: skip
    assert action_to_rest_calls(action) == [RestCall("sendToGroup", '42/ns,["event","x"]', "0~L25z~c29ja2V0MQ", None)]


def test_send_to_namespace() -> None:
    _, values = invoke("/ns", "namespace", user_event("/ns", "sid", "namespace"))
    action = one_action(values)
    assert action == {"actionName": "sendToNamespace", "namespace": "/ns", "eventName": "event", "parameters": []}
    assert action_to_rest_calls(action) == [RestCall("sendToGroup", '42/ns,["event"]', "0~L25z~", "")]


def test_add_socket_to_room() -> None:
    _, values = invoke("/ns", "join", user_event("/ns", "socket1", "join", "rm1"))
    action = one_action(values)
    assert action == {"actionName": "addSocketToRoom", "namespace": "/ns", "socketId": "socket1", "room": "rm1"}
    (call,) = action_to_rest_calls(action)
    assert (call.operation, call.body) == (
        "addToGroups",
        {"groups": ["0~L25z~cm0x"], "filter": "'0~L25z~c29ja2V0MQ' in groups"},
    )


@pytest.mark.parametrize(
    ("rooms", "close", "body", "filter_"),
    [
        (["socket1", "socket2"], False, "41/ns,", "'0~L25z~c29ja2V0MQ' in groups or '0~L25z~c29ja2V0Mg' in groups"),
        (["socket1", "socket2"], True, '41/ns,{"close":true}', None),
        ([], False, "41/ns,", "'0~L25z~' in groups"),
    ],
)
def test_disconnect_sockets(rooms: list[str], close: bool, body: str, filter_: str | None) -> None:
    _, values = invoke("/ns", "kick", user_event("/ns", "sid", "kick", rooms, close))
    action = one_action(values)
    assert action["actionName"] == "disconnectSockets" and action["namespace"] == "/ns"
    assert action["closeUnderlyingConnection"] is close
    (call,) = action_to_rest_calls(action)
    assert (call.operation, call.body) == ("sendToAll", body)
    if filter_ is not None:
        assert call.filter == filter_


def test_disconnect_on_the_default_namespace() -> None:
    _, values = invoke("/", "bye", user_event("/", "socket1", "bye"))
    action = one_action(values)
    assert action == {"actionName": "disconnectSockets", "namespace": "/", "rooms": ["socket1"],
                      "closeUnderlyingConnection": False}  # fmt: skip
    assert action_to_rest_calls(action) == [RestCall("sendToAll", "41", None, "'0~Lw~c29ja2V0MQ' in groups")]


# -- the chat sample through function_app --------------------------------------------------------------------


@pytest.fixture(scope="module")
def chat() -> dict[str, Any]:
    return {f.get_function_name(): f.get_user_function() for f in load_real_app().get_functions()}


def _chat(chat: dict[str, Any], name: str, data: dict[str, Any]) -> tuple[str, list[Any]]:
    out = RecordingOut()
    return chat[name](json.dumps(data), out), out.values


def test_chat_connect_requires_a_user_id(chat: dict[str, Any]) -> None:
    base = {"namespace": "/", "socketId": "s1", "query": {}, "headers": {}, "clientCertificates": []}
    assert _chat(chat, "chat__connect", {**base, "claims": {"sub": ["alice"]}}) == ('{"statusCode": 200}', [])
    assert _chat(chat, "chat__connect", {**base, "claims": {}}) == ('{"statusCode": 401}', [])


def test_chat_join_message_typing(chat: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIOLESS_CHAT_EVENTS_PER_SECOND", "0")  # the rate limit needs Table storage (docs/limits.md)
    result, values = _chat(chat, "chat__join", user_event("/", "s1", "join", "lobby", "alice", ack_id=1))
    ack = json.loads(result)["ack"][0]
    assert ack["ok"] is True and ack["room"] == "lobby" and isinstance(ack["ts"], int)
    assert len(values) == 1 and isinstance(values[0], list)  # several actions: one write of a list
    join_action, system = parse_actions(values[0])
    assert join_action == {"actionName": "addSocketToRoom", "namespace": "/", "socketId": "s1", "room": "lobby"}
    assert system["actionName"] == "sendToRooms" and system["exceptRooms"] == ["s1"]
    assert system["parameters"][0]["text"] == "alice joined"

    message = user_event("/", "s1", "chat message", "lobby", "hi", "alice", ack_id=2)
    result, values = _chat(chat, "chat__chat_message-0dce084d2361", message)
    ack = json.loads(result)["ack"][0]
    assert ack["ok"] is True and len(ack["id"]) == 16 and isinstance(ack["ts"], int)
    action = one_action(values)
    assert action["rooms"] == ["lobby"] and action["exceptRooms"] == ["s1"]
    assert action["parameters"][0] == {"id": ack["id"], "room": "lobby", "from": "alice", "text": "hi", "ts": ack["ts"]}
    (call,) = action_to_rest_calls(action)
    assert call.group == "0~Lw~bG9iYnk" and call.filter == "not ('0~Lw~czE' in groups)"

    result, values = _chat(chat, "chat__typing", user_event("/", "s1", "typing", "lobby", "alice"))
    assert result == "{}" and one_action(values)["eventName"] == "typing"

    result, values = _chat(
        chat, "chat__chat_message-0dce084d2361", user_event("/", "s1", "chat message", "lobby", "", "a")
    )
    assert json.loads(result) == {"ack": [{"error": "text must be a non-empty string"}]} and values == []


# -- emitting from an HTTP function ----------------------------------------------------------------------------


def test_emitter_output_binding_and_one_write() -> None:
    function = FUNCTIONS["upload"]
    bindings = json.loads(function.get_function_json())["bindings"]
    assert {"direction": "OUT", "dataType": "STRING", "type": "socketio", "name": "out", "hub": "hub"} in bindings
    out = RecordingOut()
    request = func.HttpRequest(method="POST", url="/api/upload", body=b"file.png")
    response = function.get_user_function()(request, out)
    assert response.status_code == 200
    assert len(out.values) == 1 and isinstance(out.values[0], list)  # two actions -> one write of a list
    first, second = parse_actions(out.values[0])
    assert first == {
        "actionName": "sendToRooms",
        "namespace": "/ns",
        "rooms": ["rm"],
        "eventName": "uploaded",
        "parameters": ["file.png"],
    }  # fmt: skip  (Emitter.to excludes nobody)
    assert second == {"actionName": "sendToNamespace", "namespace": "/", "eventName": "count", "parameters": [1]}
    assert action_to_rest_calls(first) == [RestCall("sendToGroup", '42/ns,["uploaded","file.png"]', "0~L25z~cm0", "")]
