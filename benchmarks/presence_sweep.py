"""What one presence sweep costs (functions/whiteboard.py ``whiteboard_presence_sweep``, docs/whiteboard.md).

Starts Azurite + emulator + dev host, connects ``--live`` python-socketio clients to the whiteboard, writes
``--stale`` rows of sockets the service does not have (as an emulator crash leaves them, each in one room),
then runs ``presence.prune`` with the sweep's own service check (``group_exists``, official SDK) from this
process, once one check at a time (the baseline) and once ``--concurrency`` at a time (fresh stale rows each), and
prints for each: service calls, sockets removed, live sockets kept, wall time, per-call figures; and the ratio.

    .venv/bin/python benchmarks/presence_sweep.py [--live 40] [--stale 40] [--concurrency 8] [--rtt-ms 0]

``--rtt-ms`` waits that long before every service call, a stand-in for the round trip to Azure (on loopback the
emulator answers in a few ms, and the two cores it shares with Azurite and this process are the limit).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from devhost.pytest_plugin import close_client, connect_client  # noqa: E402
from devhost.stack import Stack  # noqa: E402


def _make_stale(count: int, tag: str, old: float) -> None:
    from shared import _sockets, presence

    table = _sockets.table_client(_sockets.TABLE)
    for n in range(count):
        socket_id = f"crashed-{tag}-{n}"
        _sockets.add_socket("whiteboard", "/", socket_id)
        presence.join("whiteboard", "/", socket_id, ["room"])
        key = {"PartitionKey": _sockets.partition("whiteboard", "/"), "RowKey": _sockets.conn_key(socket_id)}
        table.update_entity({**key, "since": old})


async def main(live: int, stale: int, concurrency: int, rtt_ms: float) -> None:
    import os
    import threading

    # The app's own sweep timer is set to once a year, so only this process prunes.
    stack = Stack(app_dir=ROOT, extra_env={"SIOLESS_PRESENCE_SWEEP_SCHEDULE": "0 0 0 1 1 *"}).start()
    try:
        os.environ["WebPubSubForSocketIOConnectionString"] = stack.connection_string
        from functions import _service
        from shared import _sockets, configure_storage, presence

        configure_storage(stack.storage)
        clients = [
            await connect_client(stack.devhost_url, negotiate_path="/api/whiteboard/negotiate") for _ in range(live)
        ]
        old = time.time() - 120
        table = _sockets.table_client(_sockets.TABLE)
        for client in clients:  # their rows are young: make them old enough to be checked too
            key = {
                "PartitionKey": _sockets.partition("whiteboard", "/"),
                "RowKey": _sockets.conn_key(client.get_sid("/")),
            }
            table.update_entity({**key, "since": old})
        print(f"rows before each sweep: {live + stale} ({live} live, {stale} stale, each stale in 1 room)")
        if rtt_ms:
            print(f"every service call waits {rtt_ms} ms more (a modelled network round trip)")
        walls = {}
        lock = threading.Lock()
        # The baseline (one check at a time) and the bounded concurrent sweep, same process, same rows.
        for label, workers in (("sequential", 1), (f"concurrency {concurrency}", concurrency)):
            _make_stale(stale, label.replace(" ", ""), old)
            calls = 0
            call_time = 0.0

            def exists(socket_id: str) -> bool:
                nonlocal calls, call_time
                started = time.perf_counter()
                try:
                    if rtt_ms:  # a modelled network round trip (Azure is not on loopback)
                        time.sleep(rtt_ms / 1000)
                    return _service.socket_exists("whiteboard", "/", socket_id)
                finally:
                    with lock:
                        calls += 1
                        call_time += time.perf_counter() - started

            started = time.perf_counter()
            removed = await asyncio.to_thread(
                presence.prune, "whiteboard", "/", exists, min_age=20, concurrency=workers
            )
            wall = walls[label] = time.perf_counter() - started
            left = presence.count("whiteboard")
            each = call_time / max(calls, 1) * 1000
            print(
                f"{label}: service calls (HEAD group) {calls} = one per row older than the minimum age; "
                f"removed {len(removed)}, kept {left} (live kept: {left == live}); "
                f"wall {wall * 1000:.0f} ms, {each:.1f} ms per call"
            )
        ratio = walls["sequential"] / walls[f"concurrency {concurrency}"]
        print(f"concurrent sweep: {ratio:.1f}x faster than the sequential one (same process, same rows)")
        operations = 1 + 4 * stale
        print(
            f"storage per sweep: 1 listing query + per removed socket 1 delete, 1 rooms query, 2 deletes per room"
            f" = {operations}"
        )
        for client in clients:
            await close_client(client)
    finally:
        stack.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--live", type=int, default=40)
    parser.add_argument("--stale", type=int, default=40)
    parser.add_argument("--concurrency", type=int, default=8, help="as SIOLESS_PRESENCE_SWEEP_CONCURRENCY")
    parser.add_argument(
        "--rtt-ms", type=float, default=0.0, help="add this wait to every service call: a network round trip"
    )
    args = parser.parse_args()
    asyncio.run(main(args.live, args.stale, args.concurrency, args.rtt_ms))
