"""Several dev host instances behind one front (``--instances N``), with real clients.

- the front spreads requests over the instances and lists their PIDs (ready line, ``/admin/instances``);
- killing one (SIGKILL by its PID) fails only what was in flight on it; the others serve, the front starts a
  new one;
- socket.io's chat demo with ``numUsers`` in a module global counts right on one instance and wrong on three.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import socketio

from devhost.processes import pid_alive
from devhost.pytest_plugin import close_client, connect_client
from devhost.stack import Stack
from tests.fixtures.inbox import Inbox

pytestmark = pytest.mark.integration

APPS = Path(__file__).resolve().parents[1] / "fixtures" / "apps"
RAW_NEGOTIATE = "/api/negotiate"  # the raw app's route (the samples use /api/<hub>/negotiate)


async def until(predicate: Callable[[], Any], timeout: float = 15.0, what: str = "condition") -> Any:
    deadline = asyncio.get_running_loop().time() + timeout
    while not (result := predicate()):
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{what}: not within {timeout} s")
        await asyncio.sleep(0.05)
    return result


@pytest.fixture(scope="module")
def raw3(sioless_stack_factory: Any) -> Stack:
    return sioless_stack_factory(APPS / "raw", azurite_ports=None, instances=3)


def test_front_lists_its_instances_and_spreads_requests(raw3: Stack) -> None:
    announced = [entry["pid"] for entry in raw3.processes[-1].ready["instances"]]
    listed = raw3.instance_info()
    assert sorted(announced) == sorted(i["pid"] for i in listed) and len(listed) == 3
    assert all(i["state"] == "running" and pid_alive(i["pid"]) for i in listed)
    assert raw3.processes[-1].pid not in announced  # the front is a process of its own
    before = {i["pid"]: i["served"] for i in listed}
    for n in range(30):
        # Method, path, query, headers and body reach the instance; status, headers and body come back.
        response = httpx.post(
            f"{raw3.devhost_url}/api/items/{n}/x", params={"q": "a b"}, headers={"x-test": "t"}, content=b"body"
        )
        assert response.status_code == 201 and response.headers["x-a"] == "b", response.text
        assert response.json() == {
            "method": "POST",
            "route": {"id": str(n), "name": "x"},
            "query": {"q": "a b"},
            "header": "t",
            "body": "body",
        }
    after = {i["pid"]: i["served"] for i in raw3.instance_info()}
    # Random choice over three: each instance got some of the 30 (all on one or two: p < 1e-5).
    assert all(after[pid] > before[pid] for pid in before), (before, after)


async def test_killing_an_instance_fails_only_its_inflight_request(raw3: Stack) -> None:
    bystander = await connect_client(raw3.devhost_url, "bystander", negotiate_path=RAW_NEGOTIATE)
    victim = await connect_client(raw3.devhost_url, "victim", negotiate_path=RAW_NEGOTIATE)
    try:
        slow = asyncio.create_task(victim.call("slow", 30, timeout=20))
        busy = await until(
            lambda: [i for i in raw3.instance_info() if i["inflight"] > 0], what="the slow call in flight"
        )
        killed = busy[0]["pid"]
        os.kill(killed, signal.SIGKILL)
        # In flight on the killed instance: the front answers 502, the service fails the event and (default
        # user-event failure policy) closes that client's connection. Its ack never comes.
        await until(lambda: not victim.connected, timeout=10, what="the victim's connection closed")
        assert not slow.done()
        slow.cancel()
        # Nothing else is lost: the client connected before keeps its connection and gets answers, many times
        # (so some go to each remaining instance), and a new client connects.
        for n in range(6):
            assert (await bystander.call("echo", n, timeout=5))["echo"] == [n]
        newcomer = await connect_client(raw3.devhost_url, "newcomer", negotiate_path=RAW_NEGOTIATE)
        assert (await newcomer.call("echo", "hi", timeout=5))["echo"] == ["hi"]
        await close_client(newcomer)
        # The front starts a new instance in the killed one's place.
        restarted = await until(
            lambda: (lambda pids: len(pids) == 3 and killed not in pids and pids)(raw3.instance_pids()),
            what="a new third instance",
        )
        assert all(pid_alive(pid) for pid in restarted)
        log = "\n".join(raw3.outputs()["devhost"])
        assert f"(PID {killed}) exited with -9; starting a new one." in log
        assert "-> 502: the dev host instance" in log
    finally:
        await asyncio.gather(close_client(bystander), close_client(victim))


# -- module-global state ------------------------------------------------------------------------------------


async def _login_counts(stack: Stack, users: int) -> list[int]:
    """Each user connects and adds itself, one after the other; the ``login`` event carries ``numUsers``."""
    clients: list[socketio.AsyncClient] = []
    counts = []
    try:
        for n in range(users):
            client = await connect_client(stack.devhost_url, f"user{n}")
            clients.append(client)
            inbox = Inbox(client)
            await client.emit("add user", f"user{n}")
            counts.append((await inbox.wait_payload("login"))["numUsers"])
    finally:
        await asyncio.gather(*(close_client(c) for c in clients))
    return counts


@pytest.fixture(scope="module")
def counter3(sioless_stack_factory: Any) -> Stack:
    return sioless_stack_factory(APPS / "global_counter", azurite_ports=None, instances=3)


async def test_module_global_counter_is_right_on_one_instance() -> None:
    with Stack(app_dir=APPS / "global_counter", azurite_ports=None) as stack:
        assert await _login_counts(stack, 10) == list(range(1, 11))  # one process: the demo looks right


async def test_module_global_counter_is_wrong_with_three_instances(counter3: Stack) -> None:
    users = 10
    counts = await _login_counts(counter3, users)
    # Each instance counts only the users it happened to serve: the counts restart and repeat. (All ten "add
    # user" events on one instance, picked at random each time: p = 3 * 3**-10.)
    assert counts != list(range(1, users + 1)), counts
    assert max(counts) < users, counts


async def test_http_request_in_flight_on_a_killed_instance_gets_502(counter3: Stack) -> None:
    async with httpx.AsyncClient(base_url=counter3.devhost_url, timeout=30) as client:
        slow = asyncio.create_task(client.get("/api/slow/30"))
        busy = await until(lambda: [i for i in counter3.instance_info() if i["inflight"] > 0], what="in flight")
        os.kill(busy[0]["pid"], signal.SIGKILL)
        response = await asyncio.wait_for(slow, 10)
        assert response.status_code == 502, response.text
        assert f"the dev host instance (PID {busy[0]['pid']}) failed during the request" in response.text
        # The other instances answer meanwhile; none of them is the killed one.
        for _ in range(6):
            answer = await client.get("/api/slow/0")
            assert answer.status_code == 200 and int(answer.text) != busy[0]["pid"]
