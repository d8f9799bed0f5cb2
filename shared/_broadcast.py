"""``BroadcastOperator``: rooms chosen with ``to``/``except_``, then ``emit`` or ``disconnect_sockets`` (one action).

Operators write into the invocation's ``ActionList`` (``shared._actions``); the action shapes are the typed dicts
of ``shared.protocol`` (docs/protocol.md#output-actions).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from ._actions import ActionList, check_event, room_list
from ._errors import UnsupportedError, no_server_acks

if TYPE_CHECKING:
    from .protocol import DisconnectSockets, SendToNamespace, SendToRooms


class BroadcastOperator:
    """Targets rooms (``to``/``in_``), excludes rooms (``except_``), then ``emit`` or ``disconnect_sockets``.

    Operators are immutable: each ``to``/``except_`` returns a new one. When built from a socket
    (``socket.to(...)``, ``socket.broadcast``) the sender's own room is excluded from emits, as in socket.io.
    """

    __slots__ = ("_actions", "_namespace", "_rooms", "_except", "_sender")

    def __init__(
        self,
        actions: ActionList,
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
        action: SendToRooms | SendToNamespace  # ([*x] rather than list(x): a cheaper copy, on every emit)
        if self._rooms:
            action = {
                "actionName": "sendToRooms",
                "namespace": self._namespace,
                "rooms": [*self._rooms],
                "eventName": event,
                "parameters": [*args],
            }
        else:
            action = {
                "actionName": "sendToNamespace",
                "namespace": self._namespace,
                "eventName": event,
                "parameters": [*args],
            }
        if self._except:
            action["exceptRooms"] = self._except_rooms()
        elif self._sender:  # the common case (socket.to(room), socket.broadcast): only the sender
            action["exceptRooms"] = [self._sender]
        self._actions.add(action)

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
        action: DisconnectSockets
        if self._rooms:
            action = {
                "actionName": "disconnectSockets",
                "namespace": self._namespace,
                "rooms": list(self._rooms),
                "closeUnderlyingConnection": close,
            }
        else:
            action = {
                "actionName": "disconnectSockets",
                "namespace": self._namespace,
                "closeUnderlyingConnection": close,
            }
        self._actions.add(action)

    def __repr__(self) -> str:
        return (
            f"BroadcastOperator(namespace={self._namespace!r}, rooms={list(self._rooms)!r}, "
            f"except_rooms={self._except_rooms()!r})"
        )
