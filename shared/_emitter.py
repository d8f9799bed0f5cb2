"""Emitting: the operators that turn socket.io-style calls into output-binding actions (protocol.md §3.6).

Every call appends one action dict (``actionName`` plus an explicit ``namespace``) to a list shared by the
socket, its ``server`` view and every operator derived from them; the function wrapper (or ``Emitter.flush``)
writes that list to the ``socketio`` output binding once.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol

from ._errors import SiolessError, UnsupportedError, no_server_acks

if TYPE_CHECKING:
    from ._socket import Socket

Action = dict[str, Any]

# socket.io refuses to emit these from a server ("… is a reserved event name"); so do we.
RESERVED_EVENTS = frozenset(
    {"connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"}
)


class OutputLike(Protocol):
    def set(self, val: Any) -> None: ...


def check_namespace(namespace: object, where: str = "namespace") -> str:
    if namespace == "*":
        raise UnsupportedError(
            "Serverless mode has no wildcard namespace: each trigger is bound to one namespace "
            "(events for other namespaces get 404). Register a handler per namespace instead."
        )
    if not isinstance(namespace, str) or not namespace.startswith("/"):
        raise ValueError(f"{where} must be a string starting with '/', got {namespace!r}.")
    return namespace


def room_list(rooms: str | Iterable[str], what: str = "room") -> list[str]:
    """``"r"`` or ``["r1", "r2"]`` -> a list of non-empty room names (order kept, duplicates dropped)."""
    items = [rooms] if isinstance(rooms, str) else list(rooms)
    result: list[str] = []
    for room in items:
        if not isinstance(room, str) or not room:
            raise ValueError(f"{what} names must be non-empty strings, got {room!r}.")
        if room not in result:
            result.append(room)
    if not result:
        raise ValueError(f"at least one {what} is required.")
    return result


def _has_binary(value: Any) -> bool:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return True
    if isinstance(value, dict):
        return any(_has_binary(item) for item in value.values())
    if isinstance(value, (list, tuple)):
        return any(_has_binary(item) for item in value)
    return False


_SCALARS = (str, int, float, bool, type(None))


def json_error(values: Any, what: str, exc: Exception) -> SiolessError:
    """The error to raise when ``values`` could not be JSON-encoded."""
    if _has_binary(values):
        return UnsupportedError(
            f"{what} contains binary data (bytes); serverless mode only carries text JSON "
            "(the extension sends text/plain packets). Encode it, e.g. as base64 text."
        )
    return SiolessError(f"{what} is not JSON-serializable: {exc}")


def check_json(values: list[Any], what: str) -> None:
    """Raise a clear error now, at the call site, for what the output binding could not carry later."""
    if all(type(value) in _SCALARS for value in values):
        return  # the common case, without a trial encoding
    try:
        json.dumps(values)
    except (TypeError, ValueError) as exc:
        raise json_error(values, what, exc) from None


def check_event(event: object, args: tuple[Any, ...], callback: Callable[..., Any] | None) -> str:
    if callback is not None:
        raise no_server_acks("callback= cannot be called: the output binding only sends")
    if not isinstance(event, str) or not event:
        raise ValueError(f"event name must be a non-empty string, got {event!r}.")
    if event in RESERVED_EVENTS:
        raise ValueError(f"{event!r} is a reserved Socket.IO event name and cannot be emitted.")
    check_json(list(args), f"the arguments of emit({event!r})")
    return event


def encode_output(actions: list[Action]) -> str | list[Action] | None:
    """The output-binding value: None (nothing set) for no actions, a JSON object string for one,
    a list of action dicts for several (the worker sends it as TypedData json, which the host reads
    as a JArray -> SocketIOAction[]; see docs/api.md "Multi-action encoding")."""
    if not actions:
        return None
    if len(actions) == 1:
        return json.dumps(actions[0])
    return list(actions)


class BroadcastOperator:
    """Targets rooms (``to``/``in_``), excludes rooms (``except_``), then ``emit`` or ``disconnect_sockets``.

    Operators are immutable: each ``to``/``except_`` returns a new one. When built from a socket
    (``socket.to(...)``, ``socket.broadcast``) the sender's own room is excluded from emits, as in socket.io.
    """

    __slots__ = ("_actions", "_namespace", "_rooms", "_except", "_sender")

    def __init__(
        self,
        actions: list[Action],
        namespace: str,
        rooms: tuple[str, ...] = (),
        except_rooms: tuple[str, ...] = (),
        sender: str | None = None,
    ) -> None:
        self._actions = actions
        self._namespace = namespace
        self._rooms = rooms
        self._except = except_rooms
        self._sender = sender

    def to(self, rooms: str | Iterable[str]) -> BroadcastOperator:
        added = tuple(room for room in room_list(rooms) if room not in self._rooms)
        return BroadcastOperator(self._actions, self._namespace, self._rooms + added, self._except, self._sender)

    in_ = to

    def except_(self, rooms: str | Iterable[str]) -> BroadcastOperator:
        added = tuple(room for room in room_list(rooms) if room not in self._except)
        return BroadcastOperator(self._actions, self._namespace, self._rooms, self._except + added, self._sender)

    def _except_rooms(self) -> list[str]:
        excluded = [self._sender] if self._sender else []
        return excluded + [room for room in self._except if room != self._sender]

    def emit(self, event: str, *args: Any, callback: Callable[..., Any] | None = None) -> None:
        """``sendToRooms`` when rooms were chosen, else ``sendToNamespace``; ``exceptRooms`` when any."""
        check_event(event, args, callback)
        action: Action
        if self._rooms:
            action = {"actionName": "sendToRooms", "namespace": self._namespace, "rooms": list(self._rooms)}
        else:
            action = {"actionName": "sendToNamespace", "namespace": self._namespace}
        action["eventName"] = event
        action["parameters"] = list(args)
        except_rooms = self._except_rooms()
        if except_rooms:
            action["exceptRooms"] = except_rooms
        self._actions.append(action)

    def send(self, data: Any) -> None:
        """``emit("message", data)``, like socket.io's ``send``."""
        self.emit("message", data)

    def call(self, *args: Any, **kwargs: Any) -> Any:
        raise no_server_acks("call()/emitWithAck cannot wait for a reply")

    emit_with_ack = call

    def disconnect_sockets(self, close: bool = False) -> None:
        """``disconnectSockets``: every socket in the chosen rooms, or the whole namespace without rooms.

        The action has no except list, so ``except_`` rooms are refused, and a socket's implicit
        sender exclusion does not apply (the sender is disconnected too if it is in the rooms).
        """
        if self._except:
            raise UnsupportedError(
                "disconnectSockets has no exceptRooms in serverless mode; choose the rooms to disconnect instead."
            )
        if not isinstance(close, bool):
            raise ValueError(f"close must be True or False, got {close!r}.")
        action: Action = {"actionName": "disconnectSockets", "namespace": self._namespace}
        if self._rooms:
            action["rooms"] = list(self._rooms)
        action["closeUnderlyingConnection"] = close
        self._actions.append(action)

    def __repr__(self) -> str:
        return (
            f"BroadcastOperator(namespace={self._namespace!r}, rooms={list(self._rooms)!r}, "
            f"except_rooms={self._except_rooms()!r})"
        )


