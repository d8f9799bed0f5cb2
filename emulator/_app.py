"""The ASGI application: client paths per hub, the REST API, the inspector."""

from __future__ import annotations

import json
import logging
from urllib.parse import parse_qs

from shared.protocol import webhook

from ._config import EmulatorConfig
from ._control import HUB_SETTINGS_PREFIX, handle_hub_settings
from ._hub import Hub
from ._inspector import INSPECTOR_HTML, inspector_data
from ._rest import RestApi
from ._types import Receive, Scope, Send
from ._upstream import Upstream

log = logging.getLogger("emulator")

CLIENT_PREFIX = webhook.CLIENT_PATH_PREFIX


class EmulatorApp:
    """Routes by path: ``/clients/socketio/hubs/{hub}[/]`` to that hub's Engine.IO server, ``/api/...`` to REST,
    ``/inspector`` to the inspector. ``port`` is set once the socket is bound (``--port 0``)."""

    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self.port = config.port
        self.upstream = Upstream(
            origin=config.endpoint_host,
            keys=config.keys,
            timeout=config.upstream_timeout,
            validation_timeout=config.validation_timeout,
            validation_ttl=config.validation_ttl,
            history_size=config.history_size,
        )
        self.hubs: dict[str, Hub] = {}
        for settings in config.hubs:
            self.hubs[settings.name] = Hub(settings, config, self.upstream, self.endpoint)
        self.rest = RestApi(self)

    def endpoint(self) -> str:
        return self.config.endpoint(self.port)

    def hub(self, name: str) -> Hub | None:
        hub = self.hubs.get(name)
        if hub is None:
            settings = self.config.hub_settings(name)
            if settings is None:
                return None
            hub = self.hubs[name] = Hub(settings, self.config, self.upstream, self.endpoint)
            log.info("hub %s created on demand", name)
        return hub

    async def close_all(self) -> None:
        """Close every client connection (``disconnected`` fires with reason ``service shutdown``)."""
        for hub in self.hubs.values():
            for conn in list(hub.connections.values()):
                hub.close_connection(conn, "service shutdown")
        for hub in self.hubs.values():
            await hub.drain()

    async def shutdown(self) -> None:
        await self.close_all()
        await self.upstream.aclose()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "lifespan":
            await self._lifespan(receive, send)
            return
        path: str = scope["path"]
        if path.startswith(CLIENT_PREFIX):
            name, _, rest = path[len(CLIENT_PREFIX) :].partition("/")
            hub = self.hub(name) if rest == "" else None
            if hub is not None:
                try:
                    await hub.eio.handle_request(scope, receive, send)
                except Exception as exc:  # engineio raises on some malformed frames; only that client suffers
                    reason = f"invalid Engine.IO frame ({type(exc).__name__}: {exc})"
                    log.warning("hub %s: %s", name, reason)
                    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
                    connection_id = scope.get("emulator.connection_id") or (query.get("sid") or [None])[0]
                    if connection_id:
                        await hub.abandon(connection_id, reason)
                return
            await self._not_found(
                scope,
                send,
                f"Unknown hub {name!r}: configure it with --hub {name}."
                if rest == ""
                else f"No client endpoint at {path}.",
            )
            return
        if kind != "http":
            await self._not_found(scope, send, f"No websocket endpoint at {path}.")
            return
        if path == "/api" or path.startswith("/api/"):
            await self.rest(scope, receive, send)
        elif path.startswith(HUB_SETTINGS_PREFIX):
            await handle_hub_settings(self, scope, receive, send)
        elif path in ("/inspector", "/inspector/"):
            await _plain(send, 200, INSPECTOR_HTML.encode(), b"text/html; charset=utf-8")
        elif path == "/inspector/api":
            await _plain(send, 200, json.dumps(inspector_data(self)).encode(), b"application/json")
        elif path == "/":
            body = {
                "service": "Web PubSub for Socket.IO emulator",
                "endpoint": self.endpoint(),
                "clients": CLIENT_PREFIX + "{hub}",
                "inspector": "/inspector",
                "hubs": sorted(self.hubs),
            }
            await _plain(send, 200, json.dumps(body).encode(), b"application/json")
        else:
            await self._not_found(
                scope,
                send,
                f"No route {path}. Clients connect at {CLIENT_PREFIX}<hub>; REST is under /api; see /inspector.",
            )

    async def _not_found(self, scope: Scope, send: Send, message: str) -> None:
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 4404, "reason": message[:120]})
            return
        body = json.dumps({"code": "NotFound", "message": message}).encode()
        await _plain(send, 404, body, b"application/json", [(b"x-ms-error-code", b"NotFound")])

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                try:
                    await self.shutdown()
                finally:
                    await send({"type": "lifespan.shutdown.complete"})
                return


async def _plain(
    send: Send, status: int, body: bytes, content_type: bytes, extra: list[tuple[bytes, bytes]] | None = None
) -> None:
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode()), *(extra or [])]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
