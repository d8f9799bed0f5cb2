"""The host's reading of values (docs/devhost.md#the-host-role), through the dev host and the real worker runtime.

Each test sends a webhook written from docs/protocol.md#webhooks to the ``hostrole`` fixture app and checks what
the host made of the function's TypedData: the actions it sent (recorded by a server posing as the service) and
the webhook answer (the extension's BuildValidResponse).
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from shared.protocol import signature_header
from tests.fixtures.devhost_support import KEY, Recorded, devhost_client, recording_service

URL = "/runtime/webhooks/socketio"
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


async def emit(event: str, *args: Any) -> tuple[httpx.Response, list[Recorded]]:
    async with recording_service() as service, devhost_client(service.connection_string, "hostrole") as (_, client):
        payload = "421" + json.dumps([event, *args])
        response = await client.post(URL, headers=headers(event), content=payload.encode())
        return response, list(service.calls)


def sent_events(calls: list[Recorded]) -> list[str]:
    return [json.loads(call.body.decode().removeprefix("42"))[0] for call in calls]


# -- inputs ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("event", ["kind", "kind-json"])
async def test_the_trigger_arrives_as_json_text(event: str) -> None:
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
async def test_an_array_of_actions_is_iterated(mode: str, value: object) -> None:
    response, calls = await emit("out", mode, value)
    assert response.text == '431["done"]'
    assert sent_events(calls) == ["a", "b"]


@pytest.mark.parametrize("mode", ["string", "python"])
async def test_a_single_object_is_one_action(mode: str) -> None:
    response, calls = await emit("out", mode, A)
    assert response.text == '431["done"]'
    assert sent_events(calls) == ["a"]


@pytest.mark.parametrize(
    ("mode", "value"),
    [("python", [A, "not an object"]), ("python", [[A]]), ("string", "not json at all"), ("python", [A, 5])],
)
async def test_a_non_object_item_fails_the_invocation(mode: str, value: object) -> None:
    response, calls = await emit("out", mode, value)
    assert response.status_code == 500
    assert "not a JSON object" in response.text
    assert calls == []  # every item is checked before the first call


async def test_actions_complete_before_the_ack_is_returned() -> None:
    # The recorder has answered every REST call by the time the webhook answers: sent, then acked.
    response, calls = await emit("out", "python", [A, B])
    assert response.text == '431["done"]' and len(calls) == 2


# -- the return value (BuildValidResponse) -----------------------------------------------------------------
@pytest.mark.parametrize("mode", ["string", "python"])
async def test_a_json_object_return_gives_the_ack(mode: str) -> None:
    response, _ = await emit("ret", mode, {"ack": [1, "two"]})
    assert (response.status_code, response.text) == (200, '431[1,"two"]')


@pytest.mark.parametrize("mode", ["string", "python"])
async def test_an_array_return_is_500(mode: str) -> None:
    response, _ = await emit("ret", mode, [1, 2])
    assert response.status_code == 500
    assert "Response should be a JObject" in response.text


@pytest.mark.parametrize("value", [{"ack": 1}, {"ack": "x"}, {"ack": {"a": 1}}])
async def test_ack_must_be_an_array(value: object) -> None:
    response, _ = await emit("ret", "string", value)
    assert response.status_code == 500
    assert "'ack' must be a JSON array" in response.text


async def test_keys_are_case_sensitive() -> None:
    response, _ = await emit("ret", "string", {"Ack": [1]})
    assert (response.status_code, response.text) == (200, "")


async def test_none_is_200_without_ack() -> None:
    response, _ = await emit("ret", "python", None)
    assert (response.status_code, response.text) == (200, "")


@pytest.mark.parametrize(("ret", "status"), [('{"statusCode": 401}', 401), ('{"StatusCode": 401}', 200)])
async def test_connect_status_code_is_case_sensitive(ret: str, status: int) -> None:
    body = {"claims": {}, "query": {"ret": [ret]}, "headers": {}, "subprotocols": [], "clientCertificates": []}
    async with recording_service() as service, devhost_client(service.connection_string, "hostrole") as (_, client):
        response = await client.post(URL, headers=headers("connect", system=True), content=json.dumps(body))
    assert response.status_code == status


# -- a returned dict overwrites same-named outputs (HandleOutputDictionary) ------------------------------
async def test_a_returned_dict_overwrites_the_output_binding_of_the_same_name() -> None:
    response, calls = await emit("merge", "python", B)
    assert response.text == '431["merged"]'
    assert sent_events(calls) == ["b"]  # the dict's "out" replaced the action set through out.set()


async def test_a_returned_json_string_does_not() -> None:
    response, calls = await emit("merge", "string", B)
    assert response.text == '431["merged"]'
    assert sent_events(calls) == ["a"]
