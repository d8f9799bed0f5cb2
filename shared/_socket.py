"""The ``Socket`` a handler receives: the client's socket id and namespace, and socket.io-style operations."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from . import _tracking
from ._emitter import Action, BroadcastOperator, Emitter, check_event, room_list
from ._errors import UnsupportedError, no_server_acks


class Socket:
    """One client socket, as seen by one function invocation.

    Every operation appends an action (protocol.md §3.6) that the wrapper writes to the output binding when the
    handler returns. ``state`` is a per-invocation dict where extensions (sessions, presence) can keep lazily
    built services; ``hub`` says which hub the socket belongs to.
    """

    __slots__ = ("id", "namespace", "hub", "state", "_actions", "_connecting", "_server")

    def __init__(
        self, socket_id: str, namespace: str, hub: str, *, actions: list[Action] | None = None, connecting: bool = False
    ) -> None:
        self.id = socket_id
        self.namespace = namespace
        self.hub = hub
        self.state: dict[str, Any] = {}
        self._actions: list[Action] = [] if actions is None else actions
        self._connecting = connecting
        self._server: Emitter | None = None

    @property
    def sid(self) -> str:
        """Alias of ``id`` (python-socketio calls it ``sid``)."""
        return self.id

    @property
    def actions(self) -> list[Action]:
        """A copy of the actions this invocation produced so far."""
        return [dict(action) for action in self._actions]

    @property
    def server(self) -> Emitter:
        """Namespace-wide emitter (excludes nobody): ``socket.server.emit(...)`` -> ``sendToNamespace``."""
        if self._server is None:
            self._server = Emitter(self.namespace, hub=self.hub, _actions=self._actions)
        return self._server

    def _require_connected(self, operation: str) -> None:
        if self._connecting:
            raise UnsupportedError(
                f"socket.{operation} cannot run in a connect handler: the service adds the socket to its groups "
                "only after connect returns, so the action would reach nobody. Do it in @sio.on_connected()."
            )

    def emit(self, event: str, *args: Any, callback: Callable[..., Any] | None = None) -> None:
        """Emit to this socket only (``sendToSocket``)."""
        self._require_connected("emit()")
        check_event(event, args, callback)
        self._actions.append(
            {
                "actionName": "sendToSocket",
                "namespace": self.namespace,
                "socketId": self.id,
                "eventName": event,
                "parameters": list(args),
            }
        )

    def send(self, data: Any) -> None:
        self.emit("message", data)

    def call(self, *args: Any, **kwargs: Any) -> Any:
        raise no_server_acks("call()/emitWithAck cannot wait for a reply")

    emit_with_ack = call

    def to(self, rooms: str | Iterable[str]) -> BroadcastOperator:
        """Emit to rooms except this socket (``sendToRooms`` with ``exceptRooms=[socket.id]``)."""
        return BroadcastOperator(self._actions, self.namespace, tuple(room_list(rooms)), (), self.id)

    in_ = to

    def except_(self, rooms: str | Iterable[str]) -> BroadcastOperator:
        """The namespace except these rooms and this socket."""
        return BroadcastOperator(self._actions, self.namespace, (), tuple(room_list(rooms)), self.id)

    @property
    def broadcast(self) -> BroadcastOperator:
        """Everyone in the namespace except this socket (``sendToNamespace``, ``exceptRooms=[socket.id]``)."""
        return BroadcastOperator(self._actions, self.namespace, (), (), self.id)

    def _room_action(self, name: str, rooms: str | Iterable[str]) -> None:
        for room in room_list(rooms):
            self._actions.append({"actionName": name, "namespace": self.namespace, "socketId": self.id, "room": room})

    def join(self, rooms: str | Iterable[str]) -> None:
        """Add this socket to a room or rooms (one ``addSocketToRoom`` each)."""
        self._require_connected("join()")
        self._room_action("addSocketToRoom", rooms)

    def leave(self, rooms: str | Iterable[str]) -> None:
        """Remove this socket from a room or rooms (one ``removeSocketFromRoom`` each)."""
        self._require_connected("leave()")
        self._room_action("removeSocketFromRoom", rooms)

    def disconnect(self, close: bool = False) -> None:
        """Disconnect this socket (``disconnectSockets`` on its own room); ``close`` also ends the connection.

        In a connect handler refuse instead: ``raise ConnectRefused(...)``.
        """
        self._require_connected("disconnect()")
        if not isinstance(close, bool):
            raise ValueError(f"close must be True or False, got {close!r}.")
        self._actions.append(
            {
                "actionName": "disconnectSockets",
                "namespace": self.namespace,
                "rooms": [self.id],
                "closeUnderlyingConnection": close,
            }
        )

    # -- sessions (SocketIOBlueprint(hub, sessions=True); docs/state.md) ----------------------------------------

    def get_session(self) -> dict[str, Any]:
        """This socket's session dict (read from storage once per invocation; blocking: in ``async def``
        handlers use ``await socket.get_session_async()``)."""
        return _tracking.get_session(self)

    def save_session(self, data: Mapping[str, Any]) -> None:
        """Replace this socket's session (in a connect handler it is stored once the socket is accepted)."""
        _tracking.save_session(self, data)

    async def get_session_async(self) -> dict[str, Any]:
        return await asyncio.to_thread(_tracking.get_session, self)

    async def save_session_async(self, data: Mapping[str, Any]) -> None:
        await asyncio.to_thread(_tracking.save_session, self, data)

    @property
    def user_id(self) -> str | None:
        """The user id the socket connected with (token ``sub``), kept by the session store; None if absent."""
        return _tracking.user_id(self)

    async def get_user_id_async(self) -> str | None:
        return await asyncio.to_thread(_tracking.user_id, self)

    def __repr__(self) -> str:
        return f"Socket(id={self.id!r}, namespace={self.namespace!r}, hub={self.hub!r})"
