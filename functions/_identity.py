"""Who is negotiating: the App Service Authentication principal, else a guest id the server picks.

The negotiate functions declare ``userId="{headers.x-ms-client-principal-id}"`` (:data:`NEGOTIATE_USER_ID`) on
their ``socketionegotiation`` binding. App Service Authentication (Easy Auth) sets that header for a signed-in
caller and removes every ``x-ms-client-principal*`` header a client sends; App Service sets
``WEBSITE_AUTH_ENABLED=True`` while it does. Without it nothing strips a forged header, so the header (and the
binding's token) is only trusted while that setting is on. Otherwise the caller is a guest with a random id:
nothing the client sends chooses it. ``?userId=`` picks the id only when ``SIOLESS_DEV_USER_ID_QUERY=1``, a
development setting the offline stack sets and infra/ never does (docs/identity.md).

A display name (``x-ms-client-principal-name``, or what a page lets the user type) is data, never identity.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
from dataclasses import dataclass
from typing import Any, Literal

import azure.functions as func

PRINCIPAL_ID_HEADER = "x-ms-client-principal-id"
PRINCIPAL_NAME_HEADER = "x-ms-client-principal-name"
PRINCIPAL_IDP_HEADER = "x-ms-client-principal-idp"
PRINCIPAL_HEADER = "x-ms-client-principal"
NEGOTIATE_USER_ID = "{headers.x-ms-client-principal-id}"
AUTH_ENABLED_SETTING = "WEBSITE_AUTH_ENABLED"  # set by App Service while its Authentication is on
DEV_USER_ID_QUERY_SETTING = "SIOLESS_DEV_USER_ID_QUERY"  # development only: trust ?userId=
GUEST_PREFIX = "guest-"
MAX_USER_ID = 256

logger = logging.getLogger("identity")

Source = Literal["app-service", "dev-query", "guest"]


@dataclass(frozen=True)
class Caller:
    """``user_id`` is the identity (the token's ``sub``); ``name`` is a display name, data only."""

    user_id: str
    name: str | None
    source: Source


def _on(setting: str) -> bool:
    return os.environ.get(setting, "").strip().lower() in ("1", "true", "yes")


def app_service_auth_enabled() -> bool:
    return _on(AUTH_ENABLED_SETTING)


def dev_user_id_query_enabled() -> bool:
    return _on(DEV_USER_ID_QUERY_SETTING)


def identify(req: func.HttpRequest) -> Caller:
    """The caller of a negotiate request (see the module docstring for the rules)."""
    if app_service_auth_enabled():
        principal = (req.headers.get(PRINCIPAL_ID_HEADER) or "").strip()
        if principal:
            return Caller(principal, (req.headers.get(PRINCIPAL_NAME_HEADER) or "").strip() or None, "app-service")
    if dev_user_id_query_enabled():
        wanted = next((v for k, v in req.params.items() if k.lower() == "userid"), "").strip()
        if wanted and len(wanted) <= MAX_USER_ID:
            return Caller(wanted, wanted, "dev-query")
    return Caller(GUEST_PREFIX + secrets.token_hex(8), None, "guest")


def account(req: func.HttpRequest) -> func.HttpResponse:
    """``{"signInAvailable": bool, "userId": str | null, "name": str | null}`` for a page: whether App Service
    Authentication is on (so ``/.auth/login/<provider>`` exists) and who is signed in."""
    enabled = app_service_auth_enabled()
    principal = (req.headers.get(PRINCIPAL_ID_HEADER) or "").strip() if enabled else ""
    name = (req.headers.get(PRINCIPAL_NAME_HEADER) or "").strip() if principal else ""
    body = {"signInAvailable": enabled, "userId": principal or None, "name": name or None}
    return func.HttpResponse(json.dumps(body), mimetype="application/json", headers={"Cache-Control": "no-store"})


def _client_token(hub: str, user_id: str) -> str:
    from ._service import service_client

    token: str = service_client(hub).get_client_access_token(user_id=user_id, client_protocol="SocketIO")["token"]
    return token


def negotiate(req: func.HttpRequest, negotiation: str, hub: str) -> func.HttpResponse:
    """``{endpoint, path, token, userId, name}``: the binding's token for a signed-in principal, else a token
    minted (official SDK) for the dev or guest id. ``userId``/``name`` tell the page who it is."""
    caller = identify(req)
    body: dict[str, Any] = json.loads(negotiation)
    if caller.source != "app-service":
        # The binding's token carries whatever the header said (or no user): replace it.
        try:
            body["token"] = _client_token(hub, caller.user_id)
        except Exception:  # the service or its settings: say so, never a bare 500 (details in the log only)
            logger.exception("negotiate: cannot issue a token for hub %r", hub)
            message = f"cannot issue a token for hub {hub!r} now; try again shortly"
            return func.HttpResponse(json.dumps({"error": message}), status_code=503, mimetype="application/json")
    body["userId"] = caller.user_id
    body["name"] = caller.name
    return func.HttpResponse(json.dumps(body), mimetype="application/json", headers={"Cache-Control": "no-store"})
