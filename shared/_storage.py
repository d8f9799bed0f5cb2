"""Azure Storage clients for app state, built on first use and reused by every invocation of the worker.

Where the account is comes from the same app settings the Functions host uses (docs/state.md):

- ``AzureWebJobsStorage`` = ``UseDevelopmentStorage=true`` or a full connection string (local, Azurite), or
- ``AzureWebJobsStorage__tableServiceUri`` / ``__blobServiceUri`` with ``__credential=managedidentity`` and
  ``__clientId`` (Azure, key-less): ``ManagedIdentityCredential(client_id=...)``, else ``DefaultAzureCredential``.

``azure.data.tables``, ``azure.storage.blob`` and ``azure.identity`` are imported here lazily, never when
``shared`` is imported (cold start). Clients are synchronous and thread-safe; async callers go through
``asyncio.to_thread`` (docs/state.md says why). Failures reaching storage become :class:`StorageError`.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from typing import Any

from ._errors import AckError, SiolessError

logger = logging.getLogger("sioless")

STORAGE_SETTING = "AzureWebJobsStorage"
TABLE_URI_SETTING = "AzureWebJobsStorage__tableServiceUri"
BLOB_URI_SETTING = "AzureWebJobsStorage__blobServiceUri"
CREDENTIAL_SETTING = "AzureWebJobsStorage__credential"
CLIENT_ID_SETTING = "AzureWebJobsStorage__clientId"

# The well-known Azurite account (public development key, not a secret).
_DEV_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
DEVELOPMENT_CONNECTION_STRING = (
    f"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={_DEV_KEY};"
    "BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;QueueEndpoint=http://127.0.0.1:10001/devstoreaccount1;"
    "TableEndpoint=http://127.0.0.1:10002/devstoreaccount1;"
)
# Handlers answer the extension synchronously: fail fast rather than retry for minutes (the SDK default).
_CLIENT_OPTIONS: dict[str, Any] = {
    "retry_total": 2,
    "retry_backoff_factor": 0.2,
    "retry_backoff_max": 1,
    "connection_timeout": 3,
    "read_timeout": 15,
}


class StorageError(AckError):
    """Storage could not be reached or refused the request; an event handler answers ``{"error": message}``."""


class StorageConfigError(SiolessError):
    """No usable storage setting: the message names the settings to set.

    Not an ``AckError``: it is the operator's problem, so the wrapper logs it (``report_config_error``) and
    clients get the generic internal error (500 on connect), never the setting names.
    """


_config_error_reported = False
_report_lock = threading.Lock()


def report_config_error(error: StorageConfigError, where: str) -> None:
    """Log a configuration error at ERROR the first time in this worker, then at DEBUG (it repeats on every call)."""
    global _config_error_reported
    with _report_lock:
        first, _config_error_reported = not _config_error_reported, True
    if first:
        logger.error("%s: %s (logged once per worker)", where, error)
    else:
        logger.debug("%s: %s", where, error)


class _Config:
    __slots__ = ("connection_string", "table_uri", "blob_uri", "credential")

    def __init__(
        self,
        connection_string: str | None = None,
        table_uri: str | None = None,
        blob_uri: str | None = None,
        credential: Any = None,
    ) -> None:
        self.connection_string = connection_string
        self.table_uri = table_uri
        self.blob_uri = blob_uri
        self.credential = credential


_lock = threading.Lock()
_override: _Config | None = None
_tables: dict[str, Any] = {}
_containers: dict[str, Any] = {}
_credential: Any = None


def configure_storage(
    connection_string: str | None = None,
    *,
    table_service_uri: str | None = None,
    blob_service_uri: str | None = None,
    credential: Any = None,
) -> None:
    """Use this account instead of the app settings (tests, scripts); ``configure_storage()`` resets to them.

    Drops the cached clients either way, so the next call builds new ones.
    """
    global _override, _credential
    with _lock:
        if connection_string is None and table_service_uri is None and blob_service_uri is None:
            _override = None
        else:
            _override = _Config(_expand(connection_string), table_service_uri, blob_service_uri, credential)
        _tables.clear()
        _containers.clear()
        _credential = None


def _expand(connection_string: str | None) -> str | None:
    if connection_string is not None and connection_string.replace(" ", "").lower() == "usedevelopmentstorage=true":
        return DEVELOPMENT_CONNECTION_STRING
    return connection_string


def _config() -> _Config:
    if _override is not None:
        return _override
    connection_string = os.environ.get(STORAGE_SETTING)
    if connection_string:
        return _Config(_expand(connection_string))
    table_uri = os.environ.get(TABLE_URI_SETTING)
    blob_uri = os.environ.get(BLOB_URI_SETTING)
    if table_uri or blob_uri:
        return _Config(None, table_uri, blob_uri)
    raise StorageConfigError(
        f"storage is not configured: set {STORAGE_SETTING} (a connection string, or UseDevelopmentStorage=true "
        f"for Azurite) or {TABLE_URI_SETTING} / {BLOB_URI_SETTING} with {CREDENTIAL_SETTING}=managedidentity"
    )


def _identity() -> Any:
    """The credential for the URI form: the configured one, the user-assigned identity, or the default chain."""
    global _credential
    if _override is not None and _override.credential is not None:
        return _override.credential
    if _credential is None:
        client_id = os.environ.get(CLIENT_ID_SETTING)
        if os.environ.get(CREDENTIAL_SETTING, "").lower() == "managedidentity":
            from azure.identity import ManagedIdentityCredential

            _credential = ManagedIdentityCredential(client_id=client_id) if client_id else ManagedIdentityCredential()
        else:
            from azure.identity import DefaultAzureCredential

            _credential = DefaultAzureCredential(managed_identity_client_id=client_id)
    return _credential


def _cached(cache: dict[str, Any], name: str, build: Callable[[_Config], Any], what: str) -> Any:
    """The client in ``cache`` for ``name``, built once (under the lock) by ``build(config)``."""
    client = cache.get(name)
    if client is not None:
        return client
    with _lock:
        client = cache.get(name)
        if client is None:
            config = _config()
            try:
                client = call_storage(lambda: build(config), what)
            except ValueError as exc:  # the SDK's answer to a malformed connection string or URI
                raise StorageConfigError(f"the storage settings are not usable ({what}): {exc}") from exc
            cache[name] = client
        return client


def table_client(name: str) -> Any:
    """The worker's ``azure.data.tables.TableClient`` for ``name``; the table is created on first use."""

    def build(config: _Config) -> Any:
        from azure.data.tables import TableServiceClient

        if config.connection_string:
            service = TableServiceClient.from_connection_string(config.connection_string, **_CLIENT_OPTIONS)
        elif config.table_uri:
            service = TableServiceClient(config.table_uri, credential=_identity(), **_CLIENT_OPTIONS)
        else:
            raise StorageConfigError(f"table storage is not configured: set {TABLE_URI_SETTING}")
        service.create_table_if_not_exists(name)
        return service.get_table_client(name)

    return _cached(_tables, name, build, f"open table {name!r}")


