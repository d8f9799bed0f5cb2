"""Actions for the connecting socket, made in a connect handler, run once the service has connected it.

During the connect webhook the socket is not connected yet: the service adds it to its namespace and its own room
only after the function answers 200, so a ``sendToSocket`` or ``addSocketToRoom`` run before that reaches nobody.
So the connect invocation's actions are split at the first one that concerns the connecting socket
(``concerns``): the ones before it run at once, as before; that one and every later one wait in the Table store
(docs/state.md) and the ``connected`` function runs them, in their
order, ahead of whatever its own handler adds. Nothing is carried in process memory, so the ``connected`` event may
reach any instance. A refused socket's waiting actions are never stored.

Where: blueprints with sessions or presence (the compat facade's default) write the socket's ``c|`` row at connect
anyway, so the actions ride in it (no extra write); ``connected`` reads it and clears them. Others use a row of
their own, ``q|<socket>``: one upsert at connect, one read and one delete at ``connected``. Only blueprints whose
connect handler can greet (``may_greet``) get the ``connected`` function: a connect handler that never acts on its
socket costs nothing.
"""

from __future__ import annotations

import json
import types
from collections.abc import Callable, Iterable
from functools import partial
from typing import TYPE_CHECKING, Any

from ._actions import ActionList

if TYPE_CHECKING:
    from ._tracking import TrackedSocket  # _tracking imports this module: the protocol is for the type checker only
    from .protocol import Action

# socket.state key: set by the dispatch when the connect handler's blueprint has the `connected` companion.
GREETS = "sioless.greets"

# Names that, called by a connect handler, act on the connecting socket (Socket.emit/send/join/leave, the compat
# facade's emit/send/enter_room/leave_room): a handler that mentions none of them needs no `connected` function.
_ACTING_NAMES = frozenset({"emit", "send", "join", "leave", "enter_room", "leave_room"})
_ROW_PREFIX = "q|"
_PARTS = "greeting_parts"
_PART = "greeting"
PENDING = "sioless.greeting"  # socket.state: the properties the connect hook adds to the socket's c| row
# A string property holds at most 64 KiB as UTF-16: the actions' JSON is cut into chunks of this many characters.
_CHUNK = 30_000
_MAX_CHUNKS = 30  # ~900 KB, under the entity's 1 MiB


class Greetings:
    """The namespaces of one blueprint whose connect handler may greet (each has a ``connected`` function)."""

    __slots__ = ("_namespaces",)

    def __init__(self) -> None:
        self._namespaces: set[str] = set()

    def add(self, namespace: str) -> None:
        self._namespaces.add(namespace.casefold())

    def __contains__(self, namespace: object) -> bool:
        return isinstance(namespace, str) and namespace.casefold() in self._namespaces

    def __repr__(self) -> str:
        return f"Greetings({sorted(self._namespaces)!r})"


def _names(code: types.CodeType) -> Iterable[str]:
    yield from code.co_names
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):  # nested functions, lambdas, comprehensions
            yield from _names(constant)


def may_greet(handler: Callable[..., Any]) -> bool:
    """Whether ``handler``'s own code calls something that acts on a socket (``emit``, ``join`` ...).

    A handler that does it only through another function is not seen: the call then raises with a message that
    says to declare ``greets=True``.
    """
    function = getattr(handler, "__func__", handler)  # bound methods (class-based namespaces)
    function = getattr(function, "__wrapped__", function)
    code = getattr(function, "__code__", None)
    if code is None:
        return True  # a callable object: assume it may
    return not _ACTING_NAMES.isdisjoint(_names(code))


def concerns(action: Action, socket_id: str, namespace: str) -> bool:
    """Whether ``action`` reaches or changes the connecting socket (so it must wait until it is connected)."""
    fields: dict[str, Any] = dict(action)
    if fields["namespace"] != namespace:
        return False
    name = fields["actionName"]
    if name in ("sendToSocket", "addSocketToRoom", "removeSocketFromRoom"):
        return bool(fields["socketId"] == socket_id)
    excluded = socket_id in (fields.get("exceptRooms") or ())
    if name == "sendToRooms":
        return socket_id in fields["rooms"] and not excluded
    if name == "sendToNamespace":
        return not excluded  # python-socketio and socket.io deliver it to the connecting socket too
    if name == "disconnectSockets":
        rooms = fields.get("rooms")
        return not rooms or socket_id in rooms
    return False


def split(actions: ActionList, socket_id: str, namespace: str) -> tuple[list[Action], list[Action]]:
    """``(now, later)``: the actions before the first one that concerns the connecting socket, and the rest."""
    items = list(actions)
    for index, action in enumerate(items):
        if concerns(action, socket_id, namespace):
            return items[:index], items[index:]
    return items, []


def _row(socket_id: str) -> str:
    from ._sockets import escape

    return _ROW_PREFIX + escape(socket_id)


