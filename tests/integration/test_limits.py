"""Per-socket limits (functions/_limits.py, docs/limits.md) with small settings, on two dev host instances.

The bucket lives in Azure Table, so with requests spread over both instances a socket still gets exactly its
burst; an instance-local counter would let through up to twice as many.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from devhost.pytest_plugin import close_client, connect_client
from devhost.stack import Stack

pytestmark = pytest.mark.integration

SETTINGS = {
    "SIOLESS_CHAT_EVENTS_PER_SECOND": "0.25",
    "SIOLESS_CHAT_EVENT_BURST": "4",
    "SIOLESS_CHAT_MAX_EVENT_BYTES": "512",
    "SIOLESS_RATE_LIMIT_STRIKES": "6",
    "SIOLESS_WHITEBOARD_MAX_SHAPES": "3",
}
SHAPE = {"kind": "line", "color": "red", "width": 2, "data": [1, 2, 3, 4]}


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    stack = Stack(extra_env=SETTINGS, instances=2)
    try:
        yield stack.start()
    finally:
        stack.stop()


async def test_rate_limit_error_acks_then_disconnect_only_if_it_keeps_going(stack: Stack) -> None:
    client = await connect_client(stack.devhost_url, "flooder", negotiate_path="/api/chat/negotiate")
    try:
        assert (await client.call("join", ("limits", "flooder"), timeout=5))["ok"] is True
        answers = [await client.call("chat message", ("limits", f"m{i}", "flooder"), timeout=5) for i in range(3)]
        assert all(a.get("ok") for a in answers), answers  # join + 3 messages = the burst of 4
        refused = await client.call("chat message", ("limits", "one too many", "flooder"), timeout=5)
        assert refused["error"].startswith("rate limit: at most 0.25 events a second (bursts of 4)"), refused
        assert client.connected, "one refusal does not disconnect"
        await asyncio.sleep(4.2)  # one token back
        assert (await client.call("chat message", ("limits", "later", "flooder"), timeout=5))["ok"] is True
        # Keep going: strikes 1..5 are refused; the 6th refusal disconnects.
        for strike in range(1, 6):
            answer = await client.call("chat message", ("limits", f"flood {strike}", "flooder"), timeout=5)
            assert answer["error"].startswith("rate limit"), answer
            assert client.connected
        # The 6th: the disconnect action is carried out before the ack would be sent, so no ack arrives; the
        # client sees a server-side disconnect (socket.io-client does not reconnect by itself after one).
        disconnected = asyncio.Event()
        client.on("disconnect", lambda *_: disconnected.set())
        await client.emit("chat message", ("limits", "flood 6", "flooder"), callback=lambda *a: None)
        await asyncio.wait_for(disconnected.wait(), 5)
        assert not client.connected, "a socket that keeps going is disconnected"
    finally:
        await close_client(client)


async def test_oversized_event_is_refused_and_the_socket_stays(stack: Stack) -> None:
    client = await connect_client(stack.devhost_url, "big", negotiate_path="/api/chat/negotiate")
    try:
        answer = await client.call("chat message", ("limits", "x" * 600, "big"), timeout=5)
        assert answer["error"].startswith("message too large: "), answer
        assert "(at most 512)" in answer["error"] and client.connected
        assert (await client.call("join", ("limits", "big"), timeout=5))["ok"] is True
    finally:
        await close_client(client)


async def test_the_board_has_a_bound(stack: Stack) -> None:
    client = await connect_client(stack.devhost_url, negotiate_path="/api/whiteboard/negotiate")
    try:
        assert (await client.call("clear", ["tester"], timeout=5))["ok"] is True
        for n in range(3):
            assert await client.call("addShape", [f"s{n}", SHAPE], timeout=5) == {"ok": True}
        full = await client.call("addShape", ["s3", SHAPE], timeout=5)
        assert full == {"error": "the board is full: 3 shapes (at most 3); remove shapes or clear the board"}
        assert await client.call("updateShape", ["tester", "s0", SHAPE], timeout=5) == {"ok": True}, "replacing"
        assert await client.call("removeShape", ["tester", "s1"], timeout=5) == {"ok": True}
        assert await client.call("addShape", ["s3", SHAPE], timeout=5) == {"ok": True}
    finally:
        await close_client(client)
