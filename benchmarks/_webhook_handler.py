"""A minimal event handler for the emulator in the benchmarks: the Functions side reduced to what the extension
does on the wire, so the figures show the emulator's cost and not the dev host's (docs/performance.md).

- ``GET /negotiate`` -> ``{endpoint, path, token}`` (a client token from the official SDK);
- ``OPTIONS /webhook`` -> abuse-protection answer; ``connect``/``connected``/``disconnected`` -> 200;
- the user event ``join`` -> ``:addToGroups`` with the extension's own filter (the socket's own group,
  ``shared.protocol.action_to_rest_calls``) through the official SDK, then the ack as the response body;
- the user event ``message``(room, text) -> ``sendToRooms`` (``message`` with ``{"text": text}`` to that room),
  which the extension sends as ``:send`` to the room's group through the official SDK, then the ack.

Usage: python benchmarks/_webhook_handler.py PORT CONNECTION_STRING ENDPOINT (prints ``READY``). No signature
check: this stands in for the extension only to drive the emulator.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from aiohttp import web
from azure.core.rest import HttpRequest
from azure.messaging.webpubsubservice.aio import WebPubSubServiceClient

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from devhost._actions import loopback_client  # noqa: E402
from shared.protocol import RestCall, action_to_rest_calls  # noqa: E402

HUB = "chat"


async def main(port: int, connection_string: str, endpoint: str) -> None:
    service: WebPubSubServiceClient | None = None

    def client() -> WebPubSubServiceClient:
        nonlocal service
        if service is None:  # built inside the running loop
            # The dev host's client for a loopback service: no proxy or .netrc lookup per request, only the
            # policies that shape the wire (devhost._actions.loopback_client; the wire is the same).
            service = loopback_client(connection_string, HUB, retry_total=0)
        return service

    async def negotiate(request: web.Request) -> web.Response:
        token = await client().get_client_access_token(client_protocol="SocketIO", user_id="bench")
        return web.json_response(
            {"endpoint": endpoint, "path": f"/clients/socketio/hubs/{HUB}", "token": token["token"]}
        )

    async def validate(request: web.Request) -> web.Response:
        return web.Response(headers={"WebHook-Allowed-Origin": "*"})

    async def send(call: RestCall) -> None:
        """One REST call as the extension makes it (the same SDK calls as devhost/_actions.py)."""
        if call.operation == "sendToGroup":
            assert call.group is not None and isinstance(call.body, str)
            kwargs: dict[str, Any] = {} if call.filter is None else {"filter": call.filter}
            await client().send_to_group(call.group, call.body.encode(), content_type=call.content_type, **kwargs)
            return
        response = await client().send_request(
            HttpRequest(
                "POST", f"/api/hubs/{HUB}/:{call.operation}", params={"api-version": "2024-12-01"}, json=call.body
            )
        )
        response.raise_for_status()

    async def event(request: web.Request) -> web.Response:
        body = await request.read()
        if request.headers.get("ce-type") != "azure.webpubsub.user.message":
            return web.Response()
        # body: the Engine.IO packet, e.g. 42<ack id>["join","room"] after the "4"
        ack_id, _, args = body.decode()[2:].partition("[")
        name, room, *rest = json.loads("[" + args)
        namespace = request.headers["ce-namespace"]
        action: dict[str, Any]
        if name == "join":
            action = {
                "actionName": "addSocketToRoom",
                "namespace": namespace,
                "socketId": request.headers["ce-socketId"],
                "room": room,
            }
        else:  # message
            action = {
                "actionName": "sendToRooms",
                "namespace": namespace,
                "rooms": [room],
                "eventName": "message",
                "parameters": [{"text": rest[0]}],
            }
        for call in action_to_rest_calls(action):
            await send(call)
        return web.Response(text=f'43{ack_id}[{{"ok":true}}]')

    app = web.Application()
    app.router.add_get("/negotiate", negotiate)
    app.router.add_route("OPTIONS", "/webhook", validate)
    app.router.add_post("/webhook", event)

    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port, backlog=2048).start()
    print("READY", flush=True)
    await asyncio.Event().wait()  # until SIGTERM


if __name__ == "__main__":
    try:  # the same event loop as the emulator's when installed
        import uvloop

        factory = uvloop.new_event_loop
    except ImportError:
        factory = None  # type: ignore[assignment]
    asyncio.run(main(int(sys.argv[1]), sys.argv[2], sys.argv[3]), loop_factory=factory)
