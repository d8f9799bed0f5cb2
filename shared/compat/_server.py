"""``AsyncServer`` / ``Server``: python-socketio's server API over ``SocketIOBlueprint``, in its async and sync
shapes over one synchronous core (``_base.BaseServer``).

Handlers keep python-socketio's signatures (``connect(sid, environ, auth)``, ``disconnect(sid, reason)``,
``event(sid, *args)``, the return value is the ack).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from . import _state
from ._base import BaseServer
from ._handlers import unsupported
from ._namespace import AsyncSession, SyncSession


class AsyncServer(BaseServer):
    """``socketio.AsyncServer`` for serverless: ``from shared.compat import AsyncServer``.

    ``hub`` (our addition) names the Web PubSub hub; the default is ``"socketio"``, and
    ``sio.register(app, hub=...)`` can override it. Engine.IO options (``cors_allowed_origins``,
    ``ping_interval``, ...) are accepted and ignored: the service owns the connections.
    """

    async def emit(
        self,
        event: str,
        data: Any = None,
        to: Any = None,
        room: Any = None,
        skip_sid: Any = None,
        namespace: str | None = None,
        callback: Callable[..., Any] | None = None,
        ignore_queue: bool = False,
    ) -> None:
        self._emit(event, data, to, room, skip_sid, namespace, callback)

    async def send(
        self,
        data: Any,
        to: Any = None,
        room: Any = None,
        skip_sid: Any = None,
        namespace: str | None = None,
        callback: Callable[..., Any] | None = None,
        ignore_queue: bool = False,
    ) -> None:
        self._emit("message", data, to, room, skip_sid, namespace, callback, operation="send()")

    async def call(self, *args: Any, **kwargs: Any) -> Any:
        self._call()

    async def enter_room(self, sid: str, room: str, namespace: str | None = None) -> None:
        self._enter_room(sid, room, namespace)

    async def leave_room(self, sid: str, room: str, namespace: str | None = None) -> None:
        self._leave_room(sid, room, namespace)

    async def close_room(self, room: str, namespace: str | None = None) -> None:
        await asyncio.to_thread(self._close_room, room, namespace)

    async def disconnect(self, sid: str, namespace: str | None = None, ignore_queue: bool = False) -> None:
        self._disconnect(sid, namespace)

    async def get_session(self, sid: str, namespace: str | None = None) -> dict[str, Any]:
        return await asyncio.to_thread(_state.get_session, self, sid, namespace or "/")

    async def save_session(self, sid: str, session: dict[str, Any], namespace: str | None = None) -> None:
        await asyncio.to_thread(_state.save_session, self, sid, session, namespace or "/")

    def session(self, sid: str, namespace: str | None = None) -> AsyncSession:
        """``async with sio.session(sid) as session:`` loads the session and saves it when the block ends."""
        return AsyncSession(self, sid, namespace or "/")

    async def sleep(self, seconds: float = 0) -> None:  # type: ignore[override]
        BaseServer.sleep(self, seconds)

    async def shutdown(self) -> None:
        raise unsupported("shutdown()", "there is no server process to stop", "Stop or scale the Function App.")


class Server(BaseServer):
    """``socketio.Server`` (synchronous API) for serverless; see ``AsyncServer``."""

    def emit(
        self,
        event: str,
        data: Any = None,
        to: Any = None,
        room: Any = None,
        skip_sid: Any = None,
        namespace: str | None = None,
        callback: Callable[..., Any] | None = None,
        ignore_queue: bool = False,
    ) -> None:
        self._emit(event, data, to, room, skip_sid, namespace, callback)

    def send(
        self,
        data: Any,
        to: Any = None,
        room: Any = None,
        skip_sid: Any = None,
        namespace: str | None = None,
        callback: Callable[..., Any] | None = None,
        ignore_queue: bool = False,
    ) -> None:
        self._emit("message", data, to, room, skip_sid, namespace, callback, operation="send()")

    def call(self, *args: Any, **kwargs: Any) -> Any:
        self._call()

    def enter_room(self, sid: str, room: str, namespace: str | None = None) -> None:
        self._enter_room(sid, room, namespace)

    def leave_room(self, sid: str, room: str, namespace: str | None = None) -> None:
        self._leave_room(sid, room, namespace)

    def close_room(self, room: str, namespace: str | None = None) -> None:
        self._close_room(room, namespace)

    def disconnect(self, sid: str, namespace: str | None = None, ignore_queue: bool = False) -> None:
        self._disconnect(sid, namespace)

    def get_session(self, sid: str, namespace: str | None = None) -> dict[str, Any]:
        return _state.get_session(self, sid, namespace or "/")

    def save_session(self, sid: str, session: dict[str, Any], namespace: str | None = None) -> None:
        _state.save_session(self, sid, session, namespace or "/")

    def session(self, sid: str, namespace: str | None = None) -> SyncSession:
        """``with sio.session(sid) as session:`` loads the session and saves it when the block ends."""
        return SyncSession(self, sid, namespace or "/")

    def shutdown(self) -> None:
        raise unsupported("shutdown()", "there is no server process to stop", "Stop or scale the Function App.")
