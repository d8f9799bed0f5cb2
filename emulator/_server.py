"""Running the app on uvicorn: bind first (so ``--port 0`` works), then print what the Functions side needs."""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import re
import socket
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

import uvicorn

from shared.protocol.webhook import client_path

from ._app import EmulatorApp
from ._config import EmulatorConfig
from ._frames import FrameWritingProtocol, self_check

READY_MARKER = "EMULATOR_READY"


@dataclass(frozen=True)
class Started:
    """Where a started emulator listens, and what to give the Functions side and the clients."""

    port: int
    endpoint: str
    connection_string: str

    def client_url(self, hub: str) -> str:
        return f"{self.endpoint}{client_path(hub)}"


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto=IPPROTO_TCP matters: asyncio sets TCP_NODELAY only on sockets whose proto is TCP; without it a reply
    # written as headers + body waits ~40 ms for the peer's delayed ACK (Nagle).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.setblocking(False)
    return sock


class _Server(uvicorn.Server):
    """Closes the Engine.IO connections first: otherwise open long-polls hold the graceful shutdown."""

    def __init__(self, config: uvicorn.Config, app: EmulatorApp) -> None:
        super().__init__(config)
        self.emulator = app

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        await self.emulator.close_all()
        await super().shutdown(sockets)


def _server(app: EmulatorApp, log_level: str) -> uvicorn.Server:
    """Called inside the event loop (the frame writer's self-check builds a protocol instance)."""
    config = uvicorn.Config(
        app,
        log_level=log_level,
        lifespan="on",
        access_log=False,
        log_config=None,
        timeout_graceful_shutdown=2,
        ws_max_size=max(app.config.max_payload * 2, 1 << 20),
        # Compressing every frame costs CPU on each fan-out delivery (docs/reliability.md); loopback and LAN
        # clients gain nothing from it.
        ws_per_message_deflate=False,
        # Engine.IO's own heartbeat (ping interval/timeout) already detects dead clients; uvicorn's websocket
        # pings on top of it cost a timer and a frame per connection every 20 s (docs/performance.md).
        ws_ping_interval=None,
        ws_ping_timeout=None,
        # Nothing here reads the client address or scheme that X-Forwarded-* would rewrite; without the middleware
        # every request and websocket skips one ASGI layer.
        proxy_headers=False,
        # uvicorn's websockets-sansio protocol that also lets a fan-out write one pre-built frame to every idle
        # connection (emulator/_frames.py, docs/performance.md).
        ws=FrameWritingProtocol,
    )
    self_check(config)  # off, with a warning, if uvicorn's internals are not as expected
    return _Server(config, app)


def banner(config: EmulatorConfig, started: Started) -> str:
    lines = [
        f"Web PubSub for Socket.IO emulator listening on http://{config.host}:{started.port}",
        f"Connection string (Functions side): {started.connection_string}",
    ]
    for hub in config.hubs:
        anon = ", anonymous clients allowed" if hub.allow_anonymous else ""
        handler = hub.url_template or "(no event handler)"
        lines.append(f"Client URL, hub {hub.name}: {started.client_url(hub.name)}  -> {handler}{anon}")
    lines.append(f"Inspector: {started.endpoint}/inspector")
    return "\n".join(lines)


def tune_garbage_collector() -> None:
    """For a process that holds thousands of connections: what exists at start (modules, the app) leaves the
    cyclic collector's view, and young collections run every 20,000 allocations instead of 700. Each connection
    keeps a few hundred objects alive; with the defaults, a burst such as one fan-out promotes enough short-lived
    objects to trigger full collections that walk all of them (docs/performance.md). Reference counting frees
    almost everything here; the collector only has cycles left to find."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 20, 20)


async def serve(
    config: EmulatorConfig, log_level: str = "info", on_ready: Callable[[Started], None] | None = None
) -> None:
    """Run until SIGINT/SIGTERM. Prints the banner and a ``EMULATOR_READY {json}`` line once accepting."""
    app = EmulatorApp(config)
    sock = _bind(config.host, config.port)
    app.port = sock.getsockname()[1]
    started = Started(port=app.port, endpoint=app.endpoint(), connection_string=config.connection_string(app.port))
    server = _server(app, log_level)
    tune_garbage_collector()

    async def announce() -> None:
        while not server.started:
            if server.should_exit:
                return
            await asyncio.sleep(0.02)
        print(banner(config, started), flush=True)
        print(
            f"{READY_MARKER} "
            + json.dumps(
                {"port": started.port, "endpoint": started.endpoint, "connectionString": started.connection_string}
            ),
            flush=True,
        )
        if on_ready is not None:
            on_ready(started)

    task = asyncio.create_task(announce())
    try:
        await server.serve(sockets=[sock])
    finally:
        task.cancel()
        sock.close()


@asynccontextmanager
async def running(config: EmulatorConfig, log_level: str = "warning") -> AsyncIterator[tuple[EmulatorApp, Started]]:
    """The emulator inside the current event loop (tests that inspect its state; no subprocess)."""
    app = EmulatorApp(config)
    sock = _bind(config.host, config.port)
    app.port = sock.getsockname()[1]
    started = Started(port=app.port, endpoint=app.endpoint(), connection_string=config.connection_string(app.port))
    server = _server(app, log_level)
    server.config.install_signal_handlers = False  # type: ignore[attr-defined]
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        for _ in range(500):
            if server.started or task.done():
                break
            await asyncio.sleep(0.01)
        if task.done():
            task.result()
        yield app, started
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=10)
        sock.close()


_SECRET = re.compile(r"(access_token=|Bearer\s+)[^&\s\"']+", re.IGNORECASE)


class RedactTokens(logging.Filter):
    """Tokens never reach the log: uvicorn logs websocket URLs, which carry ``access_token``."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if _SECRET.search(message):
            record.msg, record.args = _SECRET.sub(r"\1***", message), None
        return True


def configure_logging(level: str) -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactTokens())
    logging.basicConfig(level=level.upper(), handlers=[handler], force=True)
    # httpx logs every request at INFO; the inspector already shows upstream calls.
    logging.getLogger("httpx").setLevel(logging.WARNING)
