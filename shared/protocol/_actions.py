"""Output-binding actions -> data-plane REST calls, exactly as the extension's collector does
(docs/protocol.md#output-actions).

One action may become one REST call. The filters are built the extension's way, without parentheses
around the ``or`` part: ``'g1' in groups or 'g2' in groups and not ('x' in groups)`` means
*g1 OR (g2 AND NOT x)* under OData precedence. That is what the real service does, so we do it too.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, NotRequired, TypedDict

from ._groups import group_name
from ._packets import encode_disconnect, encode_event

ACTION_NAMES = (
    "sendToNamespace",
    "sendToRooms",
    "sendToSocket",
    "addSocketToRoom",
    "removeSocketFromRoom",
    "disconnectSockets",
)
_BY_LOWER = {name.lower(): name for name in ACTION_NAMES}


# -- the typed shapes of the six actions (what the library writes; keys in the order it writes them) -------------


class SendToNamespace(TypedDict):
    """Emit to every socket of ``namespace`` except those in ``exceptRooms``."""

    actionName: Literal["sendToNamespace"]
    namespace: str
    eventName: str
    parameters: list[Any]
    exceptRooms: NotRequired[list[str]]


class SendToRooms(TypedDict):
    """Emit to the sockets in any of ``rooms`` except those in ``exceptRooms``."""

    actionName: Literal["sendToRooms"]
    namespace: str
    rooms: list[str]
    eventName: str
    parameters: list[Any]
    exceptRooms: NotRequired[list[str]]


class SendToSocket(TypedDict):
    """Emit to one socket."""

    actionName: Literal["sendToSocket"]
    namespace: str
    socketId: str
    eventName: str
    parameters: list[Any]


class AddSocketToRoom(TypedDict):
    actionName: Literal["addSocketToRoom"]
    namespace: str
    socketId: str
    room: str


class RemoveSocketFromRoom(TypedDict):
    actionName: Literal["removeSocketFromRoom"]
    namespace: str
    socketId: str
    room: str


class DisconnectSockets(TypedDict):
    """Disconnect the sockets in ``rooms`` (the whole namespace without rooms)."""

    actionName: Literal["disconnectSockets"]
    namespace: str
    rooms: NotRequired[list[str]]
    closeUnderlyingConnection: bool


Action = SendToNamespace | SendToRooms | SendToSocket | AddSocketToRoom | RemoveSocketFromRoom | DisconnectSockets
"""One output-binding action, as the library builds it (``parse_actions`` reads any casing, as the extension)."""

RestOperation = Literal["sendToAll", "sendToGroup", "addToGroups", "removeFromGroups"]


class ActionError(ValueError):
    """An action the extension would refuse; the message says which field is wrong."""


@dataclass(frozen=True)
class RestCall:
    """One data-plane call. ``body`` is the text message for sends, the JSON object for group operations.

    ``filter`` is None when the extension passes none, ``""`` when it passes an empty one.
    """

    operation: RestOperation
    body: str | dict[str, Any]
    group: str | None = None
    filter: str | None = None
    content_type: str = "text/plain"


def _in_groups(group: str) -> str:
    return f"'{group}' in groups"


def rooms_filter(namespace: str, rooms: Sequence[str], except_rooms: Sequence[str] = ()) -> str:
    """``'g1' in groups or 'g2' in groups and not ('x1' in groups) and not ('x2' in groups)`` (no parentheses)."""
    clauses = " or ".join(_in_groups(group_name(namespace, room)) for room in rooms)
    for room in except_rooms:
        clause = f"not ({_in_groups(group_name(namespace, room))})"
        clauses = f"{clauses} and {clause}" if clauses else clause
    return clauses


def _string(action: Mapping[str, Any], key: str, name: str, *, required: bool = True) -> str:
    value = action.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value):
        raise ActionError(f"{name} needs '{key}' as a non-empty string, got {value!r}.")
    return value


def _string_list(action: Mapping[str, Any], key: str, name: str, *, non_empty: bool = False) -> list[str]:
    value = action.get(key)
    if value is None:
        value = []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ActionError(f"{name} needs '{key}' as a JSON array of strings, got {value!r}.")
    if non_empty and not value:
        raise ActionError(f"{name} needs at least one entry in '{key}'.")
    return value


def _parameters(action: Mapping[str, Any], name: str) -> list[Any]:
    value = action.get("parameters")
    if value is None:
        return []
    if not isinstance(value, list):
        raise ActionError(f"{name} needs 'parameters' as a JSON array, got {type(value).__name__}.")
    return value


def normalize_action_name(action: Mapping[str, Any]) -> str:
    """The canonical ``actionName`` (the key and its value are matched case-insensitively)."""
    raw = next((value for key, value in action.items() if key.lower() == "actionname"), None)
    if raw is None:
        keys = ", ".join(sorted(action)) or "none"
        raise ActionError(f"Action has no 'actionName' (keys: {keys}); 'type' is not read by the extension.")
    name = _BY_LOWER.get(str(raw).lower())
    if name is None:
        raise ActionError(f"Not supported SocketIOAction: {raw}. Use one of: {', '.join(ACTION_NAMES)}.")
    return name


def parse_actions(value: str | bytes | Mapping[str, Any] | Sequence[Any]) -> list[dict[str, Any]]:
    """The actions in one output-binding value: a JSON object, or a JSON array of objects."""
    if isinstance(value, (str, bytes)):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise ActionError(f"Output binding value is not JSON: {exc.msg}.") from None
    items = [value] if isinstance(value, Mapping) else value
    if not isinstance(items, Sequence) or isinstance(items, (str, bytes)):
        raise ActionError(f"Output binding value must be a JSON object or array, got {type(value).__name__}.")
    actions = []
    for item in items:
        if not isinstance(item, Mapping):
            raise ActionError(f"Each action must be a JSON object, got {type(item).__name__}.")
        normalize_action_name(item)
        actions.append(dict(item))
    return actions


def action_to_rest_calls(action: Mapping[str, Any]) -> list[RestCall]:
    """The REST calls the extension makes for one action (docs/protocol.md#output-actions table and test strings)."""
    name = normalize_action_name(action)
    namespace = action.get("namespace") or "/"
    if not isinstance(namespace, str) or not namespace.startswith("/"):
        raise ActionError(f"{name} needs 'namespace' to start with '/', got {namespace!r}.")
    if name in ("sendToNamespace", "sendToRooms", "sendToSocket"):
        event = _string(action, "eventName", name)
        body = encode_event(namespace, event, _parameters(action, name))
        if name == "sendToSocket":
            socket_id = _string(action, "socketId", name)
            return [RestCall("sendToGroup", body, group=group_name(namespace, socket_id), filter=None)]
        except_rooms = _string_list(action, "exceptRooms", name)
        if name == "sendToNamespace":
            return [
                RestCall(
                    "sendToGroup", body, group=group_name(namespace), filter=rooms_filter(namespace, (), except_rooms)
                )
            ]
        rooms = _string_list(action, "rooms", name, non_empty=True)
        if len(rooms) == 1:
            return [
                RestCall(
                    "sendToGroup",
                    body,
                    group=group_name(namespace, rooms[0]),
                    filter=rooms_filter(namespace, (), except_rooms),
                )
            ]
        return [RestCall("sendToAll", body, filter=rooms_filter(namespace, rooms, except_rooms))]
    if name in ("addSocketToRoom", "removeSocketFromRoom"):
        socket_id = _string(action, "socketId", name)
        room = _string(action, "room", name)
        groups_body = {"groups": [group_name(namespace, room)], "filter": _in_groups(group_name(namespace, socket_id))}
        operation: RestOperation = "addToGroups" if name == "addSocketToRoom" else "removeFromGroups"
        return [RestCall(operation, groups_body, content_type="application/json")]
    # disconnectSockets
    rooms = _string_list(action, "rooms", name)
    close = action.get("closeUnderlyingConnection", False)
    if not isinstance(close, bool):
        raise ActionError(f"{name} needs 'closeUnderlyingConnection' as true or false, got {close!r}.")
    filter_ = rooms_filter(namespace, rooms) if rooms else _in_groups(group_name(namespace))
    return [RestCall("sendToAll", encode_disconnect(namespace, close), filter=filter_)]
