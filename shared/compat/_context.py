"""The current invocation (a contextvar), and the connect request as python-socketio's ``environ`` and ``auth``.

In serverless mode every emit and room operation is an output action written when the invocation ends, so
``sio.emit(...)`` must know which invocation it belongs to: the handler wrappers (and ``sio.emitter(out)``)
set the contextvar for the duration of the call. Tasks created inside a handler inherit it, but actions they
add after the handler returned would be lost, so they are refused.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from types import TracebackType
from typing import Any
from urllib.parse import urlencode

from .._actions import ActionList, OutputLike
from .._errors import SiolessError
from .._greeting import GREETS
from .._request import ConnectRequest
from .._socket import Emitter, Socket


class Invocation:
    """One function invocation's action list, the socket that triggered it (None for ``sio.emitter``), and
    room changes of OTHER sockets to record in presence once the handler succeeds (the library's tracking
    records the triggering socket's own joins and leaves)."""

    __slots__ = ("hub", "actions", "socket", "connecting", "open", "foreign")

    def __init__(self, hub: str, actions: ActionList, socket: Socket | None = None, connecting: bool = False) -> None:
        self.hub = hub
        self.actions = actions
        self.socket = socket
        self.connecting = connecting
        self.open = True
        self.foreign: list[tuple[str, str, str, str]] = []  # (join|leave, namespace, sid, room)

    @property
    def greets(self) -> bool:
        """In connect: whether actions on the connecting socket can wait for its `connected` event."""
        return self.socket is not None and bool(self.socket.state.get(GREETS))

    @property
    def sid(self) -> str | None:
        return None if self.socket is None else self.socket.sid

    def owns(self, sid: str, namespace: str) -> Socket | None:
        """The triggering socket when (sid, namespace) is it, else None."""
        socket = self.socket
        if socket is not None and socket.sid == sid and socket.namespace == namespace:
            return socket
        return None


_current: ContextVar[Invocation | None] = ContextVar("sioless_compat_invocation", default=None)


def peek() -> Invocation | None:
    """The current invocation, or None outside handlers (no error)."""
    invocation = _current.get()
    return invocation if invocation is not None and invocation.open else None


def current(operation: str) -> Invocation:
    invocation = _current.get()
    if invocation is None:
        raise SiolessError(
            f"{operation} was called outside a Socket.IO handler. In serverless mode emits and room changes are "
            "output actions of the current function invocation. From another function (e.g. an HTTP trigger) "
            "declare a socketio output binding (sio.output_binding(app)) and wrap the calls in "
            "`with sio.emitter(out): ...`."
        )
    if not invocation.open:
        raise SiolessError(
            f"{operation} ran after its handler had returned (e.g. in a task the handler started): the "
            "invocation's actions were already written. Await the work inside the handler; for work that repeats "
            "use a timer function: @sio.every(seconds=...) or @sio.schedule('*/10 * * * * *')."
        )
    return invocation


@contextmanager
def activate(invocation: Invocation) -> Iterator[Invocation]:
    token = _current.set(invocation)
    try:
        yield invocation
    finally:
        invocation.open = False
        _current.reset(token)


def build_environ(request: ConnectRequest, namespace: str) -> dict[str, Any]:
    """A WSGI-style ``environ`` for the client's Engine.IO connect request (what python-socketio passes).

    ``QUERY_STRING`` and ``HTTP_*`` come from the query and headers the service forwards
    (docs/protocol.md#trigger-payloads; the
    emulator drops ``access_token`` and ``Authorization`` as docs/protocol.md#connect-request-contents recommends, the
    real service's
    choice is unknown); ``sioless.*`` keys add what serverless knows besides.
    """
    pairs = [(name, value) for name in request.query for value in request.query.get_all(name)]
    result: dict[str, Any] = {
        "REQUEST_METHOD": "GET",
        "QUERY_STRING": urlencode(pairs),
        "SCRIPT_NAME": "",
        "PATH_INFO": "/socket.io/",
        "sioless.namespace": namespace,
        "sioless.user_id": request.user_id,
        "sioless.claims": claims_dict(request),
        "sioless.request": request,
    }
    for name in request.headers:
        value = ",".join(request.headers.get_all(name))
        key = name.upper().replace("-", "_")
        result[key if key in ("CONTENT_TYPE", "CONTENT_LENGTH") else f"HTTP_{key}"] = value
    return result


def claims_dict(request: ConnectRequest) -> dict[str, Any]:
    """The connection token's claims, one value as a string, several as a list; ``sub`` set to the user id."""
    result: dict[str, Any] = {}
    for name in request.claims:
        values = request.claims.get_all(name)
        result[name] = values[0] if len(values) == 1 else values
    user_id = request.user_id
    if user_id and "sub" not in result:
        result["sub"] = user_id
    return result


def auth_of(request: ConnectRequest) -> dict[str, Any] | None:
    """What a python-socketio ``connect(sid, environ, auth)`` handler gets as ``auth``.

    The service does not forward the Socket.IO CONNECT packet's auth payload (docs/protocol.md#connect,
    docs/protocol.md#connect-request-contents), so ``auth`` is the connection token's claims (from negotiate: ``sub`` is
    the
    negotiated ``userId``), or None when the token had none.
    """
    claims = claims_dict(request)
    return claims or None


class EmitterScope:
    """``sio.emitter(out)``: makes ``sio.emit`` & co. usable outside handlers; writes ``out`` at the end."""

    def __init__(self, hub: str, out: OutputLike | None) -> None:
        self.emitter = Emitter("/", hub=hub, out=out)
        self._invocation = Invocation(hub, self.emitter.action_list)
        self._scope: Any = None

    def __enter__(self) -> Emitter:
        self._scope = activate(self._invocation)
        self._scope.__enter__()
        return self.emitter

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._scope.__exit__(exc_type, exc, tb)
        if exc_type is None and self.emitter.out is not None:
            self.emitter.flush()

    async def __aenter__(self) -> Emitter:
        return self.__enter__()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.__exit__(exc_type, exc, tb)
