"""Who is connected, and who is in which room, kept in Azure Tables (docs/state.md "Presence").

``SocketIOBlueprint(hub, presence=True)`` maintains it: a socket is added when its connect handler accepts,
its ``socket.join``/``socket.leave`` calls are recorded when the handler returns, and it is removed (with every
membership) at disconnect. Rooms are the ones the app joins; a socket's own room and the namespace are implicit.
Queries are strongly consistent reads of one table partition; each has an ``a``-prefixed coroutine twin.

Counting across instances: a count taken later sees every change finished before it started, so when several
counts are broadcast concurrently, the one taken last is right; ``snapshot`` returns the count with the time it
was taken, for clients that keep the newest.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable

from . import _sockets
from ._sockets import UnknownSocketError
from ._storage import StorageError


def sockets(hub: str, namespace: str = "/") -> list[str]:
    """Ids of the sockets connected to the namespace."""
    return _sockets.sockets(hub, namespace)


def count(hub: str, namespace: str = "/", room: str | None = None) -> int:
    """How many sockets are connected to the namespace (or are in ``room``)."""
    return len(members(hub, namespace, room) if room is not None else sockets(hub, namespace))


def snapshot(hub: str, namespace: str = "/", room: str | None = None) -> tuple[int, float]:
    """``(count, taken_at)``: ``taken_at`` (seconds since the epoch) is read before the query starts."""
    taken_at = time.time()
    return count(hub, namespace, room), taken_at


def members(hub: str, namespace: str = "/", room: str = "") -> list[str]:
    """Ids of the sockets in ``room``."""
    if not isinstance(room, str) or not room:
        raise ValueError(f"room must be a non-empty string, got {room!r}")
    return _sockets.members(hub, namespace, room)


def rooms(hub: str, namespace: str, socket_id: str) -> list[str]:
    """The rooms the socket joined (not its own room); [] for an unknown socket."""
    return _sockets.rooms_of(hub, namespace, socket_id)


def is_connected(hub: str, namespace: str, socket_id: str) -> bool:
    try:
        _sockets.socket_entity(hub, namespace, socket_id)
    except UnknownSocketError:
        return False
    return True


def join(hub: str, namespace: str, socket_id: str, rooms: str | Iterable[str]) -> None:
    """Record memberships made outside a handler (pair it with the ``addSocketToRoom`` action you send)."""
    _sockets.join_rooms(hub, namespace, socket_id, [rooms] if isinstance(rooms, str) else rooms)


def leave(hub: str, namespace: str, socket_id: str, rooms: str | Iterable[str]) -> None:
    _sockets.leave_rooms(hub, namespace, socket_id, [rooms] if isinstance(rooms, str) else rooms)


def forget(hub: str, namespace: str, socket_id: str) -> list[str]:
    """Remove a socket and its memberships (what disconnect does); returns the rooms it was in."""
    return _sockets.remove_socket(hub, namespace, socket_id)


def prune(
    hub: str, namespace: str, exists: Callable[[str], bool], *, min_age: float = 30.0, concurrency: int = 1
) -> list[str]:
    """Forget the sockets the service no longer has; returns their ids (docs/state.md "Pruning").

    ``exists(socket_id)`` asks the service (e.g. whether the socket's own group exists). Only sockets recorded at
    least ``min_age`` seconds ago are asked about: a socket is recorded while its ``connect`` handler runs, a
    moment before the service has it, so a young row may belong to a socket that is still arriving. An
    ``exists`` that raises stops the prune (nothing is removed on a guess): checks not started yet are dropped,
    sockets already found gone are removed, then the first error propagates.

    ``concurrency``: how many ``exists`` calls (each followed by its removal) run at once, in threads; ``exists``
    must then be safe to call from several threads (the Azure SDK clients are).
    """
    if min_age < 0:
        raise ValueError(f"min_age must not be negative, got {min_age!r}")
    if concurrency < 1:
        raise ValueError(f"concurrency must be at least 1, got {concurrency!r}")
    cutoff = time.time() - min_age
    candidates = [socket_id for socket_id, since in _sockets.connected_since(hub, namespace).items() if since <= cutoff]

    def check(socket_id: str) -> bool:
        if exists(socket_id):
            return False
        _sockets.remove_socket(hub, namespace, socket_id)
        return True

    if concurrency == 1 or len(candidates) < 2:
        return [socket_id for socket_id in candidates if check(socket_id)]
    from concurrent.futures import ThreadPoolExecutor, as_completed

    found_gone: set[str] = set()
    error: Exception | None = None
    with ThreadPoolExecutor(max_workers=min(concurrency, len(candidates)), thread_name_prefix="prune") as pool:
        futures = {pool.submit(check, socket_id): socket_id for socket_id in candidates}
        for future in as_completed(futures):
            if future.cancelled():
                continue
            try:
                if future.result():
                    found_gone.add(futures[future])
            except Exception as exc:  # raised below, once the checks already running have finished
                if error is None:
                    error = exc
                    for pending in futures:
                        pending.cancel()
    if error is not None:
        raise error
    return [socket_id for socket_id in candidates if socket_id in found_gone]


async def asockets(hub: str, namespace: str = "/") -> list[str]:
    return await asyncio.to_thread(sockets, hub, namespace)


async def acount(hub: str, namespace: str = "/", room: str | None = None) -> int:
    return await asyncio.to_thread(count, hub, namespace, room)


async def asnapshot(hub: str, namespace: str = "/", room: str | None = None) -> tuple[int, float]:
    return await asyncio.to_thread(snapshot, hub, namespace, room)


async def amembers(hub: str, namespace: str = "/", room: str = "") -> list[str]:
    return await asyncio.to_thread(members, hub, namespace, room)


async def arooms(hub: str, namespace: str, socket_id: str) -> list[str]:
    return await asyncio.to_thread(rooms, hub, namespace, socket_id)


async def ais_connected(hub: str, namespace: str, socket_id: str) -> bool:
    return await asyncio.to_thread(is_connected, hub, namespace, socket_id)


__all__ = [
    "acount",
    "ais_connected",
    "amembers",
    "arooms",
    "asnapshot",
    "asockets",
    "count",
    "forget",
    "is_connected",
    "join",
    "leave",
    "members",
    "prune",
    "rooms",
    "snapshot",
    "sockets",
    "StorageError",
    "UnknownSocketError",
]
