"""Fan-out to 1,000 and 10,000 websocket clients and memory per idle connection: the emulator next to
python-socketio and Node's socket.io 4, in one run.

    .venv/bin/python benchmarks/emulator_fanout.py [--small 1000] [--large 10000] [--rounds 7] [--generators 2]

Each server runs as its own subprocess on loopback (``benchmarks/_harness.py``): the emulator (no event handler,
token-checked clients), python-socketio 5 on uvicorn, Node's socket.io 4. The clients are stock node
socket.io-clients over websocket, split over ``--generators`` node processes. For each server: ``--small``
clients connect, then the fan-out is measured; then clients are added up to ``--large``, the server's RSS is read
once they are idle, and the fan-out is measured again.

- fan-out: one ``42["news",...]`` to every client. The emulator gets one REST ``send_to_all`` from the official
  SDK, the baselines an HTTP ``POST /emit`` that calls their own broadcast. Time from just before the request to
  the last client's receipt (wall clock, written by the generators), median of ``--rounds`` after a warm-up.
- memory: (RSS with ``--large`` idle connections - RSS before any) / ``--large``.
- the generators' CPU time over the fan-out rounds, as a share of the rounds' wall time: it says whether the
  generators (rather than the server) were the bound; docs/performance.md discusses it.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx  # noqa: E402
from azure.messaging.webpubsubservice.aio import WebPubSubServiceClient  # noqa: E402

from benchmarks._harness import (  # noqa: E402
    NEWS,
    Clients,
    Server,
    cpu_seconds,
    each_server,
    profile,
    raise_fd_limit,
    record,
    rss_kib,
    run_with_node,
)

Trigger = Callable[[], Awaitable[None]]


@dataclass
class Figures:
    name: str
    fanout_small_ms: float = 0.0
    fanout_large_ms: float = 0.0
    connect_small_per_s: float = 0.0
    connect_per_s: float = 0.0
    rss_per_conn_kib: float = 0.0
    server_cpu_small_ms: float = 0.0
    server_cpu_large_ms: float = 0.0
    generator_cpu_share: float = 0.0


class Generators:
    """Several node load generators acting as one."""

    def __init__(self, parts: list[Clients]) -> None:
        self.parts = parts
        self.total = 0

    async def connect(self, count: int) -> float:
        """Connect ``count`` more clients (split evenly); returns clients per second."""
        started = time.perf_counter()
        shares = [count // len(self.parts) + (1 if i < count % len(self.parts) else 0) for i in range(len(self.parts))]
        await asyncio.gather(*(part.connect(n) for part, n in zip(self.parts, shares, strict=True) if n))
        self.total += count
        return count / (time.perf_counter() - started)

    async def fanout(self, trigger: Trigger) -> float:
        """ms from just before the trigger until the last client of every generator got the event."""
        await asyncio.gather(*(part.arm() for part in self.parts))
        started_ms = time.time() * 1000
        await trigger()
        answers = await asyncio.gather(*(part.received() for part in self.parts))
        for answer in answers:
            if answer["lastWallMs"] is None:
                raise RuntimeError(f"only {answer['count']} of {answer['of']} clients got the event")
        return max(a["lastWallMs"] for a in answers) - started_ms

    async def cpu_seconds(self) -> float:
        return sum(await asyncio.gather(*(part.cpu_seconds() for part in self.parts)))

    async def close(self) -> None:
        await asyncio.gather(*(part.close() for part in self.parts))


async def rounds(generators: Generators, trigger: Trigger, count: int, pid: int) -> tuple[float, float, float, float]:
    """After one warm-up, ``count`` rounds: median fan-out ms, the rounds' wall seconds, the generators' CPU
    seconds, and the server's CPU ms per fan-out (which a busy machine does not inflate as it does wall time)."""
    await generators.fanout(trigger)
    times = []
    cpu_before, wall_before = await generators.cpu_seconds(), time.perf_counter()
    server_before = cpu_seconds(pid)
    for _ in range(count):
        await asyncio.sleep(0.2)
        times.append(await generators.fanout(trigger))
    server_ms = (cpu_seconds(pid) - server_before) / count * 1000
    wall = time.perf_counter() - wall_before - 0.2 * count
    return statistics.median(times), wall, await generators.cpu_seconds() - cpu_before, server_ms


async def measure(server: Server, trigger: Trigger, args: argparse.Namespace) -> Figures:
    figures = Figures(server.name)
    await asyncio.sleep(1.0)
    rss_before = rss_kib(server.pid)
    generators = Generators([await Clients.start(server) for _ in range(args.generators)])
    try:
        figures.connect_small_per_s = await generators.connect(args.small)
        figures.fanout_small_ms, _, _, figures.server_cpu_small_ms = await rounds(
            generators, trigger, args.rounds, server.pid
        )
        figures.connect_per_s = await generators.connect(args.large - args.small)
        await asyncio.sleep(3.0)  # idle: heartbeats only
        figures.rss_per_conn_kib = (rss_kib(server.pid) - rss_before) / args.large
        profiler = profile(server.pid, args.profile, 20) if args.profile and server.name == "ours" else None
        figures.fanout_large_ms, wall_large, cpu_large, figures.server_cpu_large_ms = await rounds(
            generators, trigger, args.rounds, server.pid
        )
        if profiler is not None:
            profiler.wait(60)
        figures.generator_cpu_share = cpu_large / wall_large
    finally:
        await generators.close()
    print(
        f"  {server.name:<16} fan-out {args.small:>6}: {figures.fanout_small_ms:8.1f} ms | "
        f"{args.large:>6}: {figures.fanout_large_ms:8.1f} ms | server CPU per fan-out "
        f"{figures.server_cpu_small_ms:6.1f} / {figures.server_cpu_large_ms:6.1f} ms | "
        f"connects {figures.connect_small_per_s:5.0f}/s "
        f"(first {args.small}), {figures.connect_per_s:5.0f}/s (the rest) | "
        f"RSS {figures.rss_per_conn_kib:5.1f} KiB/connection | generators' CPU {figures.generator_cpu_share:4.0%} "
        f"of the {args.large}-client rounds' wall time",
        flush=True,
    )
    return figures


