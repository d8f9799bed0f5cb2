"""``SocketIOBlueprint``: a ``func.Blueprint`` whose decorators turn handlers into Socket.IO-triggered functions."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from dataclasses import replace
from typing import Any, TypeVar, overload

import azure.functions as func
from azure.functions.decorators.core import DataType

from . import _timers
from ._actions import ActionList, OutputLike, check_namespace
from ._dispatch import HandlerSpec, Kind, arity, run_async, run_sync
from ._errors import UnsupportedError
from ._greeting import Greetings, may_greet
from ._names import NAME_PATTERN, function_name
from ._socket import Emitter
from ._tracking import Tracking, default_handler

F = TypeVar("F", bound=Callable[..., Any])

TRIGGER_ARG = "sio"
OUTPUT_ARG = "out"

# Event names the extension treats as system events (matched case-insensitively, docs/protocol.md#trigger-binding), plus
# python-socketio's "disconnect" spelling.
_SYSTEM = {"connect": "connect", "connected": "connected", "disconnect": "disconnected", "disconnected": "disconnected"}
# socket.io names a client cannot emit, or that serverless mode never delivers.
_NEVER_DELIVERED = {
    "connect_error": "it is a client-side event",
    "disconnecting": "serverless mode only reports 'disconnected', after the socket has left its rooms",
    "newlistener": "it is a reserved EventEmitter event",
    "removelistener": "it is a reserved EventEmitter event",
}


def _make_wrapper(current: Callable[[], HandlerSpec], replaceable: bool = False) -> Callable[..., Any]:
    """The function the worker calls; ``current()`` is the handler's spec at call time (specs are replaced, not
    changed, when the app swaps in its own connect/disconnect or a connect handler starts greeting)."""
    spec = current()
    # Parameter names must equal the binding names exactly, with `str` / `func.Out[str]` / `str` annotations
    # (docs/protocol.md#worker-indexing-and-checks). The annotations are set as real objects so typing.get_type_hints
    # sees types.
    wrapper: Callable[..., Any]
    if replaceable:
        # A tracked blueprint's default connect/disconnect: the app may swap in a sync or async handler later.

        async def wrapper(sio, out):  # type: ignore[no-untyped-def]
            now = current()
            if now.is_async:
                return await run_async(now, sio, out)
            return await asyncio.to_thread(run_sync, now, sio, out)

    elif spec.is_async:

        async def wrapper(sio, out):  # type: ignore[no-untyped-def]
            return await run_async(current(), sio, out)

    else:

        def wrapper(sio, out):  # type: ignore[no-untyped-def]
            return run_sync(current(), sio, out)

    wrapper.__annotations__ = {TRIGGER_ARG: str, OUTPUT_ARG: func.Out[str], "return": str}
    wrapper.__name__ = wrapper.__qualname__ = spec.function_name
    wrapper.__doc__ = spec.handler.__doc__
    wrapper.__module__ = getattr(spec.handler, "__module__", __name__)
    # the spec at registration (for tools and tests: its kind, hub, namespace, event and name never change)
    setattr(wrapper, "sioless_spec", spec)  # noqa: B010 (a plain attribute mypy cannot see on a function)
    return wrapper


class SocketIOBlueprint(func.Blueprint, _timers.Every):
    """A blueprint bound to one hub (and a default namespace); register it with ``app.register_functions(sio)``.

    Example::

        sio = SocketIOBlueprint(hub="chat")

        @sio.on("chat message")
        def message(socket: Socket, text: str) -> dict:
            socket.broadcast.emit("chat message", text)
            return {"ok": True}              # the client's ack

    Each handler becomes one Azure Function with a ``socketiotrigger`` and a ``socketio`` output binding.
    The decorators return the handler unchanged, so it stays callable in tests.
    """

    def __init__(self, hub: str, namespace: str = "/", *, sessions: bool = False, presence: bool = False) -> None:
        super().__init__()
        if not isinstance(hub, str) or not hub or "*" in hub:
            raise ValueError(f"hub must be a non-empty hub name, got {hub!r}.")
        self.hub = hub
        self.namespace = check_namespace(namespace)
        self._specs: dict[tuple[str, str, str], HandlerSpec] = {}
        # sessions/presence (docs/state.md): the store must see every connect and disconnect, so each namespace
        # gets default connect/disconnected functions that @on_connect/@on_disconnect replace.
        self.tracking = Tracking(bool(sessions), bool(presence)) if sessions or presence else None
        self._tracked: set[str] = set()
        # namespaces whose connect handler may act on its socket: each gets a `connected` function (_greeting)
        self._greetings: Greetings | None = None
        if self.tracking is not None:
            self._track(self.namespace)

    @property
    def handlers(self) -> list[HandlerSpec]:
        """The registered handlers, in registration order."""
        return list(self._specs.values())

    # -- registration ------------------------------------------------------------------------------------------

    def _track(self, ns: str) -> None:
        self._tracked.add(ns.casefold())
        self._register("connect", "connect", ns, default_handler("connect"))
        self._register("disconnected", "disconnected", ns, default_handler("disconnected"))

    def _register(
        self, kind: Kind, event: str, namespace: str | None, handler: Callable[..., Any], greets: bool | None = None
    ) -> None:
        ns = self.namespace if namespace is None else check_namespace(namespace)
        if self.tracking is not None and ns.casefold() not in self._tracked:
            self._track(ns)
        self._add_spec(kind, event, ns, handler)
        if kind == "connect" and not getattr(handler, "sioless_default", False):
            if may_greet(handler) if greets is None else greets:
                self._greet(ns)

    def _greet(self, ns: str) -> None:
        """Let the connect handler of ``ns`` act on its socket: its actions wait for a ``connected`` function."""
        if self._greetings is None:
            self._greetings = Greetings()
            for key, spec in self._specs.items():
                self._specs[key] = replace(spec, greetings=self._greetings)
        self._greetings.add(ns)
        if (ns.casefold(), "sys", "connected") not in self._specs:
            self._add_spec("connected", "connected", ns, default_handler("connected"))

    def _add_spec(self, kind: Kind, event: str, ns: str, handler: Callable[..., Any]) -> None:
        # The extension keys listeners by (hub, namespace, type, eventName) case-insensitively and refuses
        # duplicates ("Duplicated binding attribute find"); refuse them here, where the line number helps.
        key = (ns.casefold(), "user" if kind == "event" else "sys", event.casefold())
        existing = self._specs.get(key)
        if existing is not None and getattr(existing.handler, "sioless_default", False):
            required, maximum = arity(handler, kind, event)
            self._specs[key] = replace(existing, handler=handler, min_args=required, max_args=maximum)
            return
        if key in self._specs:
            other = self._specs[key].handler
            raise ValueError(
                f"{kind} {event!r} on namespace {ns!r} of hub {self.hub!r} already has a handler "
                f"({getattr(other, '__qualname__', other)!r}); the extension allows one function per event "
                "(names compared case-insensitively)."
            )
        required, maximum = arity(handler, kind, event)
        spec = HandlerSpec(
            kind=kind,
            hub=self.hub,
            namespace=ns,
            event=event,
            function_name=function_name(self.hub, ns, event),
            handler=handler,
            min_args=required,
            max_args=maximum,
            tracking=self.tracking,
            greetings=self._greetings,
        )
        self._specs[key] = spec
        specs = self._specs
        wrapper = _make_wrapper(lambda: specs[key], replaceable=getattr(handler, "sioless_default", False))
        builder = self.generic_output_binding(
            arg_name=OUTPUT_ARG, type="socketio", data_type=DataType.STRING, hub=self.hub
        )(wrapper)
        builder = self.generic_trigger(
            arg_name=TRIGGER_ARG,
            type="socketiotrigger",
            data_type=DataType.STRING,
            hub=self.hub,
            namespace=ns,
            eventName=event,
        )(builder)
        self.function_name(spec.function_name)(builder)

    def _decorator(
        self,
        kind: Kind,
        event: str,
        namespace: str | None,
        handler: Callable[..., Any] | None,
        greets: bool | None = None,
    ) -> Any:
        if handler is not None:
            self._register(kind, event, namespace, handler, greets)
            return handler

        def decorate(fn: F) -> F:
            self._register(kind, event, namespace, fn, greets)
            return fn

        return decorate

    @overload
    def on(self, event: str, handler: F, *, namespace: str | None = None) -> F: ...
    @overload
    def on(self, event: str, handler: None = None, *, namespace: str | None = None) -> Callable[[F], F]: ...
    def on(self, event: str, handler: Callable[..., Any] | None = None, *, namespace: str | None = None) -> Any:
        """Handle a named event: ``@sio.on("chat message")``.

        ``"connect"``, ``"connected"`` and ``"disconnect"``/``"disconnected"`` register the system handlers
        (like ``on_connect`` etc.). ``"*"`` (catch-all) is refused: the extension routes by exact event name.
        """
        if not isinstance(event, str) or not event:
            raise ValueError(f"event name must be a non-empty string, got {event!r}.")
        if event == "*":
            raise UnsupportedError(
                "Serverless mode has no catch-all event handler: the extension routes each event to the function "
                "registered for that exact name (others get 404). Register one handler per event name."
            )
        reason = _NEVER_DELIVERED.get(event.casefold())
        if reason:
            raise UnsupportedError(f"{event!r} cannot be handled on the server in serverless mode: {reason}.")
        system = _SYSTEM.get(event.casefold())
        if system is not None:
            return self._decorator(system, system, namespace, handler)  # type: ignore[arg-type]
        return self._decorator("event", event, namespace, handler)

    def event(self, handler: Callable[..., Any] | None = None, *, namespace: str | None = None) -> Any:
        """``@sio.event`` or ``@sio.event(namespace="/x")``: the event name is the function's name."""
        if handler is not None:
            return self.on(handler.__name__, handler, namespace=namespace)

        def decorate(fn: F) -> F:
            self.on(fn.__name__, fn, namespace=namespace)
            return fn

        return decorate

    def on_connect(
        self, handler: Callable[..., Any] | None = None, *, namespace: str | None = None, greets: bool | None = None
    ) -> Any:
        """``handler(socket[, request: ConnectRequest])``: accept (return None/True), refuse (return False or
        raise ``ConnectRefused``).

        ``socket.emit``/``join``/``leave`` work here: they run once the service has connected the socket, through a
        ``connected`` function this blueprint adds (docs/api.md "Greeting in connect"). It is added when the
        handler's own code calls ``emit``/``send``/``join``/``leave``; ``greets=True`` adds it for a handler that
        does so through another function, ``greets=False`` never adds it.
        """
        return self._decorator("connect", "connect", namespace, handler, greets)

    def on_connected(self, handler: Callable[..., Any] | None = None, *, namespace: str | None = None) -> Any:
        """``handler(socket)``, after the service accepted the socket."""
        return self._decorator("connected", "connected", namespace, handler)

    def on_disconnect(self, handler: Callable[..., Any] | None = None, *, namespace: str | None = None) -> Any:
        """``handler(socket[, reason: str])``; the trigger's eventName is ``disconnected``."""
        return self._decorator("disconnected", "disconnected", namespace, handler)

    # -- periodic work (timer functions) -----------------------------------------------------------------------

    def on_schedule(
        self, schedule: str, *, run_on_startup: bool = False, use_monitor: bool | None = None, name: str | None = None
    ) -> Callable[[F], F]:
        """Run ``handler(emitter)`` on an NCRONTAB schedule (six fields: ``"*/10 * * * * *"`` = every 10 s).

        (``func.Blueprint.schedule`` stays the plain timer trigger decorator; the compat facade spells this one
        ``sio.schedule``.)

        One timer function with a ``socketio`` output binding for this hub; ``emitter`` is an ``Emitter`` of the
        blueprint's namespace whose actions are written when the handler returns::

            @sio.on_schedule("0 */5 * * * *")
            def tick(emitter: Emitter) -> None:
                emitter.to("lobby").emit("tick", time.time())

        ``name`` is the function name (default ``<hub>__timer__<handler name>``). ``run_on_startup`` and
        ``use_monitor`` are the timer trigger's own options.
        """
        expression = _timers.check_schedule(schedule)

        def decorate(fn: F) -> F:
            if not callable(fn):
                raise TypeError(f"a timer handler must be callable, got {fn!r}.")
            if inspect.iscoroutinefunction(fn):

                async def run(actions: ActionList) -> None:
                    await fn(Emitter(self.namespace, hub=self.hub, actions=actions))

            else:

                def run(actions: ActionList) -> None:  # type: ignore[misc]
                    fn(Emitter(self.namespace, hub=self.hub, actions=actions))

            self.add_timer(expression, fn, run, run_on_startup=run_on_startup, use_monitor=use_monitor, name=name)
            return fn

        return decorate

    def _on_schedule(self, schedule: str, *, run_on_startup: bool, name: str | None) -> Callable[[F], F]:
        return self.on_schedule(schedule, run_on_startup=run_on_startup, name=name)  # what `every` registers with

    def add_timer(
        self,
        schedule: str,
        handler: Callable[..., Any],
        run: Callable[[ActionList], Any],
        *,
        run_on_startup: bool = False,
        use_monitor: bool | None = None,
        name: str | None = None,
    ) -> str:
        """Register a timer function calling ``run(actions)`` (what ``on_schedule`` and the compat facade build on);
        returns its function name."""
        function = name or f"{self.hub}__timer__{getattr(handler, '__name__', 'timer')}"
        if not NAME_PATTERN.match(function):
            raise ValueError(
                f"timer function name {function!r} is not a valid Azure function name "
                "(letters, digits, '_' and '-', starting with a letter, at most 128): pass name='...'."
            )
        wrapper = _timers.timer_wrapper(function, handler, run)
        builder = self.generic_output_binding(
            arg_name=_timers.OUTPUT_ARG, type="socketio", data_type=DataType.STRING, hub=self.hub
        )(wrapper)
        options: dict[str, Any] = {"run_on_startup": run_on_startup}
        if use_monitor is not None:
            options["use_monitor"] = use_monitor
        builder = self.timer_trigger(schedule=schedule, arg_name=_timers.TIMER_ARG, **options)(builder)
        self.function_name(function)(builder)
        return function

    # -- emitting from other functions -------------------------------------------------------------------------

    def emitter_output(self, arg_name: str = "out") -> Callable[..., Any]:
        """Add a ``socketio`` output binding for this hub to another function of THIS blueprint::

        @sio.route("upload", methods=["POST"])
        @sio.emitter_output("out")
        def upload(req: func.HttpRequest, out: func.Out[str]) -> func.HttpResponse:
            with sio.emitter(out) as emitter:
                emitter.emit("uploaded", req.params.get("name"))
            return func.HttpResponse("ok")
        """
        return self.generic_output_binding(arg_name=arg_name, type="socketio", data_type=DataType.STRING, hub=self.hub)

    def emitter(self, out: OutputLike | None = None, namespace: str | None = None) -> Emitter:
        """An ``Emitter`` for this hub (default namespace unless given) that flushes to ``out``."""
        return Emitter(self.namespace if namespace is None else namespace, hub=self.hub, out=out)
