"""socket.io's chat demo server (``examples/chat`` of socketio/socket.io), ported to sioless with the compat facade.

The demo keeps ``numUsers`` in a module global and the user name on the socket object. Serverless instances keep
nothing between invocations, so here the name lives in the session and the count is the number of members of a
``users`` room in the presence store (docs/migration.md "Presence counts: numUsers"). Everything else is the
demo's logic: ``add user`` -> ``login`` to the caller and ``user joined`` to the others; ``new message``,
``typing`` and ``stop typing`` go to everyone else; a disconnect of a signed-in user -> ``user left``.

Run it: ``python -m devhost.stack --app-dir examples/chat_demo``; clients negotiate at ``/api/chatdemo/negotiate``.
"""

from __future__ import annotations

import azure.functions as func

from shared import compat as socketio
from shared import presence

HUB = "chatdemo"
USERS = "users"  # the room of signed-in users: its size is numUsers

sio = socketio.AsyncServer(hub=HUB)


async def num_users() -> int:
    return await presence.acount(HUB, "/", USERS)


@sio.on("add user")
async def add_user(sid, username):
    async with sio.session(sid) as session:
        if session.get("username"):
            return  # as the demo: a second "add user" from the same socket does nothing
        session["username"] = username
    await sio.enter_room(sid, USERS)
    # The join is recorded when this handler returns, so a count taken now leaves the caller out: add it.
    count = await num_users() + 1
    await sio.emit("login", {"numUsers": count}, to=sid)
    await sio.emit("user joined", {"username": username, "numUsers": count}, skip_sid=sid)


@sio.on("new message")
async def new_message(sid, data):
    session = await sio.get_session(sid)
    await sio.emit("new message", {"username": session.get("username"), "message": data}, skip_sid=sid)


@sio.on("typing")
async def typing(sid):
    session = await sio.get_session(sid)
    await sio.emit("typing", {"username": session.get("username")}, skip_sid=sid)


@sio.on("stop typing")
async def stop_typing(sid):
    session = await sio.get_session(sid)
    await sio.emit("stop typing", {"username": session.get("username")}, skip_sid=sid)


@sio.event
async def disconnect(sid, reason):
    session = await sio.get_session(sid)  # still readable here; the socket already left the count
    if session.get("username"):
        await sio.emit("user left", {"username": session["username"], "numUsers": await num_users()})


app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)
sio.register(app)


@app.function_name("chatdemo_negotiate")
@app.route(route=f"{HUB}/negotiate")
@app.generic_input_binding(arg_name="negotiation", type="socketionegotiation", hub=HUB, userId="{query.userId}")
def negotiate(req: func.HttpRequest, negotiation: str) -> func.HttpResponse:
    return func.HttpResponse(negotiation, mimetype="application/json")
