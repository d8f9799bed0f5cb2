"""The wrappers never raise: bad trigger data, wrong argument counts and raising handlers (sync and async)
give a logged, clear error and a valid JSON object string; results follow docs/api.md."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from typing import Any

import azure.functions as func
import pytest

from shared import AckError, ConnectRefused, ConnectRequest, Socket, SocketIOBlueprint, UnsupportedError
from tests.fixtures.outputs import RecordingOut

sio = SocketIOBlueprint(hub="test", namespace="/")
seen: list[Any] = []


@sio.on_connect()
def connect(socket: Socket, request: ConnectRequest) -> Any:
    seen.append(("connect", socket.id, request))
    mode = request.query.get_one("mode")
    if mode == "false":
        return False
    if mode == "refuse":
        raise ConnectRefused("no entry", status=403)
    if mode == "builtin":
        raise ConnectionRefusedError("python habit")
    if mode == "boom":
        raise RuntimeError("token=eyJsecret leaked?")
    socket.broadcast.emit("arriving")
    return None


@sio.on_connected(namespace="/two")
def connected(socket: Socket) -> None:
    socket.join("lobby")


@sio.on_disconnect()
def gone(socket: Socket, reason: str) -> None:
    seen.append(("disconnected", socket.id, reason))
    socket.to("lobby").emit("left", socket.id)


@sio.on("echo")
def echo(socket: Socket, *args: Any) -> Any:
    return tuple(args) if len(args) != 1 else args[0]


@sio.on("two")
def two(socket: Socket, a: Any, b: Any = None) -> None:
    socket.emit("got", a, b)


@sio.on("sync boom")
def sync_boom(socket: Socket) -> None:
    socket.emit("lost")
    raise KeyError("internal detail")


@sio.on("async boom")
async def async_boom(socket: Socket) -> None:
    await asyncio.sleep(0)
    socket.emit("lost")
    raise ValueError("internal detail")


@sio.on("refuse")
def refuse(socket: Socket) -> None:
    socket.emit("still sent")
    raise AckError("room is full", code=7)


@sio.on("bad ack")
def bad_ack(socket: Socket) -> Any:
    return {1, 2}


@sio.on("aecho")
async def aecho(socket: Socket, value: Any) -> Any:
    await asyncio.sleep(0)
    socket.server.emit("echoed", value)
    return value


@sio.event
def bare(socket: Socket) -> str:
    return "bare"


async def _later() -> str:
    return "never awaited"


@sio.on("forgot async")
def forgot_async(socket: Socket) -> Any:
    socket.emit("lost")
    return _later()  # a sync handler that should have been `async def`


@sio.event(namespace="/two")
def called(socket: Socket) -> str:
    return "called"


app = func.FunctionApp()
app.register_functions(sio)
FUNCTIONS = {f.get_function_name(): f for f in app.get_functions()}
BY_EVENT = {(spec.namespace, spec.event): FUNCTIONS[spec.function_name] for spec in sio.handlers}


def call(ns: str, event: str, raw: Any) -> tuple[str, RecordingOut]:
    out = RecordingOut()
    fn: Callable[..., Any] = BY_EVENT[(ns, event)].get_user_function()
    result = fn(raw, out)
    if asyncio.iscoroutine(result):
        result = asyncio.run(result)
    assert isinstance(result, str)
    assert isinstance(json.loads(result), dict), result  # always a JSON object string
    assert len(out.values) <= 1  # one write at most
    return result, out


def event(name: str, *params: Any, ns: str = "/", sid: str = "s1") -> str:
    payload = "42" + json.dumps([name, *params])
    return json.dumps(
        {"namespace": ns, "socketId": sid, "payload": payload, "eventName": name, "parameters": list(params) or None}
    )


def connect_data(**query: str) -> str:
    return json.dumps(
        {
            "namespace": "/",
            "socketId": "s1",
            "claims": {"sub": ["alice"]},
            "query": {k: [v] for k, v in query.items()},
            "headers": {},
            "clientCertificates": [],
        }
    )


# -- results -------------------------------------------------------------------------------------------------


def test_connect_results() -> None:
    result, out = call("/", "connect", connect_data())
    assert result == '{"statusCode": 200}'
    assert json.loads(out.get())["actionName"] == "sendToNamespace"
    assert call("/", "connect", connect_data(mode="false"))[0] == '{"statusCode": 401}'
    assert call("/", "connect", connect_data(mode="refuse"))[0] == '{"statusCode": 403}'
    assert call("/", "connect", connect_data(mode="builtin"))[0] == '{"statusCode": 401}'


def test_ack_conventions() -> None:
    assert call("/", "echo", event("echo", "x"))[0] == '{"ack": ["x"]}'
    assert call("/", "echo", event("echo", "x", 2))[0] == '{"ack": ["x", 2]}'  # a tuple -> several ack args
    assert call("/", "echo", event("echo", [1, 2]))[0] == '{"ack": [[1, 2]]}'  # a list is one argument
    assert call("/", "echo", event("echo", None))[0] == "{}"  # None is "no ack", also when it is the value
    assert call("/", "echo", event("echo", "x", None))[0] == '{"ack": ["x", null]}'
    assert call("/", "two", event("two", 1))[0] == "{}"  # None -> no ack
    assert call("/", "bare", event("bare"))[0] == '{"ack": ["bare"]}'
    assert call("/two", "called", event("called", ns="/two"))[0] == '{"ack": ["called"]}'


def test_null_parameters_mean_no_arguments() -> None:
    raw = json.dumps(
        {"namespace": "/", "socketId": "s1", "payload": '42["echo"]', "eventName": "echo", "parameters": None}
    )
    assert call("/", "echo", raw)[0] == "{}"


def test_async_handler_and_outputs() -> None:
    result, out = call("/", "aecho", event("aecho", {"a": 1}))
    assert result == '{"ack": [{"a": 1}]}'
    assert json.loads(out.get()) == {
        "actionName": "sendToNamespace",
        "namespace": "/",
        "eventName": "echoed",
        "parameters": [{"a": 1}],
    }


def test_multiple_actions_are_one_list_write() -> None:
    _, out = call("/", "two", event("two", 1, 2))
    assert out.values == ['{"actionName": "sendToSocket", "namespace": "/", "socketId": "s1", '
                          '"eventName": "got", "parameters": [1, 2]}']  # fmt: skip
    raw = json.dumps({"namespace": "/two", "socketId": "s9"})
    result, out = call("/two", "connected", raw)
    assert result == "{}" and json.loads(out.get())["actionName"] == "addSocketToRoom"


def test_disconnect_gets_the_reason() -> None:
    raw = json.dumps({"namespace": "/", "socketId": "s7", "reason": "transport close"})
    result, out = call("/", "disconnected", raw)
    assert result == "{}"
    assert seen[-1] == ("disconnected", "s7", "transport close")
    assert json.loads(out.get())["exceptRooms"] == ["s7"]


def test_nothing_is_set_without_actions() -> None:
    assert call("/", "echo", event("echo", 1))[1].values == []


# -- errors --------------------------------------------------------------------------------------------------


def test_ack_error_is_sent_with_its_actions(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="sioless"):
        result, out = call("/", "refuse", event("refuse"))
    assert json.loads(result) == {"ack": [{"error": "room is full", "code": 7}]}
    assert json.loads(out.get())["eventName"] == "still sent"
    assert "room is full" in caplog.text


@pytest.mark.parametrize("name", ["sync boom", "async boom"])
def test_raising_handler_is_logged_with_traceback_and_answered(name: str, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="sioless"):
        result, out = call("/", name, event(name))
    assert json.loads(result) == {"ack": [{"error": f"internal error in event {name!r}"}]}
    assert "internal detail" not in result  # the exception text stays in the logs
    assert out.values == []  # an unexpected failure drops the actions collected so far
    records = [r for r in caplog.records if r.name == "sioless" and r.levelno == logging.ERROR]
    assert records and records[-1].exc_info is not None
    assert "internal detail" in caplog.text and "Traceback" in caplog.text


def test_raising_connect_is_500_and_logs_no_secrets(caplog: pytest.LogCaptureFixture) -> None:
    raw = json.dumps({"namespace": "/", "socketId": "s1", "claims": {"sub": ["alice"], "token": ["eyJclaim"]},
                      "query": {"mode": ["boom"], "access_token": ["eyJquery"]}, "headers": {}})  # fmt: skip
    with caplog.at_level(logging.DEBUG, logger="sioless"):
        result, _ = call("/", "connect", raw)
    assert result == '{"statusCode": 500}'
    assert "eyJclaim" not in caplog.text and "eyJquery" not in caplog.text
    assert "RuntimeError" in caplog.text


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("not json", "trigger data is not JSON"),
        ("[1, 2]", "must be a JSON object"),
        (json.dumps({"namespace": "/"}), "no 'socketId'"),
        (json.dumps({"socketId": "s", "namespace": 5}), "'namespace' must be a string"),
        (json.dumps({"socketId": "s", "namespace": "/", "parameters": "x"}), "'parameters' must be a JSON array"),
        (None, "must be a JSON string"),
        (event("two", 1) + " []", "trigger data is not JSON (Extra data"),
        (" " + event("two", 1) + " x", "trigger data is not JSON (Extra data"),
        (" ", "trigger data is not JSON (Expecting value"),
    ],
)
def test_bad_trigger_data_for_events(raw: Any, message: str, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="sioless"):
        result, out = call("/", "two", raw)
    error = json.loads(result)["ack"][0]["error"]
    assert message in error and message in caplog.text
    assert out.values == []


def test_trigger_data_with_whitespace_or_as_bytes_is_read() -> None:
    raw = event("echo", "x")
    for variant in (" \n" + raw, raw + "\n", raw.encode(), bytearray(raw.encode())):
        assert call("/", "echo", variant)[0] == '{"ack": ["x"]}', variant


def test_sync_handler_returning_an_awaitable_is_an_error_ack(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="sioless"):
        result, out = call("/", "forgot async", event("forgot async"))
    assert json.loads(result) == {"ack": [{"error": "internal error in event 'forgot async'"}]}
    assert "returned an awaitable from a sync function; declare it async def" in caplog.text
    assert out.values == []
    assert "never awaited" not in caplog.text  # the coroutine was closed, not left to warn


def test_bad_trigger_data_for_connect_is_400(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="sioless"):
        assert call("/", "connect", "{")[0] == '{"statusCode": 400}'
        bad = json.dumps({"namespace": "/", "socketId": "s", "claims": ["sub"]})
        assert call("/", "connect", bad)[0] == '{"statusCode": 400}'
    assert "'claims' must be a JSON object" in caplog.text
    raw = json.dumps({"socketId": "s"})  # connected/disconnected: logged, "{}" back
    assert call("/", "disconnected", "nope")[0] == "{}"
    assert call("/", "disconnected", raw)[0] == "{}"


@pytest.mark.parametrize(
    ("params", "expected"),
    [((), "expects 1 to 2 arguments after the socket, got 0"), ((1, 2, 3), "expects 1 to 2 arguments")],
)
def test_wrong_argument_count_names_the_handler(
    params: tuple[Any, ...], expected: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="sioless"):
        result, _ = call("/", "two", event("two", *params))
    error = json.loads(result)["ack"][0]["error"]
    assert expected in error and "two()" in error and "'two'" in error
    assert expected in caplog.text


def test_unserialisable_ack_is_an_error_ack(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="sioless"):
        result, _ = call("/", "bad ack", event("bad ack"))
    assert json.loads(result) == {"ack": [{"error": "internal error in event 'bad ack'"}]}
    assert "not JSON-serializable" in caplog.text


def test_failing_output_binding_still_answers(caplog: pytest.LogCaptureFixture) -> None:
    class BrokenOut:
        def set(self, value: Any) -> None:
            raise OSError("binding gone")

    fn = BY_EVENT[("/", "two")].get_user_function()
    with caplog.at_level(logging.ERROR, logger="sioless"):
        result = fn(event("two", 1), BrokenOut())
    assert json.loads(result) == {"ack": [{"error": "internal error"}]}
    assert "binding gone" in caplog.text


# -- decoration-time errors ----------------------------------------------------------------------------------


def test_catch_all_and_wildcards_fail_at_decoration() -> None:
    bp = SocketIOBlueprint(hub="h")
    with pytest.raises(UnsupportedError, match="catch-all"):
        bp.on("*")(lambda socket: None)
    with pytest.raises(UnsupportedError, match="wildcard namespace"):
        bp.on("e", namespace="*")(lambda socket: None)
    with pytest.raises(UnsupportedError, match="wildcard namespace"):
        SocketIOBlueprint(hub="h", namespace="*")
    with pytest.raises(UnsupportedError, match="disconnecting"):
        bp.on("disconnecting")(lambda socket: None)


def test_bad_handlers_fail_at_decoration() -> None:
    bp = SocketIOBlueprint(hub="h")
    with pytest.raises(TypeError, match="socket as its first parameter"):
        bp.on("a")(lambda: None)
    with pytest.raises(TypeError, match="keyword-only"):

        @bp.on("b")
        def needs_kw(socket: Socket, *, key: str) -> None: ...

    with pytest.raises(TypeError, match="only the socket"):

        @bp.on_connected()
        def too_many(socket: Socket, extra: str) -> None: ...


def test_duplicates_are_refused_case_insensitively() -> None:
    bp = SocketIOBlueprint(hub="h")
    bp.on("Hello")(lambda socket: None)
    with pytest.raises(ValueError, match="already has a handler"):
        bp.on("hello")(lambda socket: None)
    bp.on("hello", namespace="/other")(lambda socket: None)  # another namespace is fine
    bp.on_connect(lambda socket: None)
    with pytest.raises(ValueError, match="already has a handler"):
        bp.on("Connect")(lambda socket: None)  # the extension matches system events case-insensitively


def test_python_socketio_spellings_map_to_system_events() -> None:
    bp = SocketIOBlueprint(hub="h")

    @bp.event
    def connect(socket: Socket) -> None: ...

    @bp.on("disconnect")
    def off(socket: Socket) -> None: ...

    assert [(spec.kind, spec.event) for spec in bp.handlers] == [
        ("connect", "connect"),
        ("disconnected", "disconnected"),
    ]
    assert connect.__name__ == "connect"  # the decorator returns the handler itself


def test_decorated_handlers_stay_plain_functions() -> None:
    s = Socket("sid", "/", "test")
    assert echo(s, "x") == "x"
