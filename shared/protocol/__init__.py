"""Wire-protocol helpers of Web PubSub for Socket.IO (serverless), shared by the library and the offline stack.

Everything here is pure, standard-library only, and pinned to the facts of docs/protocol.md by contract tests:
group names (#group-names), Socket.IO packet text (#user-events, #output-actions), connection strings
(#extension-settings), the webhook envelope (``shared.protocol.webhook``, #webhooks), webhook signatures
(#signatures), the typed actions and their mapping to data-plane REST calls (#actions-to-rest-calls).

Names load on first use (module ``__getattr__``), so importing one submodule (``shared.protocol.webhook``) stays
cheap for the library's cold start.
"""

from __future__ import annotations

import importlib as _importlib
import typing as _typing

if _typing.TYPE_CHECKING:  # for type checkers; at run time each name loads with its module, on first use
    from . import webhook
    from ._actions import (
        ACTION_NAMES,
        Action,
        ActionError,
        AddSocketToRoom,
        DisconnectSockets,
        RemoveSocketFromRoom,
        RestCall,
        SendToNamespace,
        SendToRooms,
        SendToSocket,
        action_to_rest_calls,
        normalize_action_name,
        parse_actions,
        rooms_filter,
    )
    from ._connection_string import ConnectionString, ConnectionStringError
    from ._groups import b64url_decode, b64url_encode, group_name, parse_group_name
    from ._packets import (
        EventPacket,
        PacketError,
        encode_ack,
        encode_disconnect,
        encode_event,
        namespace_prefix,
        parse_event_payload,
    )
    from ._signature import signature_header, signature_matches, signature_of

# name -> the module that defines it ("" for a public submodule)
_WHERE = {
    "Action": "._actions",
    "ACTION_NAMES": "._actions",
    "action_to_rest_calls": "._actions",
    "ActionError": "._actions",
    "AddSocketToRoom": "._actions",
    "b64url_decode": "._groups",
    "b64url_encode": "._groups",
    "ConnectionString": "._connection_string",
    "ConnectionStringError": "._connection_string",
    "DisconnectSockets": "._actions",
    "encode_ack": "._packets",
    "encode_disconnect": "._packets",
    "encode_event": "._packets",
    "EventPacket": "._packets",
    "group_name": "._groups",
    "namespace_prefix": "._packets",
    "normalize_action_name": "._actions",
    "PacketError": "._packets",
    "parse_actions": "._actions",
    "parse_event_payload": "._packets",
    "parse_group_name": "._groups",
    "RemoveSocketFromRoom": "._actions",
    "RestCall": "._actions",
    "rooms_filter": "._actions",
    "SendToNamespace": "._actions",
    "SendToRooms": "._actions",
    "SendToSocket": "._actions",
    "signature_header": "._signature",
    "signature_matches": "._signature",
    "signature_of": "._signature",
    "webhook": "",
}


def __getattr__(name: str) -> _typing.Any:
    where = _WHERE.get(name)
    if where is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module = _importlib.import_module(f".{name}" if where == "" else where, __name__)
    value = module if where == "" else getattr(module, name)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


__all__ = [
    "Action",
    "ACTION_NAMES",
    "action_to_rest_calls",
    "ActionError",
    "AddSocketToRoom",
    "b64url_decode",
    "b64url_encode",
    "ConnectionString",
    "ConnectionStringError",
    "DisconnectSockets",
    "encode_ack",
    "encode_disconnect",
    "encode_event",
    "EventPacket",
    "group_name",
    "namespace_prefix",
    "normalize_action_name",
    "PacketError",
    "parse_actions",
    "parse_event_payload",
    "parse_group_name",
    "RemoveSocketFromRoom",
    "RestCall",
    "rooms_filter",
    "SendToNamespace",
    "SendToRooms",
    "SendToSocket",
    "signature_header",
    "signature_matches",
    "signature_of",
    "webhook",
]
