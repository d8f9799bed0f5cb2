"""What ``SocketIOBlueprint(hub, sessions=True, presence=True)`` adds around each handler (docs/state.md).

- connect: before the handler, the socket gets ``user_id``/claims from the request and an empty session; after
  the handler accepts, one row records the socket (with whatever session the handler saved). If storage fails
  the socket is refused with 503, so no socket is connected that the store does not know.
- events and connected: after the handler returns, its own ``join``/``leave`` actions are recorded (presence)
  BEFORE the actions go to the output binding; if storage fails, the client gets an error ack and no action
  is sent, so the service's rooms and the store stay the same.
- disconnected: before the handler, the session is read (still readable in the handler) and the socket's rows
  are deleted, so counts taken in the handler no longer include it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any, Protocol

from . import _greeting, _sockets
from ._actions import ActionList
from ._errors import AckError, ConnectRefused, UnsupportedError
from ._storage import StorageConfigError, StorageError, report_config_error

logger = logging.getLogger("sioless")

_STATE = "sioless.tracking"
_SESSION = "sioless.session"
_RECORD = "sioless.record"
_GONE = "sioless.gone"


class TrackedSocket(Protocol):
    """What tracking reads of a ``Socket`` (a protocol, so that ``_socket`` -> ``_tracking`` is the only import)."""

    @property
    def id(self) -> str: ...
    @property
    def namespace(self) -> str: ...
    @property
    def hub(self) -> str: ...
    @property
    def state(self) -> dict[str, Any]: ...
    @property
    def connecting(self) -> bool: ...


class Tracking:
    """The per-blueprint switches; one instance is shared by the blueprint's handler specs."""

    __slots__ = ("sessions", "presence")

    def __init__(self, sessions: bool, presence: bool) -> None:
        self.sessions = sessions
        self.presence = presence

    def __repr__(self) -> str:
        return f"Tracking(sessions={self.sessions}, presence={self.presence})"

    # -- hooks (called by the dispatch wrapper) ----------------------------------------------------------------

    def before(self, kind: str, socket: TrackedSocket, raw: Any) -> None:
        socket.state[_STATE] = self
        if kind == "connect":
            from ._request import ConnectRequest

            data = json.loads(raw.decode("utf-8", "replace") if isinstance(raw, (bytes, bytearray)) else raw)
            request = ConnectRequest.from_trigger(data)
            socket.state[_RECORD] = {"user_id": request.user_id, "claims": dict(request.claims)}
            socket.state[_SESSION] = {}
        elif kind == "disconnected":
            try:
                if self.sessions:
                    _load(socket)
            except StorageConfigError as exc:
                report_config_error(exc, f"reading the session of {socket.id} at disconnect")
            except Exception as exc:  # the socket is gone either way; the handler still runs
                logger.warning("could not read the session of %s at disconnect: %s", socket.id, exc)
            try:
                _sockets.remove_socket(socket.hub, socket.namespace, socket.id)
            except StorageConfigError as exc:
                report_config_error(exc, f"forgetting socket {socket.id} at disconnect")
            except Exception as exc:
                logger.error("could not forget socket %s (its presence rows remain): %s", socket.id, exc)
            socket.state[_GONE] = True

    def after(self, kind: str, socket: TrackedSocket, actions: ActionList, result: Any = None) -> None:
        """Record what the handler did; on failure the actions are dropped and a clear error raised."""
        if kind == "connect" and result is False:
            return  # refused: nothing to record
        try:
            if kind == "connect":
                record = socket.state.get(_RECORD) or {}
                _sockets.add_socket(
                    socket.hub,
                    socket.namespace,
                    socket.id,
                    user_id=record.get("user_id"),
                    claims=record.get("claims"),
                    session=socket.state.get(_SESSION) or {},
                    extra=socket.state.get(_greeting.PENDING),
                )
            elif self.presence and kind in ("event", "connected"):
                joined, left = actions.room_changes(socket.id, socket.namespace)
                if left:
                    _sockets.leave_rooms(socket.hub, socket.namespace, socket.id, left)
                if joined:
                    _sockets.join_rooms(socket.hub, socket.namespace, socket.id, joined)
        except StorageError as exc:
            actions.clear()
            if kind == "connect":
                raise ConnectRefused(f"cannot record the socket: {exc.message}", status=503) from exc
            raise
        except _sockets.UnknownSocketError as exc:
            actions.clear()
            raise AckError(f"{exc}; nothing was done") from exc

    def after_error(self, kind: str, socket: TrackedSocket, actions: ActionList, error: Exception) -> Exception:
        """An ``AckError`` still sends the handler's actions: record them too. Returns the error to answer with."""
        if isinstance(error, StorageError):
            return error  # its actions are dropped
        try:
            self.after(kind, socket, actions)
        except AckError as exc:  # StorageError, or the socket is gone
            return exc
        return error


# -- the Socket's session methods ------------------------------------------------------------------------------


def _tracking_of(socket: TrackedSocket, what: str) -> Tracking:
    tracking = socket.state.get(_STATE)
    if tracking is None or not tracking.sessions:
        raise UnsupportedError(
            f"{what} needs sessions: create the blueprint with SocketIOBlueprint(hub={socket.hub!r}, sessions=True)"
        )
    return tracking  # type: ignore[no-any-return]


def _load(socket: TrackedSocket) -> None:
    entity = _sockets.socket_entity(socket.hub, socket.namespace, socket.id)
    socket.state[_RECORD] = {
        "user_id": entity.get("user_id") or None,
        "claims": json.loads(entity.get("claims") or "{}"),
    }
    socket.state[_SESSION] = json.loads(entity.get("session") or "{}")


def get_session(socket: TrackedSocket) -> dict[str, Any]:
    _tracking_of(socket, "socket.get_session()")
    if _SESSION not in socket.state:
        _load(socket)
    return socket.state[_SESSION]  # type: ignore[no-any-return]


def save_session(socket: TrackedSocket, data: Mapping[str, Any]) -> None:
    _tracking_of(socket, "socket.save_session()")
    if not isinstance(data, Mapping):
        raise TypeError(f"a session must be a dict, got {type(data).__name__}")
    value = dict(data)
    if socket.state.get(_GONE):
        socket.state[_SESSION] = value  # disconnected: nothing left to keep it for
        return
    if socket.connecting:
        _sockets._check_session(value)  # the connect hook writes it once the handler has accepted
        socket.state[_SESSION] = value
        return
    _sockets.save_session(socket.hub, socket.namespace, socket.id, value)
    socket.state[_SESSION] = value


def user_id(socket: TrackedSocket) -> str | None:
    _tracking_of(socket, "socket.user_id")
    if _RECORD not in socket.state:
        _load(socket)
    return socket.state[_RECORD].get("user_id")  # type: ignore[no-any-return]


def default_handler(kind: str) -> Any:
    """The no-op handler a tracked blueprint registers for ``connect``/``disconnected`` until the app adds one."""

    def accept(socket: TrackedSocket) -> None:
        return None

    accept.__name__ = accept.__qualname__ = f"sioless_default_{kind}"
    accept.sioless_default = True  # type: ignore[attr-defined]
    return accept
