"""Timer and queue triggers on the offline stack: how late a timer's emit reaches a client, and what a queue
message costs from ``send_message`` to the client receiving the function's emit.

One run, one stack (Azurite + emulator + dev host on ``tests/fixtures/apps/triggers``; host.json
``maxPollingInterval`` 1 s), one python-socketio client:

- timer: ``tick`` fires every second; lateness = receive time past the whole second (invocation, REST output,
  emulator delivery) (p50, p95);
- queue: ``send_message`` -> ``work`` emit received, sequential (p50, p95), against the bare Azurite round trip
  measured in the same run (``send_message`` then ``receive_messages`` until it is there), as a ratio. The
  difference is polling (the back-off starts at 100 ms after each message) plus invocation and delivery.

Usage::

    .venv/bin/python benchmarks/triggers.py [--rounds 20] [--ticks 10]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from azure.storage.queue.aio import QueueClient  # noqa: E402

from devhost.pytest_plugin import close_client, connect_client  # noqa: E402
from devhost.stack import Stack  # noqa: E402

APP = ROOT / "tests" / "fixtures" / "apps" / "triggers"


def quantiles(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]


async def bare_round_trip(storage: str, rounds: int) -> list[float]:
    """Azurite alone: send, then receive (polling as fast as it answers) and delete."""
    samples: list[float] = []
    async with QueueClient.from_connection_string(storage, f"bench-{uuid.uuid4().hex[:8]}") as client:
        await client.create_queue()
        for _ in range(rounds):
            started = time.perf_counter()
            await client.send_message("x")
            while True:
                got = [m async for m in client.receive_messages(max_messages=1)]
                if got:
                    await client.delete_message(got[0])
                    break
            samples.append((time.perf_counter() - started) * 1000)
        await client.delete_queue()
    return samples


async def run(rounds: int, ticks: int) -> None:
    with Stack(app_dir=APP) as stack:
        client = await connect_client(stack.devhost_url, negotiate_path="/api/triggers/negotiate")
        tick_times: asyncio.Queue[float] = asyncio.Queue()
        works: asyncio.Queue[tuple[float, Any]] = asyncio.Queue()
        client.on("tick", lambda _: tick_times.put_nowait(time.time()))
        client.on("work", lambda data: works.put_nowait((time.perf_counter(), data)))
        try:
            await tick_times.get()  # the first may come from a timer that started mid-second
            lateness = [((await tick_times.get()) % 1.0) * 1000 for _ in range(ticks)]

            queue_ms: list[float] = []
            async with QueueClient.from_connection_string(stack.storage, "work") as work:
                await work.create_queue()
                for _ in range(rounds):
                    body = uuid.uuid4().hex
                    started = time.perf_counter()
                    await work.send_message(base64.b64encode(body.encode()).decode())
                    while True:
                        received, data = await asyncio.wait_for(works.get(), 30)
                        if data["body"] == body:
                            break
                    queue_ms.append((received - started) * 1000)
            bare_ms = await bare_round_trip(stack.storage, rounds)
        finally:
            await close_client(client)

    late50, late95 = quantiles(lateness)
    queue50, queue95 = quantiles(queue_ms)
    bare50, bare95 = quantiles(bare_ms)
    print(f"timer tick lateness past the second ({ticks} ticks): p50 {late50:.1f} ms, p95 {late95:.1f} ms")
    print(f"queue message -> client emit ({rounds} sequential): p50 {queue50:.1f} ms, p95 {queue95:.1f} ms")
    print(f"bare Azurite send + receive (baseline):        p50 {bare50:.1f} ms, p95 {bare95:.1f} ms")
    print(f"ratio queue trigger / bare Azurite round trip:  p50 {queue50 / bare50:.1f}x, p95 {queue95 / bare95:.1f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--ticks", type=int, default=10)
    args = parser.parse_args()
    asyncio.run(run(args.rounds, args.ticks))


if __name__ == "__main__":
    main()
