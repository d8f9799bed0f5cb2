"""Socket.IO packet text as the extension writes and reads it (docs/protocol.md#user-events,
docs/protocol.md#output-actions, docs/protocol.md#packet-format).

Writing: ``42[/ns,]["event",...]`` for emits, ``43[/ns,]<id>[...]`` for acks, ``41[/ns,][{"close":true}]`` for
disconnects. Reading: the user-event webhook body, one Engine.IO packet whose first character is dropped.
JSON is compact (no spaces), as Newtonsoft writes it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

_CLOSE_DATA = '{"close":true}'


class PacketError(ValueError):
    """A webhook payload the extension would refuse; the message says why."""


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def namespace_prefix(namespace: str) -> str:
    """``"/ns,"`` for a namespace other than ``/``, else ``""`` (the prefix is omitted for ``/``)."""
    return "" if namespace in ("", "/") else f"{namespace},"


def encode_event(namespace: str, event: str, parameters: list[Any] | tuple[Any, ...] | None = None) -> str:
    """``enc(ns, event, params)`` of docs/protocol.md#output-actions, e.g. ``42/ns,["event",1,"abc"]``."""
    return f"42{namespace_prefix(namespace)}{_dumps([event, *(parameters or [])])}"


def encode_ack(namespace: str, ack_id: int, ack: list[Any]) -> str:
    """The webhook reply to an acked event, e.g. ``4313["bar"]`` on ``/`` or ``43/chat,13["bar"]``."""
    return f"43{namespace_prefix(namespace)}{ack_id}{_dumps(ack)}"


def encode_disconnect(namespace: str, close: bool = False) -> str:
    """``41`` + namespace part, with ``{"close":true}`` when the Engine.IO connection must close too."""
    return "41" + namespace_prefix(namespace) + (_CLOSE_DATA if close else "")


@dataclass(frozen=True)
class EventPacket:
    """A parsed EVENT packet: namespace, ack id (None when the client asked for no ack), name and arguments."""

    namespace: str
    ack_id: int | None
    event: str
    arguments: list[Any] | None


def parse_event_payload(payload: str) -> EventPacket:
    """Parse a user-event body the way the extension does (docs/protocol.md#user-events).

    The first character (the Engine.IO type, ``4``) is dropped unchecked; ``b`` (binary) is refused; the
    Socket.IO type must be ``2`` (EVENT); the namespace runs from a leading ``/`` to ``,``; the ack id is the
    digits that follow; the rest is a JSON array whose first element is the event name. ``arguments`` is None
    when the event has none.
    """
    if not payload:
        raise PacketError("Empty Socket.IO payload.")
    if payload[0] == "b":
        raise PacketError("Binary data is not supported.")
    packet = payload[1:]
    if not packet or packet[0] != "2":
        kind = packet[0] if packet else "nothing"
        raise PacketError(f"Invalid Socket.IO message type: expected 2 (EVENT), got {kind}.")
    rest = packet[1:]
    namespace = "/"
    if rest.startswith("/"):
        comma = rest.find(",")
        if comma < 0:
            raise PacketError("Invalid Socket.IO packet: namespace is not followed by ','.")
        namespace, rest = rest[:comma], rest[comma + 1 :]
    digits = 0
    while digits < len(rest) and rest[digits].isdigit():
        digits += 1
    ack_id = int(rest[:digits]) if digits else None
    try:
        data = json.loads(rest[digits:])
    except json.JSONDecodeError as exc:
        raise PacketError(f"Invalid Socket.IO packet: data is not JSON ({exc.msg}).") from None
    if not isinstance(data, list) or not data:
        raise PacketError("Invalid Socket.IO packet: EVENT data must be a non-empty JSON array.")
    name = data[0]
    event = name if isinstance(name, str) else _dumps(name)
    arguments = data[1:] or None
    return EventPacket(namespace=namespace, ack_id=ack_id, event=event, arguments=arguments)
