"""Acked room messages: ack round trip p50 and throughput, the minimal app on all three servers.

    .venv/bin/python benchmarks/room_messages.py [--clients 50] [--rounds 200] [--messages 3000] [--window 32]

``--clients`` node socket.io-clients (``benchmarks/node/clients.mjs``) negotiate, connect over websocket and join
one room. Then:

- ack round trip: the first client emits ``message``(room, text) and waits for the ack, ``--rounds`` times one
  after another (p50, p99);
- throughput: ``--messages`` acked ``message`` events, ``--window`` in flight at any time, sent round-robin by the
  clients (acked messages per second).

Every ``message`` is broadcast to the room (all ``--clients``, the sender too) before it is acked; the benchmark
checks that every broadcast arrived. The app:

- ours: the emulator with ``benchmarks/_webhook_handler.py`` as its event handler, the Functions side reduced to
  the wire: the ``message`` webhook becomes the extension's ``sendToRooms`` REST call (``:send`` to the room's
  group, built by ``shared.protocol.action_to_rest_calls``, sent with the official SDK), then the ack as the
  webhook's response. So an acked message costs the emulator one webhook, one REST call and the room's deliveries;
- python-socketio and Node socket.io: ``message`` emits to the room in-process and acks.

Figures: the ratios ours / python-socketio in the same run, and for ours the CPU per message of the emulator and
of the handler (from /proc) during the throughput run, which say where the time goes. ``--profile FILE`` py-spies
the emulator during the throughput run (``--profile-handler FILE`` the handler).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._harness import (  # noqa: E402
    Clients,
    CpuUse,
    Server,
    each_server,
    profile,
    raise_fd_limit,
    record,
    run_with_node,
)

ROOM = "lobby"


@dataclass
class Figures:
    ack_p50: float
    ack_p99: float
    rate: float
    cpu_ms: list[float]  # per message: the server, then its helpers (ours: the handler)
    generator_share: float


async def measure(server: Server, args: argparse.Namespace) -> Figures:
    clients = await Clients.start(server, negotiate=True, join=ROOM, event="message", parallel=args.clients)
    try:
        await clients.connect(args.clients)
        sent = 0

        async def flood(count: int) -> float:
            nonlocal sent
            rate = await clients.flood(count, args.window, ROOM)
            sent += count
            return rate

        await clients.acks(20, ROOM)  # warm-up: pools, caches, JIT of the node side
        sent += 20
        await flood(200)
        ms = sorted(await clients.acks(args.rounds, ROOM))
        sent += args.rounds
        use = await CpuUse.begin(server, clients)
        spies = [
            profile(pid, out, seconds=10)
            for pid, out in zip(server.pids, (args.profile, args.profile_handler), strict=False)
            if out and server.name == "ours"
        ]
        started = asyncio.get_running_loop().time()
        rate = await flood(args.messages)
        cpu, share = await use.end(args.messages, asyncio.get_running_loop().time() - started)
        for spy in spies:
            spy.wait(60)
        expected = sent * args.clients
        arrived = await clients.tally(expected)
        if arrived != expected:
            raise RuntimeError(f"{server.name}: {arrived} of {expected} room broadcasts arrived")
    finally:
        await clients.close()
    p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
    return Figures(statistics.median(ms), p99, rate, cpu, share)


async def main(args: argparse.Namespace) -> None:
    raise_fd_limit(3 * args.clients + 2000)
    results = await each_server(lambda server: measure(server, args), webhooks=True, baselines=not args.ours_only)
    print(
        f"acked room messages: {args.clients} clients in one room; {args.rounds} sequential acks; "
        f"{args.messages} messages with {args.window} in flight (each broadcast to the room, then acked)"
    )
    for name, f in results.items():
        detail = (
            f"   emulator {f.cpu_ms[0]:.2f} + handler {f.cpu_ms[1]:.2f} ms CPU/message"
            if len(f.cpu_ms) > 1
            else f"   server {f.cpu_ms[0]:.2f} ms CPU/message"
        )
        print(
            f"  {name:<16} ack p50 {f.ack_p50:6.2f} ms  p99 {f.ack_p99:6.2f} ms   {f.rate:7.0f} msgs/s   "
            f"generator CPU {f.generator_share:4.0%} of wall{detail}"
        )
    if args.ours_only:
        return
    ours, psio, node = (results[k] for k in ("ours", "python-socketio", "node socket.io"))
    ack_ratio, rate_ratio = ours.ack_p50 / psio.ack_p50, ours.rate / psio.rate
    node_ack, node_rate = ours.ack_p50 / node.ack_p50, ours.rate / node.rate
    print(f"  ack p50 ours / python-socketio {ack_ratio:.2f}x (goal <= 1.0x), ours / Node {node_ack:.2f}x")
    print(f"  throughput ours / python-socketio {rate_ratio:.2f}x (goal >= 0.6x), ours / Node {node_rate:.2f}x")
    record(
        f"ack round trip p50, {args.clients} clients in a room, {args.rounds} sequential acked messages",
        "ms",
        ours.ack_p50,
        psio.ack_p50,
        node.ack_p50,
        ratio=f"{ack_ratio:.2f}× psio",
        goal="≤ 1.0× psio",
    )
    record(
        f"throughput, {args.clients} clients, {args.window} in flight, acked room messages",
        "/s",
        ours.rate,
        psio.rate,
        node.rate,
        ratio=f"{rate_ratio:.2f}× psio",
        goal="≥ 0.6× psio",
        note=f"emulator {ours.cpu_ms[0]:.2f} + handler {ours.cpu_ms[1]:.2f} ms CPU per message",
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--window", type=int, default=32)
    parser.add_argument("--profile", metavar="FILE", help="py-spy the emulator during the throughput run")
    parser.add_argument("--profile-handler", metavar="FILE", help="py-spy the handler during the throughput run")
    parser.add_argument("--ours-only", action="store_true", help="no baselines (for profiling): no ratios")
    run_with_node("room_messages", parser, main)
