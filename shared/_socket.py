"""The two handles that build actions: ``Socket`` (one client, in a handler) and ``Emitter`` (a namespace).

They live together because each creates the other (``socket.server`` is an ``Emitter``, ``emitter.socket(sid)``
a ``Socket``). Both write into an ``ActionList`` (``shared._actions``) that the function wrapper, or
``Emitter.flush``, writes to the ``socketio`` output binding once (docs/protocol.md#output-actions).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any

from . import _tracking
from ._actions import ActionList, OutputLike, check_event, check_namespace, room_list
from ._broadcast import BroadcastOperator
from ._errors import UnsupportedError, no_server_acks
from ._greeting import GREETS

if TYPE_CHECKING:
    from .protocol import Action


class Socket:
    """One client socket, as seen by one function invocation.

    Every operation adds an action to ``action_list`` (shared with ``server`` and every operator derived from
    this socket), which the wrapper writes to the output binding when the handler returns. ``state`` is a
    per-invocation dict where extensions (sessions, presence) can keep lazily built services; ``hub`` says which
    hub the socket belongs to; ``connecting`` is True in a connect handler (the socket is not in its rooms yet).
    """

    __slots__ = ("id", "namespace", "hub", "state", "_actions", "_connecting", "_server")

    def __init__(
        self,
        socket_id: str,
        namespace: str,
        hub: str,
        actions: ActionList | None = None,
        connecting: bool = False,
    ) -> None:
        # (actions and connecting may be passed by position: the dispatch does, once per invocation, as a call with
        # keywords costs about a third more than one without)
        self.id = socket_id
        self.namespace = namespace
        self.hub = hub
        self.state: dict[str, Any] = {}
        self._actions = ActionList() if actions is None else actions
        self._connecting = connecting
        self._server: Emitter | None = None

    @property
    def sid(self) -> str:
        """Alias of ``id`` (python-socketio calls it ``sid``)."""
        return self.id

    @property
    def connecting(self) -> bool:
        """True in a connect handler: the service has not accepted the socket yet."""
        return self._connecting

    @property
    def actions(self) -> list[Action]:
        """A copy of the actions this invocation produced so far."""
        return self._actions.snapshot()

    @property
    def action_list(self) -> ActionList:
        """The invocation's ``ActionList`` itself (for code that builds actions beside the socket)."""
        return self._actions

    @property
    def server(self) -> Emitter:
        """Namespace-wide emitter (excludes nobody): ``socket.server.emit(...)`` -> ``sendToNamespace``."""
        if self._server is None:
            self._server = Emitter(self.namespace, hub=self.hub, actions=self._actions)
        return self._server

    def _require_connected(self, operation: str, *, waits: bool = True) -> None:
        """In a connect handler, ``waits`` operations are kept for the ``connected`` event (shared._greeting) when the
        blueprint added that function for this handler; others (``disconnect``) have no connect-time form."""
        if not self._connecting or (waits and self.state.get(GREETS)):
            return
        if not waits:
            raise UnsupportedError(
                f"socket.{operation} cannot run in a connect handler: refuse the socket instead "
                "(return False or raise ConnectRefused)."
            )
        raise UnsupportedError(
            f"socket.{operation} in this connect handler needs the blueprint's 'connected' function, which runs it "
            "once the service has connected the socket. The blueprint adds it when the connect handler's own code "
            "calls emit/send/join/leave; this one does so through another function: declare it with "
            "@sio.on_connect(greets=True)."
        )

    def emit(self, event: str, *args: Any, callback: Callable[..., Any] | None = None) -> None:
        """Emit to this socket only (``sendToSocket``)."""
        self._require_connected("emit()")
        check_event(event, args, callback)
        self._actions.add(
            {
                "actionName": "sendToSocket",
                "namespace": self.namespace,
                "socketId": self.id,
                "eventName": event,
                "parameters": [*args],
            }
        )

    def send(self, data: Any) -> None:
        self.emit("message", data)

    def call(self, *args: Any, **kwargs: Any) -> Any:
        raise no_server_acks("call()/emitWithAck cannot wait for a reply")

    emit_with_ack = call

    def to(self, rooms: str | Iterable[str]) -> BroadcastOperator:
        """Emit to rooms except this socket (``sendToRooms`` with ``exceptRooms=[socket.id]``)."""
        targets = (rooms,) if type(rooms) is str and rooms else tuple(room_list(rooms))  # one room: no list built
        return BroadcastOperator(self._actions, self.namespace, targets, (), self.id)

    in_ = to

    def except_(self, rooms: str | Iterable[str]) -> BroadcastOperator:
        """The namespace except these rooms and this socket."""
        return BroadcastOperator(self._actions, self.namespace, (), tuple(room_list(rooms)), self.id)

    @property
    def broadcast(self) -> BroadcastOperator:
        """Everyone in the namespace except this socket (``sendToNamespace``, ``exceptRooms=[socket.id]``)."""
        return BroadcastOperator(self._actions, self.namespace, (), (), self.id)

    def join(self, rooms: str | Iterable[str]) -> None:
        """Add this socket to a room or rooms (one ``addSocketToRoom`` each)."""
        self._require_connected("join()")
        for room in room_list(rooms):
            self._actions.add(
                {"actionName": "addSocketToRoom", "namespace": self.namespace, "socketId": self.id, "room": room}
            )

    def leave(self, rooms: str | Iterable[str]) -> None:
        """Remove this socket from a room or rooms (one ``removeSocketFromRoom`` each)."""
        self._require_connected("leave()")
        for room in room_list(rooms):
            self._actions.add(
                {"actionName": "removeSocketFromRoom", "namespace": self.namespace, "socketId": self.id, "room": room}
            )

    def disconnect(self, close: bool = False) -> None:
        """Disconnect this socket (``disconnectSockets`` on its own room); ``close`` also ends the connection.

        In a connect handler refuse instead: ``raise ConnectRefused(...)``.
        """
        self._require_connected("disconnect()", waits=False)
        if not isinstance(close, bool):
            raise ValueError(f"close must be True or False, got {close!r}.")
        self._actions.add(
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


class Emitter(BroadcastOperator):
    """Namespace-wide emitter usable anywhere, e.g. from an HTTP function with a ``socketio`` output binding.

    ``Emitter(namespace="/").to("room").emit(...)`` excludes nobody. Collect actions, then ``flush(out)`` once
    (or use ``with Emitter(out=out) as emitter:``, which flushes when the block ends without an exception).
    Inside Socket.IO handlers use ``socket.server`` instead; the wrapper flushes it for you.

    ``actions=`` writes into an existing ``ActionList`` (e.g. ``socket.action_list``) instead of a new one.
    """

    __slots__ = ("hub", "_out")

    def __init__(
        self,
        namespace: str = "/",
        *,
        hub: str | None = None,
        out: OutputLike | None = None,
        actions: ActionList | None = None,
    ) -> None:
        super().__init__(ActionList() if actions is None else actions, check_namespace(namespace))
        self.hub = hub
        self._out = out

    @property
    def namespace(self) -> str:
        return self._namespace

    @property
    def out(self) -> OutputLike | None:
        """The output binding ``flush()`` writes to when given none (None if the emitter has none)."""
        return self._out

    @property
    def actions(self) -> list[Action]:
        """A copy of the actions collected so far (all namespaces of this emitter family)."""
        return self._actions.snapshot()

    @property
    def action_list(self) -> ActionList:
        """The ``ActionList`` this emitter (and every ``of``/``socket`` derived from it) writes into."""
        return self._actions

    def of(self, namespace: str) -> Emitter:
        """An emitter for another namespace that writes into the same action list."""
        return Emitter(namespace, hub=self.hub, out=self._out, actions=self._actions)

    def socket(self, socket_id: str) -> Socket:
        """Another socket of this namespace, by id, writing into the same actions (python-socketio's
        ``enter_room(sid, room)`` is ``emitter.socket(sid).join(room)``)."""
        if not isinstance(socket_id, str) or not socket_id:
            raise ValueError(f"socket id must be a non-empty string, got {socket_id!r}.")
        return Socket(socket_id, self._namespace, self.hub or "", actions=self._actions)

    def output_value(self) -> str | list[Action] | None:
        return self._actions.encode()

    def flush(self, out: OutputLike | None = None) -> str | list[Action] | None:
        """Write every collected action to ``out`` in ONE ``set`` (nothing when there are none) and clear them."""
        target = out if out is not None else self._out
        if target is None:
            raise ValueError("Emitter.flush needs the output binding: flush(out) or Emitter(out=out).")
        value = self._actions.encode()
        if value is not None:
            target.set(value)
        self._actions.clear()
        return value

    def __enter__(self) -> Emitter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is None:
            self.flush()

    def __repr__(self) -> str:
        return f"Emitter(namespace={self._namespace!r}, hub={self.hub!r}, pending={len(self._actions)})"
