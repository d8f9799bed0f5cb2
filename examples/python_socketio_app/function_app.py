"""python-socketio's ASGI server example (``examples/server/asgi/app.py``), ported to sioless with the compat facade.

What changed, and why:

- ``import socketio`` -> ``from shared import compat as socketio``; ``AsyncServer(hub=...)`` names the hub.
- ``socketio.ASGIApp(sio, static_files=...)`` and ``uvicorn.run`` go: clients connect to the service and the
  handlers are registered on the FunctionApp. Pages are served by HTTP functions (docs/migration.md "Static
  files"); clients negotiate at ``/api/siodemo/negotiate`` first (web/sioless.js does it for a page).
- ``start_background_task(background_task)`` with ``while True: await sio.sleep(10)`` becomes a timer function,
  ``@sio.every(seconds=...)``, holding the loop's body (its counter lives in no process, so it is not kept).
- The Admin UI (``sio.instrument``) has no serverless form and is left out.

The connect handler's greeting (``emit("my_response", ..., room=sid)``) works as written (docs/api.md "Greeting in
connect"). Run it: ``python -m devhost.stack --app-dir examples/python_socketio_app``.
"""

from __future__ import annotations

import logging
import os

import azure.functions as func

from shared import compat as socketio

HUB = "siodemo"
# The example ticks every 10 seconds; the test sets a shorter period through this app setting.
BACKGROUND_SECONDS = int(os.environ.get("SIODEMO_BACKGROUND_SECONDS", "10"))

sio = socketio.AsyncServer(hub=HUB, async_mode="asgi", cors_allowed_origins=None)
log = logging.getLogger("siodemo")


@sio.every(seconds=BACKGROUND_SECONDS)
async def background_task():
    """Server-generated events, from a timer instead of a background loop."""
    await sio.emit("my_response", {"data": "Server generated event"})


@sio.on("my_event")
async def test_message(sid, message):
    await sio.emit("my_response", {"data": message["data"]}, room=sid)


@sio.on("my_broadcast_event")
async def test_broadcast_message(sid, message):
    await sio.emit("my_response", {"data": message["data"]})


@sio.on("join")
async def join(sid, message):
    await sio.enter_room(sid, message["room"])
    await sio.emit("my_response", {"data": "Entered room: " + message["room"]}, room=sid)


@sio.on("leave")
async def leave(sid, message):
    await sio.leave_room(sid, message["room"])
    await sio.emit("my_response", {"data": "Left room: " + message["room"]}, room=sid)


@sio.on("close room")
async def close(sid, message):
    await sio.emit("my_response", {"data": "Room " + message["room"] + " is closing."}, room=message["room"])
    await sio.close_room(message["room"])


@sio.on("my_room_event")
async def send_room_message(sid, message):
    await sio.emit("my_response", {"data": message["data"]}, room=message["room"])


@sio.on("disconnect request")
async def disconnect_request(sid):
    await sio.disconnect(sid)


@sio.on("connect")
async def test_connect(sid, environ):
    await sio.emit("my_response", {"data": "Connected", "count": 0}, room=sid)


@sio.on("disconnect")
def test_disconnect(sid):
    log.info("Client disconnected")


app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)
sio.register(app)


@app.function_name("siodemo_negotiate")
@app.route(route=f"{HUB}/negotiate")
@app.generic_input_binding(arg_name="negotiation", type="socketionegotiation", hub=HUB, userId="{query.userId}")
def negotiate(req: func.HttpRequest, negotiation: str) -> func.HttpResponse:
    return func.HttpResponse(negotiation, mimetype="application/json")
