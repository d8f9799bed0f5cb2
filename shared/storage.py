"""Azure Storage for app state: the worker's table and container clients and the storage call wrapper.

The same clients sessions and presence use (docs/state.md), built on first use from the app settings the
Functions host itself reads (``AzureWebJobsStorage`` or its identity-based form) and reused by every invocation
of the worker::

    from shared.storage import call_storage, table_client

    table = table_client("shapes")                       # created on first use
    call_storage(lambda: table.upsert_entity(entity), "store the shape")

``call_storage`` turns unreachable storage, 5xx and 401/403/408/429 into ``StorageError`` (an ``AckError``: an
event handler answers the client with it); 404/409/412 propagate as the SDK's errors. Missing or unusable
settings raise ``StorageConfigError``, which is not an ``AckError``: the setting names stay in the logs (once per
worker, at ERROR), and clients get the generic internal error.
"""

from __future__ import annotations

from ._storage import (
    BLOB_URI_SETTING,
    CLIENT_ID_SETTING,
    CREDENTIAL_SETTING,
    STORAGE_SETTING,
    TABLE_URI_SETTING,
    StorageConfigError,
    StorageError,
    call_storage,
    configure_storage,
    container_client,
    table_client,
)

__all__ = [
    "BLOB_URI_SETTING",
    "call_storage",
    "CLIENT_ID_SETTING",
    "configure_storage",
    "container_client",
    "CREDENTIAL_SETTING",
    "STORAGE_SETTING",
    "StorageConfigError",
    "StorageError",
    "TABLE_URI_SETTING",
    "table_client",
]
