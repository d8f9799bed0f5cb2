"""One hub: Engine.IO transport (python-engineio), Socket.IO packets (python-socketio's packet module), the
socket/room state as Web PubSub groups (docs/protocol.md#group-names), and the upstream calls each packet causes
(docs/protocol.md#webhooks, docs/protocol.md#unknowns-and-our-choices)."""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import engineio
from engineio import packet as eio_packet

from shared.protocol import group_name, parse_group_name, webhook

from ._auth import TokenError, audience_bases, claims_as_lists, validate_client_token
from ._config import EmulatorConfig, HubSettings
from ._frames import install as install_frame_writers
from ._frames import text_frame
from ._odata import Subject
from ._packets import (
    BINARY_REFUSAL,
    CONNECT,
    DISCONNECT,
    EVENT,
    PACKET_NAMES,
    Packet,
    PacketRefused,
    connect_ack,
    connect_error,
    disconnect,
    is_binary,
    parse_sio,
)
from ._upstream import Upstream

log = logging.getLogger("emulator.hub")

# Packets held per connection while its webhook is in flight (one at a time, FIFO).
MAX_PENDING_PACKETS = 1000
_REASONS = {engineio.AsyncServer.reason.CLIENT_DISCONNECT: ""}


class _EngineServer(engineio.AsyncServer):
    """engineio's ``disconnect`` waits until the client drained its queue; a polling client that never polls
    again (or sent an unknown packet type) would hang that request forever. Close without waiting instead.
    ``frame_writers``: per session id, the websocket a fan-out may write a pre-built frame to (emulator/_frames.py)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.frame_writers = install_frame_writers(self)

    async def disconnect(self, sid: str | None = None) -> None:
        if sid is None:
            await super().disconnect()
            return
        socket = self.sockets.get(sid)
        if socket is not None:
            await socket.close(wait=False, reason=self.reason.SERVER_DISCONNECT)
            if socket.upgraded:
                # after the CLOSE packet, end the websocket writer so the server closes the websocket itself
                # instead of waiting for a (misbehaving) client to do it
                await socket.queue.put(None)
            self.sockets.pop(sid, None)


@dataclass
class Socket:
    socket_id: str
    namespace: str
    connected_at: float = field(default_factory=time.time)


@dataclass
class Connection:
    connection_id: str
    user_id: str | None
    claims: dict[str, list[str]]
    query: dict[str, list[str]]
    headers: dict[str, list[str]]
    connected_at: float = field(default_factory=time.time)
    sockets: dict[str, Socket] = field(default_factory=dict)
    groups: set[str] = field(default_factory=set)
    queue: asyncio.Queue[str | bytes | None] = field(default_factory=asyncio.Queue)
    worker: asyncio.Task[None] | None = None
    notify_tail: asyncio.Task[None] | None = None
    closed: bool = False
    close_reason: str | None = None
    # What filters see: built once (its ``groups`` is this connection's live set), not per filter evaluation.
    _subject: Subject = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._subject = Subject(self.connection_id, self.user_id, self.groups)

    def subject(self) -> Subject:
        return self._subject


class Hub:
    """State and behaviour of one hub. ``endpoint`` is read lazily: it is known only once the port is bound."""

    def __init__(
        self, settings: HubSettings, config: EmulatorConfig, upstream: Upstream, endpoint: Callable[[], str]
    ) -> None:
        self.settings = settings
        self.name = settings.name
        self._config = config
        self._upstream = upstream
        self._endpoint = endpoint
        self.connections: dict[str, Connection] = {}
        self.groups: dict[str, set[str]] = {}
        # user id -> its connection ids, so user routes do not scan every connection
        self.users: dict[str, set[str]] = {}
        # Groups a user was added to: in Web PubSub they apply to the user's future connections as well.
        self.user_groups: dict[str, set[str]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        # Packets of deliver() written as a pre-built frame instead of through engineio's writer (tests read it).
        self.direct_frames = 0
        # async_handlers=False: "message" only enqueues, so packets keep their order; the per-connection worker
        # does the slow part (one webhook in flight per connection, FIFO; docs/protocol.md#failed-user-events).
        self.eio = _EngineServer(
            async_mode="asgi",
            cors_allowed_origins="*",
            async_handlers=False,
            logger=False,
            ping_interval=config.ping_interval,
            ping_timeout=config.ping_timeout,
            max_http_buffer_size=config.max_payload,
        )
        self.eio.on("connect", self._on_eio_connect)
        self.eio.on("message", self._on_eio_message)
        self.eio.on("disconnect", self._on_eio_disconnect)

    # ----------------------------------------------------------------- Engine.IO events
    async def _on_eio_connect(self, sid: str, environ: dict[str, Any]) -> bool | str:
        scope = environ.get("asgi.scope", {})
        query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        headers: dict[str, list[str]] = {}
        for raw_name, raw_value in scope.get("headers", []):
            headers.setdefault(raw_name.decode("latin-1"), []).append(raw_value.decode("latin-1"))
        token = (query.get("access_token") or [""])[0]
        auth = (headers.get("authorization") or [""])[0]
        if not token and auth.lower().startswith("bearer "):
            token = auth[7:].strip()
        claims: dict[str, Any] = {}
        if token or not self.settings.allow_anonymous:
            host = headers.get("host")
            bases = audience_bases(self._endpoint(), host[0] if host else None)
            try:
                claims = validate_client_token(token, self._config.keys, self.name, bases)
            except TokenError as exc:
                if not self.settings.allow_anonymous:
                    log.warning("hub %s: refused a client: %s", self.name, exc)
                    hint = "" if token else " (pass ?access_token=<token> from negotiate, or allow anonymous clients)"
                    return f"Unauthorized: {exc}{hint}."
                claims = {}
        query.pop("access_token", None)
        headers.pop("authorization", None)
        # Lets the app find this connection if engineio raises on a malformed frame (see EmulatorApp).
        scope["emulator.connection_id"] = sid
        sub = claims.get("sub")
        conn = Connection(
            connection_id=sid,
            user_id=sub if isinstance(sub, str) and sub else None,
            claims=claims_as_lists(claims, self._config.claims_naming),
            query=query,
            headers=headers,
        )
        conn.worker = asyncio.create_task(self._worker(conn), name=f"emulator-conn-{sid}")
        self.connections[sid] = conn
        if conn.user_id is not None:
            self.users.setdefault(conn.user_id, set()).add(sid)
        for group in self.user_groups.get(conn.user_id or "", ()):
            self._join(conn, group)
        log.info("hub %s: connection %s opened (user %s)", self.name, sid, conn.user_id)
        return True

    async def _on_eio_message(self, sid: str, data: str | bytes) -> None:
        conn = self.connections.get(sid)
        if conn is None or conn.closed:
            return
        if conn.queue.qsize() >= MAX_PENDING_PACKETS:
            # the event handler is slower than this client emits; a blocking service would not read on
            self.close_connection(conn, f"too many pending packets (more than {MAX_PENDING_PACKETS})")
            return
        conn.queue.put_nowait(data)

    async def _on_eio_disconnect(self, sid: str, reason: str) -> None:
        conn = self.connections.pop(sid, None)
        if conn is None or conn.closed:
            return
        conn.closed = True
        if conn.user_id is not None:
            same_user = self.users.get(conn.user_id)
            if same_user is not None:
                same_user.discard(sid)
                if not same_user:
                    del self.users[conn.user_id]
        # Sockets the client left just before closing (``41`` packets still queued) left normally.
        while not conn.queue.empty():
            item = conn.queue.get_nowait()
            if isinstance(item, str) and item.startswith("1"):
                try:
                    pkt = parse_sio(item)
                except PacketRefused:
                    continue
                await self._drop_socket(conn, pkt.namespace, "", tell_client=False)
        text = conn.close_reason if conn.close_reason is not None else _REASONS.get(reason, reason)
        if reason == engineio.AsyncServer.reason.SERVER_DISCONNECT and conn.close_reason is None:
            text = ""
        for namespace in list(conn.sockets):
            await self._drop_socket(conn, namespace, text, tell_client=False)
        for group in list(conn.groups):
            self._leave(conn, group)
        conn.queue.put_nowait(None)
        log.info("hub %s: connection %s closed (%s)", self.name, sid, text or "normal")

    # ----------------------------------------------------------------- per-connection worker
    async def _worker(self, conn: Connection) -> None:
        while not conn.closed:
            item = await conn.queue.get()
            if item is None or conn.closed:
                return
            try:
                await self._handle(conn, item)
            except Exception:  # a bug here must cost one connection, never the emulator
                log.exception("hub %s: internal error on connection %s", self.name, conn.connection_id)
                self.close_connection(conn, "internal error")

    async def _handle(self, conn: Connection, data: str | bytes) -> None:
        if isinstance(data, bytes):
            log.warning(
                "hub %s: closing %s: %s (binary Engine.IO frame)", self.name, conn.connection_id, BINARY_REFUSAL
            )
            self.close_connection(conn, BINARY_REFUSAL)
            return
        try:
            pkt = parse_sio(data)
        except PacketRefused as exc:
            log.warning("hub %s: closing %s: %s: %.80r", self.name, conn.connection_id, exc, data)
            self.close_connection(conn, f"invalid packet: {exc}")
            return
        if is_binary(pkt):
            await self._refuse_binary(conn, pkt.namespace)
        elif pkt.packet_type == CONNECT:
            await self._connect_namespace(conn, pkt.namespace)
        elif pkt.packet_type == DISCONNECT:
            await self._drop_socket(conn, pkt.namespace, "", tell_client=False)
        elif pkt.packet_type == EVENT:
            await self._user_event(conn, pkt, data)
        else:
            # ACK: server-to-client acks do not exist in serverless (docs/protocol.md#limits-of-serverless-mode);
            # CONNECT_ERROR is server-only.
            log.info("hub %s: ignored %s packet from %s", self.name, PACKET_NAMES[pkt.packet_type], conn.connection_id)

    async def _refuse_binary(self, conn: Connection, namespace: str) -> None:
        """A BINARY_EVENT/ACK: tell the client why (CONNECT_ERROR with the reason), then drop that socket."""
        log.warning(
            "hub %s: refusing a binary packet from %s on %s: %s",
            self.name,
            conn.connection_id,
            namespace,
            BINARY_REFUSAL,
        )
        await self._send(
            conn,
            connect_error(namespace, BINARY_REFUSAL),
        )
        await self._drop_socket(conn, namespace, BINARY_REFUSAL, tell_client=False)

    # ----------------------------------------------------------------- namespaces
    async def _connect_namespace(self, conn: Connection, namespace: str) -> None:
        if namespace in conn.sockets:
            log.info("hub %s: %s is already connected to %s", self.name, conn.connection_id, namespace)
            return
        sock = Socket(socket_id=secrets.token_urlsafe(15), namespace=namespace)
        if self.settings.wants_system_event("connect"):
            values: dict[str, Any] = {"claims": conn.claims, "query": conn.query, "headers": conn.headers}
            body = {key: values.get(key, []) for key in webhook.CONNECT_BODY_KEYS}  # all five, always
            result = await self._call(
                "connect", conn, sock, json.dumps(body).encode(), "application/json; charset=utf-8"
            )
            if not result.ok:
                message = f"Connect refused: {result.error}."
                await self._send(
                    conn,
                    connect_error(namespace, message),
                )
                return
            if result.body.strip():
                log.warning(
                    "hub %s: ignoring the connect response body (docs/protocol.md#connect-response-body)", self.name
                )
        if conn.closed:
            # accepted, but the connection went away meanwhile: an accepted socket always gets its
            # ``disconnected`` (generic Web PubSub: always after a 2xx connect; docs/protocol.md#refused-connect)
            if self.settings.wants_system_event("disconnected") and self.settings.wants_system_event("connect"):
                reason = json.dumps({webhook.DISCONNECTED_REASON: conn.close_reason or "transport close"}).encode()
                self._notify(conn, sock, "disconnected", reason)
            return
        conn.sockets[namespace] = sock
        self._join(conn, group_name(namespace))
        self._join(conn, group_name(namespace, sock.socket_id))
        await self._send(conn, connect_ack(namespace, sock.socket_id))
        if self.settings.wants_system_event("connected"):
            self._notify(conn, sock, "connected", b"{}")

    async def _drop_socket(self, conn: Connection, namespace: str, reason: str, *, tell_client: bool) -> None:
        sock = conn.sockets.pop(namespace, None)
        if sock is None:
            return
        for group in list(conn.groups):
            parsed = parse_group_name(group)
            if parsed is not None and parsed[0] == namespace:
                self._leave(conn, group)
        if tell_client:
            await self._send(conn, disconnect(namespace))
        if self.settings.wants_system_event("disconnected"):
            self._notify(conn, sock, "disconnected", json.dumps({webhook.DISCONNECTED_REASON: reason}).encode())

    # ----------------------------------------------------------------- user events
    async def _user_event(self, conn: Connection, pkt: Packet, raw: str) -> None:
        sock = conn.sockets.get(pkt.namespace)
        if sock is None:
            log.info(
                "hub %s: dropped an event for %s, which %s has not joined", self.name, pkt.namespace, conn.connection_id
            )
            return
        if not isinstance(pkt.data, list) or not pkt.data or not isinstance(pkt.data[0], str):
            self.close_connection(conn, "invalid packet: EVENT data must be a JSON array starting with the name")
            return
        event = pkt.data[0]
        if not self.settings.wants_user_event(event):
            await self._user_event_failed(conn, sock, f"no event handler is configured for event {event!r}")
            return
        result = await self._call("message", conn, sock, ("4" + raw).encode("utf-8"), "text/plain", event=event)
        if not result.ok:
            await self._user_event_failed(conn, sock, result.error or "event handler failed")
            return
        body = result.body
        if body:
            # The body is one Engine.IO packet (e.g. ``4313["ok"]``); engineio adds the ``4`` itself.
            await self._send(conn, body[1:] if body.startswith("4") else body)

    async def _user_event_failed(self, conn: Connection, sock: Socket, error: str) -> None:
        policy = self._config.user_event_failure
        log.warning("hub %s: user event from %s failed (%s); policy %s", self.name, conn.connection_id, error, policy)
        if policy == "close_connection":
            self.close_connection(conn, f"upstream failure: {error}")
        elif policy == "disconnect_socket":
            await self._drop_socket(conn, sock.namespace, f"upstream failure: {error}", tell_client=True)

    # ----------------------------------------------------------------- upstream plumbing
    async def _call(
        self, kind: str, conn: Connection, sock: Socket, body: bytes, content_type: str, event: str | None = None
    ) -> Any:
        url = self.settings.upstream_url(event or kind)
        assert url is not None
        return await self._upstream.call(
            url,
            hub=self.name,
            kind=kind,
            event_name=event or kind,
            connection_id=conn.connection_id,
            namespace=sock.namespace,
            socket_id=sock.socket_id,
            user_id=conn.user_id,
            body=body,
            content_type=content_type,
        )

    def _notify(self, conn: Connection, sock: Socket, kind: str, body: bytes) -> None:
        """Non-blocking system event, kept in order per connection (connected before disconnected)."""
        previous = conn.notify_tail

        async def run() -> None:
            if previous is not None:
                await asyncio.wait([previous])
            await self._call(kind, conn, sock, body, "application/json; charset=utf-8")

        conn.notify_tail = self._spawn(run())

    def _spawn(self, coro: Any) -> asyncio.Task[Any]:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def drain(self) -> None:
        """Wait for pending notifications (used at shutdown)."""
        while self._tasks:
            await asyncio.wait(list(self._tasks), timeout=self._config.upstream_timeout)

    # ----------------------------------------------------------------- transport helpers
    async def _send(self, conn: Connection, text: str) -> None:
        if conn.connection_id in self.eio.sockets:
            try:
                await self.eio.send(conn.connection_id, text)
            except Exception as exc:  # the transport went away in between
                log.info("hub %s: could not send to %s: %s", self.name, conn.connection_id, exc)

    def close_connection(self, conn: Connection, reason: str) -> None:
        """Close the Engine.IO connection; the disconnect handler fires ``disconnected`` for each socket."""
        if conn.closed:
            return
        conn.close_reason = reason
        self._spawn(self.eio.disconnect(conn.connection_id))

    async def abandon(self, connection_id: str, reason: str) -> None:
        """Forget a connection whose transport failed inside engineio (a malformed frame raised there)."""
        conn = self.connections.get(connection_id)
        if conn is not None:
            conn.close_reason = reason
            await self.eio.disconnect(connection_id)
            if not conn.closed:  # engineio had already dropped the socket: tear down ourselves
                await self._on_eio_disconnect(connection_id, reason)

    def transport(self, conn: Connection) -> str:
        sock = self.eio.sockets.get(conn.connection_id)
        return "websocket" if sock is not None and sock.upgraded else "polling"

    # ----------------------------------------------------------------- groups (REST and Socket.IO rooms)
    def _join(self, conn: Connection, group: str) -> None:
        self.groups.setdefault(group, set()).add(conn.connection_id)
        conn.groups.add(group)

    def _leave(self, conn: Connection, group: str) -> None:
        members = self.groups.get(group)
        if members is not None:
            members.discard(conn.connection_id)
            if not members:
                del self.groups[group]
        conn.groups.discard(group)

    def add_to_group(self, conn: Connection, group: str) -> None:
        self._join(conn, group)

    def remove_from_group(self, conn: Connection, group: str) -> None:
        self._leave(conn, group)

    def in_group(self, group: str) -> list[Connection]:
        connections = self.connections
        return [connections[c] for c in self.groups.get(group, ()) if c in connections]

    def in_any_group(self, groups: Iterable[str]) -> list[Connection]:
        """Members of any of ``groups``, each once (from the group index: no scan of all connections)."""
        ids: set[str] = set()
        for group in groups:
            ids.update(self.groups.get(group, ()))
        connections = self.connections
        return [connections[c] for c in ids if c in connections]

    def of_user(self, user_id: str) -> list[Connection]:
        connections = self.connections
        return [connections[c] for c in self.users.get(user_id, ()) if c in connections]

    async def deliver(self, targets: Iterable[Connection], text: str, pkt: Packet) -> int:
        """Send one Socket.IO packet (parsed; ``text`` lacks the Engine.IO ``4``) to connections.

        A DISCONNECT tears the targeted sockets
        down (docs/protocol.md#disconnects-through-rest): ``41[ns,]`` without payload goes to the client, groups are
        left,
        ``disconnected`` fires; ``{"close":true}`` closes the Engine.IO connection too."""
        count = 0
        if pkt.packet_type == DISCONNECT:
            close = isinstance(pkt.data, dict) and pkt.data.get("close") is True
            for conn in list(targets):
                if pkt.namespace in conn.sockets:
                    count += 1
                    await self._drop_socket(conn, pkt.namespace, "", tell_client=True)
                    if close:
                        self.close_connection(conn, "")
            return count
        # One Engine.IO packet for every target (it caches its encoding), and one websocket frame of it: a websocket
        # whose engineio writer has nothing pending gets the frame written directly; every other target gets the
        # packet on its writer's queue, behind what is already there (emulator/_frames.py, docs/performance.md).
        eio_pkt = eio_packet.Packet(eio_packet.MESSAGE, data=text)
        frame: bytes | None = None
        sockets = self.eio.sockets
        writers = self.eio.frame_writers
        now = time.time()
        ping_timeout = self.eio.ping_timeout
        direct = 0
        for conn in targets:
            if conn.closed:
                continue
            count += 1
            sid = conn.connection_id
            sock = sockets.get(sid)
            if sock is None:
                continue
            if sock.closed or (sock.last_ping and now - sock.last_ping > ping_timeout):
                await self._send(conn, text)  # engineio's own path drops or closes it
                continue
            if sock.upgraded and not sock.upgrading and not sock.closing and sock.queue.empty():
                writer = writers.get(sid)
                if writer is not None:
                    if frame is None:
                        frame = text_frame(eio_pkt.encode())
                    if writer.write_frame_nowait(frame):
                        direct += 1
                        continue
            sock.queue.put_nowait(eio_pkt)
        self.direct_frames += direct
        return count
