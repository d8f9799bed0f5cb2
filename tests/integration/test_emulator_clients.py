"""Real clients against the emulator: python-socketio and node socket.io-client 4.8, over polling only, websocket
only and polling->websocket upgrade, with tokens from the official SDK; bad tokens refused; anonymous hubs."""

from __future__ import annotations

import asyncio
import json
import time

import jwt
import pytest
import socketio

from emulator import DEV_PRIMARY_KEY
from tests.fixtures.emulator_fixtures import (  # noqa: F401  (fixtures)
    CLIENT_PATH,
    SECONDARY_KEY,
    emulator,
    fresh,
    node_available,
    py_client,
    run_node,
    sdk_token,
    upstream,
)

pytestmark = pytest.mark.integration
TRANSPORTS = {"polling": ["polling"], "websocket": ["websocket"], "upgrade": None}


@pytest.mark.parametrize("mode", list(TRANSPORTS))
async def test_python_client_connects_emits_and_gets_ack(emulator, fresh, mode):  # noqa: F811
    token = sdk_token(emulator, "chat", user_id="alice")
    async with py_client(emulator, token=token, transports=TRANSPORTS[mode], namespaces=["/", "/ns"]) as client:
        ack = await client.call("hello", {"n": 1}, timeout=5)
        assert ack == {"echo": [{"n": 1}], "event": "hello"}
        ack_ns = await client.call("hello", 2, namespace="/ns", timeout=5)
        assert ack_ns == {"echo": [2], "event": "hello"}
        connects = fresh.events("connect")
        # sid = connection id; the Socket.IO sid is the socket id, distinct per namespace (docs/protocol.md#socket-ids)
        assert {r.headers["ce-socketid"] for r in connects} == {client.get_sid("/"), client.get_sid("/ns")}
        assert {r.headers["ce-connectionid"] for r in connects} == {client.eio.sid}
        assert all(r.headers["ce-userid"] == "alice" for r in connects)
        if mode == "upgrade":
            for _ in range(100):
                if client.transport() == "websocket":
                    break
                await asyncio.sleep(0.05)
        assert client.transport() == ("polling" if mode == "polling" else "websocket")
    await fresh.wait(lambda r: r.event == "disconnected" and r.headers["ce-namespace"] == "/ns")


@pytest.mark.skipif(not node_available(), reason="node and node_modules/socket.io-client are needed")
@pytest.mark.parametrize("mode", list(TRANSPORTS))
async def test_node_client_connects_emits_and_gets_ack(emulator, fresh, mode):  # noqa: F811
    token = sdk_token(emulator, "chat", user_id="bob")
    lines = await run_node(
        url=emulator.endpoint,
        path=CLIENT_PATH.format(hub="chat"),
        token=token,
        namespace="/chat",
        transports=TRANSPORTS[mode],
        waitUpgrade=mode == "upgrade",
        emit={"event": "say", "args": ["hi", 3]},
    )
    kinds = {line["type"]: line for line in lines}
    assert "connect" in kinds, lines
    assert kinds["ack"]["ack"] == {"echo": ["hi", 3], "event": "say"}
    assert kinds["transport"]["name"] == ("polling" if mode == "polling" else "websocket")
    message = await fresh.wait(lambda r: r.event == "say")
    assert message.body == b'42/chat,0["say","hi",3]'
    assert message.headers["ce-socketid"] == kinds["connect"]["id"]


def _forged(
    emu,
    *,
    key: str,
    aud_path: str = CLIENT_PATH.format(hub="chat"),
    exp_delta: int = 3600,
    base: str | None = None,
) -> str:
    now = int(time.time())
    claims = {"aud": (base or emu.endpoint) + aud_path, "iat": now - 10, "exp": now + exp_delta, "sub": "eve"}
    return jwt.encode(claims, key.encode(), algorithm="HS256")


async def test_secondary_key_and_localhost_alias_are_accepted(emulator, fresh):  # noqa: F811
    token = sdk_token(emulator, "chat", user_id="sec", key=SECONDARY_KEY)
    async with py_client(emulator, token=token, transports=["websocket"]) as client:
        assert client.connected
    # A token minted for http://localhost:<port> works on 127.0.0.1 (docs/emulator.md, "Token audience").
    alias = _forged(emulator, key=SECONDARY_KEY, base=f"http://localhost:{emulator.port}")
    async with py_client(emulator, token=alias, transports=["polling"]) as client:
        assert client.connected


