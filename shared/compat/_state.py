"""Sessions and ``rooms()`` on the library's Table-backed store (docs/state.md), python-socketio style.

The facade's blueprint is created with ``sessions=True, presence=True`` (unless the server was created with
``state=False``), so the library records every connect, disconnect and the triggering socket's own joins and
leaves. What is left here: sessions and rooms of the triggering socket go through its ``Socket`` (cached per
invocation, a connect-time save is stored once the socket is accepted); other sids go to ``shared.sessions`` /
``shared.presence``; room changes the handler made for OTHER sockets are recorded once it succeeds.
"""

from __future__ import annotations

from typing import Any, Protocol

from .._errors import UnsupportedError
from .._socket import Socket
from ._context import Invocation, peek


class StateOwner(Protocol):
    """What the state functions read of a server: its hub, and whether it has the Table-backed store."""

    hub: str
    state: bool


def _require(server: StateOwner, what: str) -> None:
    if not server.state:
        raise UnsupportedError(
            f"{what} needs the Table-backed state store, which this server was created without (state=False). "
            "Remove state=False and set AzureWebJobsStorage (docs/state.md)."
        )


def get_session(server: StateOwner, sid: str, namespace: str) -> dict[str, Any]:
    _require(server, "get_session()")
    invocation = peek()
    socket = invocation.owns(sid, namespace) if invocation else None
    if socket is not None:
        return dict(socket.get_session())
    from .. import sessions

    return sessions.get(server.hub, namespace, sid)


def save_session(server: StateOwner, sid: str, session: dict[str, Any], namespace: str) -> None:
    _require(server, "save_session()")
    invocation = peek()
    socket = invocation.owns(sid, namespace) if invocation else None
    if socket is not None:
        socket.save_session(session)
        return
    from .. import sessions

    sessions.save(server.hub, namespace, sid, session)


def rooms(server: StateOwner, sid: str, namespace: str) -> list[str]:
    """python-socketio's ``rooms(sid)``: the sid's own room first, then the rooms it joined."""
    _require(server, "rooms()")
    from .. import presence

    invocation = peek()
    joined = list(presence.rooms(server.hub, namespace, sid))
    if invocation is not None:  # this invocation's room changes, not recorded yet
        _apply(joined, *invocation.actions.room_changes(sid, namespace))
    return [sid, *(room for room in joined if room != sid)]


def changed(server: StateOwner, invocation: Invocation, change: str, socket: Socket, room: str) -> None:
    """Remember a join/leave of a socket other than the triggering one (recorded by ``flush``)."""
    if server.state and invocation.owns(socket.sid, socket.namespace) is None:
        invocation.foreign.append((change, socket.namespace, socket.sid, room))


def flush(server: StateOwner, invocation: Invocation) -> None:
    """Record the foreign room changes; runs after the handler returned, before the actions are written."""
    if not invocation.foreign:
        return
    from .. import presence

    for change, namespace, sid, room in invocation.foreign:
        (presence.join if change == "join" else presence.leave)(server.hub, namespace, sid, room)
    invocation.foreign.clear()


def members(server: StateOwner, room: str, namespace: str) -> list[str]:
    """Who is in ``room`` now, counting this invocation's pending changes (for ``close_room``)."""
    _require(server, "close_room()")
    from .. import presence

    invocation = peek()
    result = list(presence.members(server.hub, namespace, room))
    if invocation is not None:
        _apply(result, *invocation.actions.member_changes(room, namespace))
    return result


def _apply(names: list[str], added: list[str], removed: list[str]) -> None:
    """Apply net changes (``ActionList.room_changes``/``member_changes``) to a list of names, in place."""
    for name in removed:
        if name in names:
            names.remove(name)
    for name in added:
        if name not in names:
            names.append(name)
