"""Join cost against the number of connections: ``addSocketToRoom`` as the extension sends it, through REST.

    .venv/bin/python benchmarks/join_cost.py [--small 100] [--large 5000] [--joins 1000]

The emulator runs as its own subprocess; node socket.io-clients (``benchmarks/node/clients.mjs``) hold
``--small`` idle websocket connections, then ``--large``. At each size the script sends ``--joins``
``POST /api/hubs/chat/:addToGroups`` calls with the official SDK, one at a time, each with the body the
extension builds for ``addSocketToRoom`` (``shared.protocol.action_to_rest_calls``: the room's group and the
filter ``'<the socket's own group>' in groups``), over different sockets. Figures: the median round trip and
the emulator's CPU time per join (from /proc), and their ratios large ÷ small (goal ≤ 1.2×).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from azure.core.rest import HttpRequest  # noqa: E402
from azure.messaging.webpubsubservice.aio import WebPubSubServiceClient  # noqa: E402

from benchmarks._harness import (  # noqa: E402
    Clients,
    cpu_seconds,
    profile,
    raise_fd_limit,
    record,
    run_with_node,
    start_ours,
)
from shared.protocol import action_to_rest_calls  # noqa: E402


async def joins(service: WebPubSubServiceClient, sids: list[str], count: int, start: int = 0) -> list[float]:
    """Round trips (s) of ``count`` joins over ``sids``, one at a time."""
    times = []
    for i in range(start, start + count):
        action = {
            "actionName": "addSocketToRoom",
            "namespace": "/",
            "socketId": sids[i % len(sids)],
            "room": f"room{i % 10}",
        }
        (call,) = action_to_rest_calls(action)
        request = HttpRequest(
            "POST", "/api/hubs/chat/:addToGroups", params={"api-version": "2024-12-01"}, json=call.body
        )
        started = time.perf_counter()
        response = await service.send_request(request)
        times.append(time.perf_counter() - started)
        response.raise_for_status()
    return times


class Side:
    """One emulator holding ``size`` idle connections, and what its joins cost."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.server = start_ours(webhooks=False)
        self.clients: Clients | None = None
        self.service = WebPubSubServiceClient.from_connection_string(self.server.connection_string, hub="chat")
        self.sids: list[str] = []
        self.times: list[float] = []
        self.cpu = 0.0
        self.wall = 0.0
        self.done = 0
        self.idle_rate = 0.0  # CPU seconds per second with no joins (heartbeats of the idle connections)

    async def fill(self) -> None:
        self.clients = await Clients.start(self.server, sids=True)
        self.sids = (await self.clients.connect(self.size))["sids"]
        await joins(self.service, self.sids, 100)  # warm-up

    async def measure_idle(self, seconds: float) -> None:
        before = cpu_seconds(self.server.pid)
        await asyncio.sleep(seconds)
        self.idle_rate = (cpu_seconds(self.server.pid) - before) / seconds

    async def batch(self, count: int) -> None:
        before, started = cpu_seconds(self.server.pid), time.perf_counter()
        self.times += await joins(self.service, self.sids, count, self.done)
        self.cpu += cpu_seconds(self.server.pid) - before
        self.wall += time.perf_counter() - started
        self.done += count

    async def close(self) -> None:
        await self.service.close()
        if self.clients is not None:
            await self.clients.close()
        self.server.stop()

    def figures(self) -> tuple[float, float, float]:
        """Round trip p50, emulator CPU per join, and the same less the idle rate over the joins' time (ms)."""
        net = max(self.cpu - self.idle_rate * self.wall, 0.0)
        return statistics.median(self.times) * 1000, self.cpu / self.done * 1000, net / self.done * 1000


async def main(args: argparse.Namespace) -> None:
    small, large, count, profile_to = args.small, args.large, args.joins, args.profile
    raise_fd_limit(large + small + 2000)
    sides: list[Side] = []
    try:
        sides = [Side(small), Side(large)]
        for side in sides:
            await side.fill()
        await asyncio.sleep(1)
        for side in sides:
            await side.measure_idle(5.0)
        profiler = profile(sides[1].server.pid, profile_to) if profile_to else None
        rounds = 10
        for _ in range(rounds):  # alternate, so that other load on the machine hits both sides alike
            for side in sides:
                await side.batch(count // rounds)
        if profiler is not None:
            profiler.wait(60)
    finally:
        for side in sides:
            await side.close()
    (rt_small, cpu_small, net_small), (rt_large, cpu_large, net_large) = (side.figures() for side in sides)
    print(f"join through REST (:addToGroups with the extension's filter), {count} joins per side, one at a time,")
    print(f"alternating between two emulators holding {small} and {large} idle websocket connections")
    for side, (rt, cpu, net) in zip(sides, (side.figures() for side in sides), strict=True):
        print(
            f"  at {side.size:>6} connections: round trip p50 {rt:7.3f} ms, emulator CPU {cpu:6.3f} ms/join "
            f"({net:6.3f} ms less its idle rate of {side.idle_rate * 100:4.1f}% of a core)"
        )
    print(
        f"  ratio {large} / {small}: round trip {rt_large / rt_small:5.2f}x, "
        f"emulator CPU {cpu_large / cpu_small:5.2f}x, "
        f"less idle {net_large / net_small:5.2f}x  (goal <= 1.2x)"
    )
    record(
        f"join via REST at {large:,} ÷ at {small:,} connections, round trip p50",
        "x",
        rt_large / rt_small,
        ratio=f"{rt_large / rt_small:.2f}×",
        goal="≤ 1.2×",
        note=f"{rt_small:.2f} → {rt_large:.2f} ms",
    )
    record(
        f"join via REST at {large:,} ÷ at {small:,} connections, emulator CPU per join less idle",
        "x",
        net_large / net_small,
        ratio=f"{net_large / net_small:.2f}×",
        goal="≤ 1.2×",
        note=f"{net_small:.3f} → {net_large:.3f} ms",
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=100)
    parser.add_argument("--large", type=int, default=5000)
    parser.add_argument("--joins", type=int, default=1000)
    parser.add_argument("--profile", metavar="FILE", help="py-spy the emulator during the large run (raw stacks)")
    run_with_node("join_cost", parser, main)