@pytest.mark.parametrize("case", ["wrong key", "wrong aud", "other hub", "expired", "garbage", "missing"])
async def test_bad_tokens_are_refused(emulator, fresh, case):  # noqa: F811
    tokens = {
        "wrong key": _forged(emulator, key="not-the-key-but-long-enough-for-hs256-0123456789"),
        "wrong aud": _forged(emulator, key=SECONDARY_KEY, base="http://example.com:1"),
        "other hub": sdk_token(emulator, "whiteboard"),
        "expired": _forged(emulator, key=SECONDARY_KEY, exp_delta=-600),
        "garbage": "abc.def.ghi",
        "missing": None,
    }
    for transports in (["polling"], ["websocket"]):
        # python-socketio raises ConnectionError, or aiohttp's RuntimeError when the websocket handshake is refused
        with pytest.raises((socketio.exceptions.ConnectionError, RuntimeError)):
            async with py_client(emulator, token=tokens[case], transports=transports, wait_timeout=3):
                pass
    assert fresh.events() == []  # a refused handshake never reaches the event handler


@pytest.mark.skipif(not node_available(), reason="node and node_modules/socket.io-client are needed")
async def test_node_client_with_bad_token_gets_connect_error(emulator, fresh):  # noqa: F811
    lines = await run_node(
        url=emulator.endpoint,
        path=CLIENT_PATH.format(hub="chat"),
        token=_forged(emulator, key="nope-not-the-key-but-long-enough-for-hs256-0123"),
        transports=["polling"],
    )
    assert [line["type"] for line in lines][0] == "connect_error", lines


async def test_anonymous_only_where_allowed(emulator, fresh):  # noqa: F811
    async with py_client(emulator, hub="open", transports=["websocket"]) as client:
        assert await client.call("ping", timeout=5) == {"echo": None, "event": "ping"}
    connect = await fresh.wait(lambda r: r.event == "connect")
    assert "ce-userid" not in connect.headers and connect.json()["claims"] == {}
    with pytest.raises((socketio.exceptions.ConnectionError, RuntimeError)):
        async with py_client(emulator, hub="chat", transports=["websocket"], wait_timeout=3):
            pass


async def test_unknown_hub_is_refused_with_404(emulator):  # noqa: F811
    import httpx

    async with httpx.AsyncClient() as http:
        response = await http.get(f"{emulator.base_url}/clients/socketio/hubs/1bad/?EIO=4&transport=polling")
        assert response.status_code == 404 and "1bad" in response.json()["message"]
        response = await http.get(f"{emulator.base_url}/socket.io/?EIO=4&transport=polling")
        assert response.status_code == 404
        response = await http.get(f"{emulator.base_url}/clients/socketio/hubs/chat/?EIO=3&transport=polling")
        assert response.status_code == 400


async def test_heartbeats_keep_live_clients_and_drop_silent_ones(upstream):  # noqa: F811
    import websockets

    from tests.fixtures.emulator_fixtures import in_process

    upstream.reset()
    async with in_process(upstream.url, ping_interval=1, ping_timeout=0.5) as emu:
        token = sdk_token(emu, "chat")
        async with py_client(emu, token=token, transports=["websocket"]) as live:
            url = (
                f"ws://127.0.0.1:{emu.port}/clients/socketio/hubs/chat/?EIO=4&transport=websocket&access_token={token}"
            )
            async with websockets.connect(url) as silent:  # never answers the server's pings
                assert json.loads((await silent.recv())[1:])["pingInterval"] == 1000
                await silent.send("40")
                sid = json.loads((await silent.recv())[2:])["sid"]
                rec = await upstream.wait(lambda r: r.event == "disconnected" and r.headers["ce-socketid"] == sid, 8)
                assert rec.json()["reason"] in ("ping timeout", "transport close")  # abnormal: non-empty
            await asyncio.sleep(1.5)  # more ping cycles
            assert await live.call("still", timeout=5) == {"echo": None, "event": "still"}


def test_start_banner_prints_the_connection_string_and_client_urls(emulator):  # noqa: F811
    from azure.messaging.webpubsubservice import WebPubSubServiceClient

    prefix = "Connection string (Functions side): "
    printed = next(line[len(prefix) :] for line in emulator.output if line.startswith(prefix))
    assert printed == f"Endpoint=http://127.0.0.1;Port={emulator.port};AccessKey={DEV_PRIMARY_KEY};Version=1.0;"
    for hub in ("chat", "whiteboard", "open"):
        assert any(line.startswith(f"Client URL, hub {hub}: {emulator.client_url(hub)}") for line in emulator.output)
    # The printed string is what the Functions side is given: the official client authenticates with it.
    with WebPubSubServiceClient.from_connection_string(printed, hub="chat") as rest:
        rest.send_to_all('42["banner"]', content_type="text/plain")
