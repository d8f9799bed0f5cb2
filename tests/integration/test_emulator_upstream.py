"""The emulator's webhooks against a recording event handler (a real HTTP server written for the test):
headers, signatures, bodies, the abuse-protection handshake, CONNECT_ERROR on refusal, ack passthrough,
timeouts, the failure policies, ordering, binary refusal and the inspector."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import datetime

import httpx
import pytest
import socketio

from emulator import DEV_PRIMARY_KEY
from shared.protocol import signature_matches
from tests.fixtures.emulator_fixtures import (  # noqa: F401  (fixtures)
    CLIENT_PATH,
    SECONDARY_KEY,
    NodeClient,
    emulator,
    fresh,
    in_process,
    node_available,
    py_client,
    sdk_token,
    service,
    until,
    upstream,
)
from tests.fixtures.emulator_upstream import RecordingUpstream

pytestmark = pytest.mark.integration
CE_HEADERS = {
    "ce-specversion",
    "ce-type",
    "ce-source",
    "ce-id",
    "ce-time",
    "ce-signature",
    "ce-connectionid",
    "ce-hub",
    "ce-eventname",
    "ce-namespace",
    "ce-socketid",
}


def _check_common(rec, *, kind: str, event: str, namespace: str, conn_id: str, socket_id: str) -> None:
    h = rec.headers
    assert CE_HEADERS <= set(h), sorted(set(h))
    assert h["webhook-request-origin"] == "127.0.0.1"  # the endpoint host, no port (docs/protocol.md#signatures)
    assert h["ce-specversion"] == "1.0"
    assert h["ce-type"] == kind
    assert h["ce-source"] == f"/hubs/chat/client/{conn_id}"
    assert h["ce-hub"] == "chat" and h["ce-eventname"] == event and h["ce-namespace"] == namespace
    assert h["ce-connectionid"] == conn_id and h["ce-socketid"] == socket_id
    assert re.fullmatch(r"[0-9a-f]{32}", h["ce-id"])
    datetime.fromisoformat(h["ce-time"].replace("Z", "+00:00"))
    # signed with both keys (docs/protocol.md#signatures): each entry verifies
    assert signature_matches(h["ce-signature"], DEV_PRIMARY_KEY, conn_id)
    assert signature_matches(h["ce-signature"], SECONDARY_KEY, conn_id)
    assert len(h["ce-signature"].split(",")) == 2


async def test_every_system_and_user_event_has_the_documented_shape(emulator, fresh):  # noqa: F811
    token = sdk_token(emulator, "chat", user_id="alice")
    client = socketio.AsyncClient(reconnection=False)
    await client.connect(
        f"{emulator.endpoint}?access_token={token}&room=lobby",
        transports=["websocket"],
        socketio_path=CLIENT_PATH.format(hub="chat").lstrip("/"),
        namespaces=["/chat"],
    )
    conn_id, socket_id = client.eio.sid, client.get_sid("/chat")
    await client.emit("note", {"x": 1}, namespace="/chat")
    await client.call("note", [1, "two"], namespace="/chat", timeout=5)
    # leave the namespace with a DISCONNECT packet (python-socketio's disconnect() may close the websocket
    # before its DISCONNECT packets are flushed, which is an abnormal close)
    await client._send_packet(client.packet_class(1, namespace="/chat"))
    disconnected = await fresh.wait(lambda r: r.event == "disconnected")
    await client.disconnect()
    posts = fresh.events()
    assert [r.event for r in posts] == ["connect", "connected", "note", "note", "disconnected"]
    connect, connected, note, acked = posts[:4]
    common = {"namespace": "/chat", "conn_id": conn_id, "socket_id": socket_id}
    _check_common(connect, kind="azure.webpubsub.sys.connect", event="connect", **common)
    _check_common(connected, kind="azure.webpubsub.sys.connected", event="connected", **common)
    _check_common(note, kind="azure.webpubsub.user.message", event="note", **common)
    _check_common(disconnected, kind="azure.webpubsub.sys.disconnected", event="disconnected", **common)
    assert connect.headers["ce-userid"] == "alice"
    assert connect.headers["content-type"].startswith("application/json")
    body = connect.json()
    assert set(body) == {
        "claims",
        "query",
        "headers",
        "subprotocols",
        "clientCertificates",
    }  # all five (docs/protocol.md#connect)
    assert body["claims"]["sub"] == ["alice"] and all(isinstance(v, list) for v in body["claims"].values())
    assert body["query"]["room"] == ["lobby"] and body["query"]["EIO"] == ["4"]
    assert "access_token" not in body["query"] and "authorization" not in body["headers"]
    assert body["subprotocols"] == [] and body["clientCertificates"] == []
    assert connected.json() == {}
    assert note.headers["content-type"] == "text/plain"
    assert (
        note.body == b'42/chat,["note",{"x":1}]'
    )  # "4" + the Socket.IO packet, verbatim (docs/protocol.md#user-events)
    assert acked.body == b'42/chat,1["note",[1,"two"]]'
    assert disconnected.json() == {"reason": ""}


async def test_handshake_comes_first_and_needs_allowed_origin():
    own = RecordingUpstream().start()
    try:
        own.allow_origin = "someone-else.example"
        async with in_process(own.url, validation_ttl=60.0) as emu:
            token = sdk_token(emu, "chat")
            with pytest.raises(socketio.exceptions.ConnectionError):
                async with py_client(emu, token=token, transports=["websocket"], wait_timeout=3):
                    pass
            assert [r.method for r in own.requests] == ["OPTIONS"]  # refused: no event was POSTed
            options = own.requests[0]
            assert options.headers["webhook-request-origin"] == "127.0.0.1"
            own.allow_origin = None  # echo the origin, as the extension does
            await asyncio.sleep(1.1)  # the failed validation backs off 1 s
            async with py_client(emu, token=token, transports=["websocket"]) as client:
                assert client.connected
            assert [r.method for r in own.requests][:3] == ["OPTIONS", "OPTIONS", "POST"]
    finally:
        own.stop()


async def test_refused_connect_gives_connect_error_and_keeps_other_namespaces(emulator, fresh):  # noqa: F811
    fresh.rule("connect@/private", status=401)
    token = sdk_token(emulator, "chat", user_id="carol")
    async with py_client(emulator, token=token, transports=["websocket"]) as client:
        errors: asyncio.Queue = asyncio.Queue()
        client.on("connect_error", lambda data: errors.put_nowait(data), namespace="/private")
        with pytest.raises(socketio.exceptions.ConnectionError):
            await client.connect(emulator.endpoint, namespaces=["/private"])  # already connected: raises
        await client._send_packet(client.packet_class(0, namespace="/private"))  # a raw CONNECT for /private
        data = await asyncio.wait_for(errors.get(), 5)
        assert "401" in data["message"]
        # the Engine.IO connection and "/" are untouched (docs/protocol.md#refused-connect)
        assert await client.call("still", timeout=5) == {"echo": None, "event": "still"}
    events = [(r.event, r.headers["ce-namespace"]) for r in fresh.events()]
    assert ("connected", "/private") not in events and ("disconnected", "/private") not in events


@pytest.mark.skipif(not node_available(), reason="node and node_modules/socket.io-client are needed")
async def test_node_client_sees_connect_error_message(emulator, fresh):  # noqa: F811
    fresh.rule("connect", status=500)
    node = await NodeClient.start(
        url=emulator.endpoint,
        path=CLIENT_PATH.format(hub="chat"),
        token=sdk_token(emulator, "chat"),
        transports=["websocket"],
    )
    try:
        line = await node.next("connect_error")
        assert "500" in line["message"] and "refused" in line["message"].lower()
    finally:
        await node.close()


async def test_ack_body_is_passed_verbatim(emulator, fresh):  # noqa: F811
    fresh.rule("raw", body='431["verbatim",{"n":2}]')
    async with py_client(emulator, token=sdk_token(emulator, "chat"), transports=["polling"]) as client:
        assert await client.call("raw", timeout=5) == ("verbatim", {"n": 2})


async def test_user_events_are_serialized_per_connection(emulator, fresh):  # noqa: F811
    fresh.rule("first", delay=0.4)
    async with py_client(emulator, token=sdk_token(emulator, "chat"), transports=["websocket"]) as client:
        await client.emit("first")
        await client.emit("second")
        assert await client.call("third", timeout=5) == {"echo": None, "event": "third"}
    names = [r.event for r in fresh.events() if r.headers["ce-type"] == "azure.webpubsub.user.message"]
    assert names == ["first", "second", "third"]
    assert fresh.max_in_flight["azure.webpubsub.user.message"] == 1


@pytest.mark.parametrize("rule", [{"status": 404}, {"delay": 2.5}], ids=["404", "timeout"])
async def test_failed_user_event_closes_the_connection_by_default(emulator, fresh, rule):  # noqa: F811
    fresh.rule("broken", **rule)
    async with py_client(emulator, token=sdk_token(emulator, "chat"), transports=["websocket"]) as client:
        gone = asyncio.Event()
        client.on("disconnect", lambda *a: gone.set())
        conn_id = client.eio.sid
        await client.emit("broken")
        await asyncio.wait_for(gone.wait(), 6)
    rec = await fresh.wait(lambda r: r.event == "disconnected" and r.headers["ce-connectionid"] == conn_id, timeout=6)
    reason = rec.json()["reason"]
    assert "upstream failure" in reason and ("404" in reason or "1.5 s" in reason)


@pytest.mark.parametrize("policy", ["disconnect_socket", "ignore"])
async def test_other_failure_policies(policy):
    own = RecordingUpstream().start()
    own.rule("broken", status=500)
    try:
        async with in_process(own.url, user_event_failure=policy, upstream_timeout=2.0) as emu:
            async with py_client(
                emu, token=sdk_token(emu, "chat"), transports=["websocket"], namespaces=["/", "/a"]
            ) as client:
                left = asyncio.Event()
                client.on("disconnect", lambda *a: left.set(), namespace="/a")
                await client.emit("broken", namespace="/a")
                if policy == "disconnect_socket":
                    await asyncio.wait_for(left.wait(), 5)  # only /a went; "/" and the connection stay
                    rec = await own.wait(lambda r: r.event == "disconnected")
                    assert rec.headers["ce-namespace"] == "/a" and "upstream failure" in rec.json()["reason"]
                else:
                    assert await client.call("fine", namespace="/a", timeout=5) == {"echo": None, "event": "fine"}
                assert await client.call("fine", timeout=5) == {"echo": None, "event": "fine"}
    finally:
        own.stop()


async def test_binary_is_refused_with_a_reason_and_the_emulator_keeps_running(emulator, fresh):  # noqa: F811
    token = sdk_token(emulator, "chat")
    async with py_client(emulator, token=token, transports=["websocket"]) as client:
        errors: asyncio.Queue = asyncio.Queue()
        client.on("connect_error", lambda data: errors.put_nowait(data))
        await client.emit("upload", b"\x00\x01binary")
        data = await asyncio.wait_for(errors.get(), 5)
        assert "binary" in data["message"]
    rec = await fresh.wait(lambda r: r.event == "disconnected")
    assert "binary" in rec.json()["reason"]
    assert not [r for r in fresh.events() if r.event == "upload"]  # never forwarded
    async with py_client(emulator, token=token, transports=["polling"]) as other:
        assert await other.call("after", timeout=5) == {"echo": None, "event": "after"}


async def test_inspector_lists_state_and_calls_without_secrets(emulator, fresh):  # noqa: F811
    token = sdk_token(emulator, "chat", user_id="inspect-me")
    async with py_client(emulator, token=token, transports=["websocket"], namespaces=["/", "/ns"]) as client:
        conn_id, root_sid = client.eio.sid, client.get_sid("/")
        service(emulator).add_connection_to_group("0~L25z~cm9vbTE", conn_id)  # room "room1" in /ns
        await client.call("x", timeout=5)
        async with httpx.AsyncClient() as http:
            data = (await http.get(f"{emulator.base_url}/inspector/api")).json()
            html = (await http.get(f"{emulator.base_url}/inspector")).text
    hub = next(h for h in data["hubs"] if h["name"] == "chat")
    conns = [c for c in hub["connections"] if c["connectionId"] == conn_id]
    assert len(conns) == 1, (conn_id, hub["connections"])
    conn = conns[0]
    assert conn["userId"] == "inspect-me" and conn["transport"] == "websocket"
    sockets = {s["namespace"]: s for s in conn["sockets"]}
    assert sockets["/ns"]["rooms"] == ["room1"] and sockets["/"]["rooms"] == []
    assert sockets["/"]["socketId"] == root_sid
    assert hub["rooms"]["/ns"]["room1"] == 1
    call = next(c for c in data["upstreamCalls"] if c["event"] == "x")
    assert call["status"] == 200 and call["latency_ms"] >= 0
    text = json.dumps(data) + html
    assert DEV_PRIMARY_KEY not in text and SECONDARY_KEY not in text and token not in text
    assert "<table" in html


async def test_connect_timeout_is_a_refusal_and_connected_failures_are_only_logged(emulator, fresh):  # noqa: F811
    fresh.rule("connect@/slow", delay=2.5)  # the fixture's upstream timeout is 1.5 s
    fresh.rule("connected", status=500)  # non-blocking: logged, the socket stays
    async with py_client(emulator, token=sdk_token(emulator, "chat"), transports=["websocket"]) as client:
        errors: asyncio.Queue = asyncio.Queue()
        client.on("connect_error", lambda data: errors.put_nowait(data), namespace="/slow")
        await client._send_packet(client.packet_class(0, namespace="/slow"))
        data = await asyncio.wait_for(errors.get(), 5)
        assert "did not answer within 1.5 s" in data["message"]
        assert await client.call("alive", timeout=5) == {"echo": None, "event": "alive"}
    async with httpx.AsyncClient() as http:
        calls = (await http.get(f"{emulator.base_url}/inspector/api")).json()["upstreamCalls"]
    assert any(c["kind"] == "connected" and c["status"] == 500 and c["error"] for c in calls)
    assert any(c["kind"] == "connect" and c["status"] is None and "1.5 s" in c["error"] for c in calls)


async def test_event_routing_settings_of_a_hub():
    from emulator import HubSettings

    own = RecordingUpstream().start()
    try:
        hub = HubSettings(
            "chat",
            url_template=own.url + "?code=secret-function-key",
            system_events=frozenset({"disconnected"}),
            user_event_pattern="allowed*,other",
        )
        async with in_process(None, hubs=(hub,), user_event_failure="disconnect_socket") as emu:
            async with py_client(
                emu, token=sdk_token(emu, "chat"), transports=["websocket"], namespaces=["/", "/x"]
            ) as client:
                # connect not configured: accepted without a webhook (docs/protocol.md#system-event-configuration)
                assert await client.call("allowed-1", timeout=5) == {"echo": None, "event": "allowed-1"}
                left = asyncio.Event()
                client.on("disconnect", lambda *a: left.set(), namespace="/x")
                await client.emit("not-routed", namespace="/x")  # no handler for it: the Q2 policy applies
                await asyncio.wait_for(left.wait(), 5)
            rec = await own.wait(lambda r: r.event == "disconnected" and r.headers["ce-namespace"] == "/x")
            assert "no event handler is configured for event 'not-routed'" in rec.json()["reason"]
            assert rec.query == {"code": ["secret-function-key"]}  # the URL template is used as given
            assert not [r for r in own.events() if r.event in ("connect", "connected", "not-routed")]
            async with httpx.AsyncClient() as http:
                text = (await http.get(f"{emu.base_url}/inspector/api")).text
            assert "secret-function-key" not in text  # URL queries (function keys) are never shown
    finally:
        own.stop()


async def test_a_client_flooding_a_slow_handler_is_cut_off(monkeypatch):
    import emulator._hub as hub_module

    monkeypatch.setattr(hub_module, "MAX_PENDING_PACKETS", 3)
    own = RecordingUpstream().start()
    own.rule("flood", delay=0.5)
    try:
        async with in_process(own.url) as emu:
            async with py_client(emu, token=sdk_token(emu, "chat"), transports=["websocket"]) as client:
                gone = asyncio.Event()
                client.on("disconnect", lambda *a: gone.set())
                conn_id = client.eio.sid
                for i in range(10):
                    await client.emit("flood", i)
                await asyncio.wait_for(gone.wait(), 5)
            rec = await own.wait(lambda r: r.event == "disconnected" and r.headers["ce-connectionid"] == conn_id)
            assert "too many pending packets" in rec.json()["reason"]
            assert len(own.events("flood")) < 10
    finally:
        own.stop()
