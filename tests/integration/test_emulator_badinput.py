"""Bad input never takes the emulator down: fuzzed Engine.IO / Socket.IO frames (hypothesis, bounded), oversize
payloads, bad JSON, bad filters, bad messages, unknown hubs and routes. Each gets a clear error, and other
clients keep working."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
import socketio
from hypothesis import given
from hypothesis import strategies as st
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from tests.fixtures.emulator_fixtures import (  # noqa: F401  (fixtures)
    emulator,
    fresh,
    py_client,
    sdk_token,
    service,
    upstream,
)
from tests.fixtures.fuzz import FUZZ

pytestmark = pytest.mark.integration

# Socket.IO-shaped text (type digit, optional namespace, ack id, JSON-ish tail) mixed with arbitrary text.
sio_like = st.from_regex(r"[0-9](/[a-z~,]{0,4},?)?[0-9]{0,3}[\[\{\"a-z0-9,\]\}:-]{0,12}", fullmatch=True)
frames = st.one_of(st.text(max_size=60), st.builds(lambda s: "4" + s, sio_like), sio_like)


@contextmanager
def raw_websocket(emu, hub: str = "chat") -> Iterator[ClientConnection]:
    token = sdk_token(emu, hub)
    url = f"ws://127.0.0.1:{emu.port}/clients/socketio/hubs/{hub}/?EIO=4&transport=websocket&access_token={token}"
    with connect(url, open_timeout=5) as ws:
        opened = ws.recv(timeout=5)
        assert isinstance(opened, str) and opened.startswith("0{")
        yield ws


def _alive(emu) -> None:
    assert emu.process.poll() is None, "the emulator process died"
    assert httpx.head(f"{emu.base_url}/api/health", timeout=5).status_code == 200


@FUZZ
@given(frame=frames)
def test_fuzzed_websocket_frames_never_crash(emulator, frame):  # noqa: F811
    with raw_websocket(emulator) as ws:
        ws.send("40")  # CONNECT "/" first, so EVENT-shaped frames reach the event path
        ws.recv(timeout=5)
        try:
            ws.send(frame)
            ws.recv(timeout=0.05)
        except (TimeoutError, ConnectionClosed):
            pass
    assert emulator.process.poll() is None


@FUZZ
@given(body=st.one_of(st.text(max_size=80), st.lists(frames, max_size=3).map("\x1e".join)))
def test_fuzzed_polling_payloads_never_crash(emulator, body):  # noqa: F811
    token = sdk_token(emulator, "chat")
    base = f"{emulator.base_url}/clients/socketio/hubs/chat/?EIO=4&transport=polling"
    with httpx.Client(timeout=5) as http:
        opened = http.get(f"{base}&access_token={token}")
        assert opened.status_code == 200
        sid = json.loads(opened.text[1:])["sid"]
        response = http.post(f"{base}&sid={sid}", content=body.encode())
        assert response.status_code in (200, 400)
    assert emulator.process.poll() is None


async def test_emulator_and_other_clients_fine_after_bad_frames(emulator, fresh):  # noqa: F811
    async with py_client(emulator, token=sdk_token(emulator, "chat"), transports=["websocket"]) as bystander:
        with raw_websocket(emulator) as ws:
            ws.send("40")
            ws.recv(timeout=5)
            ws.send('42["broken"')  # not JSON: that connection is closed with a logged reason
            with pytest.raises(ConnectionClosed):
                for _ in range(5):
                    ws.recv(timeout=2)
        assert await bystander.call("still-here", timeout=5) == {"echo": None, "event": "still-here"}
    assert not [r for r in fresh.events() if r.event == "broken"]
    _alive(emulator)


async def test_oversize_client_payload_closes_only_that_connection(emulator, fresh):  # noqa: F811
    token = sdk_token(emulator, "chat")
    async with py_client(emulator, token=token, transports=["websocket"]) as bystander:
        async with py_client(emulator, token=token, transports=["websocket"]) as big:
            await big.emit("huge", "x" * 30_000)  # maxPayload is 20000 in this fixture
            deadline = time.monotonic() + 5
            while big.connected and time.monotonic() < deadline:
                await big.sleep(0.05)
            assert not big.connected
        assert await bystander.call("fine", timeout=5) == {"echo": None, "event": "fine"}
    assert not [r for r in fresh.events() if r.event == "huge"]


def _error(response: httpx.Response) -> tuple[int, str, str]:
    body = response.json()
    assert response.headers["x-ms-error-code"] == body["code"]
    return response.status_code, body["code"], body["message"]


def _signed(emu, method: str, path: str, **kwargs) -> httpx.Response:
    """A request signed by the official client's own policy (aud = the URL), sent through it."""
    from azure.core.rest import HttpRequest

    client = service(emu)
    response = client.send_request(HttpRequest(method, path, **kwargs))
    response.read()
    return httpx.Response(response.status_code, headers=dict(response.headers), content=response.content)


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "expected"),
    [
        (
            "POST",
            "/api/hubs/chat/:send",
            {"params": {"filter": "'a' in groups or"}, "content": '42["x"]', "headers": {"Content-Type": "text/plain"}},
            (400, "InvalidFilter", "position 16"),
        ),
        (
            "POST",
            "/api/hubs/chat/:send",
            {"params": {"filter": "nope eq 1"}, "content": '42["x"]', "headers": {"Content-Type": "text/plain"}},
            (400, "InvalidFilter", "position 0"),
        ),
        (
            "POST",
            "/api/hubs/chat/:send",
            {"content": "hello", "headers": {"Content-Type": "text/plain"}},
            (400, "InvalidMessage", "Engine.IO"),
        ),
        (
            "POST",
            "/api/hubs/chat/:send",
            {"content": '42["x"', "headers": {"Content-Type": "text/plain"}},
            (400, "InvalidMessage", "malformed"),
        ),
        (
            "POST",
            "/api/hubs/chat/:send",
            {"content": b"\x00\x01", "headers": {"Content-Type": "application/octet-stream"}},
            (400, "BinaryNotSupported", "binary"),
        ),
        (
            "POST",
            "/api/hubs/chat/:send",
            {"content": "4" + "x" * 30_000, "headers": {"Content-Type": "text/plain"}},
            (413, "PayloadTooLarge", "20000"),
        ),
        (
            "POST",
            "/api/hubs/chat/:addToGroups",
            {"content": "{not json", "headers": {"Content-Type": "application/json"}},
            (400, "InvalidJson", "not JSON"),
        ),
        (
            "POST",
            "/api/hubs/chat/:addToGroups",
            {"json": {"groups": "g", "filter": ""}},
            (400, "InvalidGroups", "array"),
        ),
        (
            "POST",
            "/api/hubs/chat/:removeFromGroups",
            {"json": {"groups": ["g"], "filter": "(("}},
            (400, "InvalidFilter", "position"),
        ),
        (
            "POST",
            "/api/hubs/nohub/:send",
            {"content": '42["x"]', "headers": {"Content-Type": "text/plain"}},
            (404, "HubNotFound", "nohub"),
        ),
        ("GET", "/api/hubs/chat/whatever", {}, (404, "NotFound", "No such REST route")),
    ],
    ids=[
        "filter-eof",
        "filter-ident",
        "not-eio",
        "bad-json-packet",
        "binary",
        "oversize",
        "bad-json",
        "groups-type",
        "filter-parens",
        "unknown-hub",
        "unknown-route",
    ],
)
def test_bad_rest_input_gets_a_clear_error(emulator, method, path, kwargs, expected):  # noqa: F811
    kwargs.setdefault("params", {})["api-version"] = "2024-12-01"
    status, code, message = _error(_signed(emulator, method, path, **kwargs))
    assert (status, code) == expected[:2]
    assert expected[2] in message, message
    _alive(emulator)


def test_unknown_hub_on_the_client_path(emulator):  # noqa: F811
    response = httpx.get(f"{emulator.base_url}/clients/socketio/hubs/nohub/?EIO=4&transport=polling")
    assert response.status_code == 404 and "nohub" in response.json()["message"]
    with pytest.raises(socketio.exceptions.ConnectionError):
        client = socketio.Client(reconnection=False)
        client.connect(
            emulator.endpoint, socketio_path="clients/socketio/hubs/nohub", transports=["polling"], wait_timeout=3
        )
