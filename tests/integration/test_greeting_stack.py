"""Greeting in connect through the whole offline stack (emulator + dev host + Azurite) with python-socketio
clients: the client sees ``connect``, then the greeting, then what the connect handler did after it; its room
join and session work; a refused socket (False, or an exception after the emit) gets nothing."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
import socketio

from devhost.pytest_plugin import close_client, negotiate
from devhost.stack import Stack

pytestmark = pytest.mark.integration

APP = Path(__file__).resolve().parents[1] / "fixtures" / "apps" / "greeting"
EVENTS = ("hello", "welcome", "arriving")


@pytest.fixture(scope="module", params=[1, 3], ids=["1-instance", "3-instances"])
def greet_stack(request: pytest.FixtureRequest, sioless_stack_factory: Any) -> Stack:
    # With 3 instances, connect and connected land on random instances: only the Table store carries the greeting.
    return sioless_stack_factory(APP, instances=request.param)  # type: ignore[no-any-return]


class Recorder:
    def __init__(self) -> None:
        self.client = socketio.AsyncClient(reconnection=False)
        self.seen: list[tuple[str, Any]] = []
        self.changed = asyncio.Event()
        self.client.on("connect", lambda: self._add("connect", None))
        for event in EVENTS:
            self.client.on(event, lambda data=None, event=event: self._add(event, data))

    def _add(self, event: str, data: Any) -> None:
        self.seen.append((event, data))
        self.changed.set()

    async def wait_for(self, count: int, timeout: float = 5.0) -> list[tuple[str, Any]]:
        async with asyncio.timeout(timeout):
            while len(self.seen) < count:
                self.changed.clear()
                await self.changed.wait()
        return self.seen


async def connect(stack: Stack, user: str, mode: str | None = None) -> Recorder:
    result = negotiate(stack.devhost_url, user, "/api/greet/negotiate")
    recorder = Recorder()
    url = f"{result['endpoint']}?access_token={result['token']}" + (f"&mode={mode}" if mode else "")
    await recorder.client.connect(url, socketio_path=result["path"], wait_timeout=5)
    return recorder


async def test_greeting_arrives_after_connect_in_order_and_a_refused_socket_gets_nothing(greet_stack: Stack) -> None:
    alice = await connect(greet_stack, "alice")
    bob: Recorder | None = None
    try:
        assert await alice.wait_for(3) == [("connect", None), ("hello", "alice"), ("welcome", "alice")]
        assert await alice.client.call("whoami", timeout=5) == {"session": {"name": "alice"}}

        for mode in ("false", "boom"):
            with pytest.raises(socketio.exceptions.ConnectionError):
                await connect(greet_stack, f"mallory-{mode}", mode)

        bob = await connect(greet_stack, "bob")
        assert await bob.wait_for(3) == [("connect", None), ("hello", "bob"), ("welcome", "bob")]
        # alice, in the lobby since her connect: no refused socket's welcome reached the lobby. Returning False
        # still sends what came before the greeting ("arriving", to the others); an exception sends nothing.
        seen = await alice.wait_for(6)
        assert seen[3:] == [("arriving", "mallory-false"), ("arriving", "bob"), ("welcome", "bob")]
    finally:
        await asyncio.gather(*(close_client(r.client) for r in (alice, bob) if r is not None))
