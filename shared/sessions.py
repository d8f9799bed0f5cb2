"""Per-socket sessions kept in Azure Tables, usable from any function (docs/state.md "Sessions").

A session belongs to (hub, namespace, socket id). ``SocketIOBlueprint(hub, sessions=True)`` creates it when the
connect handler accepts (with the token's user id and claims) and deletes it at disconnect. Inside handlers use
``socket.get_session()`` / ``socket.save_session(...)``; elsewhere (HTTP functions, timers) these functions.
Every function has an ``a``-prefixed coroutine twin that runs it in a worker thread. Saves replace the whole
session (last writer wins, as in python-socketio).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from typing import Any

from . import _sockets
from ._sockets import MAX_SESSION_BYTES, UnknownSocketError
from ._storage import StorageError


class SessionRecord:
    """What the store knows about one connected socket."""

    __slots__ = ("socket_id", "user_id", "claims", "data", "since")

    def __init__(
        self, socket_id: str, user_id: str | None, claims: dict[str, list[str]], data: dict[str, Any], since: float
    ) -> None:
        self.socket_id = socket_id
        self.user_id = user_id
        self.claims = claims
        self.data = data
        self.since = since

    def __repr__(self) -> str:
        return f"SessionRecord(socket_id={self.socket_id!r}, user_id={self.user_id!r}, keys={sorted(self.data)!r})"


def record(hub: str, namespace: str, socket_id: str) -> SessionRecord:
    """The socket's record; :class:`UnknownSocketError` when it is not connected."""
    entity = _sockets.socket_entity(hub, namespace, socket_id)
    return SessionRecord(
        socket_id,
        entity.get("user_id") or None,
        json.loads(entity.get("claims") or "{}"),
        json.loads(entity.get("session") or "{}"),
        float(entity.get("since") or 0.0),
    )


def get(hub: str, namespace: str, socket_id: str) -> dict[str, Any]:
    """The session dict (a copy: change it, then :func:`save`)."""
    return record(hub, namespace, socket_id).data


def save(hub: str, namespace: str, socket_id: str, data: Mapping[str, Any]) -> None:
    """Replace the session; ``ValueError`` above ``MAX_SESSION_BYTES``; never brings back a disconnected socket."""
    _sockets.save_session(hub, namespace, socket_id, data)


def user_id(hub: str, namespace: str, socket_id: str) -> str | None:
    """The user id the socket connected with (the negotiate ``userId`` / token ``sub``), or None."""
    return record(hub, namespace, socket_id).user_id


async def arecord(hub: str, namespace: str, socket_id: str) -> SessionRecord:
    return await asyncio.to_thread(record, hub, namespace, socket_id)


async def aget(hub: str, namespace: str, socket_id: str) -> dict[str, Any]:
    return await asyncio.to_thread(get, hub, namespace, socket_id)


async def asave(hub: str, namespace: str, socket_id: str, data: Mapping[str, Any]) -> None:
    await asyncio.to_thread(save, hub, namespace, socket_id, data)


async def auser_id(hub: str, namespace: str, socket_id: str) -> str | None:
    return await asyncio.to_thread(user_id, hub, namespace, socket_id)


__all__ = [
    "aget",
    "arecord",
    "asave",
    "auser_id",
    "get",
    "MAX_SESSION_BYTES",
    "record",
    "save",
    "SessionRecord",
    "StorageError",
    "UnknownSocketError",
    "user_id",
]
