"""Wire-protocol helpers of Web PubSub for Socket.IO (serverless), shared by the library and the offline stack.

Everything here is pure, standard-library only, and pinned to the facts of docs/protocol.md by contract tests:
group names (#group-names), Socket.IO packet text (#user-events, #output-actions), connection strings
(#extension-settings), the webhook envelope (``shared.protocol.webhook``, #webhooks), webhook signatures
(#signatures), the typed actions and their mapping to data-plane REST calls (#actions-to-rest-calls).
"""

from __future__ import annotations

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
