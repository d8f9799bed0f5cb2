"""Direct frame writes for fan-out: one websocket frame built per broadcast, written to each idle connection.

Engine.IO (python-engineio) gives every websocket connection its own writer task: a packet goes on the socket's
queue, the writer wakes, encodes it and sends it through uvicorn's ASGI ``websocket.send``, which frames it and
writes it. For a fan-out to 10,000 clients that is 10,000 task wake-ups, timeouts and frame builds for the same
bytes (docs/performance.md). Server-to-client frames are unmasked, so one text makes the same frame for every
recipient: ``Hub.deliver`` builds it once and writes it straight to the transport of each connection whose writer
has nothing pending, and queues it for every other one. Nothing can be overtaken:

- the connection is on the websocket transport, not mid-upgrade, not closing, and its engineio queue is empty;
- no ASGI send is in progress on the websocket (engineio's writer is not holding a packet it has taken off the
  queue: the only place it can wait with one is uvicorn's flow-control wait, and it counts as in progress there);
- the transport is not paused for back-pressure, not closing, no close frame was sent or received, and no
  extension (per-message deflate) was negotiated.

Two seams, both small: :class:`FrameWritingProtocol` is uvicorn's websockets-sansio protocol (passed as uvicorn's
``ws`` setting) that offers :meth:`FrameWritingProtocol.write_frame_nowait` to the app through the ASGI scope's
``extensions``; :class:`RegisteringWebSocket` is engineio's ASGI websocket driver that records, per Engine.IO
session id, the frame writer of the websocket that engineio's writer sends through. Both rely on their libraries'
internals (pinned in tests/integration/test_emulator_fanout_order.py); :func:`self_check` (uvicorn, at start) and
:func:`install` (engineio, per hub) turn the direct writes off, with a warning in the log, if those internals are
not what this module expects.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Protocol

from engineio.async_drivers import asgi as engineio_asgi
from engineio.async_socket import AsyncSocket
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.frames import Frame, Opcode
from websockets.protocol import State
from websockets.server import ServerProtocol

__all__ = [
    "FRAME_WRITER_EXTENSION",
    "FrameWriter",
    "FrameWritingProtocol",
    "RegisteringWebSocket",
    "install",
    "self_check",
    "text_frame",
]

log = logging.getLogger("emulator.frames")

# The key under the websocket scope's ``extensions`` (ASGI lets servers announce their own extensions there).
FRAME_WRITER_EXTENSION = "sioless.frame_writer"

# What write_frame_nowait reads on uvicorn's protocol; self_check verifies them on a real instance.
_PROTOCOL_ATTRIBUTES = ("transport", "writable", "close_sent", "disconnected", "handshake_complete", "conn")
_SOCKET_ATTRIBUTES = ("sid", "queue", "upgraded", "upgrading", "closing", "closed")


class FrameWriter(Protocol):
    def write_frame_nowait(self, frame: bytes) -> bool: ...


def text_frame(text: str) -> bytes:
    """One complete, unmasked websocket text frame (what a server sends), built by the websockets library."""
    return Frame(Opcode.TEXT, text.encode()).serialize(mask=False)


class FrameWritingProtocol(WebSocketsSansIOProtocol):
    """uvicorn's websockets-sansio protocol, plus a way to write a pre-built frame when nothing can be overtaken."""

    enabled = True  # self_check turns it off for the process

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # ASGI sends under way: one waiting for the transport to drain holds a frame that must go first.
        self._sends_in_progress = 0

    def handle_connect(self, event: Any) -> None:
        super().handle_connect(event)
        scope = getattr(self, "scope", None)
        if self.enabled and scope is not None:  # no scope: the handshake was refused
            scope["extensions"][FRAME_WRITER_EXTENSION] = self

    async def send(self, message: Any) -> None:
        self._sends_in_progress += 1
        try:
            await super().send(message)
        finally:
            self._sends_in_progress -= 1

    def write_frame_nowait(self, frame: bytes) -> bool:
        """Write ``frame`` now if that cannot reorder or break anything; ``False`` means: queue it instead."""
        conn = self.conn
        if (
            self._sends_in_progress
            or not self.writable.is_set()
            or self.close_sent
            or self.disconnected
            or not self.handshake_complete
            or conn.state is not State.OPEN
            or conn.extensions
            or self.transport.is_closing()
        ):
            return False
        self.transport.write(frame)
        return True


