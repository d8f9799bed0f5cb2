"""The dev host's /runtime/webhooks/socketio against docs/protocol.md#webhooks, docs/protocol.md#trigger-payloads,
docs/protocol.md#return-values, request by request.

Requests are written from the reference (docs/protocol.md#webhooks), with the signature test
vector; the expected
statuses and bodies are those of docs/protocol.md#dispatch-order and docs/protocol.md#return-values. The app is a raw
azure.functions fixture (no sioless library).
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio

from tests.fixtures.devhost_support import KEY, devhost_client

# docs/protocol.md#signatures test vector (from the extension's tests).
CONNECTION_ID = "0f9c97a2f0bf4706afe87a14e0797b11"
SIGNATURE = "sha256=7767effcb3946f3e1de039df4b986ef02c110b1469d02c0a06f41b3b727ab561"
CONN = f"Endpoint=http://localhost;Port=8080;AccessKey={KEY};Version=1.0;"
URL = "/runtime/webhooks/socketio"


# One dev host (and worker process) for the module: the tests only read from it.
pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with devhost_client(CONN, timeout=2.0) as (_, client):
        yield client


def headers(event: str, *, kind: str = "sys", namespace: str = "/", **extra: str) -> dict[str, str]:
    ce_type = f"azure.webpubsub.sys.{event}" if kind == "sys" else "azure.webpubsub.user.message"
    result = {
        "WebHook-Request-Origin": "localhost",
        "Content-Type": "application/json; charset=utf-8" if kind == "sys" else "text/plain",
        "ce-specversion": "1.0",
        "ce-type": ce_type,
        "ce-source": f"/hubs/chat/client/{CONNECTION_ID}",
        "ce-id": "1",
        "ce-time": "2024-01-01T00:00:00Z",
        "ce-signature": f"sha256=0000,{SIGNATURE}",
        "ce-connectionId": CONNECTION_ID,
        "ce-hub": "chat",
        "ce-eventName": event,
        "ce-namespace": namespace,
        "ce-socketId": "socketId",
    }
    result.update(extra)
    return result


CONNECT_BODY = {"claims": {"sub": ["u1"]}, "query": {}, "headers": {}, "subprotocols": [], "clientCertificates": []}


# -- docs/protocol.md#abuse-protection abuse protection
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("method", ["OPTIONS", "GET"])
async def test_abuse_protection_allows_the_endpoint_host(client: httpx.AsyncClient, method: str) -> None:
    response = await client.request(method, URL, headers={"WebHook-Request-Origin": "localhost"})
    assert response.status_code == 200
    assert response.headers["WebHook-Allowed-Origin"] == "localhost"


async def test_abuse_protection_matches_case_insensitively_in_a_list(client: httpx.AsyncClient) -> None:
    response = await client.options(URL, headers={"WebHook-Request-Origin": "def.com, LOCALHOST"})
    assert response.status_code == 200
    assert response.headers["WebHook-Allowed-Origin"] == "LOCALHOST"


@pytest.mark.parametrize("origin", ["def.com", "localhost:8080", ""])
async def test_abuse_protection_refuses_other_origins(client: httpx.AsyncClient, origin: str) -> None:
    response = await client.options(URL, headers={"WebHook-Request-Origin": origin})
    assert response.status_code == 400
    assert "WebHook-Allowed-Origin" not in response.headers


# -- docs/protocol.md#dispatch-order order: headers 400, lookup 404, signature 401, method 400
# -------------------------------------
@pytest.mark.parametrize(
    "header",
    ["ce-connectionId", "ce-hub", "ce-type", "ce-eventName", "WebHook-Request-Origin", "ce-namespace", "ce-socketId"],
)
async def test_missing_required_header_is_400(client: httpx.AsyncClient, header: str) -> None:
    sent = headers("connect")
    sent[header] = ""
    response = await client.post(URL, headers=sent, content=json.dumps(CONNECT_BODY))
    assert response.status_code == 400


@pytest.mark.parametrize(
    "change",
    [{"ce-hub": "other"}, {"ce-namespace": "/ns1"}, {"ce-eventName": "nothing"}, {"ce-type": "azure.webpubsub.user.x"}],
)
async def test_no_matching_function_is_404_before_the_signature(client: httpx.AsyncClient, change: dict) -> None:
    sent = headers("connect", **change)
    sent["ce-signature"] = "sha256=bad"
    response = await client.post(URL, headers=sent, content=json.dumps(CONNECT_BODY))
    assert response.status_code == 404


async def test_lookup_is_case_insensitive(client: httpx.AsyncClient) -> None:
    sent = headers("CONNECT", **{"ce-hub": "CHAT", "ce-type": "azure.webpubsub.sys.connect"})
    response = await client.post(URL, headers=sent, content=json.dumps(CONNECT_BODY))
    assert response.status_code == 200


@pytest.mark.parametrize(
    "signature",
    [
        SIGNATURE,
        SIGNATURE.upper().replace("SHA256", "sha256"),
        f"sha256=something,{SIGNATURE}",
        f"sha256=something, {SIGNATURE}",
        f"{SIGNATURE},sha256=something",
    ],
)
async def test_signature_vector_is_accepted_in_every_position(client: httpx.AsyncClient, signature: str) -> None:
    response = await client.post(
        URL, headers=headers("connect", **{"ce-signature": signature}), content=json.dumps(CONNECT_BODY)
    )
    assert response.status_code == 200


@pytest.mark.parametrize(
    "change",
    [{"ce-signature": "sha256=deadbeef"}, {"ce-signature": ""}, {"WebHook-Request-Origin": "abc.com"}],
)
async def test_bad_signature_or_foreign_origin_is_401(client: httpx.AsyncClient, change: dict) -> None:
    response = await client.post(URL, headers=headers("connect", **change), content=json.dumps(CONNECT_BODY))
    assert response.status_code == 401


async def test_method_other_than_post_is_400(client: httpx.AsyncClient) -> None:
    response = await client.request("DELETE", URL, headers=headers("connect"), content=json.dumps(CONNECT_BODY))
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("method", "change", "status"),
    [
        # each request fails several checks at once: the first failing check of docs/protocol.md#dispatch-order decides
        # the status
        ("POST", {"ce-socketId": "", "ce-hub": "other", "ce-signature": "sha256=bad"}, 400),
        ("DELETE", {"ce-hub": "other", "ce-signature": "sha256=bad"}, 404),
        ("DELETE", {"ce-signature": "sha256=bad"}, 401),
    ],
    ids=["headers-first", "lookup-before-signature-and-method", "signature-before-method"],
)
async def test_checks_run_in_the_order_of_section_2_9(
    client: httpx.AsyncClient, method: str, change: dict, status: int
) -> None:
    response = await client.request(method, URL, headers=headers("connect", **change), content=json.dumps(CONNECT_BODY))
    assert response.status_code == status


# -- docs/protocol.md#connect, docs/protocol.md#return-values connect
# ----------------------------------------------------------------------------
async def test_connect_accepts_with_empty_body(client: httpx.AsyncClient) -> None:
    response = await client.post(URL, headers=headers("connect"), content=json.dumps(CONNECT_BODY))
    assert response.status_code == 200
    assert response.content == b""


async def test_connect_status_code_is_passed_through(client: httpx.AsyncClient) -> None:
    body = dict(CONNECT_BODY, query={"deny": ["1"]})
    response = await client.post(URL, headers=headers("connect"), content=json.dumps(body))
    assert response.status_code == 401
    assert response.content == b""


async def test_connect_status_code_as_enum_name(client: httpx.AsyncClient) -> None:
    response = await client.post(URL, headers=headers("connect", namespace="/ns"), content=json.dumps(CONNECT_BODY))
    assert response.status_code == 403


async def test_connect_body_needs_all_five_keys(client: httpx.AsyncClient) -> None:
    body = {k: v for k, v in CONNECT_BODY.items() if k != "subprotocols"}
    response = await client.post(URL, headers=headers("connect"), content=json.dumps(body))
    assert response.status_code == 500
    assert "subprotocols" in response.text


# -- docs/protocol.md#user-events, docs/protocol.md#return-values user events
# -------------------------------------------------------------------------
def user(event: str, payload: str, namespace: str = "/", **extra: str) -> dict:
    return {"headers": headers(event, kind="user", namespace=namespace, **extra), "content": payload.encode()}


async def test_acked_event_returns_the_eio_ack(client: httpx.AsyncClient) -> None:
    response = await client.post(URL, **user("echo", '4213["echo","hello",1]'))
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.text.startswith("4313[")
    ack = json.loads(response.text[4:].lstrip("0123456789"))
    assert ack[0]["echo"] == ["hello", 1]
    # docs/protocol.md#trigger-payloads: the user-event trigger JSON, exactly these keys.
    assert ack[0]["trigger"] == {
        "namespace": "/",
        "socketId": "socketId",
        "payload": '4213["echo","hello",1]',
        "eventName": "echo",
        "parameters": ["hello", 1],
    }


async def test_acked_event_on_a_namespace(client: httpx.AsyncClient) -> None:
    response = await client.post(URL, **user("echo", '42/ns,13["echo","bar"]', namespace="/ns"))
    assert response.status_code == 200
    assert response.text == '43/ns,13["bar"]'


async def test_event_without_ack_id_gives_200_empty(client: httpx.AsyncClient) -> None:
    response = await client.post(URL, **user("echo", '42["echo","hello"]'))
    assert response.status_code == 200
    assert response.content == b""


async def test_event_without_arguments_has_null_parameters(client: httpx.AsyncClient) -> None:
    response = await client.post(URL, **user("echo", '427["echo"]'))
    ack = json.loads(response.text[len("437") :])
    assert ack[0]["trigger"]["parameters"] is None


async def test_message_must_be_text_plain(client: httpx.AsyncClient) -> None:
    request = user("echo", '42["echo"]', **{"Content-Type": "application/json"})
    response = await client.post(URL, **request)
    assert response.status_code == 400
    assert response.text == "Message data only supports text. Current value is: application/json"


@pytest.mark.parametrize("payload", ['42["other","x"]', "b4AAA", '43["echo"]', '45["echo"]'])
async def test_bad_payload_or_event_name_mismatch_is_500(client: httpx.AsyncClient, payload: str) -> None:
    response = await client.post(URL, **user("echo", payload))
    assert response.status_code == 500
    assert response.text


async def test_raising_acked_handler_is_500_and_host_keeps_serving(client: httpx.AsyncClient) -> None:
    response = await client.post(URL, **user("boom", '421["boom"]'))
    assert response.status_code == 500
    assert "boom handler failed on purpose" in response.text
    again = await client.post(URL, **user("echo", '422["echo","still here"]'))
    assert again.status_code == 200


async def test_raising_handler_without_ack_is_200_as_the_extension_ignores_it(client: httpx.AsyncClient) -> None:
    response = await client.post(URL, **user("boom", '42["boom"]'))
    assert response.status_code == 200
    assert response.content == b""


@pytest.mark.parametrize("event", ["slow", "aslow"])
async def test_hanging_handler_hits_the_function_timeout(client: httpx.AsyncClient, event: str) -> None:
    response = await client.post(URL, **user(event, f'429["{event}",5]'))
    assert response.status_code == 500
    assert "Timeout value of 00:00:02 exceeded" in response.text


async def test_return_value_must_be_a_json_object(client: httpx.AsyncClient) -> None:
    response = await client.post(URL, **user("bad-return", '421["bad-return"]'))
    assert response.status_code == 500


# -- docs/protocol.md#connected, docs/protocol.md#disconnected connected, disconnected
# ------------------------------------------------------------
async def test_connected_and_disconnected_answer_200(client: httpx.AsyncClient) -> None:
    response = await client.post(URL, headers=headers("connected"), content=b"{}")
    assert (response.status_code, response.content) == (200, b"")
    response = await client.post(URL, headers=headers("disconnected"), content=b'{"reason":""}')
    assert (response.status_code, response.content) == (200, b"")


async def test_func_style_log_lines(client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("INFO", logger="devhost")
    await client.post(URL, **user("echo", '421["echo"]'))
    await client.post(URL, **user("boom", '422["boom"]'))
    lines = [r.getMessage() for r in caplog.records]
    executing = [line for line in lines if line.startswith("Executing 'Functions.")]
    executed = [line for line in lines if line.startswith("Executed 'Functions.") and "Duration=" in line]
    assert len(executing) == 2 and len(executed) == 2
    assert re.fullmatch(r"Executing 'Functions\.echo' \(Reason='.+', Id=[0-9a-f-]{36}\)", executing[0])
    assert re.fullmatch(r"Executed 'Functions\.echo' \(Succeeded, Id=[0-9a-f-]{36}, Duration=\d+ms\)", executed[0])
    assert re.fullmatch(r"Executed 'Functions\.boom' \(Failed, Id=[0-9a-f-]{36}, Duration=\d+ms\)", executed[1])
