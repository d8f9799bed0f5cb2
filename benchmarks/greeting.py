"""The extra cost of a connect that greets (``socket.emit`` in the connect handler) against one that does not.

    .venv/bin/python benchmarks/greeting.py [--rounds 200] [--instances 1]

One stack (Azurite + emulator + dev host) runs benchmarks/greeting_app: hubs ``plain`` and ``greet``, alike but
for the greeting, and ``statefulplain``/``statefulgreet``, the same with sessions (as the compat facade). Figures,
per connect, measured in the same run:

- Table operations: the storage HTTP requests the generated functions make, counted in this process by calling
  the same functions the worker calls (connect, then connected) against the stack's Azurite;
- webhooks: the upstream calls the emulator made per client, connect to disconnect (its inspector's call history);
- latency with python-socketio clients (websocket; the hubs alternate, one new client each): ``connect()`` -> the
  client's ``connect`` event (p50, p99), and, for ``greet``, the ``connect`` event -> ``hello`` (p50, p99), i.e.
  how long after its ``connect`` event the client gets the greeting.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import socketio  # noqa: E402

from benchmarks._harness import record  # noqa: E402
from devhost.pytest_plugin import close_client, negotiate  # noqa: E402
from devhost.stack import Stack  # noqa: E402

APP = ROOT / "benchmarks" / "greeting_app"
PAIRS = (("plain", "greet"), ("statefulplain", "statefulgreet"))
HUBS = [hub for pair in PAIRS for hub in pair]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def table_operations(storage: str) -> dict[str, int]:
    """Storage requests per connect (+ its connected) for each hub, in this process, against the stack's Azurite."""
    from azure.core.pipeline.transport import RequestsTransport

    sys.path.insert(0, str(APP))
    import function_app  # the benchmark app itself
    from shared import configure_storage

    configure_storage(storage)
    functions = {f.get_function_name(): f.get_user_function() for f in function_app.app.get_functions()}
    sent = 0
    original = RequestsTransport.send

    def counting(self: Any, request: Any, **kwargs: Any) -> Any:
        nonlocal sent
        sent += 1
        return original(self, request, **kwargs)

    class Out:
        def set(self, value: Any) -> None: ...

    def invoke(function: Any, data: dict[str, Any]) -> Any:
        result = function(json.dumps(data), Out())
        return asyncio.run(result) if asyncio.iscoroutine(result) else result

    result = {}
    RequestsTransport.send = counting  # type: ignore[method-assign]
    try:
        for hub in HUBS:
            connect_body = {"namespace": "/", "socketId": "x", "claims": {"sub": ["u"]}, "query": {}, "headers": {}}
            rounds = 20
            start = sent
            for i in range(rounds):
                data = dict(connect_body, socketId=f"{hub}-{i}", clientCertificates=[])
                assert json.loads(invoke(functions[f"{hub}__connect"], data))["statusCode"] == 200
                if f"{hub}__connected" in functions:
                    invoke(functions[f"{hub}__connected"], {"namespace": "/", "socketId": f"{hub}-{i}"})
            result[hub] = round((sent - start) / rounds)
    finally:
        RequestsTransport.send = original  # type: ignore[method-assign]
    return result


async def connect_once(stack: Stack, hub: str, user: str) -> tuple[float, float | None]:
    """(connect() -> the client's ``connect`` event, that event -> ``hello`` or None) for one new client."""
    negotiated = negotiate(stack.devhost_url, user, f"/api/{hub}/negotiate")
    client = socketio.AsyncClient(reconnection=False)
    loop = asyncio.get_running_loop()
    connected_at: asyncio.Future[float] = loop.create_future()
    greeted_at: asyncio.Future[float] = loop.create_future()
    client.on("connect", lambda: connected_at.done() or connected_at.set_result(time.perf_counter()))
    client.on("hello", lambda *_: greeted_at.done() or greeted_at.set_result(time.perf_counter()))
    started = time.perf_counter()
    try:
        await client.connect(
            f"{negotiated['endpoint']}?access_token={negotiated['token']}",
            socketio_path=negotiated["path"],
            transports=["websocket"],
            wait_timeout=10,
        )
        connect_event = await connected_at
        greeting = await asyncio.wait_for(greeted_at, 10) - connect_event if hub.endswith("greet") else None
        return connect_event - started, greeting
    finally:
        await close_client(client)


