"""The host's reading of values (docs/devhost.md#the-host-role), through the dev host and the real worker runtime.

Each test sends a webhook written from docs/protocol.md#webhooks to the ``hostrole`` fixture app and checks what
the host made of the function's TypedData: the actions it sent (recorded by a server posing as the service) and
the webhook answer (the extension's BuildValidResponse).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
import pytest_asyncio

from shared.protocol import signature_header
from tests.fixtures.devhost_support import KEY, Recorded, Recorder, devhost_client, recording_service

URL = "/runtime/webhooks/socketio"
Emit = Callable[..., Awaitable[tuple[httpx.Response, list[Recorded]]]]
A = {"actionName": "sendToNamespace", "namespace": "/", "eventName": "a", "parameters": []}
B = {"actionName": "sendToNamespace", "namespace": "/", "eventName": "b", "parameters": []}


def headers(event: str, system: bool = False) -> dict[str, str]:
    return {
        "WebHook-Request-Origin": "localhost",
        "Content-Type": "application/json" if system else "text/plain",
        "ce-type": f"azure.webpubsub.sys.{event}" if system else "azure.webpubsub.user.message",
        "ce-connectionId": "conn1",
        "ce-hub": "chat",
        "ce-eventName": event,
        "ce-namespace": "/",
        "ce-socketId": "sid",
        "ce-signature": signature_header([KEY], "conn1"),
    }


# One recording service and one dev host (with its worker process) for the module; calls are reset per test.
pytestmark = pytest.mark.asyncio(loop_scope="module")
Setup = tuple[Recorder, httpx.AsyncClient]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def setup() -> AsyncIterator[Setup]:
    async with recording_service() as service, devhost_client(service.connection_string, "hostrole") as (_, client):
        yield service, client


@pytest_asyncio.fixture(loop_scope="module")
async def emit(setup: Setup) -> Emit:
    service, client = setup

    async def send(event: str, *args: Any) -> tuple[httpx.Response, list[Recorded]]:
        service.calls.clear()
        payload = "421" + json.dumps([event, *args])
        response = await client.post(URL, headers=headers(event), content=payload.encode())
        return response, list(service.calls)

    return send


def sent_events(calls: list[Recorded]) -> list[str]:
    return [json.loads(call.body.decode().removeprefix("42"))[0] for call in calls]


# -- inputs ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("event", ["kind", "kind-json"])
async def test_the_trigger_arrives_as_json_text(emit: Emit, event: str) -> None:
    # dataType STRING -> TypedData string; no dataType -> TypedData json; the worker gives Python the text.
    response, _ = await emit(event)
    assert response.text == '431["str","' + event + '"]'


# -- the socketio output --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("mode", "value"),
    [
        ("string", [A, B]),  # a JSON-array string is iterated
        ("python", [A, B]),  # a json list is iterated
        ("string", "  [" + json.dumps(A) + ", " + json.dumps(B) + "]\n"),  # trimmed before the JSON check
    ],
)
async def test_an_array_of_actions_is_iterated(emit: Emit, mode: str, value: object) -> None:
    response, calls = await emit("out", mode, value)
    assert response.text == '431["done"]'
    assert sent_events(calls) == ["a", "b"]


@pytest.mark.parametrize("mode", ["string", "python"])
async def test_a_single_object_is_one_action(emit: Emit, mode: str) -> None:
    response, calls = await emit("out", mode, A)
    assert response.text == '431["done"]'
    assert sent_events(calls) == ["a"]


@pytest.mark.parametrize(
    ("mode", "value"),
    [("python", [A, "not an object"]), ("python", [[A]]), ("string", "not json at all"), ("python", [A, 5])],
)
async def test_a_non_object_item_fails_the_invocation(emit: Emit, mode: str, value: object) -> None:
    response, calls = await emit("out", mode, value)
    assert response.status_code == 500
    assert "not a JSON object" in response.text
    assert calls == []  # every item is checked before the first call


async def test_actions_complete_before_the_ack_is_returned(emit: Emit) -> None:
    # The recorder has answered every REST call by the time the webhook answers: sent, then acked.
    response, calls = await emit("out", "python", [A, B])
    assert response.text == '431["done"]' and len(calls) == 2


# -- the return value (BuildValidResponse) -----------------------------------------------------------------
@pytest.mark.parametrize("mode", ["string", "python"])
async def test_a_json_object_return_gives_the_ack(emit: Emit, mode: str) -> None:
    response, _ = await emit("ret", mode, {"ack": [1, "two"]})
    assert (response.status_code, response.text) == (200, '431[1,"two"]')


@pytest.mark.parametrize("mode", ["string", "python"])
async def test_an_array_return_is_500(emit: Emit, mode: str) -> None:
    response, _ = await emit("ret", mode, [1, 2])
    assert response.status_code == 500
    assert "Response should be a JObject" in response.text


@pytest.mark.parametrize("value", [{"ack": 1}, {"ack": "x"}, {"ack": {"a": 1}}])
async def test_ack_must_be_an_array(emit: Emit, value: object) -> None:
    response, _ = await emit("ret", "string", value)
    assert response.status_code == 500
    assert "'ack' must be a JSON array" in response.text


async def test_keys_are_case_sensitive(emit: Emit) -> None:
    response, _ = await emit("ret", "string", {"Ack": [1]})
    assert (response.status_code, response.text) == (200, "")


async def test_none_is_200_without_ack(emit: Emit) -> None:
    response, _ = await emit("ret", "python", None)
    assert (response.status_code, response.text) == (200, "")


@pytest.mark.parametrize(("ret", "status"), [('{"statusCode": 401}', 401), ('{"StatusCode": 401}', 200)])
async def test_connect_status_code_is_case_sensitive(setup: Setup, ret: str, status: int) -> None:
    body = {"claims": {}, "query": {"ret": [ret]}, "headers": {}, "subprotocols": [], "clientCertificates": []}
    _, client = setup
    response = await client.post(URL, headers=headers("connect", system=True), content=json.dumps(body))
    assert response.status_code == status


# -- a returned dict overwrites same-named outputs (HandleOutputDictionary) ------------------------------
async def test_a_returned_dict_overwrites_the_output_binding_of_the_same_name(emit: Emit) -> None:
    response, calls = await emit("merge", "python", B)
    assert response.text == '431["merged"]'
    assert sent_events(calls) == ["b"]  # the dict's "out" replaced the action set through out.set()


async def test_a_returned_json_string_does_not(emit: Emit) -> None:
    response, calls = await emit("merge", "string", B)
    assert response.text == '431["merged"]'
    assert sent_events(calls) == ["a"]
