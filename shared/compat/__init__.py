"""A python-socketio-shaped API over sioless: port an ``AsyncServer``/``Server`` app without a rewrite.

::

    from shared import compat as socketio           # instead of: import socketio

    sio = socketio.AsyncServer(cors_allowed_origins="*")

    @sio.event
    async def join(sid, room):
        await sio.enter_room(sid, room)
        await sio.emit("joined", sid, to=room, skip_sid=sid)
        return {"ok": True}                          # the ack

    # function_app.py
    app.register_functions(sio)                     # or sio.register(app, hub="chat")

Every handler is still one Azure Function (a ``socketiotrigger`` + ``socketio`` output binding). Emits and room
operations are output actions of the current invocation. What serverless mode cannot do raises
``UnsupportedError`` naming the limitation and the alternative; docs/migration.md has the table.
"""

from __future__ import annotations

from typing import Any as _Any

from .._errors import UnsupportedError
from . import exceptions
from ._handlers import Reason
from ._namespace import AsyncNamespace, Namespace
from ._server import AsyncServer, Server

# python-socketio names that have no serverless counterpart, and what to use instead.
_UNAVAILABLE = {
    "ASGIApp": "clients connect to Web PubSub for Socket.IO, not to an ASGI app; register the server on the "
    "FunctionApp with app.register_functions(sio)",
    "WSGIApp": "clients connect to Web PubSub for Socket.IO, not to a WSGI app; register the server on the "
    "FunctionApp with app.register_functions(sio)",
    "Middleware": "there is no HTTP server to wrap; use HTTP-triggered functions",
    "get_tornado_handler": "there is no web server to attach to",
    "AsyncManager": "the service keeps connections and rooms; there is no client manager",
    "Manager": "the service keeps connections and rooms; there is no client manager",
    "AsyncRedisManager": "the service fans out across instances; no message queue is needed. To emit from other "
    "functions use `with sio.emitter(out): ...`",
    "RedisManager": "the service fans out across instances; no message queue is needed. To emit from other "
    "functions use `with sio.emitter(out): ...`",
    "KafkaManager": "the service fans out across instances; no message queue is needed",
    "KombuManager": "the service fans out across instances; no message queue is needed",
    "AsyncAioPikaManager": "the service fans out across instances; no message queue is needed",
    "ZmqManager": "the service fans out across instances; no message queue is needed",
    "AsyncClient": "this module is the server side; use python-socketio's own client (pip install python-socketio)",
    "Client": "this module is the server side; use python-socketio's own client (pip install python-socketio)",
    "SimpleClient": "this module is the server side; use python-socketio's own client",
    "AsyncSimpleClient": "this module is the server side; use python-socketio's own client",
}


def __getattr__(name: str) -> _Any:
    reason = _UNAVAILABLE.get(name)
    if reason is not None:
        raise UnsupportedError(f"socketio.{name} is not available in serverless mode: {reason}.")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "AsyncNamespace",
    "AsyncServer",
    "exceptions",
    "Namespace",
    "Reason",
    "Server",
    "UnsupportedError",
]
