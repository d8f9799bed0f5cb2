"""The front of several dev host instances: an ASGI reverse proxy, as Azure's front end is for a scaled-out app.

Each request (webhook or HTTP trigger) goes to one live instance picked at random: no affinity, no sticky
sessions, as in Azure, where consecutive webhooks of one client may reach different instances. Random rather
than round robin: a strict rotation aliases with periodic traffic (negotiate + connect + event per client would
put every client's event on the same instance) and would hide exactly the module-global state this mode is for.

A request that could not be delivered (the instance refused the connection: it just died) goes to another
instance, since nothing reached the dead one. A request that was in flight when its instance died gets 502, as
a crashed host behind Azure's front end does; the service then treats the webhook as failed (docs/emulator.md).
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import aiohttp

log = logging.getLogger("devhost.front")

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

INSTANCES_ROUTE = "/admin/instances"
# Azure's front end gives up on a request after 230 s; the function timeout normally ends it sooner.
REQUEST_TIMEOUT = 230.0
# How long a request waits for a live instance while all are (re)starting.
NO_INSTANCE_WAIT = 15.0
_HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-connection",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
        b"content-length",
    }
)


class Backend(Protocol):
    """One instance as the front sees it."""

    @property
    def pid(self) -> int: ...
    @property
    def port(self) -> int: ...

    inflight: int
    served: int


class Pool(Protocol):
    """The live instances; :meth:`wait_changed` returns when the set changes (an instance started or died)."""

    def live(self) -> list[Backend]: ...
    async def wait_changed(self, timeout: float) -> None: ...
    def describe(self) -> list[dict[str, Any]]: ...


def pick(live: list[Backend], exclude: set[int]) -> Backend | None:
    """A random live instance not in ``exclude`` (PIDs)."""
    candidates = [b for b in live if b.pid not in exclude]
    return random.choice(candidates) if candidates else None


class Front:
    """The ASGI app. ``on_shutdown`` runs in the lifespan shutdown, before the server's process exits."""

    def __init__(self, pool: Pool, on_shutdown: Callable[[], Awaitable[None]] | None = None) -> None:
        self.pool = pool
        self.on_shutdown = on_shutdown
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            # keepalive_timeout below uvicorn's 5 s: the front never reuses a connection the instance is closing.
            connector = aiohttp.TCPConnector(limit=0, keepalive_timeout=3.0)
            self._session = aiohttp.ClientSession(
                connector=connector,
                timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT, sock_connect=5.0),
                auto_decompress=False,
                skip_auto_headers=("User-Agent", "Accept-Encoding", "Content-Type"),
                cookie_jar=aiohttp.DummyCookieJar(),
            )
            # aiohttp re-sends an idempotent request once when its pooled connection drops; the dead instance may
            # have run it already, and Azure's front end answers 502 there instead. (A test pins this.)
            if hasattr(self._session, "_retry_connection"):
                self._session._retry_connection = False
        return self._session

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http":
            if scope["path"] == INSTANCES_ROUTE and scope["method"] == "GET":
                body = json.dumps({"instances": self.pool.describe()}).encode()
                await _reply(send, 200, body, b"application/json")
            else:
                await self._proxy(scope, receive, send)
        else:  # the dev host serves no websockets
            await send({"type": "websocket.close", "code": 1000})

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self._session is not None:
                    await self._session.close()
                if self.on_shutdown is not None:
                    await self.on_shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _proxy(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = await _read_body(receive)
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"] if k not in _HOP_BY_HOP]
        client = scope.get("client")
        if client:
            headers.append(("X-Forwarded-For", str(client[0])))
        target = scope.get("raw_path") or scope["path"].encode()
        query = scope.get("query_string") or b""
        path = target.decode("latin-1") + (f"?{query.decode('latin-1')}" if query else "")
        refused: set[int] = set()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + NO_INSTANCE_WAIT
        while True:
            backend = pick(self.pool.live(), refused)
            if backend is None:
                if loop.time() >= deadline:
                    await _reply(send, 503, b"No dev host instance is running; see the dev host's log.\n")
                    return
                await self.pool.wait_changed(deadline - loop.time())
                refused.clear()
                continue
            backend.inflight += 1
            try:
                result = await self._forward(backend, scope["method"], path, headers, body)
            except aiohttp.ClientConnectorError:
                refused.add(backend.pid)  # nothing reached it: deliver to another instance
                continue
            except (aiohttp.ClientError, TimeoutError) as exc:
                reason = f"the dev host instance (PID {backend.pid}) failed during the request: {type(exc).__name__}"
                log.warning("%s %s -> 502: %s", scope["method"], scope["path"], reason)
                await _reply(send, 502, f"Bad Gateway: {reason}.\n".encode())
                return
            finally:
                backend.inflight -= 1
            backend.served += 1
            status, response_headers, content = result
            await send({"type": "http.response.start", "status": status, "headers": response_headers})
            await send({"type": "http.response.body", "body": content})
            return

    async def _forward(
        self, backend: Backend, method: str, path: str, headers: list[tuple[str, str]], body: bytes
    ) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        url = f"http://127.0.0.1:{backend.port}{path}"
        async with self._client().request(
            method, url, headers=headers, data=body or None, allow_redirects=False
        ) as response:
            content = await response.read()
            out = [(k.lower(), v) for k, v in response.raw_headers if k.lower() not in _HOP_BY_HOP]
            length = response.headers.get("Content-Length") if method == "HEAD" else str(len(content))
            if length is not None:
                out.append((b"content-length", length.encode()))
            return response.status, out, content


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    return b"".join(chunks)


async def _reply(send: Send, status: int, body: bytes, content_type: bytes = b"text/plain; charset=utf-8") -> None:
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
