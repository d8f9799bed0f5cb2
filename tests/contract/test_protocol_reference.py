"""Pins ``shared.protocol`` to the facts and test vectors of docs/protocol.md (not to our own components)."""

from __future__ import annotations

import pytest

from shared.protocol import (
    ActionError,
    ConnectionString,
    ConnectionStringError,
    PacketError,
    RestCall,
    action_to_rest_calls,
    b64url_encode,
    encode_ack,
    encode_disconnect,
    encode_event,
    group_name,
    parse_actions,
    parse_event_payload,
    parse_group_name,
    signature_header,
    signature_matches,
    signature_of,
)

# docs/protocol.md#group-names test vectors (they agree with the protocol spec and the extension's collector tests).
B64URL_VECTORS = [
    ("/", "Lw"),
    ("/ns", "L25z"),
    ("rm", "cm0"),
    ("rm2", "cm0y"),
    ("socketId", "c29ja2V0SWQ"),
    ("socket1", "c29ja2V0MQ"),
    ("sid", "c2lk"),
    ("ex1", "ZXgx"),
]


@pytest.mark.parametrize(("text", "encoded"), B64URL_VECTORS)
def test_b64url_vectors(text: str, encoded: str) -> None:
    assert b64url_encode(text) == encoded


def test_group_name_vectors() -> None:
    assert group_name("/") == "0~Lw~"
    assert group_name("/ns") == "0~L25z~"
    assert group_name("/ns", "rm") == "0~L25z~cm0"
    assert group_name("/ns", "socketId") == "0~L25z~c29ja2V0SWQ"
    assert group_name("/", "socket1") == "0~Lw~c29ja2V0MQ"


def test_group_names_round_trip_and_reject_foreign_groups() -> None:
    assert parse_group_name("0~L25z~cm0") == ("/ns", "rm")
    assert parse_group_name("0~Lw~") == ("/", None)
    assert parse_group_name(group_name("/chat", "salle 1 ✓")) == ("/chat", "salle 1 ✓")
    assert parse_group_name("plain-group") is None
    assert parse_group_name("1~Lw~") is None


# docs/protocol.md#signatures: the extension's test vector, reproducible with hmac.
SIG_KEY = "7aab239577fd4f24bc919802fb629f5f"
SIG_CONNECTION = "0f9c97a2f0bf4706afe87a14e0797b11"
SIG_EXPECTED = "sha256=7767effcb3946f3e1de039df4b986ef02c110b1469d02c0a06f41b3b727ab561"


def test_signature_vector() -> None:
    assert signature_of(SIG_KEY, SIG_CONNECTION) == SIG_EXPECTED


@pytest.mark.parametrize(
    "header",
    [
        SIG_EXPECTED,
        f"sha256=something,{SIG_EXPECTED}",
        f"sha256=something, {SIG_EXPECTED}",
        f"{SIG_EXPECTED},sha256=something",
        SIG_EXPECTED.upper().replace("SHA256=", "sha256="),  # the extension compares case-insensitively
    ],
)
def test_signature_multi_value_forms_accepted(header: str) -> None:
    assert signature_matches(header, SIG_KEY, SIG_CONNECTION)


@pytest.mark.parametrize("header", [None, "", "sha256=00", "sha256=something,sha256=other"])
def test_signature_mismatch_refused(header: str | None) -> None:
    assert not signature_matches(header, SIG_KEY, SIG_CONNECTION)


def test_signature_header_carries_both_keys() -> None:
    header = signature_header([SIG_KEY, "secondary"], SIG_CONNECTION)
    assert header.split(",")[0] == SIG_EXPECTED
    assert signature_matches(header, "secondary", SIG_CONNECTION)


