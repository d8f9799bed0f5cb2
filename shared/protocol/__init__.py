"""Wire-protocol helpers of Web PubSub for Socket.IO (serverless), shared by the library and the offline stack.

Everything here is pure, standard-library only, and pinned to the facts of docs/protocol.md by contract tests:
group names (docs/protocol.md#group-names), Socket.IO packet text (docs/protocol.md#user-events,
docs/protocol.md#output-actions), connection strings (docs/protocol.md#extension-settings), webhook signatures
(docs/protocol.md#signatures)
and the mapping of output actions to data-plane REST calls (docs/protocol.md#output-actions).
"""

from __future__ import annotations

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
]
