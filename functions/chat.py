"""Hub ``chat``: negotiate over HTTP, sign-in required on connect, rooms, messages with acks, typing.

Identity (functions/_identity.py, docs/identity.md): negotiate issues a token for the App Service
Authentication principal, else for a guest id the server picks; ``connect`` refuses sockets without a user.
Events do not carry the user id to Python (docs/protocol.md#trigger-payloads), so the client sends its display
name with ``join``/``leave``/``chat message``/``typing`` and messages carry it: a name is what the client says,
data only, checked for shape.
"""

from __future__ import annotations

import logging
import os
import time
from typing import Any

import azure.functions as func

from shared import AckError, ConnectRefused, ConnectRequest, Socket, SocketIOBlueprint, StorageError
from shared.storage import StorageConfigError

from . import _chat_history as _history
from . import _identity, _negotiate_limits
from ._identity import NEGOTIATE_USER_ID
from ._limits import Budget, EventLimits, setting_number

HUB = "chat"
logger = logging.getLogger("chat")
MAX_TEXT = 2000
MAX_NAME = 64
# The timer that bounds the catch-up history (docs/limits.md): its NCRONTAB schedule is an app setting.
HISTORY_SWEEP_SCHEDULE = "%SIOLESS_CHAT_HISTORY_SWEEP_SCHEDULE%"

bp = SocketIOBlueprint(hub=HUB)


@bp.function_name("chat_negotiate")
@bp.route("chat/negotiate")  # GET /api/chat/negotiate: /api/<hub>/negotiate (docs/api.md)
@bp.generic_input_binding(arg_name="negotiation", type="socketionegotiation", hub=HUB, userId=NEGOTIATE_USER_ID)
def negotiate(req: func.HttpRequest, negotiation: str) -> func.HttpResponse:
    """``{endpoint, path, token, userId, name}`` for ``io(endpoint, {path, query: {access_token: token}})``:
    the signed-in principal, else a guest (functions/_identity.py); 429 for a client that negotiates too often
    (functions/_negotiate_limits.py)."""
    return _negotiate_limits.refusal(req, HUB) or _identity.negotiate(req, negotiation, HUB)


@bp.function_name("chat_account")
@bp.route("chat/account", methods=["GET"])  # GET /api/chat/account: sign-in available? who is signed in?
def account(req: func.HttpRequest) -> func.HttpResponse:
    return _identity.account(req)


@bp.on_connect()
def connect(socket: Socket, request: ConnectRequest) -> None:
    if not request.user_id:
        raise ConnectRefused("no user in the token: connect with a token from /api/chat/negotiate", status=401)


def _text(value: Any, what: str, limit: int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise AckError(f"{what} must be a non-empty string")
    if len(value) > limit:
        raise AckError(f"{what} is longer than {limit} characters")
    return value.strip()


def _now_ms() -> int:
    return int(time.time() * 1000)


def _system(socket: Socket, room: str, text: str) -> None:
    socket.to(room).emit("system message", {"room": room, "text": text, "ts": _now_ms()})


def _budget() -> Budget:
    return Budget(
        max_bytes=int(setting_number("SIOLESS_CHAT_MAX_EVENT_BYTES", 8192, minimum=1)),
        per_second=setting_number("SIOLESS_CHAT_EVENTS_PER_SECOND", 5),
        burst=setting_number("SIOLESS_CHAT_EVENT_BURST", 20, minimum=1),
    )


limits = EventLimits(HUB, _budget)


@bp.on_disconnect()
def disconnected(socket: Socket) -> None:
    limits.forget(socket.namespace, socket.id)


@bp.function_name("chat_history_sweep")
@bp.timer_trigger(arg_name="timer", schedule=HISTORY_SWEEP_SCHEDULE, run_on_startup=False, use_monitor=False)
def sweep_history(timer: func.TimerRequest) -> None:
    """Bound the catch-up history: delete messages older than ``SIOLESS_CHAT_HISTORY_MAX_AGE_SECONDS``
    (nothing to do while the history is off); and the negotiate buckets of clients idle long enough for theirs
    to be full again (docs/limits.md)."""
    if _history.enabled():
        max_age = _history.max_age()
        removed = _history.prune(max_age)
        if removed:
            logger.info("chat history: deleted %d message(s) older than %s s", removed, max_age)
    _negotiate_limits.prune_idle(HUB)


@bp.on("join")
@limits.guard("join")
def join(socket: Socket, room: str, name: str, options: Any = None) -> dict[str, Any]:
    """``options`` ``{"rejoin": true, "since": <ts>}``: a page back after a reconnection re-enters its rooms
    without a second "joined" message (the others never saw it leave) and gets the messages it missed (ts
    greater than ``since``, at most ``HISTORY``) in the ack's ``missed``."""
    room, name = _text(room, "room", MAX_NAME), _text(name, "name", MAX_NAME)
    rejoin = isinstance(options, dict) and options.get("rejoin") is True
    since = options.get("since") if isinstance(options, dict) else None
    socket.join(room)
    if not rejoin:
        _system(socket, room, f"{name} joined")
    answer: dict[str, Any] = {"ok": True, "room": room, "ts": _now_ms()}
    if rejoin and isinstance(since, int) and not isinstance(since, bool) and _history.enabled():
        answer["missed"] = _history.since(room, since)
    return answer


@bp.on("leave")
@limits.guard("leave")
def leave(socket: Socket, room: str, name: str) -> dict[str, Any]:
    room, name = _text(room, "room", MAX_NAME), _text(name, "name", MAX_NAME)
    socket.leave(room)
    _system(socket, room, f"{name} left")
    return {"ok": True, "room": room}


@bp.on("chat message")
@limits.guard("chat message")
def chat_message(socket: Socket, room: str, text: str, name: str) -> dict[str, Any]:
    """Relays to the room's other sockets; the ack gives the sender the message id and server timestamp."""
    room = _text(room, "room", MAX_NAME)
    message = {
        "id": os.urandom(8).hex(),
        "room": room,
        "from": _text(name, "name", MAX_NAME),
        "text": _text(text, "text", MAX_TEXT),
        "ts": _now_ms(),
    }
    try:  # before the relay: a receiver that is reconnecting fetches it on rejoin
        if _history.enabled():
            _history.record(message)
    except (StorageError, StorageConfigError) as exc:  # history is a recovery aid: the message still goes out
        logger.warning("chat history: message %s not stored: %s", message["id"], exc)
    socket.to(room).emit("chat message", message)
    return {"ok": True, "id": message["id"], "ts": message["ts"]}


@bp.on("typing")
@limits.guard("typing")
def typing(socket: Socket, room: str, name: str) -> None:
    room, name = _text(room, "room", MAX_NAME), _text(name, "name", MAX_NAME)
    socket.to(room).emit("typing", {"room": room, "from": name})