# docs/protocol.md#user-events: the user-event body and the extension's parsing rules.
@pytest.mark.parametrize(
    ("payload", "namespace", "ack_id", "event", "arguments"),
    [
        ('42["hello","world"]', "/", None, "hello", ["world"]),
        ('4213["hello","world"]', "/", 13, "hello", ["world"]),
        ('42/chat,13["hello","world"]', "/chat", 13, "hello", ["world"]),
        ('42["ping"]', "/", None, "ping", None),
    ],
)
def test_parse_event_payload(payload: str, namespace: str, ack_id: int | None, event: str, arguments: object) -> None:
    packet = parse_event_payload(payload)
    assert (packet.namespace, packet.ack_id, packet.event, packet.arguments) == (namespace, ack_id, event, arguments)


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ("bBASE64", "Binary data"),
        ('43["x"]', "Invalid Socket.IO message type"),
        ('45-["x",{"_placeholder":true,"num":0}]', "Invalid Socket.IO message type"),
        ("42not json", "not JSON"),
        ("42{}", "non-empty JSON array"),
        ("42/chat", "namespace"),
        ("", "Empty"),
    ],
)
def test_parse_event_payload_refusals(payload: str, message: str) -> None:
    with pytest.raises(PacketError, match=message):
        parse_event_payload(payload)


def test_ack_and_event_encoding() -> None:
    assert encode_ack("/", 13, ["bar"]) == '4313["bar"]'
    assert encode_ack("/chat", 13, ["bar"]) == '43/chat,13["bar"]'
    assert encode_event("/ns", "event", [1, "abc", {"a": 1, "b": True}]) == '42/ns,["event",1,"abc",{"a":1,"b":true}]'
    assert encode_disconnect("/") == "41"
    assert encode_disconnect("/ns") == "41/ns,"
    assert encode_disconnect("/ns", close=True) == '41/ns,{"close":true}'


# docs/protocol.md#output-actions: the concrete strings of the extension's collector tests.
def test_send_to_one_room() -> None:
    action = {
        "actionName": "sendToRooms",
        "namespace": "/ns",
        "rooms": ["rm"],
        "eventName": "event",
        "parameters": ["abc"],
    }
    assert action_to_rest_calls(action) == [
        RestCall("sendToGroup", '42/ns,["event","abc"]', group="0~L25z~cm0", filter="")
    ]


def test_send_to_one_room_except() -> None:
    action = {
        "actionName": "sendToRooms",
        "namespace": "/ns",
        "rooms": ["rm"],
        "eventName": "event",
        "parameters": ["abc"],
        "exceptRooms": ["sid"],
    }
    assert action_to_rest_calls(action)[0].filter == "not ('0~L25z~c2lk' in groups)"


def test_send_to_several_rooms_uses_unparenthesised_filter() -> None:
    action = {
        "actionName": "sendToRooms",
        "namespace": "/ns",
        "rooms": ["rm", "rm2"],
        "eventName": "event",
        "parameters": ["abc"],
        "exceptRooms": ["ex1"],
    }
    assert action_to_rest_calls(action) == [
        RestCall(
            "sendToAll",
            '42/ns,["event","abc"]',
            filter="'0~L25z~cm0' in groups or '0~L25z~cm0y' in groups and not ('0~L25z~ZXgx' in groups)",
        )
    ]


def test_send_to_socket_and_namespace() -> None:
    to_socket = {"actionName": "sendToSocket", "namespace": "/ns", "socketId": "socket1", "eventName": "e"}
    assert action_to_rest_calls(to_socket) == [
        RestCall("sendToGroup", '42/ns,["e"]', group="0~L25z~c29ja2V0MQ", filter=None)
    ]
    to_namespace = {"actionName": "sendToNamespace", "namespace": "/ns", "eventName": "e", "parameters": []}
    assert action_to_rest_calls(to_namespace) == [RestCall("sendToGroup", '42/ns,["e"]', group="0~L25z~", filter="")]


def test_add_and_remove_socket_room() -> None:
    add = {"actionName": "addSocketToRoom", "namespace": "/ns", "socketId": "socket1", "room": "rm1"}
    (call,) = action_to_rest_calls(add)
    assert call.operation == "addToGroups"
    assert call.body == {"groups": ["0~L25z~cm0x"], "filter": "'0~L25z~c29ja2V0MQ' in groups"}
    (call,) = action_to_rest_calls({**add, "actionName": "removeSocketFromRoom"})
    assert call.operation == "removeFromGroups"


