"""Emulator fan-out and connect throughput, next to python-socketio in the same run.

    .venv/bin/python benchmarks/emulator_fanout.py [--clients 1000] [--rounds 5]

Both servers run as their own subprocess on loopback: the emulator (``python -m emulator``, no event handler,
token-checked clients) and a plain python-socketio ``AsyncServer`` on uvicorn. The same lightweight websocket
clients (Engine.IO v4 / Socket.IO v5 text frames over ``websockets``) connect to each. Figures:

- connect throughput: clients/s for N websocket clients, 50 handshakes in flight;
- fan-out: one ``42["news",...]`` reaching all N clients: the emulator via one REST ``send_to_all`` from the
  official SDK, python-socketio via ``sio.emit`` (triggered by an HTTP call); time from the request to the last
  client receiving it, median of the rounds. The ratio is emulator / python-socketio.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import statistics
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import httpx
import websockets

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from azure.messaging.webpubsubservice.aio import WebPubSubServiceClient  # noqa: E402

from emulator.testing import start_emulator  # noqa: E402

BASELINE = textwrap.dedent("""
    import socketio, uvicorn, sys
    sio = socketio.AsyncServer(async_mode="asgi", logger=False)
    async def emit_app(scope, receive, send):
        if scope["type"] != "http":
            return
        await receive()
        await sio.emit("news", {"n": 1, "text": "hello everyone"})
        await send({"type": "http.response.start", "status": 202, "headers": []})
        await send({"type": "http.response.body", "body": b""})
    app = socketio.ASGIApp(sio, other_asgi_app=emit_app, socketio_path="clients/socketio/hubs/chat")
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", ws_max_size=1 << 20)
""")
PACKET = '42["news",{"n":1,"text":"hello everyone"}]'


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Client:
    """A minimal Engine.IO v4 websocket client: open, CONNECT "/", answer pings, count "news" events."""

    def __init__(self) -> None:
        self.ws: websockets.ClientConnection | None = None
        self.received = asyncio.Event()
        self.task: asyncio.Task[None] | None = None

    async def connect(self, url: str) -> None:
        self.ws = await websockets.connect(url, max_size=1 << 20, open_timeout=30, compression=None)
        opened = await self.ws.recv()
        assert str(opened).startswith("0{"), opened
        await self.ws.send("40")
        while True:
            frame = await self.ws.recv()
            if str(frame).startswith("40"):
                break
            if frame == "2":
                await self.ws.send("3")
        self.task = asyncio.create_task(self.loop())

    async def loop(self) -> None:
        assert self.ws is not None
        try:
            async for frame in self.ws:
                if frame == "2":
                    await self.ws.send("3")
                elif str(frame).startswith('42["news"'):
                    self.received.set()
        except websockets.ConnectionClosed:
            pass

    async def close(self) -> None:
        if self.task:
            self.task.cancel()
        if self.ws:
            await self.ws.close()


async def connect_all(url: str, count: int, parallel: int = 50) -> tuple[list[Client], float]:
    clients = [Client() for _ in range(count)]
    gate = asyncio.Semaphore(parallel)

    async def one(c: Client) -> None:
        async with gate:
            await c.connect(url)

    started = time.perf_counter()
    await asyncio.gather(*(one(c) for c in clients))
    return clients, time.perf_counter() - started


async def fanout(clients: list[Client], trigger) -> float:
    for c in clients:
        c.received.clear()
    started = time.perf_counter()
    await trigger()
    await asyncio.wait_for(asyncio.gather(*(c.received.wait() for c in clients)), 60)
    return time.perf_counter() - started


async def measure(url: str, trigger, count: int, rounds: int) -> tuple[float, float]:
    clients, took = await connect_all(url, count)
    try:
        await fanout(clients, trigger)  # warm-up
        times = [await fanout(clients, trigger) for _ in range(rounds)]
    finally:
        await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)
    return count / took, statistics.median(times)


async def main(count: int, rounds: int) -> None:
    emu = start_emulator("--url-template", "", "--hub", "chat", "--log-level", "warning")
    port = free_port()
    baseline = subprocess.Popen([sys.executable, "-c", BASELINE, str(port)], cwd=REPO)
    try:
        service = WebPubSubServiceClient.from_connection_string(emu.connection_string, hub="chat")
        token = (await service.get_client_access_token(client_protocol="SocketIO", user_id="bench"))["token"]
        emu_url = (
            f"ws://127.0.0.1:{emu.port}/clients/socketio/hubs/chat/?EIO=4&transport=websocket&access_token={token}"
        )
        base_url = f"ws://127.0.0.1:{port}/clients/socketio/hubs/chat/?EIO=4&transport=websocket"
        async with httpx.AsyncClient() as http:
            for _ in range(100):
                try:
                    await http.get(f"http://127.0.0.1:{port}/")
                    break
                except httpx.HTTPError:
                    await asyncio.sleep(0.1)

            async def emu_trigger() -> None:
                await service.send_to_all(PACKET, content_type="text/plain")

            async def base_trigger() -> None:
                response = await http.post(f"http://127.0.0.1:{port}/emit")
                assert response.status_code == 202

            emu_rate, emu_fan = await measure(emu_url, emu_trigger, count, rounds)
            base_rate, base_fan = await measure(base_url, base_trigger, count, rounds)
        await service.close()
    finally:
        emu.stop()
        os.kill(baseline.pid, signal.SIGTERM)
        baseline.wait(10)
    print(f"clients: {count} websocket, rounds: {rounds} (median)")
    print(
        f"fan-out, one message to all:  emulator REST send_to_all {emu_fan * 1000:8.1f} ms | "
        f"python-socketio emit {base_fan * 1000:8.1f} ms | ratio {emu_fan / base_fan:5.2f}x"
    )
    print(
        f"connect throughput:           emulator {emu_rate:8.0f} clients/s | "
        f"python-socketio {base_rate:8.0f} clients/s | ratio {emu_rate / base_rate:5.2f}x"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(main(args.clients, args.rounds))
