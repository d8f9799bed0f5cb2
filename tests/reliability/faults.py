"""Fault cases over the full offline stack, shared by tests/reliability and benchmarks/reliability.py.

- :func:`devhost_crash`: the dev host is SIGKILLed while chat senders are busy, then started again.
- :func:`azurite_restart`: Azurite (on disk) restarts while whiteboard clients store shapes.
- :func:`emulator_restart`: the emulator restarts under connected whiteboard clients (node socket.io-client).

Each returns plain figures (a dict); the callers decide what must hold. docs/reliability.md describes the
outcomes these measure.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from typing import Any

import httpx
import socketio

from devhost.pytest_plugin import close_client, connect_client
from devhost.stack import Stack

from .harness import ReconnectDriver, hub_state

WHITEBOARD_NEGOTIATE = "/api/whiteboard/negotiate"
SHAPE = {"kind": "ellipse", "color": "purple", "width": 8, "data": [10, 10, 60, 40]}


class _Watched:
    """A python-socketio client with a 'disconnected' event and the chat messages it received."""

    def __init__(self, client: socketio.AsyncClient, name: str) -> None:
        self.client, self.name = client, name
        self.gone = asyncio.Event()
        self.gone_at: float | None = None
        self.reasons: list[str] = []
        self.texts: list[str] = []
        client.on("disconnect", self._on_disconnect)
        client.on("chat message", lambda message: self.texts.append(str(message.get("text"))))

    def _on_disconnect(self, reason: Any = None) -> None:
        self.gone_at = self.gone_at or time.monotonic()
        self.reasons.append(str(reason))
        self.gone.set()

    async def call_or_gone(self, event: str, args: tuple[Any, ...], timeout: float) -> tuple[str, float]:
        """Emit with an ack; the outcome is 'acked', 'error-ack', 'disconnected' (first of ack or disconnect) or
        'no outcome' after ``timeout``; with the seconds it took."""
        started = time.monotonic()
        call = asyncio.ensure_future(self.client.call(event, args, timeout=timeout))
        gone = asyncio.ensure_future(self.gone.wait())
        done, _ = await asyncio.wait({call, gone}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        for task in (call, gone):
            task.cancel()
        await asyncio.gather(call, gone, return_exceptions=True)
        took = time.monotonic() - started
        if call in done and not call.cancelled() and call.exception() is None:
            ack = call.result()
            return ("acked" if isinstance(ack, dict) and ack.get("ok") is True else "error-ack"), took
        if gone in done or self.gone.is_set():
            return "disconnected", took
        return "no outcome", took


async def devhost_crash(
    stack: Stack,
    *,
    senders: int = 6,
    bystanders: int = 6,
    traffic_s: float = 0.5,
    down_s: float = 1.0,
    outcome_limit: float = 35.0,
) -> dict[str, Any]:
    """Senders emit acked chat messages in a loop; the dev host is SIGKILLed, stays down ``down_s``, comes back.
    Bystanders (same room) send nothing while it is down, and must keep their connection and ids.
    ``outcome_limit``: how long one emit may wait for its ack or disconnect (more than the upstream timeout)."""
    room = f"crash-{os.urandom(3).hex()}"
    limit = outcome_limit
    make = [connect_client(stack.devhost_url, f"s{i}", transports=["websocket"]) for i in range(senders)]
    make += [connect_client(stack.devhost_url, f"b{i}", transports=["websocket"]) for i in range(bystanders)]
    clients = [_Watched(c, f"c{i}") for i, c in enumerate(await asyncio.gather(*make))]
    busy, idle = clients[:senders], clients[senders:]
    for watched in clients:
        await watched.client.call("join", (room, watched.name), timeout=10)
    ids_before = [w.client.get_sid() for w in idle]
    outcomes: list[tuple[str, float, float]] = []  # (outcome, started (relative to the kill), seconds)
    stop = asyncio.Event()
    kill_at = [float("inf")]

    async def send(watched: _Watched) -> None:
        seq = 0
        while not stop.is_set() and watched.client.connected:
            started = time.monotonic()
            outcome, took = await watched.call_or_gone(
                "chat message", (room, f"{watched.name}:{seq}", watched.name), limit
            )
            outcomes.append((outcome, started - kill_at[0], took))
            seq += 1
            await asyncio.sleep(0.01)

    tasks = [asyncio.create_task(send(w)) for w in busy]
    await asyncio.sleep(traffic_s)
    kill_at[0] = time.monotonic()
    await asyncio.to_thread(stack.stop_devhost, signal.SIGKILL)
    await asyncio.sleep(down_s)
    stop.set()
    await asyncio.gather(*tasks)
    down_for = time.monotonic() - kill_at[0]
    restart_started = time.monotonic()
    await asyncio.to_thread(stack.start_devhost)
    restart_s = time.monotonic() - restart_started

    # After the restart: the bystanders are still connected with the same ids, and talk to each other.
    still = sum(1 for w in idle if w.client.connected)
    same_ids = sum(1 for w, sid in zip(idle, ids_before, strict=True) if w.client.get_sid() == sid)
    after: list[str] = []
    for watched in idle:
        outcome, _ = await watched.call_or_gone("chat message", (room, f"after:{watched.name}", watched.name), 10)
        after.append(outcome)
    expected = after.count("acked") * (len(idle) - 1)
    deadline = time.monotonic() + 5
    received = 0
    while time.monotonic() < deadline:
        received = sum(1 for w in idle for t in w.texts if t.startswith("after:"))
        if received >= expected:
            break
        await asyncio.sleep(0.05)
    await asyncio.gather(*(close_client(w.client) for w in clients))

    # emits whose outcome came after the kill: in flight at the kill, or sent while the host was down
    during = [o for o in outcomes if o[1] + o[2] >= 0]
    return {
        "senders": senders,
        "bystanders": bystanders,
        "down_seconds": round(down_for, 2),
        "devhost_restart_seconds": round(restart_s, 2),
        "acked_before_kill": sum(1 for o in outcomes if o[1] + o[2] < 0 and o[0] == "acked"),
        "outcomes_before_kill": sorted({o[0] for o in outcomes if o[1] + o[2] < 0}),
        "emits_hit_by_the_crash": len(during),
        "their_outcomes": {kind: sum(1 for o in during if o[0] == kind) for kind in sorted({o[0] for o in during})},
        "slowest_outcome_ms": round(max((o[2] for o in outcomes), default=0) * 1000, 1),
        "no_outcome": sum(1 for o in outcomes if o[0] == "no outcome"),
        "sender_disconnect_reasons": sorted({r for w in busy for r in w.reasons}),
        "bystanders_connected": still,
        "bystanders_same_id": same_ids,
        "acked_after_restart": after.count("acked"),
        "deliveries_after_restart_expected": expected,
        "deliveries_after_restart_received": received,
    }


async def azurite_restart(stack: Stack, *, writers: int = 4, down_s: float = 0.5) -> dict[str, Any]:
    """Whiteboard clients store shapes in a loop while Azurite (disk persistence) is stopped and started again.
    Every acked shape must be in the diagram afterwards; the user count (presence) must be unchanged."""
    from shared import configure_storage, presence

    make = [connect_client(stack.devhost_url, negotiate_path=WHITEBOARD_NEGOTIATE) for _ in range(writers)]
    clients = [_Watched(c, f"w{i}") for i, c in enumerate(await asyncio.gather(*make))]
    ids_before = [w.client.get_sid() for w in clients]
    configure_storage(stack.storage)
    try:
        users_before = await presence.acount("whiteboard")
        acked: list[str] = []
        refused: dict[str, int] = {}
        slowest = [0.0]
        stop = asyncio.Event()

        async def write(watched: _Watched) -> None:
            while not stop.is_set() and watched.client.connected:
                shape_id = os.urandom(6).hex()
                started = time.monotonic()
                try:
                    ack = await watched.client.call("addShape", [shape_id, SHAPE], timeout=20)
                except socketio.exceptions.TimeoutError:
                    ack = {"error": "no ack within 20 s"}
                slowest[0] = max(slowest[0], time.monotonic() - started)
                if ack == {"ok": True}:
                    acked.append(shape_id)
                else:
                    text = str(ack.get("error") if isinstance(ack, dict) else ack)
                    key = "storage is unavailable" if "storage is unavailable" in text else text[:80]
                    refused[key] = refused.get(key, 0) + 1
                await asyncio.sleep(0.02)

        tasks = [asyncio.create_task(write(w)) for w in clients]
        await asyncio.sleep(0.5)
        started = time.monotonic()
        await asyncio.to_thread(stack.stop_azurite)
        await asyncio.sleep(down_s)
        await asyncio.to_thread(stack.start_azurite)
        restart_s = time.monotonic() - started
        await asyncio.sleep(1.0)  # writes succeed again
        stop.set()
        await asyncio.gather(*tasks)

        response = httpx.get(f"{stack.devhost_url}/api/diagram", timeout=20)
        shapes = response.json().get("shapes", {}) if response.status_code == 200 else {}
        users_after = await presence.acount("whiteboard")
        still = sum(1 for w, sid in zip(clients, ids_before, strict=True) if w.client.get_sid() == sid)
    finally:
        configure_storage()
        await asyncio.gather(*(close_client(w.client) for w in clients))
    return {
        "writers": writers,
        "azurite_restart_seconds": round(restart_s, 2),
        "shapes_acked": len(acked),
        "shapes_acked_missing": sum(1 for s in acked if s not in shapes),
        "writes_refused": refused,
        "slowest_write_ms": round(slowest[0] * 1000, 1),
        "diagram_status": response.status_code,
        "users_before": users_before,
        "users_after": users_after,
        "clients_kept_connection": still,
    }


async def emulator_restart(
    stack: Stack, *, clients: int = 10, sig: int = signal.SIGTERM, timeout_ms: int = 20_000
) -> dict[str, Any]:
    """Node whiteboard clients with reconnection on; the emulator is stopped with ``sig`` and started again on the
    same port. Reports reconnections (fresh negotiate each), the user count the clients converge to, presence."""
    from shared import configure_storage, presence

    configure_storage(stack.storage)
    driver = ReconnectDriver(stack, clients, timeout_ms)
    try:
        ready = await asyncio.to_thread(driver.ready)
        users_before = await presence.acount("whiteboard")
        started = time.monotonic()
        await asyncio.to_thread(stack.stop_emulator, sig)
        await asyncio.to_thread(stack.start_emulator)
        restart_s = time.monotonic() - started
        checked = await asyncio.to_thread(driver.check)
        # the dev host saw the drivers' disconnects (or not, after SIGKILL): what presence holds now
        await asyncio.sleep(0.5)
        users_after_exit = await presence.acount("whiteboard")
        state = hub_state(stack, "whiteboard")
    finally:
        driver.close()
        configure_storage()
    return {
        "signal": signal.Signals(sig).name,
        "clients": clients,
        "connected_before": ready["connected"],
        "users_before": users_before,
        "emulator_restart_seconds": round(restart_s, 2),
        **{k: v for k, v in checked.items() if k != "event"},
        "presence_after_clients_left": users_after_exit,
        "emulator_connections_after_clients_left": state["connections"],
    }
