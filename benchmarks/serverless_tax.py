"""The serverless tax: the chat sample through emulator + dev host vs the same chat logic on plain python-socketio.

Measures, in one run and with the same python-socketio clients (websocket transport):

- ack round trip: ``call("chat message", ...)`` -> ack, sequential (p50, p99);
- room broadcast latency: sender emits, a second socket in the room receives ``chat message`` (p50, p99);
- throughput: N clients sending acked messages concurrently (acked messages per second);
- connect rate: clients negotiated and connected one after another (connections per second; each runs the
  app's connect handler through a webhook on the serverless path).

The serverless path is webhook -> Functions dev host -> handler -> REST output -> emulator -> client, so the
ratios show what each hop costs locally; they are not Azure figures. ``--instances 1 2`` measures the stack once
per count (N dev host instances behind the front, each request to a random one) and adds the ratios against the
first count; ``--front-hop`` adds one instance behind the front, i.e. the cost of the front's proxy hop alone. Usage::

    .venv/bin/python benchmarks/serverless_tax.py [--rounds 300] [--clients 8] [--per-client 40] [--connects 60]
        [--instances 1 2]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import socketio  # noqa: E402

from devhost.pytest_plugin import close_client, connect_client  # noqa: E402
from devhost.stack import Stack, free_port  # noqa: E402

Connect = Callable[[str], Awaitable[socketio.AsyncClient]]


# -- the baseline: the chat logic of functions/chat.py on a plain python-socketio server ------------------
def run_baseline_server(port: int) -> None:
    import uvicorn

    sio = socketio.AsyncServer(async_mode="asgi", cors_allowed_origins="*")

    @sio.on("join")
    async def join(sid: str, room: str, name: str) -> dict[str, Any]:
        await sio.enter_room(sid, room)
        await sio.emit("system message", {"room": room, "text": f"{name} joined", "ts": 0}, room=room, skip_sid=sid)
        return {"ok": True, "room": room}

    @sio.on("chat message")
    async def chat_message(sid: str, room: str, text: str, name: str) -> dict[str, Any]:
        message = {"id": os.urandom(8).hex(), "room": room, "from": name, "text": text, "ts": int(time.time() * 1000)}
        await sio.emit("chat message", message, room=room, skip_sid=sid)
        return {"ok": True, "id": message["id"], "ts": message["ts"]}

    uvicorn.run(socketio.ASGIApp(sio), host="127.0.0.1", port=port, log_level="warning")


# -- measurements -------------------------------------------------------------------------------------------
def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return statistics.median(ordered) * 1000, p99 * 1000


async def measure(connect: Connect, rounds: int, clients: int, per_client: int, connects: int) -> dict[str, float]:
    sender, receiver = await connect("alice"), await connect("bob")
    room = f"bench-{os.getpid()}"
    await sender.call("join", (room, "alice"), timeout=10)
    await receiver.call("join", (room, "bob"), timeout=10)
    arrivals: asyncio.Queue[float] = asyncio.Queue()
    receiver.on("chat message", lambda message: arrivals.put_nowait(time.perf_counter()))

    for _ in range(20):  # warm up both paths
        await sender.call("chat message", (room, "warm", "alice"), timeout=10)
    await asyncio.sleep(0.3)
    while not arrivals.empty():
        arrivals.get_nowait()

    acks, deliveries = [], []
    for i in range(rounds):
        started = time.perf_counter()
        await sender.call("chat message", (room, f"m{i}", "alice"), timeout=10)
        acks.append(time.perf_counter() - started)
        deliveries.append(await asyncio.wait_for(arrivals.get(), 10) - started)

    crowd = [await connect(f"user{i}") for i in range(clients)]
    for i, client in enumerate(crowd):
        await client.call("join", (f"{room}-t{i}", f"user{i}"), timeout=10)

    async def burst(client: socketio.AsyncClient, i: int) -> None:
        for n in range(per_client):
            await client.call("chat message", (f"{room}-t{i}", f"x{n}", f"user{i}"), timeout=20)

    started = time.perf_counter()
    await asyncio.gather(*(burst(client, i) for i, client in enumerate(crowd)))
    elapsed = time.perf_counter() - started
    await asyncio.gather(*(close_client(c) for c in [sender, receiver, *crowd]))

    started = time.perf_counter()
    arrived = [await connect(f"visitor{i}") for i in range(connects)]
    connect_elapsed = time.perf_counter() - started
    await asyncio.gather(*(close_client(c) for c in arrived))
    ack50, ack99 = percentiles(acks)
    bc50, bc99 = percentiles(deliveries)
    return {
        "ack_p50": ack50,
        "ack_p99": ack99,
        "bcast_p50": bc50,
        "bcast_p99": bc99,
        "throughput": clients * per_client / elapsed,
        "connect_rate": connects / connect_elapsed,
    }


async def _wait_for_baseline(port: int) -> None:
    deadline = time.monotonic() + 15
    while True:
        try:
            probe = socketio.AsyncClient(reconnection=False)
            await probe.connect(f"http://127.0.0.1:{port}", transports=["websocket"], wait_timeout=2)
            await probe.disconnect()
            return
        except Exception:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.1)


async def measure_stack(args: argparse.Namespace, instances: int, front: bool) -> dict[str, float]:
    """The chat sample on ``instances`` dev host instances (``front``: behind the front even with one)."""
    stack = Stack(
        app_dir=ROOT,
        azurite_ports=None,
        extra_env={"SIOLESS_BENCH": "1", "SIOLESS_CHAT_EVENTS_PER_SECOND": "0", "SIOLESS_CHAT_HISTORY": "0"},
        instances=instances,
        watch=front,
    )
    try:
        stack.start()

        async def serverless(user: str) -> socketio.AsyncClient:
            return await connect_client(stack.devhost_url, user, transports=["websocket"])

        return await measure(serverless, args.rounds, args.clients, args.per_client, args.connects)
    finally:
        stack.stop()


async def main_async(args: argparse.Namespace) -> None:
    port = free_port()
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    baseline = subprocess.Popen([sys.executable, __file__, "--baseline-server", str(port)], env=env)
    runs: list[tuple[str, dict[str, float]]] = []
    try:
        await _wait_for_baseline(port)

        async def plain(user: str) -> socketio.AsyncClient:
            client = socketio.AsyncClient(reconnection=False)
            await client.connect(f"http://127.0.0.1:{port}", transports=["websocket"], wait_timeout=5)
            return client

        base = await measure(plain, args.rounds, args.clients, args.per_client, args.connects)
        for count in args.instances:
            label = "emulator+devhost" if args.instances == [1] else f"{count} instance{'s' * (count > 1)}"
            runs.append((label, await measure_stack(args, count, front=False)))
            if count == 1 and args.front_hop:
                runs.append(("1 behind front", await measure_stack(args, 1, front=True)))
    finally:
        baseline.terminate()
        baseline.wait(5)

    print(f"serverless tax: {args.rounds} sequential rounds, {args.clients} clients x {args.per_client} acked messages")
    rows = [
        ("ack round trip p50 (ms)", "ack_p50"),
        ("ack round trip p99 (ms)", "ack_p99"),
        ("room broadcast p50 (ms)", "bcast_p50"),
        ("room broadcast p99 (ms)", "bcast_p99"),
        ("throughput (acked msg/s)", "throughput"),
        ("connect rate (conn/s)", "connect_rate"),
    ]

    def ratio(key: str, value: float, against: float) -> float:
        return value / against if key not in ("throughput", "connect_rate") else against / value

    header = f"{'metric':<26}{'python-socketio':>17}" + "".join(f"{label:>18}{'ratio':>8}" for label, _ in runs)
    print(header)
    for label, key in rows:
        line = f"{label:<26}{base[key]:>17.2f}"
        for _, tax in runs:
            line += f"{tax[key]:>18.2f}{ratio(key, tax[key], base[key]):>7.1f}x"
        print(line)
    print("(ratio = serverless / plain for latencies, plain / serverless for rates: higher = costlier)")
    if len(runs) > 1:
        first_label, first = runs[0]
        print(f"against {first_label} (same rule: higher = costlier):")
        for label, key in rows:
            others = "".join(f"  {run_label}: {ratio(key, tax[key], first[key]):.2f}x" for run_label, tax in runs[1:])
            print(f"  {label:<26}{others}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--per-client", type=int, default=40)
    parser.add_argument("--connects", type=int, default=60, help="clients connected one after another")
    parser.add_argument("--instances", type=int, nargs="+", default=[1], help="dev host instance counts to measure")
    parser.add_argument("--front-hop", action="store_true", help="also measure 1 instance behind the front")
    parser.add_argument("--baseline-server", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.baseline_server:
        run_baseline_server(args.baseline_server)
        return
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
