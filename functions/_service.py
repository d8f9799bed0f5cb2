"""The official ``WebPubSubServiceClient`` for a hub, from the settings the Socket.IO extension reads.

- ``WebPubSubForSocketIOConnectionString``: a connection string with an access key (local, the emulator);
- ``WebPubSubForSocketIOConnectionString__endpoint`` with ``__credential=managedidentity`` and ``__clientId``
  (Azure, key-less, what infra/ deploys): the user-assigned identity, else ``DefaultAzureCredential``.

Built on first use and reused by every invocation of the worker; the SDK is imported here, never when the
function app is indexed (cold start).
"""

from __future__ import annotations

import os
import threading
from typing import Any

CONNECTION_SETTING = "WebPubSubForSocketIOConnectionString"
ENDPOINT_SETTING = "WebPubSubForSocketIOConnectionString__endpoint"
CREDENTIAL_SETTING = "WebPubSubForSocketIOConnectionString__credential"
CLIENT_ID_SETTING = "WebPubSubForSocketIOConnectionString__clientId"
# Functions answer callers synchronously: fail fast rather than retry for minutes (the SDK default).
_CLIENT_OPTIONS: dict[str, Any] = {"retry_total": 1, "connection_timeout": 3, "read_timeout": 10}


class ServiceConfigError(RuntimeError):
    """No usable Web PubSub setting: the message names the settings to set."""


_lock = threading.Lock()
_clients: dict[str, Any] = {}


def service_client(hub: str) -> Any:
    """The worker's ``azure.messaging.webpubsubservice.WebPubSubServiceClient`` for ``hub``."""
    client = _clients.get(hub)
    if client is not None:
        return client
    with _lock:
        client = _clients.get(hub)
        if client is None:
            client = _clients[hub] = _build(hub)
        return client


def reset() -> None:
    """Drop the cached clients (tests that change the settings)."""
    with _lock:
        _clients.clear()


def _build(hub: str) -> Any:
    from azure.messaging.webpubsubservice import WebPubSubServiceClient

    connection_string = os.environ.get(CONNECTION_SETTING)
    if connection_string:
        return WebPubSubServiceClient.from_connection_string(connection_string, hub=hub, **_CLIENT_OPTIONS)
    endpoint = os.environ.get(ENDPOINT_SETTING)
    if not endpoint:
        raise ServiceConfigError(
            f"Web PubSub is not configured: set {CONNECTION_SETTING} (a connection string) or {ENDPOINT_SETTING} "
            f"with {CREDENTIAL_SETTING}=managedidentity"
        )
    client_id = os.environ.get(CLIENT_ID_SETTING) or None
    credential: Any
    if os.environ.get(CREDENTIAL_SETTING, "").lower() == "managedidentity":
        from azure.identity import ManagedIdentityCredential

        credential = ManagedIdentityCredential(client_id=client_id) if client_id else ManagedIdentityCredential()
    else:
        from azure.identity import DefaultAzureCredential

        credential = DefaultAzureCredential(managed_identity_client_id=client_id)
    return WebPubSubServiceClient(endpoint, hub, credential, **_CLIENT_OPTIONS)


def socket_exists(hub: str, namespace: str, socket_id: str) -> bool:
    """Whether the service still has the socket: its own room's group ``0~b64url(ns)~b64url(sid)`` has a member.

    One HEAD request (``group_exists``). Errors propagate: a caller must not take "unreachable" for "gone".
    """
    from shared.protocol import group_name

    exists: bool = service_client(hub).group_exists(group_name(namespace, socket_id))
    return exists
