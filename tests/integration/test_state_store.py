"""shared.sessions / shared.presence against a real Azurite (started with devhost.stack.start_azurite)."""

from __future__ import annotations

import asyncio
import os
from concurrent.futures import ThreadPoolExecutor

import pytest

from devhost.stack import ManagedProcess, storage_connection_string
from shared import StorageError, UnknownSocketError, _sockets, configure_storage, presence, sessions

pytestmark = pytest.mark.integration


@pytest.fixture
def hub(request: pytest.FixtureRequest, azurite: ManagedProcess) -> str:
    # One hub per test: its own table partition, so tests never see each other's rows.
    return f"t{os.urandom(4).hex()}"


def test_session_lifecycle(hub: str) -> None:
    _sockets.add_socket(hub, "/", "s1", user_id="alice", claims={"sub": ["alice"], "exp": ["1"]}, session={"a": 1})
    record = sessions.record(hub, "/", "s1")
    assert (record.user_id, record.claims, record.data) == ("alice", {"sub": ["alice"]}, {"a": 1})
    sessions.save(hub, "/", "s1", {"name": "Al", "n": [1, 2]})
    assert sessions.get(hub, "/", "s1") == {"name": "Al", "n": [1, 2]}
    assert sessions.user_id(hub, "/", "s1") == "alice"
    # Same socket id in another namespace is another session.
    with pytest.raises(UnknownSocketError):
        sessions.get(hub, "/other", "s1")
    presence.forget(hub, "/", "s1")
    with pytest.raises(UnknownSocketError, match="not connected"):
        sessions.get(hub, "/", "s1")
    # Saving after disconnect does not bring the socket back.
    with pytest.raises(UnknownSocketError):
        sessions.save(hub, "/", "s1", {"late": True})
    assert presence.sockets(hub) == []


def test_session_limits(hub: str) -> None:
    _sockets.add_socket(hub, "/", "s1")
    with pytest.raises(ValueError, match="at most"):
        sessions.save(hub, "/", "s1", {"big": "x" * 40000})
    with pytest.raises(ValueError, match="JSON"):
        sessions.save(hub, "/", "s1", {"bad": object()})
    assert sessions.get(hub, "/", "s1") == {}


def test_presence_rooms_and_odd_names(hub: str) -> None:
    odd = "room/with?#\\ and ünïcode|~"
    for sid in ("a", "b", "c/d"):
        _sockets.add_socket(hub, "/ns", sid)
    presence.join(hub, "/ns", "a", ["r1", odd])
    presence.join(hub, "/ns", "b", "r1")
    presence.join(hub, "/ns", "c/d", odd)
    assert sorted(presence.members(hub, "/ns", "r1")) == ["a", "b"]
    assert sorted(presence.members(hub, "/ns", odd)) == ["a", "c/d"]
    assert sorted(presence.rooms(hub, "/ns", "a")) == sorted(["r1", odd])
    assert presence.count(hub, "/ns") == 3 and presence.count(hub, "/ns", "r1") == 2
    # A room whose name extends another's is a different room.
    presence.join(hub, "/ns", "b", "r1x")
    assert presence.members(hub, "/ns", "r1x") == ["b"]
    presence.leave(hub, "/ns", "a", "r1")
    presence.leave(hub, "/ns", "a", "never-joined")  # idempotent
    assert presence.members(hub, "/ns", "r1") == ["b"]
    assert sorted(presence.forget(hub, "/ns", "a")) == [odd]
    assert presence.members(hub, "/ns", odd) == ["c/d"]
    assert presence.count(hub, "/ns") == 2
    assert presence.count(hub, "/") == 0


def test_join_after_disconnect_leaves_nothing(hub: str) -> None:
    _sockets.add_socket(hub, "/", "gone")
    presence.forget(hub, "/", "gone")
    with pytest.raises(UnknownSocketError):
        presence.join(hub, "/", "gone", "r")
    assert presence.members(hub, "/", "r") == [] and presence.rooms(hub, "/", "gone") == []


def test_forty_sockets_at_once_leave_exact_presence(hub: str) -> None:
    ids = [f"sock{i:02d}" for i in range(40)]

    def arrive(sid: str) -> None:
        _sockets.add_socket(hub, "/", sid, user_id=sid)
        presence.join(hub, "/", sid, ["all", f"g{int(sid[-2:]) % 4}"])

    with ThreadPoolExecutor(20) as pool:
        list(pool.map(arrive, ids))
    assert presence.count(hub) == 40 and presence.count(hub, room="all") == 40
    assert sorted(presence.members(hub, "/", "g1")) == [s for s in ids if int(s[-2:]) % 4 == 1]

    leaving = ids[::2]
    with ThreadPoolExecutor(20) as pool:
        list(pool.map(lambda sid: presence.forget(hub, "/", sid), leaving))
    assert sorted(presence.sockets(hub)) == ids[1::2]
    assert presence.count(hub, room="all") == 20
    assert all(presence.rooms(hub, "/", sid) == [] for sid in leaving)


async def test_async_twins(hub: str) -> None:
    _sockets.add_socket(hub, "/", "x", user_id="u")
    await sessions.asave(hub, "/", "x", {"k": "v"})
    assert await sessions.aget(hub, "/", "x") == {"k": "v"}
    assert await sessions.auser_id(hub, "/", "x") == "u"
    assert await presence.acount(hub) == 1
    count, taken_at = await presence.asnapshot(hub)
    assert count == 1 and taken_at > 0
    assert await presence.ais_connected(hub, "/", "x") is True
    assert await asyncio.gather(presence.arooms(hub, "/", "x"), presence.asockets(hub)) == [[], ["x"]]


def test_unreachable_storage_is_a_clear_storage_error(azurite: ManagedProcess) -> None:
    from tests.fixtures.recorded import free_port

    try:
        configure_storage(storage_connection_string(free_port(), free_port(), free_port()))
        with pytest.raises(StorageError, match="storage is unavailable"):
            presence.count("hub")
    finally:
        configure_storage(storage_connection_string(*azurite.ready["ports"]))
    assert presence.count("hub") == 0


def test_clients_are_built_on_first_use_and_reused_per_worker(azurite: ManagedProcess) -> None:
    from shared import _storage

    configure_storage(storage_connection_string(*azurite.ready["ports"]))
    assert (_storage._tables, _storage._containers) == ({}, {}), "configuring builds no client"
    with ThreadPoolExecutor(8) as pool:
        tables = list(pool.map(lambda _: _storage.table_client("siolessreuse"), range(16)))
    assert len({id(t) for t in tables}) == 1, "concurrent first uses build one client"
    container = _storage.container_client("sioless-reuse")
    assert _storage.container_client("sioless-reuse") is container
    configure_storage(storage_connection_string(*azurite.ready["ports"]))
    assert _storage.table_client("siolessreuse") is not tables[0], "reconfiguring drops the cached clients"