def properties(actions: list[Action]) -> dict[str, Any]:
    """The entity properties that hold ``actions``: ``greeting_parts`` and ``greeting0``... (JSON in pieces)."""
    text = json.dumps(actions, separators=(",", ":"))
    chunks = [text[start : start + _CHUNK] for start in range(0, len(text), _CHUNK)]
    if len(chunks) > _MAX_CHUNKS:
        raise ValueError(
            f"the actions for the connecting socket are {len(text)} characters of JSON; at most "
            f"{_CHUNK * _MAX_CHUNKS} can wait for its 'connected' event. Send large data in reply to an event."
        )
    result: dict[str, Any] = {_PARTS: len(chunks)}
    result.update({f"{_PART}{index}": chunk for index, chunk in enumerate(chunks)})
    return result


def _actions_of(entity: dict[str, Any]) -> list[Action]:
    text = "".join(str(entity.get(f"{_PART}{index}", "")) for index in range(int(entity.get(_PARTS) or 0)))
    actions: list[Action] = json.loads(text) if text else []
    return actions


def store(hub: str, namespace: str, socket_id: str, actions: list[Action]) -> None:
    """Keep ``actions`` for the ``connected`` event of this socket in its own row (one upsert)."""
    from azure.data.tables import UpdateMode

    from ._sockets import TABLE, partition
    from ._storage import call_storage, table_client

    entity = {"PartitionKey": partition(hub, namespace), "RowKey": _row(socket_id), **properties(actions)}
    table = table_client(TABLE)
    call_storage(lambda: table.upsert_entity(entity, mode=UpdateMode.REPLACE), "keep the connect-time actions")


def take(hub: str, namespace: str, socket_id: str, tracked: bool = False) -> list[Action]:
    """The actions kept for this socket, removed from the store, so a repeated event sends them once.

    Untracked blueprints: the ``q|`` row (one point read; one delete when found). Tracked ones (sessions or
    presence) keep them in the socket's ``c|`` row, written by the connect hook anyway: one point read, and one
    merge that clears them (conditional on the row's ETag, re-read if a session save came between).
    """
    from azure.core import MatchConditions
    from azure.core.exceptions import ResourceModifiedError, ResourceNotFoundError
    from azure.data.tables import UpdateMode

    from ._sockets import TABLE, conn_key, partition
    from ._storage import call_storage, table_client

    table = table_client(TABLE)
    pk = partition(hub, namespace)
    if not tracked:
        rk = _row(socket_id)
        try:
            entity = call_storage(lambda: table.get_entity(pk, rk), "read the connect-time actions")
            call_storage(lambda: table.delete_entity(pk, rk), "remove the connect-time actions")
        except ResourceNotFoundError:
            return []  # nothing kept, or another delivery of this event took it
        return _actions_of(dict(entity))
    rk = conn_key(socket_id)
    for _ in range(5):
        try:
            entity = call_storage(lambda: table.get_entity(pk, rk), "read the connect-time actions")
        except ResourceNotFoundError:
            return []  # the socket is gone already
        parts = int(entity.get(_PARTS) or 0)
        if not parts:
            return []
        cleared = {"PartitionKey": pk, "RowKey": rk, _PARTS: 0, **{f"{_PART}{i}": "" for i in range(parts)}}
        etag = entity.metadata["etag"]
        try:
            clear = partial(
                table.update_entity,
                cleared,
                mode=UpdateMode.MERGE,
                etag=etag,
                match_condition=MatchConditions.IfNotModified,
            )
            call_storage(clear, "clear the connect-time actions")
        except ResourceModifiedError:
            continue  # changed since the read (a session save, or another delivery): read again
        except ResourceNotFoundError:
            return []
        return _actions_of(dict(entity))
    raise RuntimeError(f"the row of socket {socket_id!r} kept changing; its connect-time actions were not sent")


# -- hooks (called by the dispatch wrapper when the blueprint has greetings) ----------------------------------------


def before(greetings: Greetings, kind: str, socket: TrackedSocket, actions: ActionList, tracked: bool = False) -> None:
    """connect: allow the handler to act on its socket. connected: put the kept actions first (storage: blocking)."""
    if socket.namespace not in greetings:
        return
    if kind == "connect":
        socket.state[GREETS] = True
    elif kind == "connected":
        import logging

        try:
            kept = take(socket.hub, socket.namespace, socket.id, tracked)
        except Exception as exc:  # the handler still runs; the greeting is lost and the log says so
            logging.getLogger("sioless").error(
                "could not read the actions the connect handler kept for socket %s: %s", socket.id, exc
            )
            return
        for action in kept:
            actions.add(action)


def after_connect(socket: TrackedSocket, actions: ActionList, accepted: bool, tracked: bool = False) -> None:
    """Keep the actions from the first one for the connecting socket (accepted), or drop them (refused).

    ``tracked``: the connect hook of sessions/presence writes the socket's row next; the actions ride in it.
    """
    if not socket.state.get(GREETS) or not actions:
        return
    now, later = split(actions, socket.id, socket.namespace)
    if not later:
        return
    if accepted and tracked:
        socket.state[PENDING] = properties(later)  # too large: ValueError here, before anything is stored
    elif accepted:
        from ._errors import ConnectRefused
        from ._storage import StorageError

        try:
            store(socket.hub, socket.namespace, socket.id, later)
        except StorageError as exc:
            actions.clear()
            raise ConnectRefused(f"cannot keep the connect-time actions: {exc.message}", status=503) from exc
    actions.clear()
    for action in now:
        actions.add(action)
