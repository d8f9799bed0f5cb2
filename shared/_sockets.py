"""Connected sockets, their sessions and room memberships in one Azure Table (docs/state.md "Layout").

One partition per (hub, namespace), so every change to one socket is a single-partition operation and a
join can be an entity-group transaction. Row keys:

- ``c|<socket>``          the socket is connected: ``user_id``, ``claims`` (JSON), ``session`` (JSON), ``since``
- ``r|<room>|<socket>``   room -> members (range query by room)
- ``s|<socket>|<room>``   socket -> rooms (range query by socket; what disconnect deletes)

Concurrency without ETag retries: each fact is its own row, so concurrent connects/joins never write the same
entity. A join's transaction also *updates* the socket's ``c|`` row, which fails when the socket is gone, so a
join racing a disconnect cannot leave a membership behind (disconnect deletes ``c|`` first, then the rows it
finds). Keys are escaped (``~`` + 6 hex digits for anything outside ``[A-Za-z0-9._-]``); the raw values are
stored as properties.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping
from functools import partial
from typing import Any

from ._errors import AckError
from ._storage import call_storage, table_client

TABLE = "siolesssockets"
# A string property holds at most 64 KiB (UTF-16): keep the session JSON under it.
MAX_SESSION_BYTES = 60 * 1024
_SAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-")
_MAX_KEY = 1024
# Claims the token carries for the service, not for the app (and that change on every negotiate).
_TOKEN_CLAIMS = frozenset({"aud", "exp", "nbf", "iat", "iss", "jti"})


class UnknownSocketError(AckError, KeyError):
    """The socket is not connected (never was, or already disconnected) in this hub and namespace.

    A ``KeyError`` (as python-socketio's ``get_session`` raises) and an ``AckError``: leaving an event handler,
    it answers the client ``{"error": "socket ... is not connected ..."}``.
    """

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else "unknown socket"


def escape(value: str) -> str:
    return "".join(c if c in _SAFE else f"~{ord(c):06x}" for c in value)


def partition(hub: str, namespace: str) -> str:
    return f"{escape(hub)}|{escape(namespace)}"


def _key(*parts: str) -> str:
    key = "|".join(parts)
    if len(key) > _MAX_KEY:
        raise ValueError(f"room or socket name too long for the presence table ({len(key)} > {_MAX_KEY} characters)")
    return key


def conn_key(socket_id: str) -> str:
    return _key("c", escape(socket_id))


def member_key(room: str, socket_id: str) -> str:
    return _key("r", escape(room), escape(socket_id))


def room_key(socket_id: str, room: str) -> str:
    return _key("s", escape(socket_id), escape(room))


def _range(prefix: str) -> tuple[str, str]:
    # Every key starting with prefix sorts in [prefix, prefix-with-last-char+1); '|' + 1 = '}'.
    return prefix, prefix[:-1] + chr(ord(prefix[-1]) + 1)


def _query(hub: str, namespace: str, prefix: str, select: list[str], what: str) -> list[dict[str, Any]]:
    low, high = _range(prefix)
    table = table_client(TABLE)
    query = "PartitionKey eq @pk and RowKey ge @low and RowKey lt @high"
    params = {"pk": partition(hub, namespace), "low": low, "high": high}
    return call_storage(
        lambda: list(table.query_entities(query, parameters=params, select=select)),
        what,
    )


def _check_session(data: Mapping[str, Any]) -> str:
    if not isinstance(data, Mapping):
        raise TypeError(f"a session must be a dict, got {type(data).__name__}")
    try:
        text = json.dumps(dict(data), separators=(",", ":"))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"the session is not JSON-serializable: {exc}") from None
    size = len(text.encode("utf-16-le"))
    if size > MAX_SESSION_BYTES:
        raise ValueError(f"the session is {size} bytes as UTF-16; at most {MAX_SESSION_BYTES} fit in a table property")
    return text


# -- connect / disconnect --------------------------------------------------------------------------------------


def add_socket(
    hub: str,
    namespace: str,
    socket_id: str,
    *,
    user_id: str | None = None,
    claims: Mapping[str, list[str]] | None = None,
    session: Mapping[str, Any] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> None:
    """Record a connected socket (what the connect hook does); an existing row is replaced. ``extra``: more
    properties for the row (the connect handler's actions waiting for ``connected``, shared._greeting)."""
    kept = {name: list(values) for name, values in (claims or {}).items() if name not in _TOKEN_CLAIMS}
    entity = {
        "PartitionKey": partition(hub, namespace),
        "RowKey": conn_key(socket_id),
        "socket_id": socket_id,
        "user_id": user_id or "",
        "claims": json.dumps(kept, separators=(",", ":")),
        "session": _check_session(session or {}),
        "since": time.time(),
        **(extra or {}),
    }
    table = table_client(TABLE)
    from azure.data.tables import UpdateMode

    call_storage(lambda: table.upsert_entity(entity, mode=UpdateMode.REPLACE), f"record socket {socket_id!r}")


def remove_socket(hub: str, namespace: str, socket_id: str) -> list[str]:
    """Forget the socket and every room membership it has; returns the rooms it was in. Idempotent."""
    table = table_client(TABLE)
    pk = partition(hub, namespace)
    # The c| row first: from now on a racing join's transaction fails instead of adding rows we would miss.
    call_storage(lambda: table.delete_entity(pk, conn_key(socket_id)), f"forget socket {socket_id!r}")
    rooms = rooms_of(hub, namespace, socket_id)
    _delete_memberships(table, pk, socket_id, rooms)
    return rooms


def _delete_memberships(table: Any, pk: str, socket_id: str, rooms: Iterable[str]) -> None:
    for room in rooms:  # room -> member first: a listing by socket still finds what is left to delete
        call_storage(partial(table.delete_entity, pk, member_key(room, socket_id)), "leave room")
        call_storage(partial(table.delete_entity, pk, room_key(socket_id, room)), "leave room")


# -- rooms -----------------------------------------------------------------------------------------------------


def join_rooms(hub: str, namespace: str, socket_id: str, rooms: Iterable[str]) -> None:
    """Record memberships in one transaction per 49 rooms; fails with UnknownSocketError if the socket is gone."""
    from azure.core.exceptions import ResourceNotFoundError
    from azure.data.tables import TableTransactionError, UpdateMode

    table = table_client(TABLE)
    pk = partition(hub, namespace)
    wanted = list(dict.fromkeys(rooms))
    for start in range(0, len(wanted), 49):  # 100 operations per transaction: 1 guard + 2 per room
        operations: list[Any] = [
            ("update", {"PartitionKey": pk, "RowKey": conn_key(socket_id)}, {"mode": UpdateMode.MERGE})
        ]
        for room in wanted[start : start + 49]:
            operations.append(("upsert", {"PartitionKey": pk, "RowKey": room_key(socket_id, room), "room": room}))
            operations.append(
                ("upsert", {"PartitionKey": pk, "RowKey": member_key(room, socket_id), "socket_id": socket_id})
            )
        try:
            call_storage(partial(table.submit_transaction, operations), f"join {socket_id!r} to rooms")
        except (TableTransactionError, ResourceNotFoundError) as exc:
            raise UnknownSocketError(
                f"socket {socket_id!r} is not connected to namespace {namespace!r} of hub {hub!r}"
            ) from exc


def leave_rooms(hub: str, namespace: str, socket_id: str, rooms: Iterable[str]) -> None:
    table = table_client(TABLE)
    pk = partition(hub, namespace)
    _delete_memberships(table, pk, socket_id, dict.fromkeys(rooms))


# -- reads -----------------------------------------------------------------------------------------------------


def socket_entity(hub: str, namespace: str, socket_id: str) -> dict[str, Any]:
    from azure.core.exceptions import ResourceNotFoundError

    table = table_client(TABLE)
    try:
        return dict(
            call_storage(
                lambda: table.get_entity(partition(hub, namespace), conn_key(socket_id)), "read the socket's session"
            )
        )
    except ResourceNotFoundError:
        raise UnknownSocketError(
            f"socket {socket_id!r} is not connected to namespace {namespace!r} of hub {hub!r}"
        ) from None


def save_session(hub: str, namespace: str, socket_id: str, data: Mapping[str, Any]) -> None:
    from azure.core.exceptions import ResourceNotFoundError
    from azure.data.tables import UpdateMode

    entity = {"PartitionKey": partition(hub, namespace), "RowKey": conn_key(socket_id), "session": _check_session(data)}
    table = table_client(TABLE)
    try:
        # update (not upsert): saving the session of a socket that is gone must not bring it back.
        call_storage(lambda: table.update_entity(entity, mode=UpdateMode.MERGE), "save the socket's session")
    except ResourceNotFoundError:
        raise UnknownSocketError(
            f"socket {socket_id!r} is not connected to namespace {namespace!r} of hub {hub!r}"
        ) from None


def sockets(hub: str, namespace: str) -> list[str]:
    return [row["socket_id"] for row in _query(hub, namespace, "c|", ["socket_id"], "list sockets")]


def connected_since(hub: str, namespace: str) -> dict[str, float]:
    """``{socket id: time its row was written}`` (seconds since the epoch, the writing instance's clock)."""
    rows = _query(hub, namespace, "c|", ["socket_id", "since"], "list sockets")
    return {row["socket_id"]: float(row.get("since") or 0.0) for row in rows}


def members(hub: str, namespace: str, room: str) -> list[str]:
    prefix = member_key(room, "")
    return [row["socket_id"] for row in _query(hub, namespace, prefix, ["socket_id"], "list room members")]


def rooms_of(hub: str, namespace: str, socket_id: str) -> list[str]:
    return [row["room"] for row in _query(hub, namespace, room_key(socket_id, ""), ["room"], "list rooms")]
