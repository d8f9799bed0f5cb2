"""A missing or unusable storage configuration is the operator's problem: logged at ERROR once per worker (with
the setting names), while clients get the generic internal error (500 on connect) and never the setting names."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from typing import Any

import azure.functions as func
import pytest

from shared import AckError, SiolessError, Socket, SocketIOBlueprint, _storage, storage
from tests.fixtures.outputs import RecordingOut

sio = SocketIOBlueprint(hub="cfg", sessions=True, presence=True)


@sio.on("join")
def join(socket: Socket, room: str) -> str:
    socket.join(room)  # recorded in presence after the handler: needs storage
    return "joined"


@sio.on("whoami")
async def whoami(socket: Socket) -> Any:
    return await socket.get_user_id_async()  # reads the session store


app = func.FunctionApp()
app.register_functions(sio)
FUNCTIONS = {f.get_function_name(): f.get_user_function() for f in app.get_functions()}
BY_EVENT = {(spec.kind, spec.event): FUNCTIONS[spec.function_name] for spec in sio.handlers}


def call(kind: str, event: str, data: dict[str, Any]) -> tuple[dict[str, Any], RecordingOut]:
    out = RecordingOut()
    fn: Callable[..., Any] = BY_EVENT[(kind, event)]
    result = fn(json.dumps({"namespace": "/", "socketId": "s1", **data}), out)
    if asyncio.iscoroutine(result):
        result = asyncio.run(result)
    return json.loads(result), out


@pytest.fixture
def unconfigured(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (storage.STORAGE_SETTING, storage.TABLE_URI_SETTING, storage.BLOB_URI_SETTING):
        monkeypatch.delenv(name, raising=False)
    storage.configure_storage()
    monkeypatch.setattr(_storage, "_config_error_reported", False)


def test_config_error_is_not_an_ack_error() -> None:
    assert issubclass(storage.StorageConfigError, SiolessError)
    assert not issubclass(storage.StorageConfigError, AckError)
    assert issubclass(storage.StorageError, AckError)


@pytest.mark.usefixtures("unconfigured")
def test_clients_get_the_generic_error_and_the_log_names_the_settings_once(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="sioless")
    connect = {"claims": {"sub": ["ann"]}, "query": {}, "headers": {}, "clientCertificates": []}
    call("connect", "connect", connect)  # the first time
    result, out = call("connect", "connect", connect)
    assert result == {"statusCode": 500} and out.values == []
    event = {"eventName": "join", "payload": '42["join","r"]', "parameters": ["r"]}
    result, out = call("event", "join", event)
    assert result == {"ack": [{"error": "internal error in event 'join'"}]}
    assert out.values == [], "the join is not sent: presence could not record it"
    result, _ = call("event", "whoami", {"eventName": "whoami", "payload": '42["whoami"]', "parameters": None})
    assert result == {"ack": [{"error": "internal error in event 'whoami'"}]}
    call("disconnected", "disconnected", {"reason": ""})  # the handler still runs; nothing raises

    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1, [r.getMessage() for r in errors]
    assert "AzureWebJobsStorage" in errors[0].getMessage() and "once per worker" in errors[0].getMessage()
    assert errors[0].exc_info is None, "a configuration error needs no traceback"
    repeats = [r for r in caplog.records if r.levelno == logging.DEBUG and "AzureWebJobsStorage" in r.getMessage()]
    assert len(repeats) >= 4
    assert not [r for r in caplog.records if r.levelno == logging.INFO and "AzureWebJobsStorage" in r.getMessage()]


def test_a_malformed_connection_string_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    storage.configure_storage("this is not a connection string")
    try:
        with pytest.raises(storage.StorageConfigError, match="not usable"):
            storage.table_client("anything")
    finally:
        storage.configure_storage()