async def connects(stack: Stack, rounds: int) -> dict[str, tuple[list[float], list[float]]]:
    """Per hub: (connect latencies, connect event -> greeting latencies); the hubs alternate, one connect each."""
    result: dict[str, tuple[list[float], list[float]]] = {hub: ([], []) for hub in HUBS}
    for i in range(rounds):
        for hub in HUBS:
            connected, greeting = await connect_once(stack, hub, f"user{i}")
            result[hub][0].append(connected)
            if greeting is not None:
                result[hub][1].append(greeting)
    return result


def hub_calls(stack: Stack, hub: str) -> int:
    calls = httpx.get(f"{stack.emulator_url}/inspector/api", timeout=10).json()["upstreamCalls"]
    return sum(1 for call in calls if call["hub"] == hub)


async def main(rounds: int, instances: int) -> None:
    stack = Stack(app_dir=APP, instances=instances).start()
    try:
        ops = await asyncio.to_thread(table_operations, stack.storage)  # asyncio.run inside: not on this loop
        await connects(stack, 5)  # warm up: first imports, storage clients, connections
        # webhooks: a batch small enough for the emulator's call history (200 calls)
        before = {hub: hub_calls(stack, hub) for hub in HUBS}
        await connects(stack, 20)
        webhooks = {hub: (hub_calls(stack, hub) - before[hub]) / 20 for hub in HUBS}
        measured = await connects(stack, rounds)
        figures: dict[str, dict[str, float]] = {}
        for hub, (connect_times, greeting_times) in measured.items():
            figures[hub] = {
                "table_ops": ops[hub],
                "webhooks": webhooks[hub],
                "connect_p50": statistics.median(connect_times) * 1000,
                "connect_p99": percentile(connect_times, 99) * 1000,
            }
            if greeting_times:
                figures[hub]["greeting_p50"] = statistics.median(greeting_times) * 1000
                figures[hub]["greeting_p99"] = percentile(greeting_times, 99) * 1000
    finally:
        stack.stop()
    print(f"greeting cost, {rounds} sequential connects per hub, {instances} dev host instance(s), websocket")
    for plain_hub, greet_hub in PAIRS:
        plain, greet = figures[plain_hub], figures[greet_hub]
        print(f"\n{'':34}{plain_hub:>15}{greet_hub:>15}{'ratio':>9}")
        for key, label in (
            ("table_ops", "Table operations per connect"),
            ("webhooks", "webhooks per client session"),
            ("connect_p50", "connect -> 'connect' p50 (ms)"),
            ("connect_p99", "connect -> 'connect' p99 (ms)"),
        ):
            ratio = f"{greet[key] / plain[key]:.2f}x" if plain[key] else "-"
            print(f"{label:34}{plain[key]:>15.2f}{greet[key]:>15.2f}{ratio:>9}")
        print(f"{'connect event -> greeting p50 (ms)':34}{'-':>15}{greet['greeting_p50']:>15.2f}")
        print(f"{'connect event -> greeting p99 (ms)':34}{'-':>15}{greet['greeting_p99']:>15.2f}")
        extra = greet["table_ops"] - plain["table_ops"]
        record(f"greeting ({greet_hub}): extra Table operations per connect", "ops", extra)
        record(f"greeting ({greet_hub}): connect event -> greeting p50", "ms", greet["greeting_p50"])
        record(f"greeting ({greet_hub}): connect event -> greeting p99", "ms", greet["greeting_p99"])


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--instances", type=int, default=1)
    args = parser.parse_args()
    asyncio.run(main(args.rounds, args.instances))