class Emitter(BroadcastOperator):
    """Namespace-wide emitter usable anywhere, e.g. from an HTTP function with a ``socketio`` output binding.

    ``Emitter(namespace="/").to("room").emit(...)`` excludes nobody. Collect actions, then ``flush(out)`` once
    (or use ``with Emitter(out=out) as emitter:``, which flushes when the block ends without an exception).
    Inside Socket.IO handlers use ``socket.server`` instead; the wrapper flushes it for you.
    """

    __slots__ = ("hub", "_out")

    def __init__(
        self,
        namespace: str = "/",
        *,
        hub: str | None = None,
        out: OutputLike | None = None,
        _actions: list[Action] | None = None,
    ) -> None:
        super().__init__([] if _actions is None else _actions, check_namespace(namespace))
        self.hub = hub
        self._out = out

    @property
    def namespace(self) -> str:
        return self._namespace

    @property
    def actions(self) -> list[Action]:
        """A copy of the actions collected so far (all namespaces of this emitter family)."""
        return [dict(action) for action in self._actions]

    def of(self, namespace: str) -> Emitter:
        """An emitter for another namespace that writes into the same action list."""
        return Emitter(namespace, hub=self.hub, out=self._out, _actions=self._actions)

    def socket(self, socket_id: str) -> Socket:
        """Another socket of this namespace, by id, writing into the same actions (python-socketio's
        ``enter_room(sid, room)`` is ``emitter.socket(sid).join(room)``)."""
        from ._socket import Socket  # a cycle at import time otherwise; cheap after the first call

        if not isinstance(socket_id, str) or not socket_id:
            raise ValueError(f"socket id must be a non-empty string, got {socket_id!r}.")
        return Socket(socket_id, self._namespace, self.hub or "", actions=self._actions)

    def output_value(self) -> str | list[Action] | None:
        return encode_output(self._actions)

    def flush(self, out: OutputLike | None = None) -> str | list[Action] | None:
        """Write every collected action to ``out`` in ONE ``set`` (nothing when there are none) and clear them."""
        target = out if out is not None else self._out
        if target is None:
            raise ValueError("Emitter.flush needs the output binding: flush(out) or Emitter(out=out).")
        value = encode_output(self._actions)
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
