"""Output actions -> the REST calls of docs/protocol.md#output-actions, recorded by a plain HTTP server posing as the
service.

The expected strings are the extension's own test strings and the official client's recorded requests
(docs/protocol.md#actions-to-rest-calls);
each request's JWT is checked (HS256 with the AccessKey's UTF-8 bytes, aud = the full request URL, exp).
"""

from __future__ import annotations

import json
import time
from urllib.parse import parse_qs, quote, unquote

import jwt
import pytest

from tests.fixtures.devhost_support import KEY, devhost_client, recording_service
from tests.fixtures.recorded import Recorded

URL = "/runtime/webhooks/socketio"
CONNECTION_ID = "conn1"


def event_headers(event: str) -> dict[str, str]:
    from shared.protocol import signature_header

    return {
        "WebHook-Request-Origin": "localhost",
        "Content-Type": "text/plain",
        "ce-type": "azure.webpubsub.user.message",
        "ce-connectionId": CONNECTION_ID,
        "ce-hub": "chat",
        "ce-eventName": event,
        "ce-namespace": "/",
        "ce-socketId": "sid",
        "ce-signature": signature_header([KEY, "secondary"], CONNECTION_ID),
    }


async def run_actions(actions: object) -> list[Recorded]:
    """Send a `shout` event whose handler sets `actions` on its socketio output; return the recorded calls."""
    async with recording_service() as service, devhost_client(service.connection_string) as (_, client):
        payload = "421" + json.dumps(["shout", actions], separators=(",", ":"))
        response = await client.post(URL, headers=event_headers("shout"), content=payload.encode())
        assert response.status_code == 200, response.text
        assert response.text == '431["sent"]'
        return list(service.calls)


def check_jwt(call: Recorded, port: int) -> None:
    scheme, token = call.headers["authorization"].split(" ", 1)
    assert scheme == "Bearer"
    url = f"http://localhost:{port}{call.path}" + (f"?{call.raw_query}" if call.raw_query else "")
    claims = jwt.decode(token, KEY.encode(), algorithms=["HS256"], options={"verify_aud": False})
    assert unquote(claims["aud"]) == unquote(url)
    assert claims["exp"] > time.time()


def query(call: Recorded) -> dict[str, list[str]]:
    return parse_qs(call.raw_query, keep_blank_values=True)


async def test_send_to_rooms_one_room() -> None:
    calls = await run_actions(
        {"actionName": "sendToRooms", "namespace": "/ns", "rooms": ["rm"], "eventName": "event", "parameters": ["abc"]}
    )
    [call] = calls
    assert (call.method, call.path) == ("POST", "/api/hubs/chat/groups/0~L25z~cm0/:send")
    assert call.body == b'42/ns,["event","abc"]'
    assert call.headers["content-type"] == "text/plain"
    # The extension passes an empty filter (docs/protocol.md#output-actions): sent as `filter=`.
    assert query(call)["filter"] == [""]


async def test_send_to_rooms_except_rooms_filter() -> None:
    [call] = await run_actions(
        {
            "actionName": "sendToRooms",
            "namespace": "/ns",
            "rooms": ["rm"],
            "eventName": "event",
            "parameters": ["abc"],
            "exceptRooms": ["sid"],
        }
    )
    assert query(call)["filter"] == ["not ('0~L25z~c2lk' in groups)"]


async def test_send_to_rooms_many_rooms_is_send_to_all_without_parentheses() -> None:
    [call] = await run_actions(
        {
            "actionName": "sendToRooms",
            "namespace": "/ns",
            "rooms": ["rm", "rm2"],
            "eventName": "event",
            "parameters": [1, "abc", {"a": 1, "b": True}],
            "exceptRooms": ["ex1"],
        }
    )
    assert call.path == "/api/hubs/chat/:send"
    assert query(call)["filter"] == [
        "'0~L25z~cm0' in groups or '0~L25z~cm0y' in groups and not ('0~L25z~ZXgx' in groups)"
    ]
    assert call.body == b'42/ns,["event",1,"abc",{"a":1,"b":true}]'


async def test_send_to_socket_has_no_filter() -> None:
    [call] = await run_actions(
        {"actionName": "sendToSocket", "namespace": "/ns", "socketId": "socket1", "eventName": "e", "parameters": []}
    )
    assert call.path == "/api/hubs/chat/groups/0~L25z~c29ja2V0MQ/:send"
    assert "filter" not in query(call)
    assert call.body == b'42/ns,["e"]'


async def test_send_to_namespace() -> None:
    [call] = await run_actions({"actionName": "sendToNamespace", "namespace": "/ns", "eventName": "e"})
    assert call.path == "/api/hubs/chat/groups/0~L25z~/:send"
    assert query(call)["filter"] == [""]


