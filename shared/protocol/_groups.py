"""Namespace/room <-> Web PubSub group names (docs/protocol.md#group-names): ``0~b64url(ns)~b64url(room)``."""

from __future__ import annotations

import base64

# The "namespace group type" constant of the extension (Utilities.cs).
_NAMESPACE_GROUP_TYPE = "0"


def b64url_encode(text: str) -> str:
    """Base64URL of the UTF-8 bytes, without padding (Base64UrlEncoder.Encode)."""
    return base64.urlsafe_b64encode(text.encode("utf-8")).decode("ascii").rstrip("=")


def b64url_decode(encoded: str) -> str:
    padding = "=" * (-len(encoded) % 4)
    return base64.urlsafe_b64decode(encoded + padding).decode("utf-8")


def group_name(namespace: str, room: str | None = None) -> str:
    """The group of a room in a namespace, or of the whole namespace when ``room`` is None.

    >>> group_name("/ns", "rm")
    '0~L25z~cm0'
    >>> group_name("/")
    '0~Lw~'
    """
    return f"{_NAMESPACE_GROUP_TYPE}~{b64url_encode(namespace)}~{b64url_encode(room) if room else ''}"


def parse_group_name(group: str) -> tuple[str, str | None] | None:
    """``(namespace, room)`` of a Socket.IO group (room None for the namespace group); None for other groups."""
    parts = group.split("~")
    if len(parts) != 3 or parts[0] != _NAMESPACE_GROUP_TYPE or not parts[1]:
        return None
    try:
        namespace = b64url_decode(parts[1])
        room = b64url_decode(parts[2]) if parts[2] else None
    except (ValueError, UnicodeDecodeError):
        return None
    return namespace, room
