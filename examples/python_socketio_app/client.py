"""The page logic of python-socketio's example (``app.html``), headless, with a python-socketio client.

On connect it emits ``my_event`` ``{"data": "I'm connected!"}``; every ``my_response`` is appended to the log (as the
page appends "Received: ..."); each form of the page is a method. Connects the serverless way: negotiate at
``/api/siodemo/negotiate``, then connect with the token.
"""

from __future__ import annotations

from typing import Any

import httpx
import socketio


class ExamplePage:
    def __init__(self) -> None:
        self.client = socketio.AsyncClient(reconnection=False)
        self.log: list[str] = []
        self.client.on("connect", self._connected)
        self.client.on("disconnect", self._disconnected)
        self.client.on("my_response", self._response)

    async def _connected(self) -> None:
        await self.client.emit("my_event", {"data": "I'm connected!"})

    async def _disconnected(self, reason: Any = None) -> None:
        self.log.append("Disconnected")

    async def _response(self, message: dict[str, Any]) -> None:
        self.log.append(message["data"])

    async def open(self, base_url: str) -> None:
        async with httpx.AsyncClient(timeout=10) as http:
            response = await http.get(f"{base_url}/api/siodemo/negotiate")
        response.raise_for_status()
        negotiated = response.json()
        url = f"{negotiated['endpoint']}?access_token={negotiated['token']}"
        await self.client.connect(url, socketio_path=negotiated["path"], wait_timeout=10)

    # the page's forms; call() waits for the (null) ack, so what the handler emitted was sent by then
    async def echo(self, data: str) -> None:
        await self.client.call("my_event", {"data": data}, timeout=10)

    async def broadcast(self, data: str) -> None:
        await self.client.call("my_broadcast_event", {"data": data}, timeout=10)

    async def join(self, room: str) -> None:
        await self.client.call("join", {"room": room}, timeout=10)

    async def leave(self, room: str) -> None:
        await self.client.call("leave", {"room": room}, timeout=10)

    async def send_room(self, room: str, data: str) -> None:
        await self.client.call("my_room_event", {"room": room, "data": data}, timeout=10)

    async def close_room(self, room: str) -> None:
        await self.client.call("close room", {"room": room}, timeout=10)

    async def disconnect_request(self) -> None:
        await self.client.emit("disconnect request")
