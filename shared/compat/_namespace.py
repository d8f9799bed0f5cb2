"""Class-based namespaces (``Namespace``/``AsyncNamespace`` with ``on_<event>`` methods) and the ``session``
context managers, as in python-socketio."""

from __future__ import annotations

import asyncio
from typing import Any

from . import _state
from ._handlers import unsupported


class SyncSession:
    """``with sio.session(sid) as session:``: read the session, save it when the block ends (as python-socketio,
    also when the block raised)."""

    def __init__(self, server: _state.StateOwner, sid: str, namespace: str) -> None:
        self.server, self.sid, self.namespace = server, sid, namespace
        self.session: dict[str, Any] | None = None

    def __enter__(self) -> dict[str, Any]:
        self.session = _state.get_session(self.server, self.sid, self.namespace)
        return self.session

    def __exit__(self, *exc: object) -> None:
        if self.session is None:  # __enter__ failed: nothing was read, nothing to save
            return
        _state.save_session(self.server, self.sid, self.session, self.namespace)


class AsyncSession(SyncSession):
    """``async with sio.session(sid) as session:``; the storage calls run in a worker thread."""

    async def __aenter__(self) -> dict[str, Any]:
        return await asyncio.to_thread(self.__enter__)

    async def __aexit__(self, *exc: object) -> None:
        await asyncio.to_thread(self.__exit__, *exc)


class NamespaceBase:
    """What ``Namespace`` and ``AsyncNamespace`` share: the namespace and the server they belong to."""

    def __init__(self, namespace: str | None = None) -> None:
        self.namespace = namespace or "/"
        self.server: Any = None

    def _set_server(self, server: Any) -> None:
        self.server = server

    def trigger_event(self, event: str, *args: Any) -> Any:
        raise unsupported(
            "Namespace.trigger_event()",
            "the extension calls the function registered for each event name directly",
            "Define on_<event> methods.",
        )

    def rooms(self, sid: str, namespace: str | None = None) -> list[str]:
        return self.server.rooms(sid, namespace or self.namespace)  # type: ignore[no-any-return]


class Namespace(NamespaceBase):
    """``socketio.Namespace``: ``on_<event>(self, sid, ...)`` methods; ``emit`` etc. default to this namespace."""

    def emit(self, event: str, data: Any = None, to: Any = None, room: Any = None, skip_sid: Any = None,
             namespace: str | None = None, callback: Any = None, ignore_queue: bool = False) -> None:  # fmt: skip
        self.server._emit(event, data, to, room, skip_sid, namespace or self.namespace, callback)

    def send(self, data: Any, to: Any = None, room: Any = None, skip_sid: Any = None,
             namespace: str | None = None, callback: Any = None, ignore_queue: bool = False) -> None:  # fmt: skip
        self.server._emit("message", data, to, room, skip_sid, namespace or self.namespace, callback, "send()")

    def enter_room(self, sid: str, room: str, namespace: str | None = None) -> None:
        self.server._enter_room(sid, room, namespace or self.namespace)

    def leave_room(self, sid: str, room: str, namespace: str | None = None) -> None:
        self.server._leave_room(sid, room, namespace or self.namespace)

    def close_room(self, room: str, namespace: str | None = None) -> None:
        self.server._close_room(room, namespace or self.namespace)

    def disconnect(self, sid: str, namespace: str | None = None) -> None:
        self.server._disconnect(sid, namespace or self.namespace)

    def get_session(self, sid: str, namespace: str | None = None) -> dict[str, Any]:
        return _state.get_session(self.server, sid, namespace or self.namespace)

    def save_session(self, sid: str, session: dict[str, Any], namespace: str | None = None) -> None:
        _state.save_session(self.server, sid, session, namespace or self.namespace)

    def session(self, sid: str, namespace: str | None = None) -> SyncSession:
        return SyncSession(self.server, sid, namespace or self.namespace)


class AsyncNamespace(NamespaceBase):
    """``socketio.AsyncNamespace``: like ``Namespace`` with coroutine methods."""

    async def emit(self, event: str, data: Any = None, to: Any = None, room: Any = None, skip_sid: Any = None,
                   namespace: str | None = None, callback: Any = None, ignore_queue: bool = False) -> None:  # fmt: skip
        self.server._emit(event, data, to, room, skip_sid, namespace or self.namespace, callback)

    async def send(self, data: Any, to: Any = None, room: Any = None, skip_sid: Any = None,
                   namespace: str | None = None, callback: Any = None, ignore_queue: bool = False) -> None:  # fmt: skip
        self.server._emit("message", data, to, room, skip_sid, namespace or self.namespace, callback, "send()")

    async def enter_room(self, sid: str, room: str, namespace: str | None = None) -> None:
        self.server._enter_room(sid, room, namespace or self.namespace)

    async def leave_room(self, sid: str, room: str, namespace: str | None = None) -> None:
        self.server._leave_room(sid, room, namespace or self.namespace)

    async def close_room(self, room: str, namespace: str | None = None) -> None:
        await asyncio.to_thread(self.server._close_room, room, namespace or self.namespace)

    async def disconnect(self, sid: str, namespace: str | None = None) -> None:
        self.server._disconnect(sid, namespace or self.namespace)

    async def get_session(self, sid: str, namespace: str | None = None) -> dict[str, Any]:
        return await asyncio.to_thread(_state.get_session, self.server, sid, namespace or self.namespace)

    async def save_session(self, sid: str, session: dict[str, Any], namespace: str | None = None) -> None:
        await asyncio.to_thread(_state.save_session, self.server, sid, session, namespace or self.namespace)

    def session(self, sid: str, namespace: str | None = None) -> AsyncSession:
        return AsyncSession(self.server, sid, namespace or self.namespace)
