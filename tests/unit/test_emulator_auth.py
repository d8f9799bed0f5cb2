"""Token checks: client tokens (docs/protocol.md#client-connections, docs/protocol.md#negotiation) and REST bearer
tokens (docs/protocol.md#rest-authentication, docs/protocol.md#rest-authentication)."""

from __future__ import annotations

import time

import jwt
import pytest
from azure.messaging.webpubsubservice import WebPubSubServiceClient

from emulator._auth import (
    TokenError,
    audience_bases,
    claims_as_lists,
    make_client_token,
    validate_client_token,
    validate_rest_token,
)

KEY, OTHER = "primary-key-for-tests-0123456789abcdef", "secondary-key-for-tests-0123456789abcdef"
ENDPOINT = "http://localhost:8080"


def sdk_token(endpoint: str = "http://localhost", port: int = 8080, key: str = KEY, **kw) -> str:
    cs = f"Endpoint={endpoint};Port={port};AccessKey={key};Version=1.0;"
    client = WebPubSubServiceClient.from_connection_string(cs, hub="chat")
    return client.get_client_access_token(client_protocol="SocketIO", **kw)["token"]


def test_sdk_client_token_is_accepted_with_either_key():
    bases = audience_bases(ENDPOINT)
    claims = validate_client_token(sdk_token(user_id="ann"), [KEY, OTHER], "chat", bases)
    assert claims["sub"] == "ann"
    assert validate_client_token(sdk_token(key=OTHER), [KEY, OTHER], "chat", bases)["aud"].endswith("/hubs/chat")


def test_loopback_aliases_share_the_port():
    bases = audience_bases(ENDPOINT)
    assert {"http://localhost:8080", "http://127.0.0.1:8080", "http://[::1]:8080"} <= bases
    validate_client_token(sdk_token("http://127.0.0.1"), [KEY], "chat", bases)
    with pytest.raises(TokenError, match="audience"):
        validate_client_token(sdk_token("http://127.0.0.1", port=9999), [KEY], "chat", bases)
    # a non-loopback endpoint gets no aliases; the request's own Host is accepted
    remote = audience_bases("http://emu.example:8080", "emu.internal:8080")
    assert remote == {"http://emu.example:8080", "http://emu.internal:8080"}


@pytest.mark.parametrize(
    ("claims", "key", "message"),
    [
        (
            {"aud": f"{ENDPOINT}/clients/socketio/hubs/chat"},
            "wrong-key-0123456789abcdef0123456789",
            "neither access key",
        ),
        ({"aud": f"{ENDPOINT}/clients/socketio/hubs/other"}, KEY, "audience"),
        ({"aud": f"{ENDPOINT}/client/hubs/chat"}, KEY, "audience"),  # the generic Web PubSub path is not ours
        ({"aud": f"{ENDPOINT}/clients/socketio/hubs/chat", "exp": int(time.time()) - 86_400}, KEY, "expired"),
        ({"aud": f"{ENDPOINT}/clients/socketio/hubs/chat", "nbf": int(time.time()) + 86_400}, KEY, "not valid yet"),
        ({}, KEY, "audience"),
    ],
)
def test_bad_client_tokens_are_refused(claims, key, message):
    token = jwt.encode({"exp": int(time.time()) + 2 * 86_400, **claims}, key.encode(), algorithm="HS256")
    with pytest.raises(TokenError, match=message):
        validate_client_token(token, [KEY, OTHER], "chat", audience_bases(ENDPOINT))


def test_malformed_and_missing_tokens():
    with pytest.raises(TokenError, match="no access token"):
        validate_client_token("", [KEY], "chat", audience_bases(ENDPOINT))
    with pytest.raises(TokenError, match="malformed"):
        validate_client_token("a.b.c", [KEY], "chat", audience_bases(ENDPOINT))
    none_alg = jwt.encode({"aud": f"{ENDPOINT}/clients/socketio/hubs/chat"}, None, algorithm="none")
    with pytest.raises(TokenError):
        validate_client_token(none_alg, [KEY], "chat", audience_bases(ENDPOINT))


def test_rest_aud_ignores_query_encoding_but_not_path():
    aud = f"{ENDPOINT}/api/hubs/chat/groups/0~Lw~cm0/:send?api-version=2024-12-01&filter=not%20%28%27x%27%29"
    token = jwt.encode({"aud": aud, "exp": int(time.time()) + 60}, OTHER.encode(), algorithm="HS256")
    bases = audience_bases(ENDPOINT)
    validate_rest_token(token, [KEY, OTHER], bases, "/api/hubs/chat/groups/0~Lw~cm0/:send")
    validate_rest_token(token, [KEY, OTHER], bases, "/api/hubs/chat/groups/0%7ELw%7Ecm0/:send")  # encoded ~
    with pytest.raises(TokenError, match="audience"):
        validate_rest_token(token, [KEY, OTHER], bases, "/api/hubs/chat/:send")


def test_generated_token_roundtrip_and_claim_lists():
    token = make_client_token(KEY, ENDPOINT, "chat", user_id="u", roles=["r1"], groups=["g"], minutes=5)
    claims = validate_client_token(token, [KEY], "chat", audience_bases(ENDPOINT))
    assert claims["exp"] - claims["iat"] == 300
    as_lists = claims_as_lists(claims)
    assert as_lists["sub"] == ["u"] and as_lists["role"] == ["r1"] and as_lists["webpubsub.group"] == ["g"]
    assert as_lists["exp"] == [str(claims["exp"])]


def test_dotnet_claim_naming_switch():
    named = claims_as_lists({"sub": "u", "role": ["a", "b"], "custom": 1}, "dotnet")
    assert named == {
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier": ["u"],
        "http://schemas.microsoft.com/ws/2008/06/identity/claims/role": ["a", "b"],
        "custom": ["1"],
    }


def test_a_verified_token_is_remembered_only_until_it_expires(monkeypatch):
    bases = audience_bases(ENDPOINT)
    token = make_client_token(KEY, ENDPOINT, "chat", user_id="ann", minutes=1)
    assert validate_client_token(token, [KEY], "chat", bases)["sub"] == "ann"
    assert validate_client_token(token, [KEY], "chat", bases)["sub"] == "ann"  # from the cache
    with pytest.raises(TokenError, match="audience"):  # aud is checked on every use, cached or not
        validate_client_token(token, [KEY], "other", bases)
    with pytest.raises(TokenError, match="neither access key"):  # the cache is per key set
        validate_client_token(token, [OTHER], "chat", bases)
    later = time.time() + 120
    monkeypatch.setattr("emulator._auth.time.time", lambda: later)
    with pytest.raises(TokenError, match="expired"):
        validate_client_token(token, [KEY], "chat", bases)
