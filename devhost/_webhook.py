"""``/runtime/webhooks/socketio``: the Socket.IO extension's dispatcher (docs/protocol.md#abuse-protection,
docs/protocol.md#dispatch-order, docs/protocol.md#trigger-payloads, docs/protocol.md#return-values).

Order and codes as the extension: OPTIONS/GET abuse protection (200 + ``WebHook-Allowed-Origin`` or 400);
missing CloudEvents headers 400; no function for (hub, namespace, system|user, event), compared
case-insensitively, 404; bad signature or foreign origin 401; a method other than POST 400; then per type.

Our choices where the extension would hang or is silent (docs/devhost.md, "Fidelity"): the response is sent
after the function and its output actions completed (the extension awaits the execution too); a connect or
acked event whose function fails or times out gets ``500`` with the error text, where the real extension
may wait until the service gives up (docs/protocol.md#return-values); other events answer ``200`` whatever the
function did, as the extension ignores their result.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from shared.protocol import PacketError, encode_ack, parse_event_payload, signature_matches, webhook

from . import _protos
from ._host import DevHost, SocketIOListener
from ._invoke import Invocation
from ._values import ReturnValueError, trigger_response

log = logging.getLogger("devhost")

_TEXT = "text/plain; charset=utf-8"


def _origins(request: Request) -> list[str]:
    return webhook.split_header_list(request.headers.get(webhook.ORIGIN))


def _abuse_protection(host: DevHost, request: Request) -> Response:
    keys = host.validation_keys()
    if not keys:
        return Response(status_code=200, headers={webhook.ALLOWED_ORIGIN: "*"})
    for origin in _origins(request):
        if origin.lower() in keys:
            return Response(status_code=200, headers={webhook.ALLOWED_ORIGIN: origin})
    log.warning(
        "Refused abuse-protection validation from origin %r: expected the endpoint host of a connection string (%s).",
        request.headers.get(webhook.ORIGIN, ""),
        ", ".join(sorted(keys)),
    )
    return PlainTextResponse(
        "WebHook-Request-Origin is not the endpoint host of this app's Web PubSub for Socket.IO connection string.",
        status_code=400,
    )


def _signature_ok(host: DevHost, request: Request, connection_id: str) -> bool:
    keys = host.validation_keys()
    if not keys:
        return True
    header = request.headers.get(webhook.CE_SIGNATURE)
    for origin in _origins(request):
        for key in keys.get(origin.lower(), []):
            if key is None or signature_matches(header, key, connection_id):
                return True
    return False


async def _run(host: DevHost, listener: SocketIOListener, trigger_json: dict[str, Any], reason: str) -> Invocation:
    # The host's TypedData for the trigger: a string for dataType STRING (what the docs ask for), else json.
    trigger = listener.function.trigger
    text = json.dumps(trigger_json, ensure_ascii=False)
    data = _protos.TypedData(string=text) if trigger.data_type == "STRING" else _protos.TypedData(json=text)
    return await host.invoke(listener.function.name, {trigger.name: data}, reason=reason)


async def handle_webhook(host: DevHost, request: Request) -> Response:
    if request.method in ("OPTIONS", "GET"):
        return _abuse_protection(host, request)
    headers = {name: request.headers.get(name, "") for name in webhook.REQUIRED_HEADERS}
    missing = [name for name, value in headers.items() if not value]
    if missing:
        return PlainTextResponse(f"Missing required header(s): {', '.join(missing)}.", status_code=400)
    is_system = webhook.is_system_type(headers[webhook.CE_TYPE])
    kind = "system" if is_system else "user"
    key = (
        headers[webhook.CE_HUB].lower(),
        headers[webhook.CE_NAMESPACE].lower(),
        kind,
        headers[webhook.CE_EVENT_NAME].lower(),
    )
    listener = host.listeners.get(key)
    if listener is None:
        # A client event without a function is a common mistake (warning); unhandled system events are normal.
        log.log(
            logging.INFO if is_system else logging.WARNING,
            "No function for Socket.IO %s event '%s' (hub=%s, namespace=%s): 404.",
            kind,
            headers[webhook.CE_EVENT_NAME],
            headers[webhook.CE_HUB],
            headers[webhook.CE_NAMESPACE],
        )
        return PlainTextResponse(
            f"No function for Socket.IO {kind} event '{headers[webhook.CE_EVENT_NAME]}' "
            f"(hub={headers[webhook.CE_HUB]}, namespace={headers[webhook.CE_NAMESPACE]}).",
            status_code=404,
        )
    if not _signature_ok(host, request, headers[webhook.CE_CONNECTION_ID]):
        # The same status as the extension, plus a reason; the log line says what was compared (no key, no hash).
        log.warning(
            "Refused a Socket.IO webhook for connection %s from origin %r: the ce-signature matches no access key "
            "of the connection string for that origin.",
            headers[webhook.CE_CONNECTION_ID],
            headers[webhook.ORIGIN],
        )
        return PlainTextResponse(
            "Invalid ce-signature: expected sha256=<hex HMAC-SHA256 of ce-connectionId> under an access key of this "
            "app's connection string, with WebHook-Request-Origin set to its endpoint host.",
            status_code=401,
        )
    if request.method != "POST":
        return PlainTextResponse(f"Socket.IO webhooks are POST requests, not {request.method}.", status_code=400)
    namespace, socket_id = headers[webhook.CE_NAMESPACE], headers[webhook.CE_SOCKET_ID]
    event = headers[webhook.CE_EVENT_NAME]
    body = await request.body()
    reason = f"Socket.IO {kind} event '{event}' on {listener.hub}{namespace}"
    packet = None
    try:
        if is_system and event.lower() == "connect":
            data = json.loads(body or b"null")
            if not isinstance(data, dict) or any(k not in data for k in webhook.CONNECT_BODY_KEYS):
                raise ValueError(
                    f"connect body must be a JSON object with the keys {', '.join(webhook.CONNECT_BODY_KEYS)}."
                )
            trigger = {
                "namespace": namespace,
                "socketId": socket_id,
                "claims": data["claims"],
                "query": data["query"],
                "headers": data["headers"],
                "clientCertificates": data["clientCertificates"],
            }
        elif is_system and event.lower() == "disconnected":
            data = json.loads(body or b"null")
            if not isinstance(data, dict) or webhook.DISCONNECTED_REASON not in data:
                raise ValueError("disconnected body must be a JSON object with the key reason.")
            trigger = {"namespace": namespace, "socketId": socket_id, "reason": data[webhook.DISCONNECTED_REASON]}
        elif is_system:
            trigger = {"namespace": namespace, "socketId": socket_id}
        else:
            media_type = request.headers.get("content-type", "").split(";")[0].strip()
            if media_type.lower() != "text/plain":
                return PlainTextResponse(
                    f"Message data only supports text. Current value is: {media_type}", status_code=400
                )
            payload = body.decode("utf-8")
            packet = parse_event_payload(payload)
            if packet.event != event:
                raise ValueError(f"Event name dismatch: payload has '{packet.event}', ce-eventName is '{event}'.")
            names = listener.function.trigger.properties.get("parameterNames")
            if names and len(names) != len(packet.arguments or []):
                raise ValueError("Parameter length of incoming data dismatch.")
            trigger = {
                "namespace": namespace,
                "socketId": socket_id,
                "payload": payload,
                "eventName": packet.event,
                "parameters": packet.arguments,
            }
    except (ValueError, PacketError, UnicodeDecodeError) as exc:
        log.error("Socket.IO %s event '%s' refused: %s", kind, event, exc)
        return PlainTextResponse(str(exc), status_code=500)

    invocation = await _run(host, listener, trigger, reason)
    wants_return = (is_system and event.lower() == "connect") or (packet is not None and packet.ack_id is not None)
    if not wants_return:
        return Response(status_code=200)
    if not invocation.succeeded:
        return PlainTextResponse(invocation.error or "Function failed.", status_code=500)
    try:
        result = trigger_response(invocation.return_value)
        if is_system or not result.ack:
            return Response(status_code=result.status)
        assert packet is not None and packet.ack_id is not None
        return Response(
            encode_ack(packet.namespace, packet.ack_id, result.ack), status_code=result.status, media_type=_TEXT
        )
    except ReturnValueError as exc:
        log.error("Function '%s' returned a value the extension cannot use: %s", listener.function.name, exc)
        return PlainTextResponse(str(exc), status_code=500)
