"""The chat sample (function_app.py + functions/chat.py) through emulator + dev host, with python-socketio clients.

Uses the public fixtures of devhost.pytest_plugin, the same way a user tests their own handlers.
"""

from __future__ import annotations

import asyncio

import pytest
import socketio
from azure.messaging.webpubsubservice import WebPubSubServiceClient

from tests.fixtures.inbox import Inbox

pytestmark = pytest.mark.integration


async def test_connect_without_user_is_refused(sioless_stack, sioless_connect) -> None:
    # negotiate always names a user (a guest at least); a token minted without one is refused at connect
    token = WebPubSubServiceClient.from_connection_string(sioless_stack.connection_string, hub="chat")
    anonymous = token.get_client_access_token(client_protocol="SocketIO")["token"]
    client = socketio.AsyncClient(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        await client.connect(
            f"{sioless_stack.emulator_url}?access_token={anonymous}",
            socketio_path="/clients/socketio/hubs/chat",
            wait_timeout=5,
        )
    assert (await sioless_connect(None)).connected  # a guest: the refusal is about the missing user id


@pytest.mark.parametrize("instances", [1, 3])
async def test_room_chat_with_acks_typing_and_system_messages(sioless_connect, request, instances: int) -> None:
    # With three instances each webhook may reach another process: nothing may depend on one.
    stack = request.getfixturevalue("app_stack_3") if instances == 3 else None
    alice = await sioless_connect("alice", stack=stack)
    bob = await sioless_connect("bob", stack=stack, transports=["polling"])
    carol = await sioless_connect("carol", stack=stack)
    inbox_a, inbox_b, inbox_c = Inbox(alice), Inbox(bob), Inbox(carol)

    assert (await alice.call("join", ("lobby", "alice"), timeout=5)).items() >= {"ok": True, "room": "lobby"}.items()
    assert (await bob.call("join", ("lobby", "bob"), timeout=5)).items() >= {"ok": True, "room": "lobby"}.items()
    assert (await carol.call("join", ("other", "carol"), timeout=5)).items() >= {"ok": True, "room": "other"}.items()
    joined = await inbox_a.wait_payload("system message", text="bob joined")
    assert joined["room"] == "lobby"

    ack = await alice.call("chat message", ("lobby", "hello bob", "alice"), timeout=5)
    assert ack["ok"] is True and len(ack["id"]) == 16
    message = await inbox_b.wait_payload("chat message", id=ack["id"])
    assert (message["from"], message["text"], message["room"]) == ("alice", "hello bob", "lobby")

    await bob.emit("typing", ("lobby", "bob"))
    assert await inbox_a.wait_payload("typing", **{"from": "bob"}) == {"room": "lobby", "from": "bob"}

    # Invalid input: the handler's AckError comes back as the ack, nothing is broadcast.
    refused = await alice.call("chat message", ("lobby", "   ", "alice"), timeout=5)
    assert "error" in refused

    await asyncio.sleep(0.2)
    # The sender is excluded from its own broadcasts; carol is in another room and sees none of it.
    assert "chat message" not in inbox_a.names()
    assert inbox_c.names() == []

    assert await bob.call("leave", ("lobby", "bob"), timeout=5) == {"ok": True, "room": "lobby"}
    await inbox_a.wait_payload("system message", text="bob left")
    before = len(inbox_b.events)
    await alice.call("chat message", ("lobby", "anyone?", "alice"), timeout=5)
    await asyncio.sleep(0.3)
    assert len(inbox_b.events) == before


async def test_disconnect_leaves_others_working(sioless_connect) -> None:
    alice = await sioless_connect("alice")
    bob = await sioless_connect("bob")
    inbox_b = Inbox(bob)
    await alice.call("join", ("gone", "alice"), timeout=5)
    await bob.call("join", ("gone", "bob"), timeout=5)
    await alice.disconnect()
    assert not alice.connected
    carol = await sioless_connect("carol")
    await carol.call("join", ("gone", "carol"), timeout=5)
    ack = await carol.call("chat message", ("gone", "still here?", "carol"), timeout=5)
    assert (await inbox_b.wait_payload("chat message", id=ack["id"]))["text"] == "still here?"
