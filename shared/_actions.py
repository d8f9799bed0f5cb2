"""The action model: one invocation's output actions (``ActionList``) and the checks every action passes first.

An action is one of the typed dicts of ``shared.protocol`` (``SendToRooms``, ``AddSocketToRoom`` ...). Everything
that builds actions during one invocation (the ``Socket``, its ``server`` view, every ``BroadcastOperator``
derived from them, ``Emitter.socket(sid)``, the compat facade) appends to the same ``ActionList``; the function
wrapper (or ``Emitter.flush``) writes ``ActionList.encode()`` to the ``socketio`` output binding once.

Public API (for code inside ``shared``; handlers use ``Socket``/``Emitter``)::

    actions = ActionList()
    actions.add({"actionName": "addSocketToRoom", "namespace": "/", "socketId": sid, "room": "r"})
    len(actions), bool(actions), list(actions)   # the actions, in order (the list's own dicts)
    actions.snapshot()                           # copies, safe to hand out
    actions.room_changes(sid, "/")               # (joined, left): the net room changes of one socket
    actions.member_changes("r", "/")             # (added, removed): the net member changes of one room
    actions.encode()                             # the output-binding value: None, a JSON string, or a list
    actions.clear()                              # drop them (the state behind them could not be stored)
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from ._errors import SiolessError, UnsupportedError, no_server_acks

if TYPE_CHECKING:  # types only: `shared.protocol` is not imported with the handlers' modules (cold start)
    from .protocol import Action

__all__ = [
    "ActionList",
    "OutputLike",
    "RESERVED_EVENTS",
    "check_event",
    "check_json",
    "check_namespace",
    "json_error",
    "room_list",
    "to_json",
]

# json.dumps(value) with its default options, as one call to the encoder json.dumps itself uses: it skips
# json.dumps's own argument handling, about 7 % of its cost for an action or an ack (twice per event).
to_json = json.JSONEncoder().encode

# socket.io refuses to emit these from a server ("… is a reserved event name"); so do we.
RESERVED_EVENTS = frozenset(
    {"connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"}
)


class OutputLike(Protocol):
    """What a ``socketio`` output binding parameter (``func.Out[str]``) offers: one ``set``."""

    def set(self, val: Any) -> None: ...


class ActionList:
    """The actions of one invocation, in the order they were made; written to the output binding once.

    Not thread-safe by design: one invocation builds it, then the wrapper encodes it.
    """

    __slots__ = ("_items",)

    def __init__(self, actions: Iterable[Action] = ()) -> None:
        self._items: list[Action] = list(actions) if actions else []

    def add(self, action: Action) -> None:
        """Append one action (already checked by the caller: the builders validate their arguments)."""
        self._items.append(action)

    def __len__(self) -> int:
        return len(self._items)

    def __bool__(self) -> bool:
        return bool(self._items)

    def __iter__(self) -> Iterator[Action]:
        return iter(self._items)

    def snapshot(self) -> list[Action]:
        """Shallow copies of the actions (what ``socket.actions`` / ``emitter.actions`` return)."""
        return [action.copy() for action in self._items]

    def clear(self) -> None:
        self._items.clear()

    def _room_operations(self, namespace: str) -> Iterator[tuple[str, str, bool]]:
        """``(socket id, room, joined)`` for each addSocketToRoom/removeSocketFromRoom of ``namespace``."""
        for action in self._items:
            if action["namespace"] != namespace:
                continue
            if action["actionName"] == "addSocketToRoom":
                yield action["socketId"], action["room"], True
            elif action["actionName"] == "removeSocketFromRoom":
                yield action["socketId"], action["room"], False

    def room_changes(self, sid: str, namespace: str) -> tuple[list[str], list[str]]:
        """``(joined, left)``: the rooms socket ``sid`` of ``namespace`` ends up joining and leaving.

        The last change of a room wins (join then leave is a leave); each room appears once, in order.
        """
        return _net((room, joined) for socket_id, room, joined in self._room_operations(namespace) if socket_id == sid)

    def member_changes(self, room: str, namespace: str) -> tuple[list[str], list[str]]:
        """``(added, removed)``: the sockets that end up joining and leaving ``room`` of ``namespace``."""
        return _net((sid, joined) for sid, name, joined in self._room_operations(namespace) if name == room)

    def encode(self) -> str | list[Action] | None:
        """The output-binding value: None (set nothing) without actions, a JSON object string for one, a list
        of action dicts for several (the worker sends a list as JSON, which the host reads as an array of
        actions; see docs/api.md "Multi-action encoding")."""
        if not self._items:
            return None
        if len(self._items) == 1:
            return to_json(self._items[0])
        return list(self._items)

    def __repr__(self) -> str:
        return f"ActionList({[action['actionName'] for action in self._items]!r})"


def _net(changes: Iterable[tuple[str, bool]]) -> tuple[list[str], list[str]]:
    added: list[str] = []
    removed: list[str] = []
    for name, joined in changes:
        into, other = (added, removed) if joined else (removed, added)
        if name in other:
            other.remove(name)
        if name not in into:
            into.append(name)
    return added, removed


# -- validators: a clear error at the call site, for what the output binding could not carry later --------------


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
    if isinstance(rooms, str) and rooms:
        return [rooms]  # the common case (``socket.to(room)``), on every event
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


_SCALARS = frozenset({str, int, float, bool, type(None)})  # exact types: a subclass may encode differently


def json_error(values: Any, what: str, exc: Exception) -> SiolessError:
    """The error to raise when ``values`` could not be JSON-encoded."""
    if _has_binary(values):
        return UnsupportedError(
            f"{what} contains binary data (bytes); serverless mode only carries text JSON "
            "(the extension sends text/plain packets). Encode it, e.g. as base64 text."
        )
    return SiolessError(f"{what} is not JSON-serializable: {exc}")


def _all_scalars(values: Iterable[Any]) -> bool:
    for value in values:
        if type(value) not in _SCALARS:
            return False
    return True


def check_json(values: Sequence[Any], what: str) -> None:
    """Raise a clear error now, at the call site, for what the output binding could not carry later."""
    if _all_scalars(values):
        return  # the common case, without a trial encoding
    try:
        json.dumps(values)
    except (TypeError, ValueError) as exc:
        raise json_error(list(values), what, exc) from None


def check_event(event: object, args: tuple[Any, ...], callback: Callable[..., Any] | None) -> str:
    if callback is not None:
        raise no_server_acks("callback= cannot be called: the output binding only sends")
    if not isinstance(event, str) or not event:
        raise ValueError(f"event name must be a non-empty string, got {event!r}.")
    if event in RESERVED_EVENTS:
        raise ValueError(f"{event!r} is a reserved Socket.IO event name and cannot be emitted.")
    for value in args:  # (check_json's first step, inline: this runs for every emit)
        if type(value) not in _SCALARS:
            check_json(args, f"the arguments of emit({event!r})")
            break
    return event
