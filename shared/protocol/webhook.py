"""The webhook envelope: paths, CloudEvents headers, event types and body keys (docs/protocol.md#webhooks).

The one spelling of each name, for the side that sends webhooks (the emulator, standing in for the service)
and the side that receives them (the dev host, standing in for the extension); ``tests/contract/
test_protocol_reference.py`` pins the values.
"""

from __future__ import annotations

import re

# -- paths (docs/protocol.md#event-handler-settings, docs/protocol.md#client-connections) -------------------------

WEBHOOK_PATH = "/runtime/webhooks/socketio"
"""Where the extension serves the service's webhooks on a Function App."""

CLIENT_PATH_PREFIX = "/clients/socketio/hubs/"
"""Clients connect at ``CLIENT_PATH_PREFIX + hub`` (with or without a trailing ``/``)."""


def client_path(hub: str) -> str:
    """``/clients/socketio/hubs/<hub>``: the Engine.IO path of a hub (negotiate's ``path``, the token's ``aud``)."""
    return f"{CLIENT_PATH_PREFIX}{hub}"


def hub_of_client_path(path: str) -> str | None:
    """The hub of ``/clients/socketio/hubs/<hub>[/]``, or None for any other path."""
    if not path.startswith(CLIENT_PATH_PREFIX):
        return None
    hub = path[len(CLIENT_PATH_PREFIX) :]
    hub = hub[:-1] if hub.endswith("/") else hub
    return hub if hub and "/" not in hub else None


# -- headers (docs/protocol.md#cloudevents-headers, docs/protocol.md#abuse-protection) ----------------------------

ORIGIN = "WebHook-Request-Origin"
ALLOWED_ORIGIN = "WebHook-Allowed-Origin"
CE_SPECVERSION = "ce-specversion"
CE_TYPE = "ce-type"
CE_SOURCE = "ce-source"
CE_ID = "ce-id"
CE_TIME = "ce-time"
CE_SIGNATURE = "ce-signature"
CE_CONNECTION_ID = "ce-connectionId"
CE_HUB = "ce-hub"
CE_EVENT_NAME = "ce-eventName"
CE_NAMESPACE = "ce-namespace"
CE_SOCKET_ID = "ce-socketId"
CE_USER_ID = "ce-userId"
CE_AWPS_VERSION = "ce-awpsversion"

REQUIRED_HEADERS = (CE_CONNECTION_ID, CE_HUB, CE_TYPE, CE_EVENT_NAME, ORIGIN, CE_NAMESPACE, CE_SOCKET_ID)
"""The headers the extension requires, non-empty, in the order it reads them (400 otherwise)."""

_LIST_SEPARATORS = re.compile(r"[,\s]+")


def split_header_list(value: str | None) -> list[str]:
    """The entries of a list header (``WebHook-Request-Origin``, ``ce-signature``): split on commas and
    whitespace, as the extension does, empty entries dropped."""
    return [item for item in _LIST_SEPARATORS.split(value) if item] if value else []


# -- event types and names (docs/protocol.md#cloudevents-headers, docs/protocol.md#trigger-binding) --------------

SYSTEM_TYPE_PREFIX = "azure.webpubsub.sys."
USER_MESSAGE_TYPE = "azure.webpubsub.user.message"
SYSTEM_EVENTS = ("connect", "connected", "disconnected")
"""The system events, by ``ce-eventName``; every other name is a user event."""


def event_type(event_name: str) -> str:
    """The ``ce-type`` of an event: ``azure.webpubsub.sys.<name>`` for a system event, else the user message."""
    return SYSTEM_TYPE_PREFIX + event_name if event_name in SYSTEM_EVENTS else USER_MESSAGE_TYPE


def is_system_type(ce_type: str) -> bool:
    """Whether a ``ce-type`` is a system event: the extension reads only the prefix, case-insensitively."""
    return ce_type.lower().startswith(SYSTEM_TYPE_PREFIX)


# -- bodies (docs/protocol.md#connect, docs/protocol.md#disconnected) ---------------------------------------------

CONNECT_BODY_KEYS = ("claims", "query", "subprotocols", "clientCertificates", "headers")
"""The keys of a ``connect`` body; the extension needs all five."""

DISCONNECTED_REASON = "reason"
"""The one key of a ``disconnected`` body."""

NAME_IDENTIFIER_CLAIM = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier"
"""The claim type .NET maps ``sub`` to (docs/protocol.md#connect-request-contents)."""
