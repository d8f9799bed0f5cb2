"""Connect rate: negotiate + handshake + connect (and connected) webhooks + one acked join, per second.

    .venv/bin/python benchmarks/connect_rate.py [--clients 1000] [--parallel 50]

Each node socket.io-client (``benchmarks/node/clients.mjs``, ``--parallel`` at a time) GETs ``/negotiate``,
connects over websocket with the token it got, emits ``join`` and waits for the ack.

- ours: the emulator with ``benchmarks/_webhook_handler.py`` as its event handler, the Functions side reduced to
  the wire: negotiate mints the token with the official SDK; the ``connect``/``connected`` webhooks are
  answered 200; ``join`` becomes ``:addToGroups`` with the extension's filter through the SDK, then the ack.
  So a connect costs the emulator one handshake, three webhooks and one REST call.
- python-socketio and Node socket.io: ``/negotiate`` on the server itself, ``join`` enters the room and acks.

Figures: clients per second after a warm-up of 100, and for ours the CPU seconds per connect of the emulator and
of the handler (from /proc), which say where the time goes.
"""

from __future__ import annotations

import argparse
import sys
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


async def measure(
    server: Server, count: int, parallel: int, profile_to: str | None = None
) -> tuple[float, list[float], float]:
    """Clients/s; CPU ms per connect of the server process and its helpers; the generator's CPU share."""
    clients = await Clients.start(server, negotiate=True, join="lobby", parallel=parallel)
    try:
        await clients.connect(100)  # warm-up: pools, validation cache, JIT of the node side
        use = await CpuUse.begin(server, clients)
        profiler = profile(server.pid, profile_to) if profile_to else None
        answer = await clients.connect(count)
        if profiler is not None:
            profiler.wait(60)
        cpu, share = await use.end(count, answer["seconds"])
    finally:
        await clients.close()
    return float(answer["perSecond"]), cpu, share


async def main(args: argparse.Namespace) -> None:
    count, parallel = args.clients, args.parallel
    raise_fd_limit(3 * count + 2000)
    results = await each_server(
        lambda server: measure(server, count, parallel, args.profile if server.name == "ours" else None), webhooks=True
    )
    print(f"connect + acked join, {count} clients, {parallel} in flight (negotiate, websocket, webhooks for ours)")
    for name, (rate, cpu, share) in results.items():
        detail = f"emulator {cpu[0]:.2f} + handler {cpu[1]:.2f} ms CPU/connect" if len(cpu) > 1 else ""
        print(f"  {name:<16} {rate:7.0f} clients/s   generator CPU {share:4.0%} of wall   {detail}")
    ours, psio, node = (results[k][0] for k in ("ours", "python-socketio", "node socket.io"))
    print(f"  ratio ours / python-socketio {ours / psio:.2f}x (goal >= 0.6x), ours / Node {ours / node:.2f}x")
    cpu = results["ours"][1]
    record(
        f"connect + acked join ({count:,} clients, {parallel} in flight)",
        "/s",
        ours,
        psio,
        node,
        ratio=f"{ours / psio:.2f}× psio",
        goal="≥ 0.6× psio",
        note=f"emulator {cpu[0]:.2f} + handler {cpu[1]:.2f} ms CPU per connect",
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--parallel", type=int, default=50)
    parser.add_argument("--profile", metavar="FILE", help="py-spy the emulator while it connects (raw stacks)")
    run_with_node("connect_rate", parser, main)