def test_disconnect_sockets() -> None:
    base = {"actionName": "disconnectSockets", "namespace": "/ns", "rooms": ["socket1", "socket2"]}
    assert action_to_rest_calls(base) == [
        RestCall("sendToAll", "41/ns,", filter="'0~L25z~c29ja2V0MQ' in groups or '0~L25z~c29ja2V0Mg' in groups")
    ]
    assert action_to_rest_calls({**base, "closeUnderlyingConnection": True})[0].body == '41/ns,{"close":true}'
    assert action_to_rest_calls({**base, "namespace": "/"})[0].body == "41"
    whole = action_to_rest_calls({"actionName": "disconnectSockets", "namespace": "/ns"})
    assert whole[0].filter == "'0~L25z~' in groups"


def test_action_name_is_matched_case_insensitively_and_type_is_refused() -> None:
    assert action_to_rest_calls({"ActionName": "SENDTONAMESPACE", "namespace": "/", "eventName": "e"})
    with pytest.raises(ActionError, match="actionName"):
        action_to_rest_calls({"type": "SendToNamespace", "eventName": "e"})
    with pytest.raises(ActionError, match="Not supported SocketIOAction: SendToRoom"):
        action_to_rest_calls({"actionName": "SendToRoom", "rooms": ["r"], "eventName": "e"})


@pytest.mark.parametrize(
    ("action", "message"),
    [
        ({"actionName": "sendToRooms", "rooms": "rm", "eventName": "e"}, "rooms"),
        ({"actionName": "sendToRooms", "rooms": [], "eventName": "e"}, "at least one"),
        ({"actionName": "sendToNamespace", "eventName": "e", "parameters": "x"}, "parameters"),
        ({"actionName": "sendToNamespace"}, "eventName"),
        ({"actionName": "sendToSocket", "eventName": "e"}, "socketId"),
        ({"actionName": "addSocketToRoom", "socketId": "s"}, "room"),
        ({"actionName": "disconnectSockets", "closeUnderlyingConnection": "yes"}, "closeUnderlyingConnection"),
    ],
)
def test_bad_actions_are_refused_with_the_field_named(action: dict[str, object], message: str) -> None:
    with pytest.raises(ActionError, match=message):
        action_to_rest_calls(action)


def test_parse_actions_accepts_object_or_array() -> None:
    one = '{"actionName":"sendToNamespace","namespace":"/","eventName":"e"}'
    assert len(parse_actions(one)) == 1
    assert len(parse_actions(f"[{one},{one}]")) == 2
    assert len(parse_actions([{"actionName": "sendToSocket"}])) == 1
    with pytest.raises(ActionError, match="not JSON"):
        parse_actions("{nope")
    with pytest.raises(ActionError, match="JSON object"):
        parse_actions("[1]")


# docs/protocol.md#extension-settings: connection-string parsing.
def test_connection_string_with_port_override() -> None:
    parsed = ConnectionString.parse("Endpoint=http://localhost;Port=8080;AccessKey=abc=;Version=1.0;")
    assert parsed.endpoint == "http://localhost:8080"
    assert parsed.host == "localhost"
    assert parsed.access_key == "abc="
    assert "abc" not in repr(parsed)


def test_connection_string_trailing_slash_and_identity_form() -> None:
    parsed = ConnectionString.parse("endpoint=https://x.webpubsub.azure.com/;Version=1.0")
    assert parsed.endpoint == "https://x.webpubsub.azure.com"
    assert parsed.access_key is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("AccessKey=abc", "no Endpoint"),
        ("Endpoint=http://a;endpoint=http://b", "duplicate"),
        ("Endpoint=http://a;Port=0", "Port"),
        ("Endpoint=ftp://a", "http"),
        ("Endpoint=http://a;garbage", "no '='"),
    ],
)
def test_connection_string_refusals(text: str, message: str) -> None:
    with pytest.raises(ConnectionStringError, match=message):
        ConnectionString.parse(text)


def test_protocol_public_surface_is_curated() -> None:
    import shared.protocol as protocol

    assert protocol.__all__ == sorted(protocol.__all__, key=str.casefold)
    assert all(hasattr(protocol, name) for name in protocol.__all__)
