"""Who a negotiate caller is (functions/_identity.py, devhost/_devauth.py), through the real stack.

Impersonation attempts: ``?userId=`` with the development setting off, a forged ``x-ms-client-principal-id``
with App Service Authentication off (nothing strips it: the app must ignore it) and on (the front strips it, as
App Service does). The signed-in path runs end to end: dev sign-in cookie -> principal headers -> the
negotiate binding's ``{headers.x-ms-client-principal-id}`` -> token ``sub`` -> a connected chat socket.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import socketio

from devhost.pytest_plugin import close_client
from devhost.stack import Stack

pytestmark = pytest.mark.integration

FORGED = {"x-ms-client-principal-id": "admin", "x-ms-client-principal-name": "Admin", "x-ms-client-principal": "e30="}


def _sub(token: str) -> str | None:
    payload = token.split(".")[1]
    claims: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return claims.get("sub")


def _negotiate(client: httpx.Client, path: str = "/api/chat/negotiate", **kwargs: Any) -> dict[str, Any]:
    response = client.get(path, **kwargs)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    assert _sub(result["token"]) == result["userId"], "the page is told the id its token carries"
    return result


@pytest.fixture(scope="module")
def locked_down() -> Iterator[Stack]:
    """Development query off, App Service Authentication off: what a deployment without Entra sign-in runs."""
    stack = Stack(extra_env={"SIOLESS_DEV_USER_ID_QUERY": "0", "SIOLESS_DEV_AUTH": "0"})
    try:
        yield stack.start()
    finally:
        stack.stop()


@pytest.fixture(scope="module")
def signed_in() -> Iterator[Stack]:
    """The dev host's stand-in for App Service Authentication on (development query off)."""
    stack = Stack(extra_env={"SIOLESS_DEV_USER_ID_QUERY": "0", "SIOLESS_DEV_AUTH": "1"})
    try:
        yield stack.start()
    finally:
        stack.stop()


@pytest.mark.parametrize("path", ["/api/chat/negotiate", "/api/whiteboard/negotiate"])
def test_user_id_query_without_the_dev_setting_gives_a_guest(locked_down: Stack, path: str) -> None:
    with httpx.Client(base_url=locked_down.devhost_url, timeout=10) as client:
        first = _negotiate(client, path, params={"userId": "alice"})
        second = _negotiate(client, path, params={"userId": "alice"})
    assert first["userId"].startswith("guest-") and first["userId"] != "alice"
    assert second["userId"] != first["userId"], "guest ids are random, not derived from what the client sends"


def test_forged_principal_header_is_ignored_when_app_service_auth_is_off(locked_down: Stack) -> None:
    # Without App Service Authentication nothing strips the header; the app must not trust it.
    with httpx.Client(base_url=locked_down.devhost_url, timeout=10) as client:
        result = _negotiate(client, headers=FORGED)
        me = client.get("/.auth/me")
        account = client.get("/api/chat/account", headers=FORGED).json()
    assert result["userId"].startswith("guest-"), result["userId"]
    assert account == {"signInAvailable": False, "userId": None, "name": None}
    assert result["name"] is None
    assert me.status_code == 404  # no sign-in routes without the setting


def test_forged_principal_header_is_stripped_when_auth_is_on(signed_in: Stack) -> None:
    with httpx.Client(base_url=signed_in.devhost_url, timeout=10) as client:
        anonymous = _negotiate(client, headers=FORGED, params={"userId": "alice"})
        assert anonymous["userId"].startswith("guest-")
        # Signed in as bob, a forged header still does not make him admin: the front replaces it.
        login = client.get("/.auth/login/aad", params={"user_id": "bob-oid", "name": "Bob B"})
        assert login.status_code == 302 and login.headers["location"] == "/"
        bob = _negotiate(client, headers=FORGED)
        account = client.get("/api/chat/account", headers=FORGED).json()
    assert (bob["userId"], bob["name"]) == ("bob-oid", "Bob B")
    assert account == {"signInAvailable": True, "userId": "bob-oid", "name": "Bob B"}


def test_a_tampered_sign_in_cookie_is_a_guest(signed_in: Stack) -> None:
    with httpx.Client(base_url=signed_in.devhost_url, timeout=10) as client:
        client.get("/.auth/login/dev", params={"user_id": "carol"})
        cookie = client.cookies["sioless_dev_auth"]
        data, mac = cookie.split(".")
        forged = base64.urlsafe_b64encode(json.dumps({"id": "admin", "name": "x"}).encode()).decode()
        client.cookies.set("sioless_dev_auth", f"{forged}.{mac}")
        assert _negotiate(client)["userId"].startswith("guest-")
        assert client.get("/.auth/me").status_code == 401


def test_sign_in_routes(signed_in: Stack) -> None:
    with httpx.Client(base_url=signed_in.devhost_url, timeout=10) as client:
        form = client.get("/.auth/login/aad", params={"post_login_redirect_uri": "/api/chat"})
        assert form.status_code == 200 and "user_id" in form.text
        away = client.get("/.auth/login/aad", params={"user_id": "x", "post_login_redirect_uri": "https://evil/"})
        assert away.headers["location"] == "/", "no open redirect"
        client.get("/.auth/login/aad", params={"user_id": "dana", "post_login_redirect_uri": "/api/chat"})
        me = client.get("/.auth/me").json()
        assert me[0]["user_id"] == "dana"
        client.get("/.auth/logout")
        assert client.get("/.auth/me").status_code == 401


async def test_signed_in_principal_connects_as_itself_end_to_end(signed_in: Stack) -> None:
    with httpx.Client(base_url=signed_in.devhost_url, timeout=10) as http:
        http.get("/.auth/login/aad", params={"user_id": "erin-oid", "name": "Erin"})
        result = _negotiate(http, params={"userId": "mallory"})
    assert result["userId"] == "erin-oid"
    client = socketio.AsyncClient(reconnection=False)
    await client.connect(
        f"{result['endpoint']}?access_token={result['token']}", socketio_path=result["path"], wait_timeout=5
    )
    try:
        hubs = httpx.get(f"{signed_in.inspector_url}/api", timeout=5).json()["hubs"]
        users = [c["userId"] for hub in hubs if hub["name"] == "chat" for c in hub["connections"]]
        assert users == ["erin-oid"], "the service knows the socket as the signed-in principal"
        assert (await client.call("join", ("lobby", "Erin"), timeout=5))["ok"] is True
    finally:
        await close_client(client)
