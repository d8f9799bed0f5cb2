"""The forgery matrix (docs/reliability.md, threat model): forged webhooks at the dev host, forged client tokens at
the emulator's Engine.IO handshake, forged bearer tokens at its REST API. Every row is sent over real HTTP to a
running stack; :func:`forgery_matrix` returns one :class:`Attempt` per row, with a signed control row per target
(which must be accepted, so a matrix that refuses everything is caught)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import warnings
from dataclasses import dataclass
from typing import Any

import httpx
import jwt

from devhost.stack import Stack
from shared.protocol import ConnectionString, signature_header

WEBHOOK = "/runtime/webhooks/socketio"
WRONG_KEY = "d3Jvbmcta2V5LW5vdC10aGUtYWNjZXNzLWtleQ=="


@dataclass(frozen=True)
class Attempt:
    target: str
    case: str
    status: int
    message: str
    control: bool = False

    @property
    def refused(self) -> bool:
        return self.status in (400, 401, 403)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hand_token(header: dict[str, Any], claims: dict[str, Any], key: bytes | None) -> str:
    """A JWT built by hand: any ``alg`` label, signed with HMAC-SHA256 over ``key`` (or unsigned for None)."""
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    signature = _b64(hmac.new(key, signing_input.encode(), hashlib.sha256).digest()) if key is not None else ""
    return f"{signing_input}.{signature}"


def _hs512(claims: dict[str, Any], key: bytes) -> str:
    with warnings.catch_warnings():  # pyjwt warns that a 48-byte key is short for SHA-512: that is the point
        warnings.simplefilter("ignore")
        return jwt.encode(claims, key, algorithm="HS512")


def forged_tokens(key: str, aud: str) -> dict[str, str]:
    """Tokens that must all be refused where ``aud`` (signed with ``key``) would be accepted."""
    now = int(time.time())
    good = {"aud": aud, "iat": now, "nbf": now, "exp": now + 300, "sub": "mallory"}
    k = key.encode()
    valid = jwt.encode(good, k, algorithm="HS256")
    head, body, sig = valid.split(".")
    tampered_claims = dict(good, sub="admin")
    return {
        "wrong key": jwt.encode(good, WRONG_KEY.encode(), algorithm="HS256"),
        "key base64-decoded": jwt.encode(good, base64.b64decode(key + "=="), algorithm="HS256"),
        "expired": jwt.encode(dict(good, exp=now - 600, nbf=now - 900, iat=now - 900), k, algorithm="HS256"),
        "not yet valid": jwt.encode(dict(good, nbf=now + 600), k, algorithm="HS256"),
        "no exp": jwt.encode({k_: v for k_, v in good.items() if k_ != "exp"}, k, algorithm="HS256"),
        "wrong audience": jwt.encode(dict(good, aud=aud.replace("/hubs/", "/hubs/x")), k, algorithm="HS256"),
        "no audience": jwt.encode({k_: v for k_, v in good.items() if k_ != "aud"}, k, algorithm="HS256"),
        "alg none": hand_token({"alg": "none", "typ": "JWT"}, good, None),
        "alg none, HS256 signature kept": f"{hand_token({'alg': 'none', 'typ': 'JWT'}, good, None)}{sig}",
        "RS256 label, HMAC signature": hand_token({"alg": "RS256", "typ": "JWT"}, good, k),
        "HS512 with the access key": _hs512(good, k),
        "tampered payload": f"{head}.{_b64(json.dumps(tampered_claims).encode())}.{sig}",
        "signature stripped": f"{head}.{body}.",
        "garbage": "not.a.jwt",
    }


def _signed(key: str, aud: str) -> str:
    return jwt.encode({"aud": aud, "exp": int(time.time()) + 300, "sub": "ok"}, key.encode(), algorithm="HS256")


def _webhook_headers(connection_id: str, **override: str) -> dict[str, str]:
    headers = {
        "WebHook-Request-Origin": "127.0.0.1",
        "Content-Type": "text/plain",
        "ce-specversion": "1.0",
        "ce-type": "azure.webpubsub.user.message",
        "ce-source": f"/hubs/chat/client/{connection_id}",
        "ce-id": "1",
        "ce-time": "2024-01-01T00:00:00Z",
        "ce-connectionId": connection_id,
        "ce-hub": "chat",
        "ce-eventName": "typing",
        "ce-namespace": "/",
        "ce-socketId": "forged-socket",
    }
    headers.update(override)
    return headers


def webhook_attempts(stack: Stack) -> list[Attempt]:
    parsed = ConnectionString.parse(stack.connection_string)
    key, conn = parsed.access_key, "forgedconnection0000000000000001"
    assert key is not None
    body = '42["typing","lobby","mallory"]'
    good_sig = signature_header((key,), conn)
    rows: list[tuple[str, str, dict[str, str], bool]] = [
        ("POST", "signed (control)", _webhook_headers(conn, **{"ce-signature": good_sig}), True),
        ("POST", "unsigned", _webhook_headers(conn), False),
        ("POST", "wrong key", _webhook_headers(conn, **{"ce-signature": signature_header((WRONG_KEY,), conn)}), False),
        (
            "POST",
            "signature of another connection",
            _webhook_headers(conn, **{"ce-signature": signature_header((key,), "someoneelse")}),
            False,
        ),
        (
            "POST",
            "foreign origin, valid signature",
            _webhook_headers(conn, **{"ce-signature": good_sig, "WebHook-Request-Origin": "evil.example"}),
            False,
        ),
        ("POST", "sha1 scheme", _webhook_headers(conn, **{"ce-signature": good_sig.replace("sha256", "sha1")}), False),
        ("POST", "empty signature", _webhook_headers(conn, **{"ce-signature": "sha256="}), False),
        ("POST", "no origin", _webhook_headers(conn, **{"WebHook-Request-Origin": ""}), False),
        ("OPTIONS", "validation from a foreign origin", {"WebHook-Request-Origin": "evil.example"}, False),
    ]
    attempts = []
    with httpx.Client(base_url=stack.devhost_url, timeout=10) as http:
        for method, case, headers, control in rows:
            response = http.request(method, WEBHOOK, headers=headers, content=body if method == "POST" else None)
            attempts.append(Attempt("dev host webhook", case, response.status_code, response.text[:200], control))
    return attempts


def client_token_attempts(stack: Stack, hub: str = "chat") -> list[Attempt]:
    parsed = ConnectionString.parse(stack.connection_string)
    assert parsed.access_key is not None
    aud = f"{stack.emulator.endpoint}/clients/socketio/hubs/{hub}"
    tokens = {"signed (control)": _signed(parsed.access_key, aud)}
    tokens |= forged_tokens(parsed.access_key, aud)
    tokens["REST audience as client token"] = jwt.encode(
        {"aud": f"{stack.emulator.endpoint}/api/hubs/{hub}/:send", "exp": int(time.time()) + 300}, parsed.access_key
    )
    attempts = []
    url = f"{stack.emulator_url}/clients/socketio/hubs/{hub}/"
    with httpx.Client(timeout=10) as http:
        for case, token in tokens.items():
            response = http.get(url, params={"EIO": "4", "transport": "polling", "access_token": token})
            attempts.append(
                Attempt("emulator client handshake", case, response.status_code, response.text[:200], "control" in case)
            )
    return attempts


def rest_attempts(stack: Stack, hub: str = "chat") -> list[Attempt]:
    parsed = ConnectionString.parse(stack.connection_string)
    assert parsed.access_key is not None
    path = f"/api/hubs/{hub}/:send"
    aud = f"{stack.emulator.endpoint}{path}?api-version=2024-12-01"
    tokens = {"signed (control)": _signed(parsed.access_key, aud)}
    tokens |= forged_tokens(parsed.access_key, aud)
    tokens["token for another route"] = jwt.encode(
        {"aud": f"{stack.emulator.endpoint}/api/hubs/{hub}/:closeConnections", "exp": int(time.time()) + 300},
        parsed.access_key,
    )
    tokens["client token as bearer"] = jwt.encode(
        {"aud": f"{stack.emulator.endpoint}/clients/socketio/hubs/{hub}", "exp": int(time.time()) + 300},
        parsed.access_key,
    )
    authorizations: dict[str, str | None] = {case: f"Bearer {token}" for case, token in tokens.items()}
    authorizations |= {"no Authorization": None, "Basic scheme": "Basic dXNlcjpwYXNz"}
    attempts = []
    with httpx.Client(base_url=stack.emulator_url, timeout=10) as http:
        for case, auth in authorizations.items():
            headers = {"Content-Type": "text/plain"} | ({"Authorization": auth} if auth else {})
            response = http.post(path, params={"api-version": "2024-12-01"}, content='42["x"]', headers=headers)
            attempts.append(
                Attempt("emulator REST", case, response.status_code, response.text[:200], "control" in case)
            )
    return attempts


def forgery_matrix(stack: Stack) -> list[Attempt]:
    return webhook_attempts(stack) + client_token_attempts(stack) + rest_attempts(stack)
