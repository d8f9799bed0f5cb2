"""Offline stand-in for App Service Authentication (Easy Auth), on when the setting ``SIOLESS_DEV_AUTH=1``.

What App Service does while its Authentication is on, and what this module does the same way:

- every ``x-ms-client-principal*`` / ``x-ms-token-*`` header a client sends is removed before the app sees the
  request, and a signed-in caller's principal is put in ``x-ms-client-principal-id``, ``-name``, ``-idp`` and
  ``x-ms-client-principal`` (base64 JSON ``{auth_typ, claims: [{typ, val}], name_typ, role_typ}``);
- the app gets ``WEBSITE_AUTH_ENABLED=True``;
- ``/.auth/login/<provider>`` signs in (here: a form, or ``?user_id=…&name=…`` at once, no password: it is a
  local tool), ``/.auth/logout`` signs out, ``/.auth/me`` tells the page who is signed in.

The session is a cookie signed with a key derived from the app's Web PubSub connection string, so every dev
host instance (and a restarted one) accepts it. Off by default; infra/ never sets it (docs/identity.md).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
import os
from collections.abc import Awaitable, Callable, MutableMapping
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs

from shared.protocol.webhook import NAME_IDENTIFIER_CLAIM

from ._settings import Settings

DEV_AUTH_SETTING = "SIOLESS_DEV_AUTH"
AUTH_ENABLED_SETTING = "WEBSITE_AUTH_ENABLED"
COOKIE = "sioless_dev_auth"
PROVIDER = "dev"
_STRIPPED = (b"x-ms-client-principal", b"x-ms-token-")
_MAX_FIELD = 256

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def enabled(settings: Settings) -> bool:
    return (settings.get(DEV_AUTH_SETTING) or "").strip().lower() in ("1", "true", "yes")


def configure(settings: Settings) -> bool:
    """Before the app loads: with dev auth on, the app sees ``WEBSITE_AUTH_ENABLED=True`` as on App Service."""
    if not enabled(settings):
        return False
    settings.values[AUTH_ENABLED_SETTING] = "True"
    return True


def wrap(app: ASGIApp, settings: Settings) -> ASGIApp:
    """``app`` behind the Easy Auth stand-in when the setting is on, else ``app`` itself."""
    if not enabled(settings):
        return app
    secret = (settings.get("WebPubSubForSocketIOConnectionString") or "").encode() or os.urandom(32)
    return DevAuth(app, hashlib.sha256(b"sioless dev sign-in\0" + secret).digest())


def principal_headers(user_id: str, name: str) -> list[tuple[bytes, bytes]]:
    """The headers App Service adds for a signed-in caller."""
    claims = [
        {"typ": NAME_IDENTIFIER_CLAIM, "val": user_id},
        {"typ": "name", "val": name},
    ]
    principal = {"auth_typ": PROVIDER, "claims": claims, "name_typ": "name", "role_typ": "roles"}
    encoded = base64.b64encode(json.dumps(principal).encode()).decode()
    return [
        (b"x-ms-client-principal-id", user_id.encode()),
        (b"x-ms-client-principal-name", name.encode()),
        (b"x-ms-client-principal-idp", PROVIDER.encode()),
        (b"x-ms-client-principal", encoded.encode()),
    ]


class DevAuth:
    def __init__(self, app: ASGIApp, key: bytes) -> None:
        self.app = app
        self.key = key

    # -- the signed cookie ------------------------------------------------------------------------------------

    def _sign(self, payload: bytes) -> str:
        mac = hmac.new(self.key, payload, hashlib.sha256).digest()
        return f"{base64.urlsafe_b64encode(payload).decode()}.{base64.urlsafe_b64encode(mac).decode()}"

    def _session(self, headers: list[tuple[bytes, bytes]]) -> tuple[str, str] | None:
        for name, value in headers:
            if name != b"cookie":
                continue
            morsel = SimpleCookie(value.decode("latin-1")).get(COOKIE)
            if morsel is None:
                continue
            try:
                data_b64, mac_b64 = morsel.value.split(".", 1)
                payload = base64.urlsafe_b64decode(data_b64)
                expected = hmac.new(self.key, payload, hashlib.sha256).digest()
                if not hmac.compare_digest(expected, base64.urlsafe_b64decode(mac_b64)):
                    return None
                data = json.loads(payload)
                return str(data["id"]), str(data["name"])
            except (ValueError, KeyError, TypeError):
                return None
        return None

    # -- ASGI -------------------------------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        raw_headers = list(scope.get("headers", []))
        session = self._session(raw_headers)
        if path.startswith("/.auth/"):
            await self._auth_route(path, scope, session, send)
            return
        headers = [(k, v) for k, v in raw_headers if not k.lower().startswith(_STRIPPED)]
        if session is not None:
            headers += principal_headers(*session)
        await self.app(dict(scope, headers=headers), receive, send)

    async def _auth_route(self, path: str, scope: Scope, session: tuple[str, str] | None, send: Send) -> None:
        query = {k: v[0] for k, v in parse_qs(scope.get("query_string", b"").decode("latin-1")).items()}
        if path == "/.auth/me":
            if session is None:
                await _respond(send, 401, b"[]", "application/json")
                return
            user_id, name = session
            claims = [{"typ": "name", "val": name}]
            body = [{"provider_name": PROVIDER, "user_id": user_id, "user_claims": claims}]
            await _respond(send, 200, json.dumps(body).encode(), "application/json")
            return
        if path == "/.auth/logout":
            target = _local(query.get("post_logout_redirect_uri"))
            await _redirect(send, target, f"{COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax")
            return
        if path.startswith("/.auth/login/"):
            target = _local(query.get("post_login_redirect_uri") or query.get("post_login_redirect_url"))
            user_id = (query.get("user_id") or "").strip()
            if not user_id:
                await _respond(send, 200, _form(path, target).encode(), "text/html; charset=utf-8")
                return
            name = (query.get("name") or "").strip() or user_id
            if len(user_id) > _MAX_FIELD or len(name) > _MAX_FIELD:
                await _respond(send, 400, f"user_id and name: at most {_MAX_FIELD} characters".encode(), "text/plain")
                return
            cookie = self._sign(json.dumps({"id": user_id, "name": name}).encode())
            await _redirect(send, target, f"{COOKIE}={cookie}; Path=/; HttpOnly; SameSite=Lax")
            return
        await _respond(send, 404, b"unknown /.auth/ route", "text/plain")


def _local(target: str | None) -> str:
    """Only same-site paths: an open redirect would be a bug even offline."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


def _form(path: str, target: str) -> str:
    return (
        "<!doctype html><title>Dev sign-in</title><h1>Dev sign-in (offline stand-in for App Service "
        "Authentication)</h1>"
        f'<form method="get" action="{html.escape(path)}">'
        f'<input type="hidden" name="post_login_redirect_uri" value="{html.escape(target)}">'
        '<label>User id <input name="user_id" required></label> '
        '<label>Display name <input name="name"></label> <button>Sign in</button></form>'
    )


async def _respond(send: Send, status: int, body: bytes, content_type: str) -> None:
    headers = [(b"content-type", content_type.encode()), (b"cache-control", b"no-store")]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _redirect(send: Send, target: str, cookie: str) -> None:
    headers = [(b"location", target.encode()), (b"set-cookie", cookie.encode()), (b"cache-control", b"no-store")]
    await send({"type": "http.response.start", "status": 302, "headers": headers})
    await send({"type": "http.response.body", "body": b""})
