"""shared.compat: python-socketio handler shapes become library handlers; emits and room calls become actions.

The generated functions are called directly with trigger JSON (docs/protocol.md#trigger-payloads), as the worker would,
and
their output binding value and return string are checked. ``state=False`` keeps storage out of unit tests
(sessions and rooms() are covered against Azurite by the differential integration tests).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import azure.functions as func
import pytest

from shared import SiolessError, UnsupportedError
from shared import compat as socketio
from shared.protocol import parse_actions
from tests.fixtures.outputs import RecordingOut
from tests.unit.test_library_worker_checks import load_errors


class Harness:
    """A FunctionApp holding one facade server; ``call`` runs one generated function like the worker."""

    def __init__(self, sio: Any, hub: str = "test") -> None:
        self.app = func.FunctionApp()
        sio.register(self.app, hub=hub)
        self.sio = sio
        self.functions = {f.get_function_name(): f for f in self.app.get_functions()}
        self.by_event = {(s.namespace, s.event): self.functions[s.function_name] for s in sio.blueprint.handlers}

    def call(self, ns: str, event: str, data: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        out = RecordingOut()
        fn: Callable[..., Any] = self.by_event[(ns, event)].get_user_function()
        result = fn(json.dumps(data), out)
        if asyncio.iscoroutine(result):
            result = asyncio.run(result)
        actions = parse_actions(out.values[0]) if out.values else []
        return json.loads(result), actions

    def event(self, name: str, *params: Any, ns: str = "/", sid: str = "s1") -> tuple[Any, list[dict[str, Any]]]:
        payload = "42" + (f"{ns}," if ns != "/" else "") + "7" + json.dumps([name, *params])
        data = {"namespace": ns, "socketId": sid, "payload": payload, "eventName": name, "parameters": list(params)}
        reply, actions = self.call(ns, name, data)
        return reply.get("ack"), actions

    def connect(self, ns: str = "/", sid: str = "s1", **extra: Any) -> tuple[int, list[dict[str, Any]]]:
        data = {"namespace": ns, "socketId": sid, "claims": {}, "query": {}, "headers": {}, "clientCertificates": []}
        data.update(extra)
        reply, actions = self.call(ns, "connect", data)
        return reply["statusCode"], actions

    def disconnect(self, reason: str, ns: str = "/", sid: str = "s1") -> list[dict[str, Any]]:
        return self.call(ns, "disconnected", {"namespace": ns, "socketId": sid, "reason": reason})[1]


def server(cls: type = socketio.AsyncServer, **options: Any) -> Any:
    return cls(state=False, **options)


# -- registration ------------------------------------------------------------------------------------------------


def test_each_handler_is_one_function_that_passes_the_worker_checks() -> None:
    sio = server(cors_allowed_origins="*", async_mode="asgi", ping_interval=10)

    @sio.event
    async def connect(sid, environ, auth): ...

    @sio.on("chat message", namespace="/chat")
    def message(sid, text): ...

    @sio.event(namespace="/chat")
    async def typing(sid): ...

    harness = Harness(sio, hub="chat")
    names = set(harness.functions)
    assert {"chat__connect", "chat__chat__typing"} <= names
    # python-socketio accepts a namespace that has handlers without a connect handler; so does the facade.
    assert "chat__chat__connect" in names
    assert any(name.startswith("chat__chat__chat_message-") for name in names) and len(names) == 4
    for function in harness.functions.values():
        assert load_errors(function) == []
    triggers = {json.loads(f.get_function_json())["bindings"][-1]["eventName"] for f in harness.functions.values()}
    assert triggers == {"connect", "chat message", "typing"}


def test_register_functions_one_line_and_hub_override() -> None:
    sio = server(hub="first")

    @sio.event
    def ping(sid):
        return "pong"

    app = func.FunctionApp()
    app.register_functions(sio)
    assert {f.get_function_name() for f in app.get_functions()} == {"first__ping", "first__connect"}
    with pytest.raises(RuntimeError, match="before app.register_functions"):
        sio.on("late", lambda sid: None)

    other = server()

    @other.event
    def ping2(sid): ...

    assert other.hub == "socketio"
    harness = Harness(other, hub="renamed")
    assert set(harness.functions) == {"renamed__ping2", "renamed__connect"}


def test_handler_signature_errors_name_the_handler() -> None:
    sio = server()

    def no_sid(): ...

    with pytest.raises(TypeError, match=r"no_sid\(\) must accept the client's sid"):
        sio.on("x", no_sid)

    def needs_three(sid, a, b, *, c): ...

    with pytest.raises(TypeError, match="needs_three"):
        sio.on("y", needs_three)
    with pytest.raises(TypeError, match="unexpected keyword arguments: hubb"):
        socketio.AsyncServer(hubb="x")


# -- connect / disconnect --------------------------------------------------------------------------------------


def test_connect_gets_a_wsgi_environ_and_the_token_claims_as_auth() -> None:
    sio = server()
    seen: dict[str, Any] = {}

    @sio.event
    async def connect(sid, environ, auth):
        seen.update(sid=sid, environ=environ, auth=auth)

    status, _ = Harness(sio).connect(
        sid="abc",
        claims={"sub": ["alice"], "role": ["a", "b"]},
        query={"room": ["lobby"], "tag": ["x", "y"], "EIO": ["4"]},
        headers={"User-Agent": ["node"], "Content-Type": ["text/plain"]},
    )
    assert status == 200
    environ = seen["environ"]
    assert seen["sid"] == "abc"
    assert environ["QUERY_STRING"] == "room=lobby&tag=x&tag=y&EIO=4"
    assert environ["HTTP_USER_AGENT"] == "node" and environ["CONTENT_TYPE"] == "text/plain"
    assert environ["REQUEST_METHOD"] == "GET"
    assert environ["sioless.user_id"] == "alice"
    assert seen["auth"] == {"sub": "alice", "role": ["a", "b"]}


def test_auth_uses_the_dotnet_name_claim_and_is_none_without_claims() -> None:
    sio = server()
    seen: list[Any] = []

    @sio.event
    def connect(sid, environ, auth):
        seen.append(auth)

    harness = Harness(sio)
    harness.connect(claims={"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier": ["bob"]})
    harness.connect()
    assert seen[0]["sub"] == "bob"
    assert seen[1] is None


def test_connect_without_auth_parameter_and_refusals() -> None:
    sio = server()

    @sio.event
    def connect(sid, environ):
        ticket = environ["QUERY_STRING"]
        if ticket == "t=lib":
            raise socketio.exceptions.ConnectionRefusedError("no", {"why": "x"})
        if ticket == "t=builtin":
            raise ConnectionRefusedError("nope")
        if ticket == "t=false":
            return False
        if ticket == "t=boom":
            raise RuntimeError("bug")

    harness = Harness(sio)
    assert harness.connect()[0] == 200
    assert harness.connect(query={"t": ["lib"]})[0] == 401
    assert harness.connect(query={"t": ["builtin"]})[0] == 401
    assert harness.connect(query={"t": ["false"]})[0] == 401
    assert harness.connect(query={"t": ["boom"]})[0] == 500


def test_async_connect_refusal_and_error_args() -> None:
    sio = server()

    @sio.on("connect", namespace="/admin")
    async def admin(sid, environ, auth):
        raise socketio.exceptions.ConnectionRefusedError("admins only", {"hint": 1})

    assert Harness(sio).connect("/admin")[0] == 401
    error = socketio.exceptions.ConnectionRefusedError("a", 1, 2)
    assert error.error_args == {"message": "a", "data": (1, 2)}


def test_disconnect_reason_defaults_to_client_disconnect() -> None:
    sio = server()
    seen: list[Any] = []

    @sio.event
    async def disconnect(sid, reason):
        seen.append((sid, reason))
        await sio.emit("gone", sid, to="room")

    @sio.on("disconnect", namespace="/old")
    def legacy(sid):
        seen.append(("legacy", sid))

    harness = Harness(sio)
    actions = harness.disconnect("")
    harness.disconnect("ping timeout", sid="s2")
    harness.disconnect("", ns="/old", sid="s3")
    assert seen == [("s1", "client disconnect"), ("s2", "ping timeout"), ("legacy", "s3")]
    assert sio.reason.CLIENT_DISCONNECT == "client disconnect"
    assert actions == [
        {"actionName": "sendToRooms", "namespace": "/", "rooms": ["room"], "eventName": "gone", "parameters": ["s1"]}
    ]


# -- events, acks and actions ------------------------------------------------------------------------------------


def test_acks_follow_python_socketio_with_none_as_one_null() -> None:
    sio = server()

    @sio.event
    def nothing(sid): ...

    @sio.event
    async def pair(sid, a, b="default"):
        return a, b

    @sio.event
    def listed(sid, *args):
        return list(args)

    harness = Harness(sio)
    assert harness.event("nothing")[0] == [None]
    assert harness.event("pair", 1)[0] == [1, "default"]
    assert harness.event("pair", 1, 2)[0] == [1, 2]
    assert harness.event("listed", 1, 2)[0] == [[1, 2]]
    assert "expects 1 to 2 arguments" in harness.event("pair")[0][0]["error"]


def test_emit_forms_become_the_documented_actions() -> None:
    sio = server()

    @sio.event
    async def go(sid):
        await sio.emit("all")
        await sio.emit("room", {"x": 1}, to="lobby", skip_sid=sid)
        await sio.emit("rooms", (1, 2), room=["a", "b"], namespace="/chat")
        await sio.emit("me", "hi", to=sid)
        await sio.emit("skip", None, skip_sid=[sid, "other"])
        await sio.send("note", to=sid)
        await sio.enter_room(sid, "r1")
        await sio.leave_room("other", "r2", namespace="/chat")
        await sio.disconnect("bad")

    ack, actions = Harness(sio).event("go")
    assert ack == [None]
    assert actions == [
        {"actionName": "sendToNamespace", "namespace": "/", "eventName": "all", "parameters": []},
        {
            "actionName": "sendToRooms",
            "namespace": "/",
            "rooms": ["lobby"],
            "eventName": "room",
            "parameters": [{"x": 1}],
            "exceptRooms": ["s1"],
        },
        {
            "actionName": "sendToRooms",
            "namespace": "/chat",
            "rooms": ["a", "b"],
            "eventName": "rooms",
            "parameters": [1, 2],
        },
        {"actionName": "sendToRooms", "namespace": "/", "rooms": ["s1"], "eventName": "me", "parameters": ["hi"]},
        {
            "actionName": "sendToNamespace",
            "namespace": "/",
            "eventName": "skip",
            "parameters": [],
            "exceptRooms": ["s1", "other"],
        },
        {
            "actionName": "sendToRooms",
            "namespace": "/",
            "rooms": ["s1"],
            "eventName": "message",
            "parameters": ["note"],
        },
        {"actionName": "addSocketToRoom", "namespace": "/", "socketId": "s1", "room": "r1"},
        {"actionName": "removeSocketFromRoom", "namespace": "/chat", "socketId": "other", "room": "r2"},
        {"actionName": "disconnectSockets", "namespace": "/", "rooms": ["bad"], "closeUnderlyingConnection": False},
    ]


def test_sync_server_and_sync_handlers() -> None:
    sio = server(socketio.Server)

    @sio.event
    def hello(sid, name):
        sio.emit("hello", name, skip_sid=sid)
        sio.enter_room(sid, "greeted")
        return "hi " + name

    ack, actions = Harness(sio).event("hello", "bob")
    assert ack == ["hi bob"]
    assert [a["actionName"] for a in actions] == ["sendToNamespace", "addSocketToRoom"]


def test_class_based_namespace() -> None:
    sio = server()

    class Chat(socketio.AsyncNamespace):
        async def on_say(self, sid, text):
            await self.emit("said", text, skip_sid=sid)
            await self.enter_room(sid, "talkers")
            return len(text)

        def helper(self) -> None: ...

    sio.register_namespace(Chat("/chat"))
    harness = Harness(sio)
    ack, actions = harness.event("say", "hey", ns="/chat")
    assert ack == [3]
    assert actions[0]["namespace"] == "/chat" and actions[0]["exceptRooms"] == ["s1"]
    assert actions[1] == {"actionName": "addSocketToRoom", "namespace": "/chat", "socketId": "s1", "room": "talkers"}
    assert harness.connect("/chat")[0] == 200


def test_emitter_scope_outside_handlers_writes_once() -> None:
    sio = server(hub="h")
    out = RecordingOut()

    async def http_function() -> None:
        with sio.emitter(out):
            await sio.emit("uploaded", "file.txt", to="lobby")
            await sio.emit("audit", namespace="/admin")

    asyncio.run(http_function())
    assert len(out.values) == 1
    assert [a["eventName"] for a in parse_actions(out.values[0])] == ["uploaded", "audit"]


def test_emit_outside_a_handler_or_after_it_returned_is_refused() -> None:
    sio = server()
    with pytest.raises(SiolessError, match=r"outside a Socket.IO handler.*sio.emitter\(out\)"):
        asyncio.run(sio.emit("x"))
    late: list[Any] = []

    @sio.event
    async def spawn(sid):
        late.append(asyncio.get_running_loop().create_task(sio.emit("late")))

    async def run_and_wait() -> None:
        harness = Harness(sio)
        fn = harness.by_event[("/", "spawn")].get_user_function()
        data = {"namespace": "/", "socketId": "s1", "payload": '42["spawn"]', "eventName": "spawn", "parameters": []}
        await fn(json.dumps(data), RecordingOut())
        with pytest.raises(SiolessError, match="after its handler had returned"):
            await late[0]

    asyncio.run(run_and_wait())


def test_state_off_names_what_is_missing() -> None:
    sio = server()
    errors: list[str] = []

    @sio.event
    async def look(sid):
        for call in (lambda: sio.rooms(sid), lambda: sio.get_session(sid)):
            try:
                result = call()
                if asyncio.iscoroutine(result):
                    await result
            except UnsupportedError as exc:
                errors.append(str(exc))

    Harness(sio).event("look")
    assert len(errors) == 2 and all("state=False" in e and "AzureWebJobsStorage" in e for e in errors)


def test_output_binding_for_http_functions_passes_the_worker_checks() -> None:
    sio = server(hub="files")
    app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)

    @app.route(route="upload", methods=["POST"])
    @sio.output_binding(app, "out")
    async def upload(req: func.HttpRequest, out: func.Out[str]) -> func.HttpResponse:
        with sio.emitter(out):
            await sio.emit("uploaded", req.params.get("name"), to="lobby")
        return func.HttpResponse("ok")

    sio.register(app)
    functions = {f.get_function_name(): f for f in app.get_functions()}
    bindings = json.loads(functions["upload"].get_function_json())["bindings"]
    assert {"direction": "OUT", "type": "socketio", "name": "out", "hub": "files"}.items() <= next(
        b for b in bindings if b["name"] == "out"
    ).items()
    assert all(load_errors(f) == [] for f in functions.values())
    out = RecordingOut()
    request = func.HttpRequest("POST", "/api/upload", params={"name": "a.txt"}, body=b"")
    asyncio.run(upload(request, out))
    assert parse_actions(out.values[0]) == [
        {
            "actionName": "sendToRooms",
            "namespace": "/",
            "rooms": ["lobby"],
            "eventName": "uploaded",
            "parameters": ["a.txt"],
        }
    ]


def test_importing_the_facade_is_cold_start_cheap() -> None:
    """``shared.compat`` adds nothing beyond azure.functions, the stdlib and ``shared`` (storage loads lazily)."""
    import subprocess
    import sys

    probe = (
        "import json, sys; import azure.functions; before = set(sys.modules); import shared.compat; "
        "print(json.dumps(sorted(set(sys.modules) - before)))"
    )
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True, cwd=root
    )
    extra = {
        name
        for name in json.loads(done.stdout)
        if name.split(".")[0] != "shared" and name.split(".")[0] not in sys.stdlib_module_names
    }
    assert extra == set()
    assert "shared.sessions" not in done.stdout and "azure.data" not in done.stdout


def test_listed_namespaces_are_accepted_without_handlers() -> None:
    sio = server(namespaces=["/", "/lobby"])

    @sio.event
    def ping(sid):
        return "pong"

    harness = Harness(sio, hub="h")
    assert set(harness.functions) == {"h__connect", "h__lobby__connect", "h__ping"}
    assert harness.connect("/lobby")[0] == 200


def test_emit_to_an_empty_room_list_is_an_error_not_a_broadcast() -> None:
    sio = server()

    @sio.event
    async def nobody(sid):
        try:
            await sio.emit("x", to=[])
        except ValueError as exc:
            return str(exc)

    assert Harness(sio).event("nobody") == (["at least one room is required."], [])
