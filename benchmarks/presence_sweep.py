"""What one presence sweep costs (functions/whiteboard.py ``whiteboard_presence_sweep``, docs/whiteboard.md).

Starts Azurite + emulator + dev host, connects ``--live`` python-socketio clients to the whiteboard, writes
``--stale`` rows of sockets the service does not have (as an emulator crash leaves them, each in one room),
then runs ``presence.prune`` with the sweep's own service check (``group_exists``, official SDK) from this
process and prints: service calls, sockets removed, live sockets kept, wall time, and per-call figures.

    .venv/bin/python benchmarks/presence_sweep.py [--live 40] [--stale 40]
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


async def main(live: int, stale: int) -> None:
    import os

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
        for n in range(stale):
            _sockets.add_socket("whiteboard", "/", f"crashed-{n}")
            presence.join("whiteboard", "/", f"crashed-{n}", ["room"])
            key = {"PartitionKey": _sockets.partition("whiteboard", "/"), "RowKey": _sockets.conn_key(f"crashed-{n}")}
            table.update_entity({**key, "since": old})
        for client in clients:  # their rows are young: make them old enough to be checked too
            key = {
                "PartitionKey": _sockets.partition("whiteboard", "/"),
                "RowKey": _sockets.conn_key(client.get_sid("/")),
            }
            table.update_entity({**key, "since": old})
        calls = 0
        call_time = 0.0

        def exists(socket_id: str) -> bool:
            nonlocal calls, call_time
            calls += 1
            started = time.perf_counter()
            try:
                return _service.socket_exists("whiteboard", "/", socket_id)
            finally:
                call_time += time.perf_counter() - started

        started = time.perf_counter()
        removed = await asyncio.to_thread(presence.prune, "whiteboard", "/", exists, min_age=20)
        wall = time.perf_counter() - started
        left = presence.count("whiteboard")
        print(f"rows before: {live + stale} ({live} live, {stale} stale, each stale in 1 room)")
        print(f"service calls (HEAD group): {calls}  = one per row older than the minimum age")
        print(f"removed: {len(removed)}  kept: {left}  (live kept: {left == live})")
        each = call_time / max(calls, 1) * 1000
        print(f"sweep wall time: {wall * 1000:.0f} ms; service calls {call_time * 1000:.0f} ms ({each:.1f} ms each)")
        operations = 1 + 4 * len(removed)
        print(
            f"storage: 1 listing query + per removed socket 1 delete, 1 rooms query, 2 deletes per room = {operations}"
        )
        for client in clients:
            await close_client(client)
    finally:
        stack.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--live", type=int, default=40)
    parser.add_argument("--stale", type=int, default=40)
    args = parser.parse_args()
    asyncio.run(main(args.live, args.stale))
