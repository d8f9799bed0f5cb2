"""Hub settings changed while the emulator runs: what the control plane does for the real service.

In Azure a hub's event handler (URL template, user event pattern, system events) is set through the
management API (``az webpubsub hub create|update``, as the azd post-deploy hook does) while the service keeps
its clients. ``GET|PUT /admin/hubs/{hub}`` is that, for the emulator: the body is the hub object of the
``--config`` file (``urlTemplate``, ``systemEvents``, ``userEventPattern``, ``allowAnonymous``; a missing key
keeps its value). Authorised like the REST API: a bearer JWT signed with an access key, ``aud`` = the request
URL, so the official client's ``send_request`` can call it. Connected clients are kept.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

from ._auth import TokenError, audience_bases, validate_rest_token
from ._config import HUB_NAME, ConfigError, HubSettings, _hub_from_json
from ._hub import Hub
from ._rest import Receive, Send
from ._types import read_body

if TYPE_CHECKING:
    from ._app import EmulatorApp

log = logging.getLogger("emulator.control")

HUB_SETTINGS_PREFIX = "/admin/hubs/"
_MAX_BODY = 64 * 1024


def settings_json(settings: HubSettings) -> dict[str, Any]:
    return {
        "urlTemplate": settings.url_template or "",
        "systemEvents": sorted(settings.system_events),
        "userEventPattern": settings.user_event_pattern,
        "allowAnonymous": settings.allow_anonymous,
    }


async def handle_hub_settings(app: EmulatorApp, scope: dict[str, Any], receive: Receive, send: Send) -> None:
    status, body = await _handle(app, scope, receive)
    payload = json.dumps(body).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


async def _handle(app: EmulatorApp, scope: dict[str, Any], receive: Receive) -> tuple[int, dict[str, Any]]:
    raw_path = (scope.get("raw_path") or scope["path"].encode()).decode("latin-1").split("?", 1)[0]
    name = scope["path"][len(HUB_SETTINGS_PREFIX) :]
    if not HUB_NAME.match(name):
        return 404, {"code": "NotFound", "message": f"No hub {name!r}: hub names match {HUB_NAME.pattern}."}
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
    auth = headers.get("authorization", "")
    if not auth.lower().startswith("bearer "):
        return 401, {"code": "Unauthorized", "message": "Missing 'Authorization: Bearer <token>' (aud = this URL)."}
    try:
        validate_rest_token(
            auth[7:].strip(), app.config.keys, audience_bases(app.endpoint(), headers.get("host")), raw_path
        )
    except TokenError as exc:
        return 401, {"code": "Unauthorized", "message": f"Invalid bearer token: {exc}."}
    hub = app.hub(name)
    current = hub.settings if hub is not None else app.config.hub_settings(name) or HubSettings(name)
    if scope["method"] == "GET":
        return 200, settings_json(current)
    if scope["method"] != "PUT":
        return 405, {"code": "MethodNotAllowed", "message": "GET or PUT a hub's settings."}
    try:
        raw = json.loads(await read_body(receive, _MAX_BODY) or b"{}")
        if not isinstance(raw, dict):
            raise ConfigError("the body must be a JSON object of hub settings")
        settings = _hub_from_json(name, raw, current)
    except (ValueError, ConfigError) as exc:
        return 400, {"code": "BadRequest", "message": f"Hub {name!r}: {exc}"}
    if hub is None:
        app.hubs[name] = Hub(settings, app.config, app.upstream, app.endpoint)
    else:
        hub.settings = settings
    log.info(
        "hub %s: event handler settings changed: system events %s, user events %r",
        name,
        ", ".join(sorted(settings.system_events)) or "(none)",
        settings.user_event_pattern,
    )
    return 200, settings_json(settings)
