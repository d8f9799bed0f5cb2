"""The ASGI application: HTTP triggers, the Socket.IO extension webhook, and a tiny admin/health route."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from shared.protocol.webhook import WEBHOOK_PATH

from . import _devauth
from ._cors import CorsMiddleware, CorsPolicy
from ._host import DevHost
from ._http import handle_http
from ._webhook import handle_webhook

_ALL = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]


def create_app(host: DevHost) -> _devauth.ASGIApp:
    """An ASGI app serving ``host``; closing the app's lifespan closes the host's pools and clients."""

    async def webhook(request: Request) -> Response:
        return await handle_webhook(host, request)

    async def http(request: Request) -> Response:
        return await handle_http(host, request)

    async def health(request: Request) -> Response:
        # Like the real host's /admin/host/status: tells the stack the host is up.
        return JSONResponse({"state": "Running", "functions": [f.name for f in host.functions]})

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await host.triggers.start()
        yield
        await host.triggers.stop()
        await host.aclose()

    app = Starlette(
        routes=[
            Route(WEBHOOK_PATH, webhook, methods=_ALL),
            Route("/admin/host/status", health, methods=["GET"]),
            Route("/{path:path}", http, methods=_ALL),
        ],
        lifespan=lifespan,
    )
    wrapped = _devauth.wrap(app, host.settings)
    # CORS outermost, as func start's middleware runs before the host: a preflight never reaches a function.
    cors = CorsPolicy.parse(host.settings.cors, host.settings.cors_credentials)
    return CorsMiddleware(wrapped, cors) if cors else wrapped
