"""Access tokens: client tokens (Engine.IO handshake, docs/protocol.md#client-connections) and REST bearer tokens
(docs/protocol.md#rest-authentication)."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import unquote, urlsplit

import jwt

from shared.protocol.webhook import NAME_IDENTIFIER_CLAIM, client_path

_LOOPBACK = ("localhost", "127.0.0.1", "[::1]")


class TokenError(ValueError):
    """A refused token; the message says why without echoing the token."""


def audience_bases(endpoint: str, request_host: str | None = None) -> set[str]:
    """``scheme://host:port`` bases accepted in ``aud``: the configured endpoint, its loopback aliases on the same
    port (a token minted for ``localhost`` works on ``127.0.0.1`` and back), and the Host the request used."""
    parts = urlsplit(endpoint)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    host = (parts.hostname or "").lower()
    hosts = {host if ":" not in host else f"[{host}]"}
    if host in ("localhost", "127.0.0.1", "::1"):
        hosts.update(_LOOPBACK)
    bases = {f"{parts.scheme}://{h}:{port}" for h in hosts}
    default = 443 if parts.scheme == "https" else 80
    if port == default:
        bases |= {f"{parts.scheme}://{h}" for h in hosts}
    if request_host:
        bases.add(f"{parts.scheme}://{request_host.lower()}")
    return bases


_LEEWAY = 5  # seconds of clock skew allowed on exp and nbf
_VERIFIED_MAX = 4096
# Tokens whose signature (and exp, nbf) already passed, with the keys that checked them: the SDK signs one token per
# request URL and second, and a client reconnects with the token it has, so the same string comes back often.
# A hit skips the base64, JSON and HMAC work; exp is checked again on every hit.
_verified: dict[tuple[tuple[str, ...], str], tuple[dict[str, Any], float]] = {}


def _decode(token: str, keys: Sequence[str]) -> dict[str, Any]:
    """Claims of a valid token: :func:`_verify`, remembered until the token expires (the last 4,096 tokens)."""
    cache_key = (tuple(keys), token)
    hit = _verified.get(cache_key)
    if hit is not None:
        claims, expires = hit
        if time.time() <= expires + _LEEWAY:
            return claims
        del _verified[cache_key]
        raise TokenError("the access token has expired (exp)")
    claims = _verify(token, keys)
    exp = claims.get("exp")
    if isinstance(exp, (int, float)) and not isinstance(exp, bool):
        if len(_verified) >= _VERIFIED_MAX:
            del _verified[next(iter(_verified))]
        _verified[cache_key] = (claims, float(exp))
    return claims


def _verify(token: str, keys: Sequence[str]) -> dict[str, Any]:
    """Verify HS256 with either key (UTF-8 bytes of the key string), ``exp`` (required) and ``nbf``; ``aud`` is
    checked by the caller because the accepted values depend on the route."""
    if not token:
        raise TokenError("no access token")
    last: Exception | None = None
    for key in keys:
        try:
            # ``exp`` is required: a signed token without it would be valid forever (docs/reliability.md).
            return jwt.decode(
                token,
                key.encode("utf-8"),
                algorithms=["HS256"],
                options={"verify_aud": False, "require": ["exp"]},
                leeway=_LEEWAY,
            )
        except jwt.MissingRequiredClaimError:
            raise TokenError("the access token has no expiry (exp)") from None
        except jwt.ExpiredSignatureError:
            raise TokenError("the access token has expired (exp)") from None
        except jwt.ImmatureSignatureError:
            raise TokenError("the access token is not valid yet (nbf/iat)") from None
        except jwt.InvalidSignatureError as exc:
            last = exc
        except jwt.InvalidTokenError as exc:
            raise TokenError(f"the access token is malformed ({exc})") from None
    raise TokenError("the access token signature matches neither access key") from last


def _audiences(claims: dict[str, Any]) -> list[str]:
    aud = claims.get("aud")
    if isinstance(aud, str):
        return [aud]
    if isinstance(aud, list):
        return [a for a in aud if isinstance(a, str)]
    return []


def validate_client_token(token: str, keys: Sequence[str], hub: str, bases: Iterable[str]) -> dict[str, Any]:
    """Claims of a valid client token whose ``aud`` is ``<base>/clients/socketio/hubs/<hub>`` (case-insensitive)."""
    claims = _decode(token, keys)
    path = client_path(hub).lower()
    wanted = {f"{b.lower()}{path}" for b in bases}
    got = [a.rstrip("/").lower() for a in _audiences(claims)]
    if not any(a in wanted for a in got):
        raise TokenError(
            f"the access token audience {got[0] if got else None!r} is not this hub's client URL "
            f"(expected one of {sorted(wanted)})"
        )
    return claims


def validate_rest_token(token: str, keys: Sequence[str], bases: Iterable[str], path: str) -> dict[str, Any]:
    """Claims of a valid REST token whose ``aud`` is this request URL. Lenient as docs/protocol.md#rest-authentication
    advises: the
    query string and percent-encoding are ignored; scheme, host, port and path must match."""
    claims = _decode(token, keys)
    accepted = {b.lower() for b in bases}
    want_path = unquote(path).rstrip("/").lower()
    for aud in _audiences(claims):
        parts = urlsplit(aud)
        base = f"{parts.scheme}://{parts.netloc}".lower()
        if base in accepted and unquote(parts.path).rstrip("/").lower() == want_path:
            return claims
    raise TokenError("the access token audience is not this request URL")


def make_client_token(
    key: str,
    endpoint: str,
    hub: str,
    user_id: str | None = None,
    roles: Sequence[str] = (),
    groups: Sequence[str] = (),
    minutes: int = 60,
) -> str:
    """A client token as ``:generateToken`` returns it (HS256, aud = client URL, docs/protocol.md#negotiation claim
    set)."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "aud": endpoint.rstrip("/") + client_path(hub),
        "iat": now,
        "nbf": now,
        "exp": now + 60 * minutes,
    }
    if user_id:
        claims["sub"] = user_id
    if roles:
        claims["role"] = list(roles)
    if groups:
        claims["webpubsub.group"] = list(groups)
    return jwt.encode(claims, key.encode("utf-8"), algorithm="HS256")


_DOTNET_NAMES = {
    "sub": NAME_IDENTIFIER_CLAIM,
    "role": "http://schemas.microsoft.com/ws/2008/06/identity/claims/role",
}


def claims_as_lists(claims: dict[str, Any], naming: str = "jwt") -> dict[str, list[str]]:
    """JWT claims as the connect body carries them: ``{name: [str, ...]}`` (docs/protocol.md#connect-request-contents);
    ``dotnet`` naming
    renames ``sub``/``role`` like .NET's default inbound claim mapping."""
    out: dict[str, list[str]] = {}
    for raw_name, value in claims.items():
        name = _DOTNET_NAMES.get(raw_name, raw_name) if naming == "dotnet" else raw_name
        values = value if isinstance(value, list) else [value]
        out[name] = [v if isinstance(v, str) else str(v) for v in values]
    return out