def container_client(name: str) -> Any:
    """The worker's ``azure.storage.blob.ContainerClient`` for ``name``; the container is created on first use."""

    def build(config: _Config) -> Any:
        from azure.core.exceptions import ResourceExistsError
        from azure.storage.blob import BlobServiceClient

        if config.connection_string:
            service = BlobServiceClient.from_connection_string(config.connection_string, **_CLIENT_OPTIONS)
        elif config.blob_uri:
            service = BlobServiceClient(config.blob_uri, credential=_identity(), **_CLIENT_OPTIONS)
        else:
            raise StorageConfigError(f"blob storage is not configured: set {BLOB_URI_SETTING}")
        container = service.get_container_client(name)
        try:
            container.create_container()
        except ResourceExistsError:
            pass
        return container

    return _cached(_containers, name, build, f"open blob container {name!r}")


def call_storage[T](operation: Callable[[], T], what: str) -> T:
    """Run ``operation``; connection failures and server errors become :class:`StorageError` (named ``what``).

    Client errors (404, 409, 412 ...) propagate unchanged: callers decide what they mean.
    """
    from azure.core.exceptions import HttpResponseError, ServiceRequestError, ServiceResponseError

    try:
        return operation()
    except StorageError:
        raise
    except (ServiceRequestError, ServiceResponseError) as exc:
        raise StorageError(f"storage is unavailable ({what}): cannot reach it; try again shortly") from exc
    except HttpResponseError as exc:
        status = exc.status_code or 0
        if status >= 500 or status in (401, 403, 408, 429):
            raise StorageError(f"storage refused {what} (HTTP {status}); try again shortly") from exc
        raise
