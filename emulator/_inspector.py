"""The inspector: ``/inspector`` (HTML) and ``/inspector/api`` (JSON) — hubs, connections, sockets, rooms and the
last upstream calls. It never shows keys, tokens or claims."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from shared.protocol import parse_group_name

if TYPE_CHECKING:
    from ._app import EmulatorApp
    from ._hub import Hub


def inspector_data(app: EmulatorApp) -> dict[str, Any]:
    return {
        "endpoint": app.endpoint(),
        "hubs": [hub_snapshot(hub) for hub in app.hubs.values()],
        "upstreamCalls": [record.as_json() for record in reversed(app.upstream.history)],
        "settings": {
            "upstreamTimeoutSeconds": app.config.upstream_timeout,
            "userEventFailure": app.config.user_event_failure,
            "hubsOnDemand": app.config.hubs_on_demand,
            "pingInterval": app.config.ping_interval,
            "pingTimeout": app.config.ping_timeout,
            "maxPayload": app.config.max_payload,
        },
    }


def hub_snapshot(hub: Hub) -> dict[str, Any]:
    """One hub as the inspector shows it: no tokens, no keys, no claims (only the user id)."""
    connections = []
    for conn in hub.connections.values():
        sockets = []
        for sock in conn.sockets.values():
            socket_rooms = sorted(
                parsed[1]
                for g in conn.groups
                if (parsed := parse_group_name(g)) is not None
                and parsed[0] == sock.namespace
                and parsed[1] is not None
                and parsed[1] != sock.socket_id
            )
            sockets.append({"socketId": sock.socket_id, "namespace": sock.namespace, "rooms": socket_rooms})
        connections.append(
            {
                "connectionId": conn.connection_id,
                "userId": conn.user_id,
                "transport": hub.transport(conn),
                "connectedAt": conn.connected_at,
                "sockets": sockets,
                "groups": sorted(conn.groups),
                "pendingPackets": conn.queue.qsize(),
            }
        )
    rooms: dict[str, dict[str, int]] = {}
    for group, members in hub.groups.items():
        parsed = parse_group_name(group)
        if parsed is not None and parsed[1] is not None:
            rooms.setdefault(parsed[0], {})[parsed[1]] = len(members)
    return {
        "name": hub.name,
        "eventHandler": {
            "urlTemplate": _redact_template(hub.settings.url_template),
            "systemEvents": sorted(hub.settings.system_events),
            "userEventPattern": hub.settings.user_event_pattern,
        },
        "allowAnonymous": hub.settings.allow_anonymous,
        "connections": connections,
        "groups": {g: len(m) for g, m in sorted(hub.groups.items())},
        "rooms": rooms,
    }


def _redact_template(template: str | None) -> str | None:
    # A URL template may carry ``?code=<function key>``: never show it.
    return template.split("?", 1)[0] if template else None


INSPECTOR_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Socket.IO emulator inspector</title>
<style>
 body{font:14px system-ui,sans-serif;margin:1.5em;color:#222}
 table{border-collapse:collapse;margin:.5em 0 1.5em}
 td,th{border:1px solid #ccc;padding:3px 8px;text-align:left;vertical-align:top}
 th{background:#f3f3f3} code{font-size:12px} .err{color:#b00}
</style></head>
<body>
<h1>Web PubSub for Socket.IO emulator</h1>
<p>Endpoint <code id="endpoint"></code> &middot; refreshes every 2 s &middot; JSON at
<a href="/inspector/api">/inspector/api</a></p>
<div id="hubs"></div>
<h2>Recent upstream calls</h2>
<table><thead><tr><th>time</th><th>hub</th><th>kind</th><th>event</th><th>namespace</th><th>connection</th>
<th>status</th><th>ms</th><th>url</th><th>error</th></tr></thead><tbody id="calls"></tbody></table>
<script>
const ENT = {'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'};
const esc = s => String(s ?? '').replace(/[&<>"']/g, c => ENT[c]);
async function refresh() {
  const data = await (await fetch('/inspector/api')).json();
  document.getElementById('endpoint').textContent = data.endpoint;
  document.getElementById('hubs').innerHTML = data.hubs.map(h => `
    <h2>Hub <code>${esc(h.name)}</code></h2>
    <p>event handler <code>${esc(h.eventHandler.urlTemplate || '(none)')}</code>,
       system events ${esc(h.eventHandler.systemEvents.join(', ') || '(none)')},
       user events <code>${esc(h.eventHandler.userEventPattern)}</code>,
       anonymous ${h.allowAnonymous ? 'allowed' : 'denied'}</p>
    <table><thead><tr><th>connection</th><th>user</th><th>transport</th><th>sockets (namespace: rooms)</th></tr></thead>
    <tbody>${h.connections.map(c => `<tr><td><code>${esc(c.connectionId)}</code></td><td>${esc(c.userId)}</td>
      <td>${esc(c.transport)}</td><td>${c.sockets.map(s => `<code>${esc(s.socketId)}</code> ${esc(s.namespace)}:
      ${esc(s.rooms.join(', '))}`).join('<br>')}</td></tr>`).join('')}</tbody></table>`).join('');
  document.getElementById('calls').innerHTML = data.upstreamCalls.map(c => `<tr><td>${esc(c.time)}</td>
    <td>${esc(c.hub)}</td><td>${esc(c.kind)}</td><td>${esc(c.event)}</td><td>${esc(c.namespace)}</td>
    <td><code>${esc(c.connection_id)}</code></td><td>${esc(c.status)}</td><td>${esc(c.latency_ms)}</td>
    <td><code>${esc(c.url)}</code></td><td class="err">${esc(c.error)}</td></tr>`).join('');
}
refresh(); setInterval(refresh, 2000);
</script>
</body></html>
"""
