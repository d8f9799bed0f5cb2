"""Pure parts of sessions/presence: key layout, room bookkeeping, settings, and what the blueprint registers."""

from __future__ import annotations

import dataclasses
import json

import azure.functions as func
import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared import Socket, SocketIOBlueprint, UnsupportedError, _sockets, _storage, _tracking
from shared._actions import ActionList


@given(st.text(max_size=30), st.text(max_size=30))
def test_escape_is_injective_and_key_safe(a: str, b: str) -> None:
    if a != b:
        assert _sockets.escape(a) != _sockets.escape(b)
    for char in _sockets.escape(a):
        assert char.isascii() and (char.isalnum() or char in "._-~")


def test_room_prefix_ranges_do_not_overlap() -> None:
    low, high = _sockets._range(_sockets.member_key("r1", ""))
    assert low <= _sockets.member_key("r1", "sock") < high
    assert not low <= _sockets.member_key("r1x", "sock") < high
    assert not low <= _sockets.member_key("r", "1|sock") < high  # '|' in a name is escaped
    with pytest.raises(ValueError, match="too long"):
        _sockets.member_key("x" * 1100, "s")


def test_sessions_must_be_small_json() -> None:
    assert _sockets._check_session({"a": [1, "b"]}) == '{"a":[1,"b"]}'
    with pytest.raises(ValueError, match="at most"):
        _sockets._check_session({"a": "é" * 40000})
    with pytest.raises(ValueError, match="JSON"):
        _sockets._check_session({"a": {1, 2}})
    with pytest.raises(TypeError):
        _sockets._check_session(["not", "a", "dict"])  # type: ignore[arg-type]


def test_room_changes_follow_the_order_of_actions() -> None:
    actions = ActionList()
    socket = Socket("s1", "/", "hub", actions=actions)
    socket.join(["a", "b"])
    socket.leave("a")
    socket.leave("c")
    socket.to("b").emit("x")
    Socket("s2", "/", "hub", actions=actions).join("z")
    Socket("s1", "/other", "hub", actions=actions).join("y")
    assert actions.room_changes("s1", "/") == (["b"], ["a", "c"])
    assert actions.room_changes("s2", "/") == (["z"], [])
    assert actions.member_changes("a", "/") == ([], ["s1"])
    assert actions.member_changes("b", "/") == (["s1"], [])
    socket.join(["a", "a"])  # the last change of a room wins, each room once
    assert actions.room_changes("s1", "/") == (["b", "a"], ["c"])


def test_session_methods_need_the_switch() -> None:
    socket = Socket("s1", "/", "hub")
    with pytest.raises(UnsupportedError, match="sessions=True"):
        socket.get_session()
    with pytest.raises(UnsupportedError, match="sessions=True"):
        socket.user_id  # noqa: B018


def test_connect_buffers_the_session_and_user_id_without_storage() -> None:
    socket = Socket("s1", "/", "hub", connecting=True)
    trigger = {"socketId": "s1", "namespace": "/", "claims": {"sub": ["ann"]}}
    _tracking.Tracking(True, False).before("connect", socket, json.dumps(trigger))
    assert socket.user_id == "ann" and socket.get_session() == {}
    socket.save_session({"k": 1})
    assert socket.get_session() == {"k": 1}
    with pytest.raises(ValueError):
        socket.save_session({"big": "x" * 70000})


def _functions(sio: SocketIOBlueprint) -> dict[str, dict]:
    app = func.FunctionApp()
    app.register_functions(sio)
    return {f.get_function_name(): f for f in app.get_functions()}


def test_tracked_blueprint_registers_connect_and_disconnect_per_namespace() -> None:
    sio = SocketIOBlueprint(hub="h", presence=True)

    @sio.on("e", namespace="/other")
    def event(socket: Socket) -> None: ...

    names = sorted(_functions(sio))
    assert names == sorted(
        ["h__connect", "h__disconnected", "h__other__connect", "h__other__disconnected", "h__other__e"]
    )


def test_own_handlers_replace_the_defaults_and_duplicates_still_fail() -> None:
    sio = SocketIOBlueprint(hub="h", sessions=True)
    default = next(spec for spec in sio.handlers if spec.event == "connect")

    @sio.on_connect()
    async def connect(socket: Socket) -> None: ...

    specs = {spec.event: spec for spec in sio.handlers}
    assert specs["connect"].handler is connect and specs["connect"].is_async
    assert getattr(default.handler, "sioless_default", False), "replaced, not changed"
    with pytest.raises(dataclasses.FrozenInstanceError):
        specs["connect"].handler = connect  # type: ignore[misc]
    assert getattr(specs["disconnected"].handler, "sioless_default", False)
    with pytest.raises(ValueError, match="already has a handler"):
        sio.on_connect(lambda socket: None)
    functions = _functions(sio)
    assert len(functions) == 2  # replaced in place, not registered twice


def test_untracked_blueprint_registers_nothing_extra() -> None:
    sio = SocketIOBlueprint(hub="h")
    assert sio.tracking is None and sio.handlers == []


def test_storage_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        _storage.STORAGE_SETTING,
        _storage.TABLE_URI_SETTING,
        _storage.BLOB_URI_SETTING,
        _storage.CREDENTIAL_SETTING,
    ):
        monkeypatch.delenv(name, raising=False)
    _storage.configure_storage()
    with pytest.raises(_storage.StorageConfigError, match="AzureWebJobsStorage"):
        _storage._config()
    monkeypatch.setenv(_storage.STORAGE_SETTING, "UseDevelopmentStorage=true")
    assert "127.0.0.1:10002" in (_storage._config().connection_string or "")
    monkeypatch.delenv(_storage.STORAGE_SETTING)
    monkeypatch.setenv(_storage.TABLE_URI_SETTING, "https://acct.table.core.windows.net")
    config = _storage._config()
    assert (config.connection_string, config.table_uri, config.blob_uri) == (
        None,
        "https://acct.table.core.windows.net",
        None,
    )
    with pytest.raises(_storage.StorageConfigError, match="blobServiceUri"):
        _storage.container_client("c")
