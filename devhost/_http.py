"""HTTP triggers at ``/<routePrefix>/<route>``: ``func.HttpRequest`` in, ``func.HttpResponse`` (or str) out,
with the ``socketionegotiation`` input binding and the ``socketio`` output binding (docs/protocol.md#negotiation,
docs/protocol.md#output-actions)."""

from __future__ import annotations

import json
import logging
import re
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import azure.functions as func
from azure.messaging.webpubsubservice import WebPubSubServiceClient
from starlette.requests import Request
from starlette.responses import Response

from shared.protocol import ConnectionString
from shared.protocol.webhook import client_path

from . import _protos
from ._functions import HTTP_OUTPUT, RETURN, Binding
from ._host import NEGOTIATION, PROGRAMMATIC_REASON, DevHost, HttpFunction
from ._values import host_value

log = logging.getLogger("devhost")

_EXPRESSION = re.compile(r"\{([^{}]+)\}")


class BindingExpressionError(ValueError):
    """A ``{...}`` binding expression that names nothing in the request."""


def resolve_expression(template: str, request: func.HttpRequest, body_json: Any) -> str:
    """Resolve ``{query.x}``, ``{headers.x}``, ``{x}`` (route parameter, query, JSON body property).

    A missing value resolves to ``""`` with a warning: a local run should not fail on an absent userId.
    """

    def lookup(match: re.Match[str]) -> str:
        expression = match.group(1).strip()
        source, _, name = expression.partition(".")
        value: Any = None
        if name and source.lower() == "query":
            value = next((v for k, v in request.params.items() if k.lower() == name.lower()), None)
        elif name and source.lower() == "headers":
            value = request.headers.get(name)
        elif not name:
            value = request.route_params.get(expression)
            if value is None:
                value = next((v for k, v in request.params.items() if k.lower() == expression.lower()), None)
            if value is None and isinstance(body_json, dict):
                value = body_json.get(expression)
        else:
            raise BindingExpressionError(f"Binding expression {{{expression}}} is not supported by the dev host.")
        if value is None:
            log.warning("Binding expression {%s} has no value in this request; using an empty string.", expression)
            return ""
        return str(value)

    return _EXPRESSION.sub(lookup, template)


def negotiate(client: WebPubSubServiceClient, connection_string: str, hub: str, user_id: str | None) -> str:
    """The ``socketionegotiation`` value: ``{"endpoint","path","token"}`` from the official SDK's token."""
    kwargs: dict[str, Any] = {"user_id": user_id} if user_id else {}
    token = client.get_client_access_token(client_protocol="SocketIO", **kwargs)["token"]
    endpoint = urlsplit(ConnectionString.parse(connection_string).endpoint)
    result = {
        "endpoint": f"{endpoint.scheme}://{endpoint.netloc}",
        "path": client_path(hub),
        "token": token,
    }
    return json.dumps(result)


def _cookie_header(cookie: Any) -> str:
    """A ``Set-Cookie`` header from an ``RpcHttpCookie`` (the host turns the worker's cookies back into headers)."""
    parts = [f"{cookie.name}={cookie.value}"]
    # The worker sends an absent Domain/Path as an empty string (SimpleCookie's default): left out.
    if cookie.domain.value:
        parts.append(f"Domain={cookie.domain.value}")
    if cookie.path.value:
        parts.append(f"Path={cookie.path.value}")
    if cookie.HasField("expires"):
        expires = datetime.fromtimestamp(cookie.expires.value.seconds, UTC)
        parts.append(f"Expires={expires:%a, %d %b %Y %H:%M:%S} GMT")
    if cookie.HasField("max_age"):
        parts.append(f"Max-Age={int(cookie.max_age.value)}")
    if cookie.HasField("secure") and cookie.secure.value:
        parts.append("Secure")
    if cookie.HasField("http_only") and cookie.http_only.value:
        parts.append("HttpOnly")
    same_site = {1: "Lax", 2: "Strict", 3: "None"}.get(cookie.same_site)
    if same_site:
        parts.append(f"SameSite={same_site}")
    return "; ".join(parts)