class RegisteringWebSocket(engineio_asgi.WebSocket):
    """engineio's ASGI websocket driver; records this websocket's frame writer under its Engine.IO session id in
    ``server.frame_writers`` while the websocket runs (only the first websocket of a session: a second, concurrent
    upgrade attempt gets none, so the writer recorded is never another websocket's)."""

    def __init__(self, handler: Any, server: Any) -> None:
        super().__init__(handler, server)
        self.writers: dict[str, FrameWriter] = server.frame_writers

    async def __call__(self, environ: dict[str, Any]) -> Any:
        writer = environ["asgi.scope"].get("extensions", {}).get(FRAME_WRITER_EXTENSION)
        socket = getattr(self.handler, "__self__", None)  # engineio passes its socket's bound handler
        if writer is None or not isinstance(socket, AsyncSocket) or socket.upgraded or socket.sid in self.writers:
            return await super().__call__(environ)
        sid = socket.sid
        self.writers[sid] = writer
        try:
            return await super().__call__(environ)
        finally:
            if self.writers.get(sid) is writer:
                del self.writers[sid]


def _engineio_problem(server: Any) -> str | None:
    drivers = getattr(server, "_async", None)
    if not isinstance(drivers, dict) or drivers.get("websocket") is not engineio_asgi.WebSocket:
        return "engineio's asgi websocket driver is not where this emulator expects it"
    if not callable(getattr(AsyncSocket, "_websocket_handler", None)):
        return "engineio's AsyncSocket has no _websocket_handler"
    probe = AsyncSocket(server, "self-check")
    missing = [name for name in _SOCKET_ATTRIBUTES if not hasattr(probe, name)]
    if missing:
        return f"engineio's AsyncSocket lacks {', '.join(missing)}"
    if not isinstance(probe.queue, asyncio.Queue):
        return "engineio's socket queue is not an asyncio.Queue"
    return None


def install(server: Any) -> dict[str, FrameWriter]:
    """Give an engineio ``AsyncServer`` (asgi mode) the recording websocket driver; returns the registry it fills
    (``server.frame_writers``). If engineio's internals are not what this module expects, the registry stays
    empty (every packet goes through engineio's writer) and the log says why."""
    server.frame_writers = {}
    problem = _engineio_problem(server)
    if problem is not None:
        log.warning("fan-out: direct frame writes are off (%s); every packet goes through engineio's writer", problem)
    else:
        server._async = {**server._async, "websocket": RegisteringWebSocket}
    return server.frame_writers


def self_check(config: Any) -> str | None:
    """At start, inside the event loop: verify on a real instance that uvicorn's websocket protocol has what
    :meth:`FrameWritingProtocol.write_frame_nowait` reads. If not, direct writes are off for the process (the
    protocol announces no frame writer) and the log says why. Returns the problem, or None."""
    from uvicorn.server import ServerState

    if not config.loaded:
        config.load()
    if config.ws_protocol_class is not FrameWritingProtocol:
        return "uvicorn does not use FrameWritingProtocol for websockets"
    probe = FrameWritingProtocol(config, ServerState(), {}, _loop=asyncio.get_running_loop())
    missing = [name for name in _PROTOCOL_ATTRIBUTES if not hasattr(probe, name)]
    problem = f"uvicorn's websocket protocol lacks {', '.join(missing)}" if missing else None
    if problem is None and (
        not isinstance(probe.writable, asyncio.Event) or not isinstance(probe.conn, ServerProtocol)
    ):
        problem = "uvicorn's websocket protocol changed its flow control or its websockets connection"
    if problem is not None:
        FrameWritingProtocol.enabled = False
        log.warning("fan-out: direct frame writes are off (%s); every packet goes through engineio's writer", problem)
    return problem
