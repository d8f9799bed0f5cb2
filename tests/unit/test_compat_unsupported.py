"""Every python-socketio call that serverless mode cannot provide fails with UnsupportedError naming the
limitation and the alternative: at import/construction/decoration time where possible, else at call time."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from shared import UnsupportedError
from shared import compat as socketio
from tests.unit.test_compat_server import Harness


def server(**options: Any) -> Any:
    return socketio.AsyncServer(state=False, **options)


# -- import, construction and decoration time ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("ASGIApp", "register the server on the FunctionApp"),
        ("WSGIApp", "register the server on the FunctionApp"),
        ("AsyncRedisManager", "no message queue is needed"),
        ("KafkaManager", "no message queue is needed"),
        ("AsyncClient", "use python-socketio's own client"),
        ("Client", "use python-socketio's own client"),
        ("SimpleClient", "use python-socketio's own client"),
        ("Middleware", "HTTP-triggered functions"),
    ],
)
def test_unavailable_module_names_fail_at_import(name: str, says: str) -> None:
    with pytest.raises(UnsupportedError, match=f"socketio.{name} is not available in serverless mode: .*{says}"):
        exec(f"from shared.compat import {name}", {})
    with pytest.raises(AttributeError):
        socketio.NoSuchThing  # noqa: B018


@pytest.mark.parametrize(
    ("options", "says"),
    [
        ({"client_manager": object()}, "no message queue to configure"),
        ({"serializer": "msgpack"}, "text JSON packets only"),
        ({"always_connect": True}, "only after the connect function returns"),
        ({"namespaces": "*"}, r"List the namespaces"),
        ({"json": object()}, "encoded by the Functions worker"),
    ],
)
def test_unsupported_server_options_fail_at_construction(options: dict[str, Any], says: str) -> None:
    with pytest.raises(UnsupportedError, match=says):
        server(**options)


def test_catch_all_event_and_namespace_fail_at_decoration() -> None:
    sio = server()
    with pytest.raises(UnsupportedError, match="no catch-all event handler"):

        @sio.on("*")
        def any_event(event, sid, *args): ...

    with pytest.raises(UnsupportedError, match="no wildcard namespace"):

        @sio.on("message", namespace="*")
        def any_namespace(sid, *args): ...


@pytest.mark.parametrize("event", ["connected", "Connect", "DISCONNECTED"])
def test_client_events_named_like_system_events_fail_at_decoration(event: str) -> None:
    with pytest.raises(UnsupportedError, match="Rename the event on the client and the server"):
        server().on(event, lambda sid: None)


def test_namespace_trigger_event_override_fails_at_registration() -> None:
    class Routing(socketio.Namespace):
        def trigger_event(self, event: str, *args: Any) -> Any: ...

    with pytest.raises(UnsupportedError, match="one on_<event> method per event"):
        server().register_namespace(Routing("/r"))


def test_no_admin_ui_and_no_attach() -> None:
    sio = server()
    with pytest.raises(UnsupportedError, match="live trace"):
        sio.instrument(auth=False)
    with pytest.raises(UnsupportedError, match="app.register_functions"):
        sio.attach(object())
    with pytest.raises(UnsupportedError, match="app.register_functions"):
        sio.handle_request({}, None)


# -- call time (inside a handler) ------------------------------------------------------------------------------


async def _background() -> None: ...


CALLS: dict[str, tuple[Callable[[Any, str], Any], str]] = {
    "call": (lambda sio, sid: sio.call("question", to=sid), "Emit an event and have the client emit its reply"),
    "callback": (
        lambda sio, sid: sio.emit("question", to=sid, callback=print),
        "no server-to-client acknowledgements",
    ),
    "sleep": (lambda sio, sid: sio.sleep(1), r"@sio\.every\(seconds=\.\.\.\)"),
    "background": (lambda sio, sid: sio.start_background_task(_background), r"@sio\.every\(seconds=\.\.\.\)"),
    "binary": (lambda sio, sid: sio.emit("file", b"\x00\x01"), "binary data.*base64"),
    "binary-nested": (lambda sio, sid: sio.emit("file", {"data": [b"x"]}), "binary data"),
    "transport": (lambda sio, sid: sio.transport(sid), "Have the client report it"),
    "get_environ": (lambda sio, sid: sio.get_environ(sid), "Save what you need from environ in the session"),
    "shutdown": (lambda sio, sid: sio.shutdown(), "no server process"),
}


@pytest.mark.parametrize("case", list(CALLS))
def test_unsupported_calls_in_handlers_explain_themselves(case: str) -> None:
    sio = server()
    make, says = CALLS[case]

    @sio.event
    async def trigger(sid):
        try:
            result = make(sio, sid)
            if asyncio.iscoroutine(result):
                await result
        except UnsupportedError as exc:
            return str(exc)
        return "no error"

    ack = Harness(sio).event("trigger")[0]
    assert isinstance(ack[0], str) and "serverless" in ack[0]
    assert pytest.importorskip("re").search(says, ack[0]), ack[0]


def test_binary_ack_is_an_error_ack_and_a_clear_log_line(caplog: pytest.LogCaptureFixture) -> None:
    sio = server()

    @sio.event
    def blob(sid):
        return b"\x00"

    ack = Harness(sio).event("blob")[0]
    assert ack == [{"error": "internal error in event 'blob'"}]  # the library never sends exception texts
    assert "contains binary data (bytes)" in caplog.text and "base64" in caplog.text


def test_acting_on_the_connecting_client_without_greetings_is_refused_with_the_alternative() -> None:
    # greets=False: no `connected` companion, so actions on the connecting client could reach nobody.
    # (With it, the default, they wait for the `connected` event: tests/integration/test_state_greeting.py.)
    sio = server(greets=False)
    messages: list[str] = []

    @sio.event
    async def connect(sid, environ, auth):
        for action in (
            lambda: sio.emit("welcome", to=sid),
            lambda: sio.enter_room(sid, "lobby"),
            lambda: sio.disconnect(sid),
        ):
            try:
                await action()
            except UnsupportedError as exc:
                messages.append(str(exc))
        await sio.emit("someone arrived", skip_sid=sid)  # broadcasts to the others are fine

    status, actions = Harness(sio).connect()
    assert status == 200
    assert len(messages) == 3
    assert all("connected" in m for m in messages)
    assert "greets=True" in messages[0] and "greets=True" in messages[1]
    assert "return False or raise ConnectionRefusedError" in messages[2]
    assert actions == [
        {
            "actionName": "sendToNamespace",
            "namespace": "/",
            "eventName": "someone arrived",
            "parameters": [],
            "exceptRooms": ["s1"],
        }
    ]
