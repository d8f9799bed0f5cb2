"""Hostile input over the running stack (hypothesis, bounded, derandomized): the dev host webhook (headers and
bodies, signed so they get past the signature check), handler arguments from a real client, REST bodies and
OData filters, Engine.IO handshake queries, event names that cannot be headers. No crash, no 5xx except where
docs/protocol.md#user-events, docs/protocol.md#return-values has the extension answer 500, every refusal carries a
message.

(Engine.IO/Socket.IO frames after the handshake and fixed bad REST inputs are fuzzed in
tests/integration/test_emulator_badinput.py; filters alone in tests/unit/test_emulator_odata.py.)"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import jwt
import pytest
import socketio
from hypothesis import example, given
from hypothesis import strategies as st

from devhost.pytest_plugin import close_client, connect_client, negotiate
from devhost.stack import Stack
from shared.protocol import ConnectionString, signature_header
from tests.fixtures.fuzz import FUZZ

pytestmark = pytest.mark.integration

WEBHOOK = "/runtime/webhooks/socketio"
# Header-safe text: printable, no CR/LF/NUL (those cannot be sent at all; see the event-name test).
header_text = st.text(
    st.characters(min_codepoint=0x20, max_codepoint=0x2FF, blacklist_characters="\x7f"), max_size=24
).map(str.strip)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=12,
)


def _key(stack: Stack) -> str:
    key = ConnectionString.parse(stack.connection_string).access_key
    assert key is not None
    return key


def _alive(stack: Stack) -> None:
    assert httpx.get(f"{stack.devhost_url}/admin/host/status", timeout=5).status_code == 200
    assert httpx.head(f"{stack.emulator_url}/api/health", timeout=5).status_code == 200


# -- the dev host webhook -----------------------------------------------------------------------------------
webhook_requests = st.fixed_dictionaries(
    {
        "method": st.sampled_from(["POST", "POST", "POST", "GET", "OPTIONS", "PUT", "DELETE"]),
        "ce-type": st.sampled_from(
            ["azure.webpubsub.user.message", "azure.webpubsub.sys.connect", "azure.webpubsub.sys.disconnected"]
        )
        | header_text,
        "ce-eventName": st.sampled_from(["chat message", "join", "typing", "connect", "disconnected"]) | header_text,
        "ce-hub": st.sampled_from(["chat", "CHAT", "whiteboard"]) | header_text,
        "ce-namespace": st.sampled_from(["/", "/x"]) | header_text,
        "ce-connectionId": header_text,
        "ce-socketId": header_text,
        "content-type": st.sampled_from(["text/plain", "application/json", "text/plain; charset=utf-8"]) | header_text,
        "body": st.one_of(
            st.builds(lambda a: "42" + json.dumps(a), st.lists(json_values, max_size=4)),
            st.builds(
                lambda n, a: f"42{n}" + json.dumps(["chat message", *a]), st.integers(0, 99), st.lists(json_values)
            ),
            st.builds(json.dumps, json_values),
            st.builds(
                lambda c, q: json.dumps(
                    {"claims": c, "query": q, "headers": {}, "subprotocols": [], "clientCertificates": []}
                ),
                json_values,
                json_values,
            ),
            st.text(max_size=40),
        ),
    }
)


@FUZZ
@given(request=webhook_requests)
def test_fuzzed_webhooks_get_documented_statuses_with_reasons(sioless_stack: Stack, request: dict[str, str]) -> None:
    conn = request["ce-connectionId"]
    headers = {
        "WebHook-Request-Origin": "127.0.0.1",
        "ce-specversion": "1.0",
        "ce-signature": signature_header((_key(sioless_stack),), conn),
        **{k: v for k, v in request.items() if k not in ("method", "body", "content-type")},
        "Content-Type": request["content-type"],
    }
    encoded = {k.encode("ascii"): v.encode("utf-8") for k, v in headers.items()}
    response = httpx.request(
        request["method"],
        f"{sioless_stack.devhost_url}{WEBHOOK}",
        headers=encoded,
        content=request["body"].encode("utf-8"),
        timeout=30,
    )
    assert response.status_code in (200, 400, 401, 404, 500), response
    if response.status_code == 500:
        # docs/protocol.md#user-events, docs/protocol.md#return-values: only a user event or connect that got past
        # lookup and signature, with a payload the
        # extension cannot parse or a function result it cannot use, is a 500 -- and it says why
        assert request["method"] == "POST" and response.text.strip(), response.text
    elif response.status_code != 200 and request["method"] not in ("GET", "OPTIONS"):
        assert response.text.strip(), f"{response.status_code} without a reason for {request}"


# -- handler arguments from a real client --------------------------------------------------------------------
class _LoopClient:
    """A python-socketio AsyncClient (websocket) on an event loop in a thread, so sync hypothesis tests can use it."""

    def __init__(self, stack: Stack) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True, name="fuzz-client-loop")
        self.thread.start()
        self.client = self.run(connect_client(stack.devhost_url, "fuzzer", transports=["websocket"]))

    def run(self, coro: Any, timeout: float = 30) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        self.run(close_client(self.client))
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


@pytest.fixture(scope="module")
def chat_client(sioless_stack: Stack) -> Iterator[_LoopClient]:
    client = _LoopClient(sioless_stack)
    yield client
    client.close()


@FUZZ
@example(event="join", args=["\U0006b1e8ÿAZY\n²", "zoë"])  # non-ASCII REST bodies were once cut short
@given(
    event=st.sampled_from(["join", "leave", "chat message"]),
    args=st.lists(json_values | st.text(min_size=1, max_size=80), max_size=5),
)
def test_fuzzed_handler_arguments_get_an_ack_and_keep_the_connection(
    chat_client: _LoopClient, event: str, args: list[Any]
) -> None:
    ack = chat_client.run(chat_client.client.call(event, tuple(args), timeout=10))
    assert isinstance(ack, dict), ack
    assert ack.get("ok") is True or (isinstance(ack.get("error"), str) and ack["error"]), ack
    assert chat_client.client.connected


def test_event_names_that_cannot_be_headers_close_only_that_connection(sioless_stack: Stack) -> None:
    result = negotiate(sioless_stack.devhost_url, "newline")
    client = socketio.Client(reconnection=False)
    client.connect(
        f"{result['endpoint']}?access_token={result['token']}", socketio_path=result["path"], transports=["polling"]
    )
    try:
        client.emit("chat\r\nX-Injected: 1", ("lobby", "x", "n"))
        deadline = time.monotonic() + 10
        while client.connected and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not client.connected  # user_event_failure=close_connection, with the reason in the emulator log
    finally:
        client.disconnect()
    calls = httpx.get(f"{sioless_stack.emulator_url}/inspector/api", timeout=5).json()["upstreamCalls"]
    refused = [c for c in calls if c["event"].startswith("chat\r\n")]
    assert refused and "cannot be sent as a webhook" in refused[0]["error"], refused
    _alive(sioless_stack)


# -- REST bodies and OData filters ---------------------------------------------------------------------------
odata_like = st.lists(
    st.sampled_from(
        ["'0~Lw~' in groups", "userId eq 'a'", "connectionId ne 'x'", "not", "and", "or", "(", ")", "'", "''"]
        + ["tolower(userId) eq 'a'", "length(userId) gt 2", "contains(userId, 'z')", "groups", "eq", "in", "1"]
    ),
    max_size=7,
).map(" ".join) | st.text(max_size=30)


def _rest(stack: Stack, method: str, path: str, **kwargs: Any) -> httpx.Response:
    url = f"{stack.emulator_url}{path}"
    token = jwt.encode({"aud": url, "exp": int(time.time()) + 300}, _key(stack).encode(), algorithm="HS256")
    headers = {"Authorization": f"Bearer {token}", **kwargs.pop("headers", {})}
    params = {"api-version": "2024-12-01", **kwargs.pop("params", {})}
    return httpx.request(method, url, params=params, headers=headers, timeout=10, **kwargs)


def _rest_ok_or_clear(response: httpx.Response) -> None:
    assert response.status_code in (200, 202, 400, 413, 415), response.text
    if response.status_code >= 400:
        body = response.json()
        assert response.headers["x-ms-error-code"] == body["code"] and body["message"], body


@pytest.fixture(scope="module")
def fuzz_hub(sioless_stack: Stack) -> str:
    """Hub ``fuzz``, which no app function serves, with one Engine.IO connection (user ``fuzzer``, in group ``g``)
    for filters to be evaluated against; it is dropped by the ping timeout later."""
    url = f"{sioless_stack.emulator_url}/clients/socketio/hubs/fuzz/"
    aud = f"{sioless_stack.emulator.endpoint}/clients/socketio/hubs/fuzz"
    token = jwt.encode({"aud": aud, "exp": int(time.time()) + 300, "sub": "fuzzer"}, _key(sioless_stack).encode())
    opened = httpx.get(url, params={"EIO": "4", "transport": "polling", "access_token": token}, timeout=10)
    assert opened.status_code == 200, opened.text
    sid = json.loads(opened.text[1:])["sid"]
    assert _rest(sioless_stack, "PUT", f"/api/hubs/fuzz/groups/g/connections/{sid}").status_code == 200
    return "fuzz"


@FUZZ
@example(filter_text="", body="42[]")  # once reached clients, where python-socketio's reader raised IndexError
@given(filter_text=odata_like, body=st.text(max_size=40) | st.builds(lambda a: "42" + json.dumps(a), json_values))
def test_fuzzed_rest_sends_and_filters(sioless_stack: Stack, fuzz_hub: str, filter_text: str, body: str) -> None:
    for path in (f"/api/hubs/{fuzz_hub}/:send", f"/api/hubs/{fuzz_hub}/groups/g/:send"):
        response = _rest(
            sioless_stack,
            "POST",
            path,
            params={"filter": filter_text},
            content=body.encode(),
            headers={"Content-Type": "text/plain"},
        )
        _rest_ok_or_clear(response)


@FUZZ
@given(body=json_values | st.fixed_dictionaries({"groups": json_values, "filter": odata_like | json_values}))
def test_fuzzed_group_bodies(sioless_stack: Stack, fuzz_hub: str, body: Any) -> None:
    for action in (":addToGroups", ":removeFromGroups"):
        _rest_ok_or_clear(_rest(sioless_stack, "POST", f"/api/hubs/{fuzz_hub}/{action}", json=body))


# -- Engine.IO handshake queries -----------------------------------------------------------------------------
@FUZZ
@given(
    query=st.dictionaries(
        st.sampled_from(["EIO", "transport", "sid", "t", "b64", "access_token", "x"]),
        st.sampled_from(["4", "3", "5", "polling", "websocket", "", "abc"]) | header_text,
        max_size=5,
    ),
    method=st.sampled_from(["GET", "POST", "OPTIONS"]),
)
def test_fuzzed_handshake_queries_never_5xx(sioless_stack: Stack, query: dict[str, str], method: str) -> None:
    response = httpx.request(
        method, f"{sioless_stack.emulator_url}/clients/socketio/hubs/chat/", params=query, content=b"", timeout=10
    )
    assert response.status_code < 500, (query, response.status_code, response.text)
    if response.status_code >= 400:
        assert response.text.strip(), (query, response.status_code)
