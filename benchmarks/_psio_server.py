"""python-socketio 5 on uvicorn as a baseline server for the benchmarks: the same minimal app as
``benchmarks/node/socketio_server.mjs``. Usage: python benchmarks/_psio_server.py PORT (prints ``READY``)."""

from __future__ import annotations

import json
import sys
from typing import Any

import socketio
import uvicorn

PATH = "clients/socketio/hubs/chat"
sio = socketio.AsyncServer(async_mode="asgi", logger=False, cors_allowed_origins="*")


@sio.on("join")
async def join(sid: str, room: str) -> dict[str, Any]:
    await sio.enter_room(sid, room)
    return {"ok": True}


@sio.on("message")
async def message(sid: str, room: str, text: str) -> dict[str, Any]:
    await sio.emit("message", {"text": text}, room=room)
    return {"ok": True}


async def routes(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    if scope["type"] != "http":
        return
    await receive()
    status, body = 404, b""
    if scope["path"] == "/negotiate":
        host = dict(scope["headers"]).get(b"host", b"127.0.0.1").decode()
        status, body = 200, json.dumps({"endpoint": f"http://{host}", "path": "/" + PATH, "token": ""}).encode()
    elif scope["path"] == "/emit" and scope["method"] == "POST":
        await sio.emit("news", {"n": 1, "text": "hello everyone"})
        status = 202
    await send({"type": "http.response.start", "status": status, "headers": [(b"content-length", b"%d" % len(body))]})
    await send({"type": "http.response.body", "body": body})


class _Server(uvicorn.Server):
    async def startup(self, sockets: Any = None) -> None:
        await super().startup(sockets)
        print("READY", flush=True)


if __name__ == "__main__":
    config = uvicorn.Config(
        socketio.ASGIApp(sio, other_asgi_app=routes, socketio_path=PATH),
        host="127.0.0.1",
        port=int(sys.argv[1]),
        log_level="warning",
        ws_max_size=1 << 20,
        ws_per_message_deflate=False,  # as the emulator: no compression on loopback
        backlog=2048,
    )
    _Server(config).run()
