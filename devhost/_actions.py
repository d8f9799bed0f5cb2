"""Output-binding actions -> data-plane REST calls through the official SDK (docs/protocol.md#output-actions,
docs/protocol.md#actions-to-rest-calls).

``shared.protocol`` builds the calls exactly as the extension's collector does; this module only sends them
with ``azure-messaging-webpubsubservice``: ``send_to_group``/``send_to_all`` (``text/plain``, ``filter`` passed
through as built, ``""`` included) and ``send_request`` for ``:addToGroups``/``:removeFromGroups``, which the
client has no method for. Actions go through the SDK's async client on the event loop (aiohttp transport, one
pooled session per connection string and hub): the sync client cost ~5 ms of CPU per call plus a thread hop,
the async one ~1.7 ms (docs/reliability.md). The sync client is kept for negotiation (a local token signature).
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import time
from typing import Any
from urllib.parse import urlsplit

from azure.core.pipeline import PipelineRequest, policies
from azure.core.rest import HttpRequest
from azure.messaging.webpubsubservice import WebPubSubServiceClient
from azure.messaging.webpubsubservice.aio import WebPubSubServiceClient as AsyncWebPubSubServiceClient

from shared.protocol import ActionError, RestCall, action_to_rest_calls, parse_actions

log = logging.getLogger("devhost")

# The api-version the 1.3.0 client uses for its own methods; the same for the two raw calls.
API_VERSION = "2024-12-01"
# Every REST call is bounded (azure-core's defaults are 300 s per read): 5 s to connect, 20 s to answer (below the
# service's 30 s webhook timeout, so a stuck call fails the invocation instead of the webhook). Connect failures
# are retried (nothing was sent); a timed-out read is not (a send is not idempotent: a retry could deliver twice).
# azure-core already refuses to repeat a POST after a read error; retry_read=0 states it for every method.
REST_OPTIONS: dict[str, Any] = {"connection_timeout": 5, "read_timeout": 20, "retry_read": 0}


def actions_of(value: Any) -> list[dict[str, Any]]:
    """The actions in an output value as the worker would pass it: str/bytes JSON, dict or list."""
    if isinstance(value, (bytes, bytearray)):
        value = bytes(value).decode("utf-8")
    if not isinstance(value, (str, dict, list)):
        raise ActionError(
            f"socketio output value must be a JSON string, dict or list of actions, got {type(value).__name__}."
        )
    return parse_actions(value)


def _utf8(text: str) -> Any:
    # Bytes, not str: azure-core sets Content-Length to len(str) -- characters, not bytes -- and the async
    # transport then cuts non-ASCII messages short (found by tests/reliability/test_hostile.py). The SDK's
    # annotations say str or IO; bytes go through unchanged (typed Any for that reason).
    return text.encode("utf-8")


def _is_loopback(connection_string: str) -> bool:
    """Whether the connection string's endpoint is this machine (the emulator). No proxy applies to loopback,
    and with environment settings on, aiohttp looks the proxy up in a thread on every request: a thread hop
    per REST call (docs/performance.md)."""
    for part in connection_string.split(";"):
        name, _, value = part.partition("=")
        if name.strip().lower() == "endpoint":
            host = (urlsplit(value.strip()).hostname or "").lower()
            if host == "localhost":
                return True
            try:
                return ipaddress.ip_address(host).is_loopback
            except ValueError:  # a name other than localhost
                return False
    return False


class ReusedTokens(policies.SansIOHTTPPolicy):  # type: ignore[type-arg]
    """The SDK's JWT policy with its token reused for the same request URL for ``seconds``: the SDK signs a token
    valid for 60 s on every request (~12 % of a loopback REST call's CPU), and the calls a handler makes repeat the
    same URLs (``:addToGroups``, a room's ``:send``). A reused token still has 50 s or more to live; ``aud`` is
    the URL it was signed for, as before."""

    def __init__(self, sdk_policy: Any, seconds: float = 10.0, size: int = 1024) -> None:
        self._sdk_policy = sdk_policy
        self._seconds = seconds
        self._size = size
        self._tokens: dict[str, tuple[float, str]] = {}

    def on_request(self, request: PipelineRequest[Any]) -> None:
        http_request = request.http_request
        url = http_request.url
        now = time.monotonic()
        reused = self._tokens.get(url)
        if reused is not None and reused[0] > now:
            http_request.headers["Authorization"] = reused[1]
            return
        self._sdk_policy.on_request(request)
        if len(self._tokens) >= self._size:
            self._tokens.clear()
        self._tokens[url] = (now + self._seconds, http_request.headers["Authorization"])


def loopback_client(connection_string: str, hub: str, **options: Any) -> AsyncWebPubSubServiceClient:
    """The SDK's async client for a loopback endpoint (the emulator), with only the policies that shape the request
    or decide whether it is made again: the request id, headers and user agent, retries (``options`` set them) and
    the SDK's own JWT policy as the SDK built it, its tokens reused per URL (``ReusedTokens``). Left out: redirects,
    proxies (none on loopback, nor is the environment read: ``use_env_settings`` off), response decoding (nothing
    reads a decoded body), logging, tracing and custom hooks. Together a REST call costs ~30 % less CPU
    (docs/performance.md); the bytes on the wire are the same (tests/contract/test_devhost_actions.py). If the SDK
    ever builds its client differently, its full pipeline is used."""
    options = {**options, "use_env_settings": False}
    sdk = AsyncWebPubSubServiceClient.from_connection_string(connection_string, hub=hub, **options)
    config = getattr(sdk, "_config", None)
    parts = [getattr(config, name, None) for name in ("headers_policy", "user_agent_policy", "authentication_policy")]
    if any(part is None for part in parts):
        return sdk
    headers, user_agent, authentication = parts
    lean = [
        policies.RequestIdPolicy(**options),
        headers,
        user_agent,
        policies.AsyncRetryPolicy(**options),
        ReusedTokens(authentication),
    ]
    return AsyncWebPubSubServiceClient.from_connection_string(connection_string, hub=hub, policies=lean, **options)


class ActionSender:
    """Sends REST calls for one or more (connection string, hub) pairs; clients are built once and reused."""

    def __init__(self) -> None:
        self._clients: dict[tuple[str, str], WebPubSubServiceClient] = {}
        self._async_clients: dict[tuple[str, str], AsyncWebPubSubServiceClient] = {}
        self._closing: set[asyncio.Task[None]] = set()

    async def aclose(self) -> None:
        clients, self._async_clients = list(self._async_clients.values()), {}
        for async_client in clients:
            await async_client.close()
        self.close()

    def close(self) -> None:
        for client in self._clients.values():
            client.close()
        self._clients = {}
        if self._async_clients:
            # Called without a loop to await on (a sync shutdown path): close them on the running loop if any.
            try:
                task = asyncio.get_running_loop().create_task(self.aclose())
            except RuntimeError:
                self._async_clients = {}
            else:
                self._closing.add(task)
                task.add_done_callback(self._closing.discard)

    def client(self, connection_string: str, hub: str) -> WebPubSubServiceClient:
        key = (connection_string, hub)
        if key not in self._clients:
            self._clients[key] = WebPubSubServiceClient.from_connection_string(connection_string, hub=hub)
        return self._clients[key]

    def async_client(self, connection_string: str, hub: str) -> AsyncWebPubSubServiceClient:
        key = (connection_string, hub)
        if key not in self._async_clients:
            if _is_loopback(connection_string):
                self._async_clients[key] = loopback_client(connection_string, hub, **REST_OPTIONS)
            else:
                self._async_clients[key] = AsyncWebPubSubServiceClient.from_connection_string(
                    connection_string, hub=hub, **REST_OPTIONS
                )
        return self._async_clients[key]

    async def _send(self, client: AsyncWebPubSubServiceClient, hub: str, call: RestCall) -> None:
        if call.operation == "sendToGroup":
            assert call.group is not None and isinstance(call.body, str)
            kwargs: dict[str, Any] = {} if call.filter is None else {"filter": call.filter}
            await client.send_to_group(call.group, _utf8(call.body), content_type=call.content_type, **kwargs)
        elif call.operation == "sendToAll":
            assert isinstance(call.body, str)
            kwargs = {} if call.filter is None else {"filter": call.filter}
            await client.send_to_all(_utf8(call.body), content_type=call.content_type, **kwargs)
        else:
            action = ":addToGroups" if call.operation == "addToGroups" else ":removeFromGroups"
            request = HttpRequest(
                "POST", f"/api/hubs/{hub}/{action}", params={"api-version": API_VERSION}, json=call.body
            )
            response = await client.send_request(request)
            response.raise_for_status()

    async def execute(self, connection_string: str, hub: str, value: Any) -> int:
        """Run every action of one output value in order; returns the number of REST calls made."""
        calls = [call for action in actions_of(value) for call in action_to_rest_calls(action)]
        client = self.async_client(connection_string, hub)
        for call in calls:
            await self._send(client, hub, call)
        return len(calls)
