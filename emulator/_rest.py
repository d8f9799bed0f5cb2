"""Data-plane REST API (docs/protocol.md#rest-api, docs/protocol.md#actions-to-rest-calls): what
``azure-messaging-webpubsubservice`` sends."""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, quote, unquote

from ._auth import TokenError, audience_bases, make_client_token, validate_rest_token
from ._hub import Connection, Hub
from ._odata import Filter, FilterError, parse_filter
from ._packets import BINARY_REFUSAL, EVENT, PacketRefused, is_binary, parse_sio
from ._types import BodyTooLarge, Receive, Scope, Send, read_body

if TYPE_CHECKING:
    from ._app import EmulatorApp

log = logging.getLogger("emulator.rest")


class RestError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class _Request:
    def __init__(self, scope: Scope, body: bytes) -> None:
        self.method: str = scope["method"]
        raw = scope.get("raw_path") or scope["path"].encode()
        self.raw_path = raw.decode("latin-1").split("?", 1)[0]
        self.segments = [unquote(s) for s in self.raw_path.split("/")[2:]]  # after "/api"
        self.query = parse_qs(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        self.headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        self.body = body

    def arg(self, name: str) -> str | None:
        for key, values in self.query.items():
            if key.lower() == name.lower():
                return values[0]
        return None

    def args(self, name: str) -> list[str]:
        return [v for key, values in self.query.items() if key.lower() == name.lower() for v in values]


async def _respond(
    send: Send, status: int, body: Any = None, *, head: bool = False, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    payload = b"" if body is None else json.dumps(body).encode()
    out = list(headers or [])
    if body is not None:
        out.append((b"content-type", b"application/json; charset=utf-8"))
    out.append((b"content-length", b"0" if head else str(len(payload)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": out})
    await send({"type": "http.response.body", "body": b"" if head else payload})


class RestApi:
    """Routes ``/api/...`` by path segments (group names may hold any character, so no route templates)."""

    def __init__(self, app: EmulatorApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        head = scope["method"] == "HEAD"
        try:
            try:
                body = await read_body(receive, self.app.config.max_payload)
            except BodyTooLarge as exc:
                raise RestError(413, "PayloadTooLarge", f"The request body exceeds {exc.limit} bytes.") from exc
            request = _Request(scope, body)
            status, result, headers = await self._route(request)
        except RestError as exc:
            if exc.status >= 500:
                log.warning("REST %s %s -> %s %s", scope["method"], scope["path"], exc.status, exc.message)
            await _respond(
                send,
                exc.status,
                {"code": exc.code, "message": exc.message},
                head=head,
                headers=[(b"x-ms-error-code", exc.code.encode())],
            )
            return
        except Exception:
            log.exception("REST %s %s failed", scope["method"], scope["path"])
            await _respond(
                send,
                500,
                {"code": "InternalServerError", "message": "The emulator failed; see its log."},
                head=head,
                headers=[(b"x-ms-error-code", b"InternalServerError")],
            )
            return
        await _respond(send, status, result, head=head, headers=headers)

    def _authorize(self, request: _Request) -> None:
        auth = request.headers.get("authorization", "")
        if not auth.lower().startswith("bearer "):
            raise RestError(
                401,
                "Unauthorized",
                "Missing 'Authorization: Bearer <token>' (a JWT signed with an access key, aud = the request URL).",
            )
        bases = audience_bases(self.app.endpoint(), request.headers.get("host"))
        try:
            validate_rest_token(auth[7:].strip(), self.app.config.keys, bases, request.raw_path)
        except TokenError as exc:
            raise RestError(401, "Unauthorized", f"Invalid bearer token: {exc}.") from None

    def _hub(self, name: str) -> Hub:
        hub = self.app.hub(name)
        if hub is None:
            raise RestError(
                404,
                "HubNotFound",
                f"Hub {name!r} is not configured on this emulator (use --hub {name}, or allow hubs on demand).",
            )
        return hub

    async def _route(self, r: _Request) -> tuple[int, Any, list[tuple[bytes, bytes]] | None]:
        seg, m = r.segments, r.method
        if seg == ["health"] and m in ("HEAD", "GET"):
            return 200, None, None
        self._authorize(r)
        if len(seg) < 3 or seg[0] != "hubs":
            raise RestError(404, "NotFound", f"No such REST route: {m} {r.raw_path}.")
        hub = self._hub(seg[1])
        rest = seg[2:]
        match rest, m:
            case [":send"], "POST":
                return await self._send(hub, r, None, filtered=True)
            case ["groups", group, ":send"], "POST":
                return await self._send(hub, r, hub.in_group(group), filtered=True)
            case ["connections", conn_id, ":send"], "POST":
                conn = hub.connections.get(conn_id)
                return await self._send(hub, r, [conn] if conn else [], filtered=False)
            case ["users", user, ":send"], "POST":
                return await self._send(hub, r, hub.of_user(user), filtered=True)
            case [
                (":addToGroups" | ":removeFromGroups") as op,
            ], "POST":
                return self._groups_by_filter(hub, r, add=op == ":addToGroups")
            case [":closeConnections"], "POST":
                return self._close(hub, r, list(hub.connections.values()))
            case ["groups", group, ":closeConnections"], "POST":
                return self._close(hub, r, hub.in_group(group))
            case ["users", user, ":closeConnections"], "POST":
                return self._close(hub, r, hub.of_user(user))
            case [":generateToken"], "POST":
                return self._generate_token(hub, r)
            case [":invoke"], _:
                raise RestError(
                    501,
                    "NotImplemented",
                    ":invoke (server-to-client acks) is not available in serverless mode "
                    "(docs/protocol.md#api-versions-and-invoke).",
                )
            case ["groups", group], "HEAD":
                return (200 if hub.in_group(group) else 404), None, None
            case ["users", user], "HEAD":
                return (200 if hub.of_user(user) else 404), None, None
            case ["connections", conn_id], "HEAD":
                return (200 if conn_id in hub.connections else 404), None, None
            case ["connections", conn_id], "DELETE":
                conn = hub.connections.get(conn_id)
                if conn is not None:
                    hub.close_connection(conn, r.arg("reason") or "")
                return 204, None, None
            case ["groups", group, "connections"], "GET":
                return self._list_group(hub, r, group)
            case ["groups", group, "connections", conn_id], "PUT" | "DELETE":
                conn = hub.connections.get(conn_id)
                if conn is None:
                    if m == "DELETE":
                        return 204, None, None
                    raise RestError(404, "NotFound", f"Connection {conn_id!r} is not connected to hub {hub.name!r}.")
                if m == "PUT":
                    hub.add_to_group(conn, group)
                    return 200, {}, None
                hub.remove_from_group(conn, group)
                return 204, None, None
            case ["connections", conn_id, "groups"], "DELETE":
                conn = hub.connections.get(conn_id)
                for group in list(conn.groups) if conn else []:
                    hub.remove_from_group(conn, group)  # type: ignore[arg-type]
                return 204, None, None
            case ["users", user, "groups", group], "PUT" | "DELETE":
                if m == "PUT":
                    hub.user_groups.setdefault(user, set()).add(group)
                else:
                    hub.user_groups.get(user, set()).discard(group)
                for conn in hub.of_user(user):
                    (hub.add_to_group if m == "PUT" else hub.remove_from_group)(conn, group)
                return (200, {}, None) if m == "PUT" else (204, None, None)
            case ["users", user, "groups"], "DELETE":
                hub.user_groups.pop(user, None)
                for conn in hub.of_user(user):
                    for group in list(conn.groups):
                        hub.remove_from_group(conn, group)
                return 204, None, None
            case ["permissions", *_], _:
                raise RestError(
                    501,
                    "NotImplemented",
                    "Permissions are not modelled: Socket.IO clients cannot join groups themselves.",
                )
        raise RestError(404, "NotFound", f"No such REST route: {m} {r.raw_path}.")

    @staticmethod
    def _parse_filter(text: str | None) -> Filter | None:
        try:
            return parse_filter(text)
        except FilterError as exc:
            raise RestError(400, "InvalidFilter", str(exc)) from None

    @staticmethod
    def _select(hub: Hub, parsed: Filter | None, targets: list[Connection] | None) -> list[Connection]:
        """``targets`` (None: every connection of the hub) that pass the filter. A membership filter on all
        connections reads the group index, so its cost follows the members, not the hub's size."""
        if targets is None:
            if parsed is not None and parsed.any_of_groups is not None:
                return hub.in_any_group(parsed.any_of_groups)
            targets = list(hub.connections.values())
        if parsed is None:
            return targets
        matches = parsed.matches
        return [c for c in targets if matches(c.subject())]

    def _filtered(self, hub: Hub, r: _Request, targets: list[Connection] | None) -> list[Connection]:
        selected = self._select(hub, self._parse_filter(r.arg("filter")), targets)
        excluded = r.args("excluded")
        if excluded:
            skip = set(excluded)
            selected = [c for c in selected if c.connection_id not in skip]
        return selected

    async def _send(
        self, hub: Hub, r: _Request, targets: list[Connection] | None, *, filtered: bool
    ) -> tuple[int, Any, Any]:
        media = r.headers.get("content-type", "text/plain").split(";")[0].strip().lower()
        if media == "application/octet-stream":
            raise RestError(400, "BinaryNotSupported", f"{BINARY_REFUSAL}; send the Socket.IO packet as text/plain.")
        if media not in ("text/plain", "application/json"):
            raise RestError(415, "UnsupportedMediaType", f"Content-Type {media!r} is not supported; use text/plain.")
        try:
            text = r.body.decode("utf-8")
        except UnicodeDecodeError:
            raise RestError(400, "InvalidMessage", "The message body is not UTF-8 text.") from None
        if not text.startswith("4"):
            raise RestError(
                400,
                "InvalidMessage",
                "The message must be one Engine.IO message packet holding a "
                f'Socket.IO packet, such as 42["event",1]; got {text[:20]!r}.',
            )
        text = text[1:]  # the Engine.IO ``4``: engineio adds it again when sending
        try:
            pkt = parse_sio(text)
        except PacketRefused as exc:
            raise RestError(
                400,
                "InvalidMessage",
                f'The message must be one Engine.IO packet holding a Socket.IO packet, such as 42["event",1]: {exc}.',
            ) from None
        if is_binary(pkt):
            raise RestError(400, "BinaryNotSupported", f"{BINARY_REFUSAL}.")
        if pkt.packet_type == EVENT and not (isinstance(pkt.data, list) and pkt.data and isinstance(pkt.data[0], str)):
            # Clients fail on such a packet (python-socketio raises IndexError in its reader): refuse it here.
            raise RestError(
                400,
                "InvalidMessage",
                f'An EVENT packet\'s data must be a JSON array starting with the event name, such as 42["event",1]; '
                f"got {text[:40]!r}.",
            )
        if filtered or targets is None:
            targets = self._filtered(hub, r, targets)
        await hub.deliver(targets, text, pkt)
        return 202, None, None

    def _groups_by_filter(self, hub: Hub, r: _Request, *, add: bool) -> tuple[int, Any, Any]:
        try:
            body = json.loads(r.body or b"null")
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise RestError(400, "InvalidJson", f"The body is not JSON: {exc}.") from None
        if not isinstance(body, dict):
            raise RestError(400, "InvalidJson", 'The body must be {"groups": [...], "filter": "..."}.')
        groups, text = body.get("groups"), body.get("filter")
        if not isinstance(groups, list) or not all(isinstance(g, str) and g.strip() for g in groups):
            raise RestError(400, "InvalidGroups", "'groups' must be an array of non-empty group names.")
        if any(len(g) > 1024 for g in groups):
            raise RestError(400, "InvalidGroups", "A group name is longer than 1024 characters.")
        if text is not None and not isinstance(text, str):
            raise RestError(400, "InvalidFilter", "'filter' must be a string.")
        change = hub.add_to_group if add else hub.remove_from_group
        for conn in self._select(hub, self._parse_filter(text), None):
            for group in groups:
                change(conn, group)
        return 200, {}, None

    def _close(self, hub: Hub, r: _Request, targets: list[Connection]) -> tuple[int, Any, Any]:
        excluded = set(r.args("excluded"))
        for conn in targets:
            if conn.connection_id not in excluded:
                hub.close_connection(conn, r.arg("reason") or "")
        return 204, None, None

    def _list_group(self, hub: Hub, r: _Request, group: str) -> tuple[int, Any, Any]:
        members = sorted(hub.in_group(group), key=lambda c: c.connection_id)
        try:
            top = int(r.arg("top") or 0) or None
            page = int(r.arg("maxpagesize") or 0) or 200
            start = int(r.arg("continuationToken") or 0)
        except ValueError:
            raise RestError(
                400, "InvalidArgument", "top, maxpagesize and continuationToken must be integers."
            ) from None
        if not 1 <= page <= 200:
            raise RestError(400, "InvalidArgument", "maxpagesize must be in 1..200.")
        if top is not None:
            members = members[:top]
        chunk = members[start : start + page]
        next_link = None
        if start + page < len(members):
            next_link = (
                f"/api/hubs/{quote(hub.name)}/groups/{quote(group, safe='~')}/connections?"
                f"api-version={r.arg('api-version') or '2024-12-01'}&maxpagesize={page}"
                f"&continuationToken={start + page}" + (f"&top={top}" if top else "")
            )
        value = [{"connectionId": c.connection_id, "userId": c.user_id} for c in chunk]
        return 200, {"value": value, "nextLink": next_link}, None

    def _generate_token(self, hub: Hub, r: _Request) -> tuple[int, Any, Any]:
        try:
            minutes = int(r.arg("minutesToExpire") or 60)
        except ValueError:
            raise RestError(400, "InvalidArgument", "minutesToExpire must be an integer.") from None
        token = make_client_token(
            self.app.config.primary_key,
            self.app.endpoint(),
            hub.name,
            user_id=r.arg("userId"),
            roles=r.args("role"),
            groups=r.args("group"),
            minutes=minutes,
        )
        return 200, {"token": token}, None
