"""CORS the way ``func start`` applies ``Host.CORS`` / ``Host.CORSCredentials`` from ``local.settings.json``.

Core Tools splits ``Host.CORS`` on commas and hands the origins to ASP.NET Core's CORS middleware with any
header and any method allowed, plus credentials when ``Host.CORSCredentials`` is true (azure-functions-core-tools
``Startup.Configure``). What that middleware does, and so what this module does (docs/devhost.md#cors):

- a request without ``Origin`` is left alone;
- origins are compared exactly after lower-casing the configured ones; ``*`` alone allows any origin and is
  answered with ``Access-Control-Allow-Origin: *``, any other origin is echoed (with ``Vary: Origin`` when
  several are configured);
- a preflight (``OPTIONS`` with ``Origin`` and ``Access-Control-Request-Method``) is answered 204 by the
  middleware itself, allowing the requested method and headers; a function never sees it;
- ``*`` together with credentials is refused at start-up (ASP.NET Core throws "The CORS protocol does not
  allow specifying a wildcard (any) origin and credentials at the same time"), so the dev host refuses it too.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ._settings import SettingsError

__all__ = ["CorsMiddleware", "CorsPolicy"]

log = logging.getLogger("devhost")
ANY_ORIGIN = "*"


@dataclass(frozen=True)
class CorsPolicy:
    origins: tuple[str, ...]
    credentials: bool = False

    @classmethod
    def parse(cls, origins: str, credentials: bool = False) -> CorsPolicy | None:
        """The policy for a ``Host.CORS`` value, or None when it names no origin (CORS off, as in func)."""
        entries = [entry for entry in origins.split(",") if entry]
        for entry in entries:
            if entry != entry.strip():
                log.warning(
                    "Host.CORS entry %r has spaces around it; func start would never match it (list origins "
                    "without spaces). The dev host strips them.",
                    entry,
                )
        normalized = tuple(entry.strip().lower() for entry in entries if entry.strip())
        if not normalized:
            return None
        policy = cls(normalized, credentials)
        if policy.any_origin and credentials:
            raise SettingsError(
                "Host.CORS is '*' and Host.CORSCredentials is true: the CORS protocol does not allow a wildcard "
                "origin with credentials (func start refuses it too). List the origins, e.g. "
                '"CORS": "http://localhost:8080,https://app.example.com".'
            )
        return policy

    @property
    def any_origin(self) -> bool:
        return self.origins == (ANY_ORIGIN,)

    def allows(self, origin: str) -> bool:
        return self.any_origin or origin in self.origins

    def headers(self, origin: str, preflight: Headers | None = None) -> dict[str, str]:
        """The CORS response headers for an allowed ``origin``; ``preflight``: the preflight's request headers."""
        headers = {"access-control-allow-origin": ANY_ORIGIN if self.any_origin else origin}
        if self.credentials:
            headers["access-control-allow-credentials"] = "true"
        if preflight is not None:
            requested = [h.strip() for h in preflight.get("access-control-request-headers", "").split(",")]
            if any(requested):
                headers["access-control-allow-headers"] = ",".join(h for h in requested if h)
            headers["access-control-allow-methods"] = preflight["access-control-request-method"]
        if not self.any_origin and len(self.origins) > 1:
            headers["vary"] = "Origin"
        return headers


class CorsMiddleware:
    """ASGI middleware applying a :class:`CorsPolicy` to every HTTP request, before routing (as func does)."""

    def __init__(self, app: ASGIApp, policy: CorsPolicy) -> None:
        self.app = app
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_headers = Headers(scope=scope)
        origin = request_headers.get("origin")
        if not origin:
            await self.app(scope, receive, send)
            return
        allowed = self.policy.allows(origin)
        if scope["method"] == "OPTIONS" and "access-control-request-method" in request_headers:
            headers = self.policy.headers(origin, request_headers) if allowed else {}
            if not allowed:
                log.info("CORS preflight from origin %s refused: it is not in Host.CORS.", origin)
            await send({"type": "http.response.start", "status": 204, "headers": _raw(headers)})
            await send({"type": "http.response.body", "body": b""})
            return
        if not allowed:
            await self.app(scope, receive, send)
            return
        extra = self.policy.headers(origin)

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                response_headers = MutableHeaders(scope=message)
                for name, value in extra.items():
                    if name == "vary":
                        response_headers.add_vary_header("Origin")
                    else:
                        response_headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_cors)


def _raw(headers: dict[str, str]) -> list[tuple[bytes, bytes]]:
    return [(name.encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()]
