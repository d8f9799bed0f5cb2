"""The worker process behind the dev host: overlapping invocations, a crash, and the invocation API.

The raw fixture app runs in a real worker process (Microsoft's runtime); the dev host is driven through
``DevHost.invoke``, the path every trigger takes.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest

from devhost import DevHost, typed_data
from tests.fixtures.devhost_support import KEY, devhost_client

CONN = f"Endpoint=http://localhost;Port=8080;AccessKey={KEY};Version=1.0;"


@pytest.fixture
async def host() -> AsyncIterator[DevHost]:
    async with devhost_client(CONN, timeout=20.0) as (host, _):
        yield host


def event(name: str, *parameters: object) -> dict[str, object]:
    trigger = {"namespace": "/", "socketId": "s1", "payload": "", "eventName": name, "parameters": list(parameters)}
    return {"sio": typed_data(json.dumps(trigger))}


@pytest.mark.parametrize("function", ["meet_async", "meet_sync"])
async def test_many_invocations_are_in_flight_at_once(host: DevHost, function: str) -> None:
    # Each call returns "met" only while 4 calls are inside the function together, which a serial worker
    # never allows (async: overlapping on the worker's loop; sync: the runtime's thread pool).
    results = await asyncio.gather(*(host.invoke(function, event("meet")) for _ in range(4)))
    assert [json.loads(r.return_value)["ack"] for r in results] == [["met"]] * 4


async def test_a_crash_fails_in_flight_invocations_at_once_and_the_worker_restarts(host: DevHost) -> None:
    first_pid = json.loads((await host.invoke("pid", event("pid"))).return_value)["ack"][0]
    sleeping = asyncio.create_task(host.invoke("aslow", event("aslow", 15)))
    await asyncio.sleep(0.2)
    crashed = await host.invoke("crash", event("crash"))
    assert not crashed.succeeded and "exited with code 7" in (crashed.error or "")
    other = await sleeping  # failed by the crash, long before its 15 s sleep or the 20 s timeout
    assert not other.succeeded and not other.timed_out and "exited with code 7" in (other.error or "")
    answer = await host.invoke("pid", event("pid"))
    assert answer.succeeded
    assert json.loads(answer.return_value)["ack"][0] != first_pid


async def test_invoke_returns_host_values_and_unknown_names_are_named(host: DevHost) -> None:
    result = await host.invoke("echo", event("echo", "x", 2))
    assert result.succeeded and isinstance(result.return_value, str)
    assert json.loads(result.return_value)["ack"][0]["echo"] == ["x", 2]
    with pytest.raises(KeyError, match="No function named 'nope'"):
        await host.invoke("nope", {})
