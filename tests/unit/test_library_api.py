"""The public surface of ``shared`` is curated: freeze it so it cannot drift by accident."""

from __future__ import annotations

import shared

EXPECTED = [
    "AckError",
    "BroadcastOperator",
    "ClientCertificate",
    "compat",
    "configure_storage",
    "ConnectRefused",
    "ConnectRequest",
    "Emitter",
    "function_name",
    "HandlerSpec",
    "Headers",
    "MultiValueMap",
    "presence",
    "protocol",
    "sessions",
    "SiolessError",
    "Socket",
    "SocketIOBlueprint",
    "storage",
    "StorageError",
    "UnknownSocketError",
    "UnsupportedError",
]


def test_all_is_frozen_and_casefold_sorted() -> None:
    assert shared.__all__ == EXPECTED
    assert shared.__all__ == sorted(shared.__all__, key=str.casefold)


def test_every_exported_name_exists_and_public_names_are_exported() -> None:
    for name in shared.__all__:
        assert hasattr(shared, name), name
    public = {name for name in vars(shared) if not name.startswith("_") and name != "annotations"}
    assert public == set(shared.__all__)


STORAGE = [
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


def test_storage_module_is_frozen() -> None:
    import shared.storage

    assert shared.storage.__all__ == STORAGE
    assert all(hasattr(shared.storage, name) for name in STORAGE)
    assert shared.storage.StorageError is shared.StorageError


def test_blueprint_is_a_functions_blueprint() -> None:
    import azure.functions as func

    assert issubclass(shared.SocketIOBlueprint, func.Blueprint)


def test_error_hierarchy() -> None:
    assert issubclass(shared.UnsupportedError, shared.SiolessError)
    assert issubclass(shared.UnsupportedError, NotImplementedError)
    assert issubclass(shared.ConnectRefused, shared.SiolessError)
    assert issubclass(shared.AckError, shared.SiolessError)
