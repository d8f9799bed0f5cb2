"""Socket.IO packets as the emulator reads and writes them, with python-socketio's parser and encoder.

The service side of docs/protocol.md#packet-format; ``tests/contract/test_protocol_webhook.py`` checks that this
parser and ``shared.protocol``'s (the extension's rules) agree on shared vectors.
"""

from __future__ import annotations

from socketio.packet import ACK, BINARY_ACK, BINARY_EVENT, CONNECT, CONNECT_ERROR, DISCONNECT, EVENT, Packet

__all__ = [
    "ACK",
    "BINARY_ACK",
    "BINARY_EVENT",
    "BINARY_REFUSAL",
    "CONNECT",
    "CONNECT_ERROR",
    "connect_ack",
    "connect_error",
    "DISCONNECT",
    "disconnect",
    "EVENT",
    "is_binary",
    "Packet",
    "PACKET_NAMES",
    "PacketRefused",
    "parse_sio",
]

PACKET_NAMES = {
    CONNECT: "CONNECT",
    DISCONNECT: "DISCONNECT",
    EVENT: "EVENT",
    ACK: "ACK",
    CONNECT_ERROR: "CONNECT_ERROR",
    BINARY_EVENT: "BINARY_EVENT",
    BINARY_ACK: "BINARY_ACK",
}
BINARY_REFUSAL = "binary payloads are not supported by Web PubSub for Socket.IO in serverless mode"


class PacketRefused(ValueError):
    """A Socket.IO packet the emulator will not forward; the message says why."""


def parse_sio(text: str) -> Packet:
    """Parse one Socket.IO packet with python-socketio; refuse unknown types and malformed packets."""
    if not text or not text[0].isdigit():
        raise PacketRefused(f"not a Socket.IO packet (starts with {text[:1]!r})")
    try:
        pkt = Packet(encoded_packet=text)
    except (ValueError, TypeError) as exc:
        raise PacketRefused(f"malformed Socket.IO packet ({exc})") from None
    if pkt.packet_type not in PACKET_NAMES:
        raise PacketRefused(f"unknown Socket.IO packet type {pkt.packet_type}")
    pkt.namespace = pkt.namespace or "/"
    return pkt


def is_binary(pkt: Packet) -> bool:
    return pkt.packet_type in (BINARY_EVENT, BINARY_ACK)


def connect_error(namespace: str, message: str) -> str:
    """``44[/ns,]{"message": ...}``: a refused namespace connection (docs/protocol.md#refused-connect)."""
    return str(Packet(CONNECT_ERROR, data={"message": message}, namespace=namespace).encode())


def connect_ack(namespace: str, socket_id: str) -> str:
    """``40[/ns,]{"sid": ...}``: the accepted namespace connection."""
    return str(Packet(CONNECT, data={"sid": socket_id}, namespace=namespace).encode())


def disconnect(namespace: str) -> str:
    """``41[/ns,]``: the socket is disconnected (no payload in Socket.IO v5)."""
    return str(Packet(DISCONNECT, namespace=namespace).encode())
