"""Golden tests: the binding JSON of every chat function of the real ``function_app`` is exactly what the host
and the Socket.IO extension expect (docs/protocol.md#trigger-binding, docs/protocol.md#negotiation,
docs/protocol.md#output-actions; docs/protocol.md#generic-binding-metadata)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from shared import function_name
from tests.fixtures.real_app import load_real_app


@pytest.fixture(scope="session")
def functions() -> dict[str, dict[str, Any]]:
    return {f.get_function_name(): json.loads(f.get_function_json()) for f in load_real_app().get_functions()}


def _socketio(event: str, hub: str = "chat") -> dict[str, Any]:
    return {
        "scriptFile": "function_app.py",
        "bindings": [
            {"direction": "OUT", "dataType": "STRING", "type": "socketio", "name": "out", "hub": hub},
            {
                "direction": "IN",
                "dataType": "STRING",
                "type": "socketiotrigger",
                "name": "sio",
                "hub": hub,
                "namespace": "/",
                "eventName": event,
            },
        ],
    }


EXPECTED = {
    "chat_negotiate": {
        "scriptFile": "function_app.py",
        "bindings": [
            {
                "direction": "IN",
                "type": "socketionegotiation",
                "name": "negotiation",
                "hub": "chat",
                "userId": "{headers.x-ms-client-principal-id}",
            },
            {
                "direction": "IN",
                "type": "httpTrigger",
                "name": "req",
                "authLevel": "ANONYMOUS",
                "route": "chat/negotiate",
            },
            {"direction": "OUT", "type": "http", "name": "$return"},
        ],
    },
    "chat_account": {
        "scriptFile": "function_app.py",
        "bindings": [
            {
                "direction": "IN",
                "type": "httpTrigger",
                "name": "req",
                "methods": ["GET"],
                "authLevel": "ANONYMOUS",
                "route": "chat/account",
            },
            {"direction": "OUT", "type": "http", "name": "$return"},
        ],
    },
    "chat__connect": _socketio("connect"),
    "chat__disconnected": _socketio("disconnected"),
    "chat__join": _socketio("join"),
    "chat__leave": _socketio("leave"),
    "chat__chat_message-0dce084d2361": _socketio("chat message"),
    "chat__typing": _socketio("typing"),
    "chat_history_sweep": {
        "scriptFile": "function_app.py",
        "bindings": [
            {
                "direction": "IN",
                "type": "timerTrigger",
                "name": "timer",
                "schedule": "%SIOLESS_CHAT_HISTORY_SWEEP_SCHEDULE%",
                "runOnStartup": False,
                "useMonitor": False,
            },
        ],
    },
}


def _http(route: str, method: str, *before: dict[str, Any]) -> dict[str, Any]:
    trigger = {"direction": "IN", "type": "httpTrigger", "name": "req", "methods": [method], "authLevel": "ANONYMOUS"}
    return {
        "scriptFile": "function_app.py",
        "bindings": [*before, {**trigger, "route": route}, {"direction": "OUT", "type": "http", "name": "$return"}],
    }


WHITEBOARD_OUT = {"direction": "OUT", "dataType": "STRING", "type": "socketio", "name": "out", "hub": "whiteboard"}
OTHER_SAMPLES = {
    "pages_chat": _http("chat", "GET"),
    "pages_static": _http("pages/{*path}", "GET"),
    "whiteboard_page": _http("whiteboard", "GET"),
    "whiteboard_diagram": _http("diagram", "GET"),
    "whiteboard_background": _http("background/{id}", "GET"),
    "whiteboard_background_upload": _http("background/upload", "POST", WHITEBOARD_OUT),
    "whiteboard_presence_sweep": {
        "scriptFile": "function_app.py",
        "bindings": [
            WHITEBOARD_OUT,
            {
                "direction": "IN",
                "type": "timerTrigger",
                "name": "timer",
                "schedule": "%SIOLESS_PRESENCE_SWEEP_SCHEDULE%",
                "runOnStartup": False,
                "useMonitor": False,
            },
        ],
    },
    "whiteboard_negotiate": _http(
        "whiteboard/negotiate",
        "GET",
        {
            "direction": "IN",
            "type": "socketionegotiation",
            "name": "negotiation",
            "hub": "whiteboard",
            "userId": "{headers.x-ms-client-principal-id}",
        },
    ),
    **{
        f"whiteboard__{event}": _socketio(event, hub="whiteboard")
        for event in ("connect", "connected", "disconnected", "addShape", "updateShape", "patchShape")
        + ("removeShape", "clear", "newMessage")
    },
}


def test_every_sample_function_is_exactly_the_golden_one(functions: dict[str, dict[str, Any]]) -> None:
    assert functions == {**EXPECTED, **OTHER_SAMPLES}


def test_chat_functions_are_exactly_the_golden_ones(functions: dict[str, dict[str, Any]]) -> None:
    chat = {name: value for name, value in functions.items() if name.startswith("chat")}
    assert chat == EXPECTED


def test_golden_names_are_the_derived_ones() -> None:
    assert function_name("chat", "/", "chat message") == "chat__chat_message-0dce084d2361"


def test_pages_blueprint_is_registered(functions: dict[str, dict[str, Any]]) -> None:
    from functions import pages

    for builder in pages.bp._function_builders:
        assert builder._function.get_function_name() in functions


def test_no_function_uses_the_unread_type_key_or_parameter_names(functions: dict[str, dict[str, Any]]) -> None:
    # parameterNames must match the argument count exactly or the binding throws (docs/protocol.md#trigger-binding):
    # never emit it.
    for value in functions.values():
        for binding in value["bindings"]:
            assert "parameterNames" not in binding
