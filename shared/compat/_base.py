"""``BaseServer``, what ``AsyncServer`` and ``Server`` share: handler registration on a ``SocketIOBlueprint``,
registering on the FunctionApp, and the synchronous core of the operations (emit, rooms, disconnect) that the
twins in ``_server`` expose in python-socketio's sync or async shape.

Each handler is wrapped (``_handlers``) into a library handler, so every handler is still one ordinary Azure
Function. Emits and room calls build actions into the current invocation's list (``_context``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from .._actions import OutputLike, check_namespace
from .._blueprint import SocketIOBlueprint
from .._greeting import may_greet
from .._socket import Emitter, Socket
from . import _state
from ._context import EmitterScope, Invocation, current
from ._handlers import (
    Reason,
    accept,
    connect_wrapper,
    connecting_error,
    disconnect_wrapper,
    event_wrapper,
    unsupported,
)
from ._namespace import NamespaceBase
from ._options import check_options
from ._periodic import Periodic, Timer
from ._unavailable import Unavailable

F = TypeVar("F", bound=Callable[..., Any])

DEFAULT_HUB = "socketio"
_SYSTEM_NAMES = frozenset({"connect", "connected", "disconnect", "disconnected"})


class BaseServer(Periodic, Unavailable):
    """What ``AsyncServer`` and ``Server`` share: registration and the action-building core (all synchronous)."""

    reason = Reason

    def __init__(
        self,
        client_manager: Any = None,
        logger: Any = False,
        serializer: Any = "default",
        json: Any = None,
        async_handlers: bool = True,
        always_connect: bool = False,
        namespaces: Any = None,
        *,
        hub: str | None = None,
        state: bool = True,
        greets: bool | None = None,
        **kwargs: Any,
    ) -> None:
        check_options(
            type(self).__name__,
            client_manager=client_manager,
            serializer=serializer,
            json=json,
            always_connect=always_connect,
            namespaces=namespaces,
            other_options=kwargs,
        )
        self.hub = hub or DEFAULT_HUB
        self.namespaces: list[str] = [check_namespace(ns, "namespaces entry") for ns in (namespaces or ["/"])]
        self._registrations: list[tuple[str, str, Callable[..., Any]]] = []
        self._timers: list[Timer] = []
        self.state = bool(state)
        # None: a connect handler gets the `connected` companion when its own code calls emit/enter_room/...
        self.greets = greets
        self._blueprint = self._new_blueprint(self.hub)
        self._finalized = False

    def _new_blueprint(self, hub: str) -> SocketIOBlueprint:
        # sessions/presence: python-socketio always has sessions and rooms(); they live in Tables here.
        return SocketIOBlueprint(hub, sessions=self.state, presence=self.state)

    # -- registration ------------------------------------------------------------------------------------------

    def on(self, event: str, handler: Callable[..., Any] | None = None, namespace: str | None = None) -> Any:
        """``@sio.on('event', namespace='/ns')`` or ``sio.on('event', handler)``, as in python-socketio."""

        def set_handler(fn: F) -> F:
            self._add(event, namespace or "/", fn)
            return fn

        if handler is None:
            return set_handler
        return set_handler(handler)  # type: ignore[type-var]

    def event(self, *args: Any, **kwargs: Any) -> Any:
        """``@sio.event`` or ``@sio.event(namespace='/ns')``: the event name is the function's name."""
        if len(args) == 1 and not kwargs and callable(args[0]):
            return self.on(args[0].__name__)(args[0])

        def set_handler(fn: F) -> F:
            return self.on(fn.__name__, *args, **kwargs)(fn)  # type: ignore[no-any-return]

        return set_handler

    def _add(self, event: str, namespace: str, handler: Callable[..., Any]) -> None:
        if self._finalized:
            raise RuntimeError(
                f"handler for {event!r} registered after the server was registered on the FunctionApp; "
                "define every handler before app.register_functions(sio)."
            )
        self._register_on(self._blueprint, event, namespace, handler)
        self._registrations.append((event, namespace, handler))

    def _register_on(self, blueprint: SocketIOBlueprint, event: str, namespace: str, handler: Any) -> None:
        if not callable(handler):
            raise TypeError(f"the handler for {event!r} must be callable, got {handler!r}.")
        if event == "connect":
            greets = may_greet(handler) if self.greets is None else self.greets
            blueprint.on_connect(connect_wrapper(self, handler), namespace=namespace, greets=greets)
        elif event == "disconnect":
            blueprint.on_disconnect(disconnect_wrapper(self, handler), namespace=namespace)
        elif isinstance(event, str) and event.casefold() in _SYSTEM_NAMES:
            # In python-socketio these are ordinary client events; the extension treats the names as its system
            # events (compared case-insensitively), so a client can never reach such a handler.
            raise unsupported(
                f"a handler for the client event {event!r}",
                "the extension reserves the names connect/connected/disconnect/disconnected (any letter case) "
                "for system events",
                "Rename the event on the client and the server.",
            )
        else:
            blueprint.on(event, event_wrapper(self, handler), namespace=namespace)

    def register_namespace(self, namespace_handler: Any) -> None:
        """Class-based namespaces: each ``on_<event>`` method becomes that event's handler."""
        namespace = getattr(namespace_handler, "namespace", None)
        if not isinstance(namespace, str):
            raise ValueError("register_namespace needs a Namespace/AsyncNamespace instance with a namespace.")
        check_namespace(namespace)
        if getattr(type(namespace_handler), "trigger_event", None) not in (None, NamespaceBase.trigger_event):
            raise unsupported(
                "overriding Namespace.trigger_event",
                "the extension routes every event to the function registered for that exact name",
                "Define one on_<event> method per event.",
            )
        namespace_handler._set_server(self)
        for name in dir(type(namespace_handler)):
            if name.startswith("on_") and callable(getattr(namespace_handler, name)):
                self._add(name[3:], namespace, getattr(namespace_handler, name))

    def _invocation(self, socket: Socket, connecting: bool = False) -> Invocation:
        # The socket's action list is the one the library's wrapper writes when the handler returns.
        return Invocation(self.hub, socket.action_list, socket, connecting)

    # -- registering on the FunctionApp ------------------------------------------------------------------------

    def _finalize(self) -> SocketIOBlueprint:
        if not self._finalized:
            # python-socketio accepts '/' and every namespace that has handlers even without a connect handler;
            # the extension refuses a namespace without a connect function (404), so accept-all ones are added.
            with_connect = {ns for event, ns, _ in self._registrations if event == "connect"}
            used = [*self.namespaces, *(ns for _, ns, _ in self._registrations)]
            for namespace in dict.fromkeys(used):
                if namespace not in with_connect:
                    self._blueprint.on_connect(accept, namespace=namespace)
            self._finalized = True
        return self._blueprint

    @property
    def blueprint(self) -> SocketIOBlueprint:
        """The ``SocketIOBlueprint`` holding the generated functions (complete once registered)."""
        return self._finalize()

    @property
    def _function_builders(self) -> list[Any]:
        # What FunctionApp.register_functions reads: makes `app.register_functions(sio)` work.
        return self._finalize()._function_builders  # type: ignore[no-any-return]

    def register(self, app: Any, hub: str | None = None) -> None:
        """``sio.register(app)`` (same as ``app.register_functions(sio)``); ``hub`` overrides the server's hub."""
        if hub is not None and hub != self.hub:
            if self._finalized:
                raise RuntimeError(f"this server is already registered with hub {self.hub!r}.")
            check = SocketIOBlueprint(hub)  # validates the name before anything changes
            self.hub = check.hub
            blueprint = self._new_blueprint(hub)
            for event, namespace, handler in self._registrations:
                self._register_on(blueprint, event, namespace, handler)
            for timer in self._timers:
                self._register_timer(blueprint, timer)
            self._blueprint = blueprint
        app.register_functions(self)

    def output_binding(self, app: Any, arg_name: str = "out") -> Callable[[F], F]:
        """A ``socketio`` output binding for this server's hub, for a function of ``app`` (e.g. HTTP)."""
        return app.generic_output_binding(  # type: ignore[no-any-return]
            arg_name=arg_name, type="socketio", data_type="STRING", hub=self.hub
        )

    def emitter(self, out: OutputLike | None = None) -> EmitterScope:
        """``with sio.emitter(out): await sio.emit(...)`` in a function that is not a Socket.IO trigger."""
        return EmitterScope(self.hub, out)

    # -- the operations (synchronous core) ---------------------------------------------------------------------

    def _emit(
        self,
        event: str,
        data: Any = None,
        to: Any = None,
        room: Any = None,
        skip_sid: Any = None,
        namespace: str | None = None,
        callback: Callable[..., Any] | None = None,
        operation: str = "emit()",
    ) -> None:
        if callback is not None:
            raise unsupported(
                "emit(..., callback=...)",
                "the service has no server-to-client acknowledgements",
                "Have the client emit a reply event to a handler instead.",
            )
        invocation = current(f"sio.{operation}")
        if data is None:
            args: list[Any] = []
        elif isinstance(data, tuple):
            args = list(data)
        else:
            args = [data]
        target = to if to is not None else room
        rooms = None if target is None else [target] if isinstance(target, str) else list(target)
        skip = [] if skip_sid is None else [skip_sid] if isinstance(skip_sid, str) else list(skip_sid)
        if invocation.connecting and rooms and invocation.sid in rooms and not invocation.greets:
            raise connecting_error(f"sio.{operation} to the connecting client")
        operator = Emitter(namespace or "/", hub=invocation.hub, actions=invocation.actions)
        if rooms is not None:  # an empty list is an error (room_list), not a broadcast to everyone
            operator = operator.to(rooms)  # type: ignore[assignment]
        if skip:
            operator = operator.except_(skip)  # type: ignore[assignment]
        operator.emit(event, *args)

    def _socket(self, sid: str, namespace: str | None, operation: str) -> tuple[Socket, Invocation]:
        invocation = current(f"sio.{operation}")
        if not isinstance(sid, str) or not sid:
            raise ValueError(f"sid must be a non-empty string, got {sid!r}.")
        if invocation.connecting and sid == invocation.sid and invocation.socket is not None:
            if operation == "disconnect()" or not invocation.greets:
                raise connecting_error(f"sio.{operation} on the connecting client")
            return invocation.socket, invocation  # its actions wait for the `connected` event (shared._greeting)
        return Socket(sid, check_namespace(namespace or "/"), invocation.hub, actions=invocation.actions), invocation

    def _enter_room(self, sid: str, room: str, namespace: str | None = None) -> None:
        socket, invocation = self._socket(sid, namespace, "enter_room()")
        socket.join(room)
        _state.changed(self, invocation, "join", socket, room)

    def _leave_room(self, sid: str, room: str, namespace: str | None = None) -> None:
        socket, invocation = self._socket(sid, namespace, "leave_room()")
        socket.leave(room)
        _state.changed(self, invocation, "leave", socket, room)

    def _close_room(self, room: str, namespace: str | None = None) -> None:
        """Every member leaves ``room`` (one ``removeSocketFromRoom`` each, members read from presence)."""
        invocation = current("sio.close_room()")
        namespace = check_namespace(namespace or "/")
        for sid in _state.members(self, room, namespace):
            socket = Socket(sid, namespace, invocation.hub, actions=invocation.actions)
            socket.leave(room)
            _state.changed(self, invocation, "leave", socket, room)

    def _disconnect(self, sid: str, namespace: str | None = None, ignore_queue: bool = False) -> None:
        socket, _ = self._socket(sid, namespace, "disconnect()")
        socket.disconnect()

    def rooms(self, sid: str, namespace: str | None = None) -> list[str]:
        """The rooms ``sid`` is in, its own room included (from the presence store)."""
        return _state.rooms(self, sid, namespace or "/")

    def __repr__(self) -> str:
        return f"{type(self).__name__}(hub={self.hub!r}, handlers={len(self._registrations)})"