async def measure_server(server: Server, args: argparse.Namespace) -> Figures:
    """The emulator is triggered through REST (official SDK), the baselines through their ``POST /emit``."""
    if server.name == "ours":
        service = WebPubSubServiceClient.from_connection_string(server.connection_string, hub="chat")

        async def rest_send() -> None:
            await service.send_to_all(NEWS, content_type="text/plain")

        try:
            return await measure(server, rest_send, args)
        finally:
            await service.close()
    async with httpx.AsyncClient(timeout=120) as http:

        async def emit() -> None:
            response = await http.post(f"{server.endpoint}/emit")
            response.raise_for_status()

        return await measure(server, emit, args)


async def main(args: argparse.Namespace) -> None:
    raise_fd_limit(args.large + 5000)
    print(
        f"fan-out of one event, {args.small} and {args.large} websocket clients ({args.generators} node generators), "
        f"median of {args.rounds} rounds",
        flush=True,
    )
    results = await each_server(lambda server: measure_server(server, args), webhooks=False)
    ours, psio, node = results["ours"], results["python-socketio"], results["node socket.io"]
    print(
        f"  ratios (ours ÷ python-socketio, ours ÷ Node): fan-out {args.small}: "
        f"{ours.fanout_small_ms / psio.fanout_small_ms:.2f}x, {ours.fanout_small_ms / node.fanout_small_ms:.2f}x; "
        f"fan-out {args.large}: {ours.fanout_large_ms / psio.fanout_large_ms:.2f}x, "
        f"{ours.fanout_large_ms / node.fanout_large_ms:.2f}x; "
        f"RSS per connection: {ours.rss_per_conn_kib / psio.rss_per_conn_kib:.2f}x, "
        f"{ours.rss_per_conn_kib / node.rss_per_conn_kib:.2f}x"
    )
    record(
        f"fan-out to {args.small:,} websocket clients, p50",
        "ms",
        ours.fanout_small_ms,
        psio.fanout_small_ms,
        node.fanout_small_ms,
        ratio=f"{ours.fanout_small_ms / psio.fanout_small_ms:.2f}× psio",
        goal="≤ 0.8× psio",
    )
    record(
        f"fan-out to {args.large:,} websocket clients, p50",
        "ms",
        ours.fanout_large_ms,
        psio.fanout_large_ms,
        node.fanout_large_ms,
        ratio=f"{ours.fanout_large_ms / psio.fanout_large_ms:.2f}× psio, "
        f"{ours.fanout_large_ms / node.fanout_large_ms:.2f}× node",
        goal="≤ 0.5× psio, ≤ 1.5× node",
        note=f"generators' CPU {ours.generator_cpu_share:.0%} / {psio.generator_cpu_share:.0%} / "
        f"{node.generator_cpu_share:.0%} of wall",
    )
    for size, attr in ((args.small, "server_cpu_small_ms"), (args.large, "server_cpu_large_ms")):
        mine, theirs, nodes = (getattr(f, attr) for f in (ours, psio, node))
        record(
            f"server CPU per fan-out to {size:,} clients",
            "ms",
            mine,
            theirs,
            nodes,
            ratio=f"{mine / theirs:.2f}× psio, {mine / nodes:.2f}× node",
            goal="(what bounds the wall time)",
        )
    record(
        f"RSS per idle connection at {args.large:,}",
        "KiB",
        ours.rss_per_conn_kib,
        psio.rss_per_conn_kib,
        node.rss_per_conn_kib,
        ratio=f"{ours.rss_per_conn_kib / psio.rss_per_conn_kib:.2f}× psio",
        goal="reported",
    )
    record(
        f"websocket connects {args.small:,}→{args.large:,} (no webhooks), 50 in flight per generator",
        "/s",
        ours.connect_per_s,
        psio.connect_per_s,
        node.connect_per_s,
        ratio=f"{ours.connect_per_s / psio.connect_per_s:.2f}× psio",
        goal="reported",
        note=f"ours: first {args.small:,} at {ours.connect_small_per_s:.0f}/s; "
        f"the rest at {ours.connect_per_s / ours.connect_small_per_s:.2f}× that rate",
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=1000)
    parser.add_argument("--large", type=int, default=10000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--generators", type=int, default=2)
    parser.add_argument("--profile", metavar="FILE", help="py-spy the emulator during the large rounds (raw stacks)")
    run_with_node("emulator_fanout", parser, main)
