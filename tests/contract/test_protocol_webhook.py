"""One spelling of the webhook envelope (``shared.protocol.webhook``), pinned to docs/protocol.md#webhooks, and the
two Socket.IO packet parsers in use (ours in ``shared.protocol``, python-socketio's in the emulator) agreeing
on shared vectors (docs/protocol.md#packet-format)."""

from __future__ import annotations

from typing import Any

import pytest
from socketio import packet as sio_packet

from shared.protocol import encode_ack, encode_disconnect, encode_event, parse_event_payload, webhook


def test_envelope_names_are_the_documented_ones() -> None:
    assert webhook.WEBHOOK_PATH == "/runtime/webhooks/socketio"
    assert webhook.client_path("chat") == "/clients/socketio/hubs/chat"
    assert [webhook.hub_of_client_path(p) for p in ("/clients/socketio/hubs/chat", "/clients/socketio/hubs/chat/")] == [
        "chat",
        "chat",
    ]
    assert webhook.hub_of_client_path("/clients/socketio/hubs/") is None
    assert webhook.hub_of_client_path("/client/hubs/chat") is None
    assert webhook.REQUIRED_HEADERS == (
        "ce-connectionId",
        "ce-hub",
        "ce-type",
        "ce-eventName",
        "WebHook-Request-Origin",
        "ce-namespace",
        "ce-socketId",
    )
    assert (webhook.ORIGIN, webhook.ALLOWED_ORIGIN) == ("WebHook-Request-Origin", "WebHook-Allowed-Origin")
    assert (webhook.CE_SIGNATURE, webhook.CE_USER_ID) == ("ce-signature", "ce-userId")
    assert webhook.CONNECT_BODY_KEYS == ("claims", "query", "subprotocols", "clientCertificates", "headers")
    assert webhook.DISCONNECTED_REASON == "reason"
    assert webhook.SYSTEM_EVENTS == ("connect", "connected", "disconnected")
    assert webhook.NAME_IDENTIFIER_CLAIM == "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier"


def test_event_types_and_the_prefix_rule() -> None:
    assert webhook.event_type("connect") == "azure.webpubsub.sys.connect"
    assert webhook.event_type("disconnected") == "azure.webpubsub.sys.disconnected"
    assert webhook.event_type("chat") == "azure.webpubsub.user.message"
    assert webhook.is_system_type("Azure.WebPubSub.Sys.anything")  # only the prefix is read
    assert not webhook.is_system_type(webhook.USER_MESSAGE_TYPE)


@pytest.mark.parametrize(
    ("value", "entries"),
    [
        ("a.com", ["a.com"]),
        ("a.com,b.com", ["a.com", "b.com"]),
        ("sha256=x, sha256=y", ["sha256=x", "sha256=y"]),
        (" a  b ,,c ", ["a", "b", "c"]),
        ("", []),
        (None, []),
    ],
)
def test_header_lists_split_on_commas_and_whitespace(value: str | None, entries: list[str]) -> None:
    assert webhook.split_header_list(value) == entries


# (namespace, event, arguments, ack id): one set of vectors for both parsers
VECTORS: list[tuple[str, str, list[Any], int | None]] = [
    ("/", "hello", ["world"], None),
    ("/", "hello", ["world"], 13),
    ("/chat", "hello", ["world"], 13),
    ("/chat", "e", [], None),
    ("/ns", "e", [1, "abc", {"a": 1, "b": True}, None, [1.5]], 0),
    ("/ns", "é ü", ["日本", {"k": "\u2028"}], 7),
]


@pytest.mark.parametrize(("namespace", "event", "arguments", "ack_id"), VECTORS)
def test_python_socketio_packets_parse_the_same_with_ours(
    namespace: str, event: str, arguments: list[Any], ack_id: int | None
) -> None:
    text = sio_packet.Packet(sio_packet.EVENT, data=[event, *arguments], namespace=namespace, id=ack_id).encode()
    ours = parse_event_payload("4" + text)  # the webhook body: the Engine.IO message type, then the packet
    assert (ours.namespace, ours.ack_id, ours.event, ours.arguments or []) == (namespace, ack_id, event, arguments)


@pytest.mark.parametrize(("namespace", "event", "arguments", "ack_id"), VECTORS)
def test_our_packets_parse_the_same_with_python_socketio(
    namespace: str, event: str, arguments: list[Any], ack_id: int | None
) -> None:
    emitted = sio_packet.Packet(encoded_packet=encode_event(namespace, event, arguments)[1:])
    assert (emitted.packet_type, emitted.namespace or "/", emitted.data) == (
        sio_packet.EVENT,
        namespace,
        [event, *arguments],
    )
    if ack_id is not None:
        acked = sio_packet.Packet(encoded_packet=encode_ack(namespace, ack_id, arguments)[1:])
        assert (acked.packet_type, acked.namespace or "/", acked.id, acked.data) == (
            sio_packet.ACK,
            namespace,
            ack_id,
            arguments,
        )
    ascii_only = all(ord(char) < 128 for char in repr([event, *arguments]))
    if ascii_only:  # byte for byte, where JSON escaping cannot differ (python-socketio escapes non-ASCII)
        expected = sio_packet.Packet(sio_packet.EVENT, data=[event, *arguments], namespace=namespace).encode()
        assert encode_event(namespace, event, arguments) == "4" + expected


@pytest.mark.parametrize("namespace", ["/", "/ns"])
def test_disconnect_packets_agree(namespace: str) -> None:
    ours = sio_packet.Packet(encoded_packet=encode_disconnect(namespace)[1:])
    assert (ours.packet_type, ours.namespace or "/") == (sio_packet.DISCONNECT, namespace)
    assert encode_disconnect(namespace) == "4" + sio_packet.Packet(sio_packet.DISCONNECT, namespace=namespace).encode()
