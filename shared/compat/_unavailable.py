"""The python-socketio server methods that serverless mode cannot offer: each raises ``UnsupportedError`` naming
the reason and the alternative (docs/migration.md has the table)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ._handlers import unsupported


class Unavailable:
    """What ``AsyncServer`` and ``Server`` refuse alike (``call`` and ``shutdown`` are refused by each twin, in
    its own sync or async form)."""

    def transport(self, sid: str, namespace: str | None = None) -> str:
        raise unsupported(
            "transport()",
            "the service holds the connection and does not report its transport to functions",
            "Have the client report it (socket.io.engine.transport.name) in an event if you need it.",
        )

    def get_environ(self, sid: str, namespace: str | None = None) -> dict[str, Any]:
        raise unsupported(
            "get_environ()",
            "the connect request (query, headers, claims) reaches only the connect function",
            "Save what you need from environ in the session at connect: sio.save_session(sid, {...}).",
        )

    def sleep(self, seconds: float = 0) -> Any:
        raise unsupported(
            "sleep()",
            "a function invocation ends when its handler returns; nothing runs between events",
            "For periodic work decorate a function with @sio.every(seconds=...) (or @sio.schedule('*/10 * * * * *')) "
            "instead of looping with sleep(); inside a handler, await asyncio.sleep() for short waits.",
        )

    def start_background_task(self, target: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        raise unsupported(
            "start_background_task()",
            "there is no long-running server process; work started after a handler returns may never run",
            "For a background loop decorate its body with @sio.every(seconds=...) (or @sio.schedule('*/10 * * * * *')):"
            " a timer function where sio.emit() works. For other triggers (queues) use `with sio.emitter(out): ...`.",
        )

    def instrument(self, *args: Any, **kwargs: Any) -> Any:
        raise unsupported(
            "instrument() (the Socket.IO Admin UI)",
            "the admin UI needs a server that sees every connection",
            "Use the Web PubSub resource's metrics and live trace (or the emulator's inspector offline).",
        )

    def attach(self, *args: Any, **kwargs: Any) -> Any:
        raise unsupported(
            "attach()",
            "clients connect to Web PubSub for Socket.IO, not to this app",
            "Register the server on the FunctionApp: app.register_functions(sio).",
        )

    handle_request = attach

    def _call(self, *args: Any, **kwargs: Any) -> Any:
        raise unsupported(
            "call()",
            "the service has no server-to-client acknowledgements, so nothing can wait for a client's reply",
            "Emit an event and have the client emit its reply to a handler.",
        )
