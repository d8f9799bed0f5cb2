"""The emulator's hub settings come from the app's functions, as scripts/postdeploy.sh sets them in Azure: an app
without a ``connected`` function gets no ``connected`` webhook, so no 404 is logged on every connection."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from azure.core.rest import HttpRequest
from azure.messaging.webpubsubservice import WebPubSubServiceClient

from devhost.pytest_plugin import close_client, connect_client
from devhost.stack import Stack
from tests.fixtures.inbox import Inbox

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
APPS = ROOT / "tests" / "fixtures" / "apps"


def hub_settings(stack: Stack, hub: str) -> dict[str, Any]:
    with WebPubSubServiceClient.from_connection_string(stack.connection_string, hub=hub) as client:
        response = client.send_request(HttpRequest("GET", f"/admin/hubs/{hub}"))
        assert response.status_code == 200, response.text()
        result: dict[str, Any] = response.json()
        return result


def test_the_samples_get_what_the_postdeploy_hook_sets(sioless_stack: Stack) -> None:
    """Same derivation as the hook's hand-written HUBS list (hub=system events) for the real function_app.py."""
    hook = (ROOT / "scripts" / "postdeploy.sh").read_text()
    hubs = dict(entry.split("=", 1) for entry in re.findall(r'^\s*"(\w+=[\w ]*)"$', hook, re.MULTILINE))
    assert set(hubs) >= {"chat", "whiteboard"}, hubs
    for hub, events in hubs.items():
        assert hub_settings(sioless_stack, hub)["systemEvents"] == sorted(events.split()), hub


async def test_no_webhook_and_no_404_for_events_the_app_has_no_function_for() -> None:
    # A facade app without a `connected` handler (the facade registers `connect` itself; without state, nothing
    # for `disconnected`): before, every connection logged a 404 for `connected`.
    with Stack(app_dir=APPS / "global_counter", azurite_ports=None) as stack:
        assert hub_settings(stack, "chat")["systemEvents"] == ["connect"]
        client = await connect_client(stack.devhost_url, "alice")
        try:
            inbox = Inbox(client)
            await client.emit("add user", "alice")
            assert (await inbox.wait_payload("login"))["numUsers"] == 1
        finally:
            await close_client(client)
        devhost = "\n".join(stack.outputs()["devhost"])
        emulator = "\n".join(stack.outputs()["emulator"])
        assert "Executed 'Functions.chat__add_user" in devhost  # the user event did go through
        # Match the log forms, not the digits: ports, sids and timestamps may contain "404".
        not_found = re.compile(r"No function for Socket\.IO|returned 404|\b404 Not Found\b|\" 404\b")
        assert not not_found.search(devhost) and not not_found.search(emulator), (devhost, emulator)


def test_the_route_is_authorised_like_the_rest_api(sioless_stack: Stack) -> None:
    import httpx

    before = hub_settings(sioless_stack, "chat")
    url = f"{sioless_stack.emulator_url}/admin/hubs/chat"
    assert httpx.put(url, json={"systemEvents": []}, timeout=5).status_code == 401
    assert httpx.get(url, headers={"Authorization": "Bearer x.y.z"}, timeout=5).status_code == 401
    with WebPubSubServiceClient.from_connection_string(sioless_stack.connection_string, hub="chat") as client:
        bad = client.send_request(HttpRequest("PUT", "/admin/hubs/chat", json={"systemEvents": ["ping"]}))
        assert bad.status_code == 400 and "unknown system event" in bad.text()
    assert hub_settings(sioless_stack, "chat") == before  # unchanged by the refusals