async def test_add_and_remove_socket_to_room_and_jwt() -> None:
    calls = await run_actions(
        [
            {"actionName": "addSocketToRoom", "namespace": "/ns", "socketId": "socket1", "room": "rm1"},
            {"actionName": "RemoveSocketFromRoom", "namespace": "/ns", "socketId": "socket1", "room": "rm1"},
        ]
    )
    assert [c.path for c in calls] == ["/api/hubs/chat/:addToGroups", "/api/hubs/chat/:removeFromGroups"]
    for call in calls:
        assert call.method == "POST"
        assert call.headers["content-type"].startswith("application/json")
        assert json.loads(call.body) == {"groups": ["0~L25z~cm0x"], "filter": "'0~L25z~c29ja2V0MQ' in groups"}
        assert "api-version" in query(call)


@pytest.mark.parametrize(
    ("action", "body", "filter_"),
    [
        (
            {"rooms": ["socket1", "socket2"], "namespace": "/ns"},
            b"41/ns,",
            "'0~L25z~c29ja2V0MQ' in groups or '0~L25z~c29ja2V0Mg' in groups",
        ),
        ({"rooms": ["socket1"], "namespace": "/"}, b"41", "'0~Lw~c29ja2V0MQ' in groups"),
        ({"namespace": "/ns", "closeUnderlyingConnection": True}, b'41/ns,{"close":true}', "'0~L25z~' in groups"),
    ],
)
async def test_disconnect_sockets(action: dict, body: bytes, filter_: str) -> None:
    [call] = await run_actions(dict(action, actionName="disconnectSockets"))
    assert call.path == "/api/hubs/chat/:send"
    assert call.body == body
    assert query(call)["filter"] == [filter_]


async def test_every_call_carries_a_valid_jwt() -> None:
    async with recording_service() as service, devhost_client(service.connection_string) as (_, client):
        actions = [
            {"actionName": "sendToRooms", "namespace": "/", "rooms": ["a", "b"], "eventName": "e"},
            {"actionName": "addSocketToRoom", "namespace": "/", "socketId": "s", "room": "r"},
        ]
        payload = "421" + json.dumps(["shout", actions])
        response = await client.post(URL, headers=event_headers("shout"), content=payload.encode())
        assert response.status_code == 200
        assert len(service.calls) == 2
        for call in service.calls:
            check_jwt(call, service.port)


async def test_http_function_output_binding_and_str_value() -> None:
    async with recording_service() as service, devhost_client(service.connection_string) as (_, client):
        action = {"actionName": "sendToNamespace", "namespace": "/", "eventName": "news", "parameters": [14000.5]}
        response = await client.post("/api/broadcast", content=json.dumps(action))
        assert response.status_code == 202
        [call] = service.calls
        assert call.path == "/api/hubs/chat/groups/0~Lw~/:send"
        assert call.body == b'42["news",14000.5]'
        check_jwt(call, service.port)


async def test_invalid_action_fails_the_invocation_without_rest_calls() -> None:
    async with recording_service() as service, devhost_client(service.connection_string) as (_, client):
        payload = "421" + json.dumps(["shout", {"type": "SendToRoom", "rooms": ["x"]}])
        response = await client.post(URL, headers=event_headers("shout"), content=payload.encode())
        assert response.status_code == 500
        assert "actionName" in response.text
        assert service.calls == []


def test_quote_sanity() -> None:
    # The recorded query is URL-encoded by the SDK; parse_qs decodes it (spaces, quotes, ~).
    assert parse_qs("filter=" + quote("'0~Lw~' in groups"))["filter"] == ["'0~Lw~' in groups"]


async def test_output_value_as_list_and_as_dict() -> None:
    async with recording_service() as service, devhost_client(service.connection_string) as (_, client):
        # `join` sets a Python list of two actions, `say` a dict (docs/protocol.md#worker-indexing-and-checks: dict/list
        # go out as JSON).
        response = await client.post(URL, headers=event_headers("join"), content=b'421["join","rm"]')
        assert response.text == '431["rm"]'
        response = await client.post(URL, headers=event_headers("say"), content=b'422["say","rm","hi"]')
        assert response.text == '432["ok"]'
        assert [c.path for c in service.calls] == [
            "/api/hubs/chat/:addToGroups",
            "/api/hubs/chat/groups/0~Lw~cm0/:send",
            "/api/hubs/chat/groups/0~Lw~cm0/:send",
        ]
        assert json.loads(service.calls[0].body) == {"groups": ["0~Lw~cm0"], "filter": "'0~Lw~c2lk' in groups"}
        assert service.calls[1].body == b'42["joined","sid","rm"]'
        assert service.calls[2].body == b'42["said","hi"]'
