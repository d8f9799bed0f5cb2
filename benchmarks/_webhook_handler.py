"""A minimal event handler for the emulator in the benchmarks: the Functions side reduced to what the extension
does on the wire, so the figures show the emulator's cost and not the dev host's (docs/performance.md).

- ``GET /negotiate`` -> ``{endpoint, path, token}`` (a client token from the official SDK);
- ``OPTIONS /webhook`` -> abuse-protection answer; ``connect``/``connected``/``disconnected`` -> 200;
- the user event ``join`` -> ``:addToGroups`` with the extension's own filter (the socket's own group,
  ``shared.protocol.action_to_rest_calls``) through the official SDK, then the ack as the response body.

Usage: python benchmarks/_webhook_handler.py PORT CONNECTION_STRING ENDPOINT (prints ``READY``). No signature
check: this stands in for the extension only to drive the emulator.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from aiohttp import web
from azure.core.rest import HttpRequest
from azure.messaging.webpubsubservice.aio import WebPubSubServiceClient

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from shared.protocol import action_to_rest_calls  # noqa: E402

HUB = "chat"


async def main(port: int, connection_string: str, endpoint: str) -> None:
    service: WebPubSubServiceClient | None = None

    def client() -> WebPubSubServiceClient:
        nonlocal service
        if service is None:  # built inside the running loop
            service = WebPubSubServiceClient.from_connection_string(connection_string, hub=HUB, retry_total=0)
        return service

    async def negotiate(request: web.Request) -> web.Response:
        token = await client().get_client_access_token(client_protocol="SocketIO", user_id="bench")
        return web.json_response(
            {"endpoint": endpoint, "path": f"/clients/socketio/hubs/{HUB}", "token": token["token"]}
        )

    async def validate(request: web.Request) -> web.Response:
        return web.Response(headers={"WebHook-Allowed-Origin": "*"})

    async def event(request: web.Request) -> web.Response:
        body = await request.read()
        if request.headers.get("ce-type") != "azure.webpubsub.user.message":
            return web.Response()
        # body: the Engine.IO packet, e.g. 42<ack id>["join","room"] after the "4"
        text = body.decode()[2:]
        ack_id, _, args = text.partition("[")
        room = json.loads("[" + args)[1]
        action = {
            "actionName": "addSocketToRoom",
            "namespace": request.headers["ce-namespace"],
            "socketId": request.headers["ce-socketId"],
            "room": room,
        }
        for call in action_to_rest_calls(action):
            response = await client().send_request(
                HttpRequest(
                    "POST", f"/api/hubs/{HUB}/:{call.operation}", params={"api-version": "2024-12-01"}, json=call.body
                )
            )
            response.raise_for_status()
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
