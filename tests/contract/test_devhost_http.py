"""HTTP triggers and the socketionegotiation binding (docs/protocol.md#negotiation) on the raw fixture app."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator

import httpx
import jwt
import pytest
import pytest_asyncio

from tests.fixtures.devhost_support import KEY, devhost_client

CONN = f"Endpoint=http://localhost;Port=8080;AccessKey={KEY};Version=1.0;"


# One dev host (and worker process) for the module: the tests only read from it.
pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with devhost_client(CONN) as (_, client):
        yield client


async def test_negotiate_result_is_endpoint_path_token(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/negotiate", params={"userId": "alice"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    result = response.json()
    assert list(result) == ["endpoint", "path", "token"]
    assert result["endpoint"] == "http://localhost:8080"
    assert result["path"] == "/clients/socketio/hubs/chat"
    claims = jwt.decode(
        result["token"], KEY.encode(), algorithms=["HS256"], audience="http://localhost:8080/clients/socketio/hubs/chat"
    )
    assert claims["sub"] == "alice"
    assert 3500 < claims["exp"] - time.time() <= 3600


async def test_negotiate_without_user_has_no_sub(client: httpx.AsyncClient) -> None:
    result = (await client.get("/api/negotiate")).json()
    claims = jwt.decode(result["token"], KEY.encode(), algorithms=["HS256"], options={"verify_aud": False})
    assert "sub" not in claims


async def test_route_parameters_query_headers_body(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/items/42/widget?color=red", headers={"x-test": "yes"}, content=b"payload")
    assert response.status_code == 201
    assert response.headers["x-a"] == "b"
    assert response.json() == {
        "method": "POST",
        "route": {"id": "42", "name": "widget"},
        "query": {"color": "red"},
        "header": "yes",
        "body": "payload",
    }


async def test_optional_route_parameter_and_constraint(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/items/7")).json()["route"] == {"id": "7"}
    assert (await client.get("/api/items/seven")).status_code == 404


async def test_method_not_declared_is_404(client: httpx.AsyncClient) -> None:
    assert (await client.delete("/api/items/7")).status_code == 404


async def test_string_return_is_text(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/text")
    assert (response.status_code, response.text) == (200, "plain text")
    assert response.headers["content-type"].startswith("text/plain")


async def test_raising_http_function_is_500_and_the_host_stays_up(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/fail")).status_code == 500
    assert (await client.get("/api/text")).status_code == 200


async def test_unknown_route_is_404(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/nothing-here")).status_code == 404
    assert (await client.get("/elsewhere")).status_code == 404


async def test_health(client: httpx.AsyncClient) -> None:
    assert json.loads((await client.get("/admin/host/status")).text)["state"] == "Running"


async def test_cookies_come_back_as_set_cookie_headers(client: httpx.AsyncClient) -> None:
    # The worker sends Set-Cookie headers as RpcHttpCookie messages; the host turns each back into a header.
    response = await client.get("/api/cookies")
    assert response.text == "with cookies"
    assert response.headers.get_list("set-cookie") == [
        "a=1; Path=/; HttpOnly",
        "b=2; Domain=example.test; Max-Age=60; Secure; SameSite=Lax",
    ]
