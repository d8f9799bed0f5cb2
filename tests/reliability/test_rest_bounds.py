"""Every REST call the dev host makes is bounded (docs/reliability.md, "Robustness changes"): a service that accepts
a send and never answers fails it after the read timeout, and the send is made once (a timed-out read is not
re-sent: a send is not idempotent)."""

from __future__ import annotations

import asyncio

import pytest
from azure.core.exceptions import AzureError

from devhost import _actions

KEY = "c2lvbGVzcy1sb2NhbC1kZXYta2V5LW5vdC1hLXNlY3JldA=="


async def test_a_silent_service_fails_the_send_once_within_the_read_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _actions.REST_OPTIONS["read_timeout"] < 30, "below the service's 30 s webhook timeout"
    requests: list[bytes] = []
    release = asyncio.Event()

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        requests.append(await reader.readuntil(b"\r\n\r\n"))
        await release.wait()  # never answers
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    monkeypatch.setitem(_actions.REST_OPTIONS, "read_timeout", 0.5)
    sender = _actions.ActionSender()
    connection_string = f"Endpoint=http://127.0.0.1;Port={port};AccessKey={KEY};Version=1.0;"
    action = {"actionName": "sendToNamespace", "namespace": "/", "eventName": "e", "parameters": ["x"]}
    try:
        # The client's own timeout ends it (an AzureError), long before wait_for would (a TimeoutError).
        with pytest.raises(AzureError):
            await asyncio.wait_for(sender.execute(connection_string, "chat", action), 15)
    finally:
        release.set()
        await sender.aclose()
        server.close()
        await server.wait_closed()
    assert len(requests) == 1 and requests[0].startswith(b"POST /api/hubs/chat/groups/"), requests
