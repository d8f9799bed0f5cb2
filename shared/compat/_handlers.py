"""The wrappers that turn python-socketio handlers into library handlers, and the facade's error helpers.

A wrapper takes the library's ``Socket`` (plus the ``ConnectRequest`` or reason), makes the invocation current
(``_context``), calls the original with ``socket.sid`` and python-socketio's other arguments, records room
changes made for other sockets (``_state.flush``) and maps the result (ack, refusal) to the library's rules.
"""

from __future__ import annotations

import asyncio
import builtins
import inspect
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Protocol

from .._errors import ConnectRefused, UnsupportedError
from .._request import ConnectRequest
from .._socket import Socket
from . import _state
from ._context import Invocation, activate, auth_of, build_environ
from .exceptions import ConnectionRefusedError


class _Host(Protocol):
    hub: str
    state: bool

    def _invocation(self, socket: Socket, connecting: bool = False) -> Invocation: ...


class Reason:
    """python-socketio's ``sio.reason`` constants (the ``reason`` passed to disconnect handlers)."""

    CLIENT_DISCONNECT = "client disconnect"
    SERVER_DISCONNECT = "server disconnect"
    PING_TIMEOUT = "ping timeout"
    TRANSPORT_CLOSE = "transport close"
    TRANSPORT_ERROR = "transport error"


def unsupported(name: str, why: str, instead: str) -> UnsupportedError:
    return UnsupportedError(f"{name} is not available in serverless mode: {why}. {instead}")


def _positional(handler: Callable[..., Any]) -> tuple[list[inspect.Parameter], bool]:
    params = list(inspect.signature(handler).parameters.values())
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return positional, any(p.kind is p.VAR_POSITIONAL for p in params)


def _signature_after_sid(handler: Callable[..., Any]) -> inspect.Signature:
    """The handler's signature with its first parameter (``sid``) replaced by the library's ``socket``."""
    signature = inspect.signature(handler)
    params = list(signature.parameters.values())
    socket = inspect.Parameter("socket", inspect.Parameter.POSITIONAL_ONLY)
    if params and params[0].kind in (params[0].POSITIONAL_ONLY, params[0].POSITIONAL_OR_KEYWORD):
        params = params[1:]
    elif not params or params[0].kind is not params[0].VAR_POSITIONAL:
        raise TypeError(f"{handler.__qualname__}() must accept the client's sid as its first parameter.")
    rest = [p.replace(kind=p.POSITIONAL_ONLY) if p.kind is p.POSITIONAL_OR_KEYWORD else p for p in params]
    # Positional-only parameters must come first; the keyword-only/var ones keep their order after them.
    return signature.replace(parameters=[socket, *rest], return_annotation=inspect.Signature.empty)


def _named_like(wrapper: Callable[..., Any], handler: Callable[..., Any]) -> None:
    for attribute in ("__name__", "__qualname__", "__module__", "__doc__"):
        if hasattr(handler, attribute):
            setattr(wrapper, attribute, getattr(handler, attribute))


def _ack(result: Any) -> Any:
    # python-socketio acks a None (or empty tuple) result with no arguments; the extension drops an empty ack
    # list (docs/protocol.md#user-events), so the facade acks with one null argument instead (docs/migration.md).
    if result is None or result == ():
        return (None,)
    return result


def event_wrapper(server: _Host, handler: Callable[..., Any]) -> Callable[..., Any]:
    signature = _signature_after_sid(handler)
    wrapper: Callable[..., Any]
    if inspect.iscoroutinefunction(handler):

        async def wrapper(socket: Socket, *args: Any) -> Any:
            with activate(server._invocation(socket)) as invocation:
                result = await handler(socket.sid, *args)
            if invocation.foreign:
                await asyncio.to_thread(_state.flush, server, invocation)
            return _ack(result)

    else:

        def wrapper(socket: Socket, *args: Any) -> Any:
            with activate(server._invocation(socket)) as invocation:
                result = handler(socket.sid, *args)
            _state.flush(server, invocation)
            return _ack(result)

    _named_like(wrapper, handler)
    setattr(wrapper, "__signature__", signature)  # noqa: B010 (inspect.signature reads it)
    return wrapper


def connect_wrapper(server: _Host, handler: Callable[..., Any]) -> Callable[..., Any]:
    positional, variadic = _positional(handler)
    if not positional and not variadic:
        raise TypeError(f"{handler.__qualname__}() must accept the client's sid as its first parameter.")
    count = 3 if variadic else min(len(positional), 3)

    def arguments(socket: Socket, request: ConnectRequest) -> tuple[Any, ...]:
        values = (socket.sid, build_environ(request, socket.namespace), auth_of(request))
        return values[:count]

    wrapper: Callable[..., Any]
    if inspect.iscoroutinefunction(handler):

        async def wrapper(socket: Socket, request: ConnectRequest) -> Any:
            with activate(server._invocation(socket, connecting=True)), _refusals():
                return False if await handler(*arguments(socket, request)) is False else None

    else:

        def wrapper(socket: Socket, request: ConnectRequest) -> Any:
            with activate(server._invocation(socket, connecting=True)), _refusals():
                return False if handler(*arguments(socket, request)) is False else None

    _named_like(wrapper, handler)
    return wrapper


def disconnect_wrapper(server: _Host, handler: Callable[..., Any]) -> Callable[..., Any]:
    positional, variadic = _positional(handler)
    if not positional and not variadic:
        raise TypeError(f"{handler.__qualname__}() must accept the client's sid as its first parameter.")
    with_reason = variadic or len(positional) >= 2

    def arguments(socket: Socket, reason: str) -> tuple[Any, ...]:
        # The service sends an empty reason for a normal close (docs/protocol.md#disconnected).
        return (socket.sid, reason or Reason.CLIENT_DISCONNECT) if with_reason else (socket.sid,)

    wrapper: Callable[..., Any]
    if inspect.iscoroutinefunction(handler):

        async def wrapper(socket: Socket, reason: str = "") -> None:
            with activate(server._invocation(socket)) as invocation:
                await handler(*arguments(socket, reason))
            if invocation.foreign:
                await asyncio.to_thread(_state.flush, server, invocation)

    else:

        def wrapper(socket: Socket, reason: str = "") -> None:
            with activate(server._invocation(socket)) as invocation:
                handler(*arguments(socket, reason))
            _state.flush(server, invocation)

    _named_like(wrapper, handler)
    return wrapper


def accept(socket: Socket) -> None:
    """Accept every socket (the namespace has handlers but no connect handler)."""


def connecting_error(what: str) -> UnsupportedError:
    if "disconnect" in what:
        return unsupported(
            what,
            "the socket is not connected until the connect handler returns",
            "Refuse the connection instead: return False or raise ConnectionRefusedError.",
        )
    return unsupported(
        what,
        "this connect handler has no 'connected' companion, which would run it once the service has connected "
        "the socket (it is added when the handler's own code calls emit/send/enter_room/leave_room; this one does "
        "it through another function)",
        "Create the server with greets=True: AsyncServer(..., greets=True).",
    )


@contextmanager
def _refusals() -> Iterator[None]:
    try:
        yield
    except ConnectionRefusedError as exc:
        raise ConnectRefused(str(exc.error_args.get("message"))) from None
    except builtins.ConnectionRefusedError as exc:
        raise ConnectRefused(str(exc) or "Connection refused by server") from None