def _http_response(value: Any) -> Response:
    """An HTTP output value (host value of the worker's TypedData) as the response the host sends."""
    if value is None:
        return Response(status_code=204)
    if isinstance(value, str):
        return Response(value, status_code=200, media_type="text/plain; charset=utf-8")
    if isinstance(value, (bytes, bytearray)):
        return Response(bytes(value), status_code=200, media_type="application/octet-stream")
    if isinstance(value, _protos.RpcHttp):
        body = host_value(value.body) if value.HasField("body") else b""
        if isinstance(body, str):
            body = body.encode("utf-8")
        elif not isinstance(body, (bytes, bytearray)):
            body = json.dumps(body).encode("utf-8")
        response = Response(bytes(body), status_code=int(value.status_code or 200))
        for name, header in value.headers.items():
            response.headers[name] = header
        for cookie in value.cookies:
            response.headers.append("set-cookie", _cookie_header(cookie))
        return response
    raise TypeError(f"HTTP output is {type(value).__name__}; return func.HttpResponse or str.")


def find_http_function(host: DevHost, method: str, path: str) -> tuple[HttpFunction, dict[str, str]] | None:
    prefix = host.settings.route_prefix
    if prefix:
        if not path.lower().startswith(f"/{prefix.lower()}/") and path.lower() != f"/{prefix.lower()}":
            return None
        path = path[len(prefix) + 1 :]
    path = path.strip("/")
    for candidate in host.http_functions:
        params = candidate.route.match(path)
        if params is None:
            continue
        if candidate.methods is not None and method.upper() not in candidate.methods:
            continue
        return candidate, params
    return None


def log_not_found(host: DevHost, method: str, path: str) -> None:
    """Log a request no function matches as the host's request tracing does, plus what the routes are."""
    details: dict[str, Any] = {"requestId": str(uuid.uuid4()), "method": method, "uri": path}
    log.info("Executing HTTP request: %s", json.dumps(details))
    details.update(identities=[], status=404, duration=0)
    log.info("Executed HTTP request: %s", json.dumps(details))
    prefix = host.settings.route_prefix
    where = f"under /{prefix}/" if prefix else "at the root (routePrefix is empty)"
    log.warning(
        "No function matches %s %s: HTTP functions are %s (host.json extensions.http.routePrefix %r); routes: %s.",
        method,
        path,
        where,
        prefix,
        ", ".join(f"/{prefix}/{f.route.template}".replace("//", "/") for f in host.http_functions) or "none",
    )


def _rpc_http(request: Request, body: bytes, route_params: dict[str, str]) -> Any:
    """The host's ``TypedData.http`` for a request: method, url, headers, route params, query, raw body bytes."""
    headers: dict[str, str] = {}
    for name, value in request.headers.items():
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    return _protos.TypedData(
        http=_protos.RpcHttp(
            method=request.method,
            url=str(request.url),
            headers=headers,
            body=_protos.TypedData(bytes=body),
            params=route_params,
            query=dict(request.query_params.items()),
        )
    )


async def handle_http(host: DevHost, request: Request) -> Response:
    found = find_http_function(host, request.method, request.url.path)
    if found is None:
        log_not_found(host, request.method, request.url.path)
        return Response(status_code=404)
    http_function, route_params = found
    function = http_function.function
    body = await request.body()
    inputs: dict[str, Any] = {function.trigger.name: _rpc_http(request, body, route_params)}
    try:
        for binding in function.bindings_of_type(NEGOTIATION):
            inputs[binding.name] = _protos.TypedData(
                json=_negotiation_value(host, binding, request, route_params, body)
            )
    except Exception as exc:
        log.error("Function '%s': socketionegotiation failed: %s", function.name, exc)
        return Response(f"socketionegotiation failed: {exc}", status_code=500, media_type="text/plain")
    invocation = await host.invoke(function.name, inputs, reason=PROGRAMMATIC_REASON)
    if not invocation.succeeded:
        return Response(status_code=500)
    value = None
    for binding in function.bindings_of_type(HTTP_OUTPUT):
        value = invocation.return_value if binding.name == RETURN else invocation.outputs.get(binding.name)
    try:
        return _http_response(value)
    except (TypeError, ValueError) as exc:
        log.error("Function '%s': %s", function.name, exc)
        return Response(status_code=500)


def _negotiation_value(
    host: DevHost, binding: Binding, request: Request, route_params: dict[str, str], body: bytes
) -> str:
    req = func.HttpRequest(
        method=request.method,
        url=str(request.url),
        headers=dict(request.headers.items()),
        params=dict(request.query_params.items()),
        route_params=route_params,
        body=body,
    )
    body_json: Any = None
    if body:
        try:
            body_json = json.loads(body)
        except (json.JSONDecodeError, UnicodeDecodeError):
            body_json = None
    user_template = binding.properties.get("userId")
    user_id = resolve_expression(str(user_template), req, body_json) if user_template else None
    connection_string, hub = host.connection_string_of(binding), host.hub_of(binding)
    return negotiate(host.sender.client(connection_string, hub), connection_string, hub, user_id or None)
