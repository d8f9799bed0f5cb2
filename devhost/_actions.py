"""Output-binding actions -> data-plane REST calls through the official SDK (protocol.md §3.6, local-tooling §8.1).

``shared.protocol`` builds the calls exactly as the extension's collector does; this module only sends them
with ``azure-messaging-webpubsubservice``: ``send_to_group``/``send_to_all`` (``text/plain``, ``filter`` passed
through as built, ``""`` included) and ``send_request`` for ``:addToGroups``/``:removeFromGroups``, which the
client has no method for. The client is synchronous; calls run in a small thread pool off the event loop.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from azure.core.rest import HttpRequest
from azure.messaging.webpubsubservice import WebPubSubServiceClient

from shared.protocol import ActionError, RestCall, action_to_rest_calls, parse_actions

log = logging.getLogger("devhost")

# The api-version the 1.3.0 client uses for its own methods; the same for the two raw calls.
API_VERSION = "2024-12-01"


def actions_of(value: Any) -> list[dict[str, Any]]:
    """The actions in an output value as the worker would pass it: str/bytes JSON, dict or list."""
    if isinstance(value, (bytes, bytearray)):
        value = bytes(value).decode("utf-8")
    if not isinstance(value, (str, dict, list)):
        raise ActionError(
            f"socketio output value must be a JSON string, dict or list of actions, got {type(value).__name__}."
        )
    return parse_actions(value)


class ActionSender:
    """Sends REST calls for one or more (connection string, hub) pairs; clients are built once and reused."""

    def __init__(self, max_workers: int = 8) -> None:
        self._clients: dict[tuple[str, str], WebPubSubServiceClient] = {}
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="devhost-rest")

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        for client in self._clients.values():
            client.close()

    def client(self, connection_string: str, hub: str) -> WebPubSubServiceClient:
        key = (connection_string, hub)
        if key not in self._clients:
            self._clients[key] = WebPubSubServiceClient.from_connection_string(connection_string, hub=hub)
        return self._clients[key]

    def _send(self, client: WebPubSubServiceClient, hub: str, call: RestCall) -> None:
        if call.operation == "sendToGroup":
            assert call.group is not None and isinstance(call.body, str)
            kwargs: dict[str, Any] = {} if call.filter is None else {"filter": call.filter}
            client.send_to_group(call.group, call.body, content_type=call.content_type, **kwargs)
        elif call.operation == "sendToAll":
            assert isinstance(call.body, str)
            kwargs = {} if call.filter is None else {"filter": call.filter}
            client.send_to_all(call.body, content_type=call.content_type, **kwargs)
        else:
            action = ":addToGroups" if call.operation == "addToGroups" else ":removeFromGroups"
            request = HttpRequest(
                "POST", f"/api/hubs/{hub}/{action}", params={"api-version": API_VERSION}, json=call.body
            )
            response = client.send_request(request)
            response.raise_for_status()

    async def execute(self, connection_string: str, hub: str, value: Any) -> int:
        """Run every action of one output value in order; returns the number of REST calls made."""
        calls = [call for action in actions_of(value) for call in action_to_rest_calls(action)]
        client = self.client(connection_string, hub)
        loop = asyncio.get_running_loop()
        for call in calls:
            await loop.run_in_executor(self._pool, self._send, client, hub, call)
        return len(calls)
