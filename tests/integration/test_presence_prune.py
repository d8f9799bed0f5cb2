"""Presence converges: ``presence.prune`` with the whiteboard's service check (``group_exists`` on the socket's
own group, official SDK) against the real emulator and Azurite.

What must hold: rows of sockets the service does not have are removed; rows of connected sockets never are;
young rows (a socket still arriving) are left alone; an unreachable service removes nothing.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from functools import partial

import pytest

from devhost.pytest_plugin import close_client, connect_client
from devhost.stack import Stack
from functions import _service
from shared import _sockets, configure_storage, presence

pytestmark = pytest.mark.integration

HUB = "whiteboard"
NEGOTIATE = "/api/whiteboard/negotiate"


@pytest.fixture
def service(sioless_stack: Stack, monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    monkeypatch.setenv(_service.CONNECTION_SETTING, sioless_stack.connection_string)
    _service.reset()
    configure_storage(sioless_stack.storage)
    yield sioless_stack
    configure_storage()
    _service.reset()


async def test_prune_removes_only_sockets_the_service_does_not_have(service: Stack) -> None:
    clients = [await connect_client(service.devhost_url, negotiate_path=NEGOTIATE) for _ in range(3)]
    try:
        live = {client.get_sid("/") for client in clients}
        assert live <= set(presence.sockets(HUB))
        # Two crashed sockets (recorded a minute ago) and one still arriving (recorded just now).
        for ghost in ("ghost-a", "ghost-b", "arriving"):
            _sockets.add_socket(HUB, "/", ghost, user_id="guest-x")
            presence.join(HUB, "/", ghost, ["room-1"])
        table = _sockets.table_client(_sockets.TABLE)
        for ghost in ("ghost-a", "ghost-b"):
            entity = {"PartitionKey": _sockets.partition(HUB, "/"), "RowKey": _sockets.conn_key(ghost)}
            table.update_entity({**entity, "since": time.time() - 60})

        asked: list[str] = []

        def exists(socket_id: str) -> bool:
            asked.append(socket_id)
            return _service.socket_exists(HUB, "/", socket_id)

        removed = set(presence.prune(HUB, "/", exists, min_age=20))
        # (other tests of this session may have left crashed sockets too: they go as well; and the app's own
        # sweep, every 10 s on this stack, may have taken a ghost first)
        assert not removed & (live | {"arriving"})
        assert not {"ghost-a", "ghost-b"} & set(presence.sockets(HUB))
        assert "arriving" not in asked, "young rows are not even asked about"
        remaining = set(presence.sockets(HUB))
        assert live <= remaining and "arriving" in remaining
        assert presence.members(HUB, "/", "room-1") == ["arriving"]
        assert presence.rooms(HUB, "/", "ghost-a") == []

        # A second sweep finds nothing to do; with min_age 0 it asks about every row and keeps the live ones.
        assert presence.prune(HUB, "/", exists, min_age=20) == []
        assert presence.prune(HUB, "/", partial(_service.socket_exists, HUB, "/"), min_age=0) == ["arriving"]
        assert live <= set(presence.sockets(HUB))
    finally:
        for client in clients:
            await close_client(client)


async def test_an_unreachable_service_removes_nothing(service: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    _sockets.add_socket(HUB, "/", "ghost-c")
    table = _sockets.table_client(_sockets.TABLE)
    key = {"PartitionKey": _sockets.partition(HUB, "/"), "RowKey": _sockets.conn_key("ghost-c")}
    table.update_entity({**key, "since": time.time() - 60})
    # A service nobody listens on: the SDK's request fails, the prune stops, the row stays.
    monkeypatch.setenv(
        _service.CONNECTION_SETTING,
        "Endpoint=http://127.0.0.1;Port=9;AccessKey=c2lvbGVzcy10ZXN0LWtleS1ub2JvZHktbGlzdGVucy1oZXJl;Version=1.0;",
    )
    _service.reset()
    with pytest.raises(Exception):  # noqa: B017 - whatever the transport raises, it must not be taken for "gone"
        presence.prune(HUB, "/", partial(_service.socket_exists, HUB, "/"), min_age=0)
    assert "ghost-c" in presence.sockets(HUB)
    presence.forget(HUB, "/", "ghost-c")


def _stale(socket_id: str, room: str | None = None) -> None:
    """A row as a crashed socket leaves it, unknown to the service. Recorded just now, so the app's own sweep
    (every 10 s on this stack, minimum age 20 s) leaves it to the test, which prunes with ``min_age=0``."""
    _sockets.add_socket(HUB, "/", socket_id, user_id="guest-x")
    if room:
        presence.join(HUB, "/", socket_id, [room])


async def test_concurrent_checks_stay_within_the_bound_and_remove_the_same(service: Stack) -> None:
    clients = [await connect_client(service.devhost_url, negotiate_path=NEGOTIATE) for _ in range(4)]
    try:
        live = {client.get_sid("/") for client in clients}
        ghosts = {f"ghost-many-{n}" for n in range(24)}
        for ghost in ghosts:
            _stale(ghost, "room-many")
        lock = threading.Lock()
        running, most, asked = [0], [0], []

        def exists(socket_id: str) -> bool:
            with lock:
                running[0] += 1
                most[0] = max(most[0], running[0])
                asked.append(socket_id)
            try:
                time.sleep(0.02)  # long enough for the calls to overlap if they run at once
                return _service.socket_exists(HUB, "/", socket_id)
            finally:
                with lock:
                    running[0] -= 1

        removed = await asyncio.to_thread(presence.prune, HUB, "/", exists, min_age=0, concurrency=5)
        assert ghosts <= set(removed) and not set(removed) & live
        assert 1 < most[0] <= 5, most
        assert len(asked) == len(set(asked)) >= len(ghosts) + len(live)
        assert live <= set(presence.sockets(HUB)) and not ghosts & set(presence.sockets(HUB))
        assert presence.members(HUB, "/", "room-many") == []
        with pytest.raises(ValueError, match="concurrency must be at least 1"):
            presence.prune(HUB, "/", exists, concurrency=0)
    finally:
        for client in clients:
            await close_client(client)


def test_a_failing_check_stops_a_concurrent_prune_and_removes_only_what_was_found_gone(service: Stack) -> None:
    ghosts = [f"ghost-fail-{n}" for n in range(12)]
    for ghost in ghosts:
        _stale(ghost)
    calls: list[str] = []
    lock = threading.Lock()

    def exists(socket_id: str) -> bool:
        if socket_id not in ghosts:  # rows other tests of the session left: not this test's business
            return True
        with lock:
            calls.append(socket_id)
            n = len(calls)
        if n == 3:
            raise ConnectionError("the service is unreachable")
        time.sleep(0.05)
        return False

    with pytest.raises(ConnectionError):
        presence.prune(HUB, "/", exists, min_age=0, concurrency=2)
    left = set(presence.sockets(HUB)) & set(ghosts)
    assert len(calls) < len(ghosts), "checks after the failure were dropped"
    # every socket not asked about, and the one whose check failed, keeps its row
    assert len(left) == len(ghosts) - (len(calls) - 1), (calls, left)
    for ghost in left:
        presence.forget(HUB, "/", ghost)
