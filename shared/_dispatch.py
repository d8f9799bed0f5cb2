"""One invocation: trigger JSON in, handler call, actions out, a JSON object string back. Never raises.

The result conventions (docs/api.md "Results and errors"):

- connect: ``{"statusCode": 200}``; refused -> ``{"statusCode": 401}`` (or ``ConnectRefused.status``);
  bad trigger data -> 400; a raising handler -> 500.
- user event: a return value ``v`` -> ``{"ack": [v]}``; a tuple -> ``{"ack": [*v]}``; None or ``()`` -> ``{}``
  (no ack);
  any failure -> ``{"ack": [{"error": "<message>"}]}`` with status 200 so the client's ack callback gets it.
- connected / disconnected: ``{}`` (the extension ignores the value).
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from . import _greeting
from ._actions import ActionList, OutputLike, json_error, to_json
from ._errors import AckError, ConnectRefused, SiolessError
from ._greeting import Greetings
from ._request import ConnectRequest, TriggerDataError
from ._socket import Socket
from ._storage import StorageConfigError, StorageError, report_config_error
from ._tracking import Tracking

logger = logging.getLogger("sioless")

Kind = Literal["connect", "connected", "disconnected", "event"]

# What sync handlers return, none of which is awaitable: no need for inspect.isawaitable's checks.
_PLAIN_RESULTS = frozenset({type(None), bool, int, float, str, dict, list, tuple})
_EMPTY = "{}"
_CONNECT_OK = '{"statusCode": 200}'


@dataclass(frozen=True, slots=True, repr=False)
class HandlerSpec:
    """A registered handler and what the wrapper needs to call it. Frozen: the blueprint replaces a spec
    (``dataclasses.replace``) when a default handler gets the app's own, and its wrapper reads the current one."""

    kind: Kind
    hub: str
    namespace: str
    event: str  # the trigger's eventName
    function_name: str
    handler: Callable[..., Any]
    min_args: int  # positional arguments after the socket
    max_args: float  # math.inf with *args
    tracking: Tracking | None = None  # sessions/presence hooks (docs/state.md), None when off
    greetings: Greetings | None = None  # namespaces whose connect may act on its socket (shared._greeting), or None

    @property
    def label(self) -> str:
        name = getattr(self.handler, "__qualname__", repr(self.handler))
        return f"{name}() for {'event' if self.kind == 'event' else 'system event'} {self.event!r}"

    def __repr__(self) -> str:
        return f"HandlerSpec({self.kind!r}, hub={self.hub!r}, namespace={self.namespace!r}, event={self.event!r})"

    @property
    def is_async(self) -> bool:
        return inspect.iscoroutinefunction(self.handler)


def arity(handler: Callable[..., Any], kind: Kind, event: str) -> tuple[int, float]:
    """(required, maximum) positional arguments after the socket; refuses handlers that cannot be called."""
    if not callable(handler):
        raise TypeError(f"the handler for {kind} {event!r} must be callable, got {handler!r}.")
    signature = inspect.signature(handler)
    positional = []
    variadic = False
    for parameter in signature.parameters.values():
        if parameter.kind in (parameter.POSITIONAL_ONLY, parameter.POSITIONAL_OR_KEYWORD):
            positional.append(parameter)
        elif parameter.kind is parameter.VAR_POSITIONAL:
            variadic = True
        elif parameter.kind is parameter.KEYWORD_ONLY and parameter.default is parameter.empty:
            raise TypeError(
                f"{handler.__qualname__}() has a required keyword-only parameter {parameter.name!r}; "
                "handlers get the socket and the event arguments by position only."
            )
    if not positional and not variadic:
        raise TypeError(f"{handler.__qualname__}() must accept the socket as its first parameter.")
    rest = positional[1:]
    required = sum(1 for parameter in rest if parameter.default is parameter.empty)
    maximum = math.inf if variadic else float(len(rest))
    if kind == "connected" and required:
        raise TypeError(f"{handler.__qualname__}() for 'connected' gets only the socket; it requires {required} more.")
    if kind in ("connect", "disconnected") and required > 1:
        extra = "the ConnectRequest" if kind == "connect" else "the reason"
        raise TypeError(f"{handler.__qualname__}() for {kind!r} gets the socket and {extra}; it requires {required}.")
    return required, maximum


class _BadInput(SiolessError):
    pass


def _describe(spec: HandlerSpec) -> str:
    if spec.max_args == spec.min_args:
        count = int(spec.min_args)
        return f"{count} argument{'s' if count != 1 else ''}"
    if spec.max_args == math.inf:
        return f"at least {spec.min_args} argument{'s' if spec.min_args != 1 else ''}"
    return f"{spec.min_args} to {int(spec.max_args)} arguments"


_DECODER = json.JSONDecoder()


def _prepare(spec: HandlerSpec, raw: Any, actions: ActionList) -> tuple[Socket, Sequence[Any]]:
    """Parse the trigger JSON into the socket and the handler's arguments, the socket first (``handler(*arguments)``
    is a cheaper call than ``handler(socket, *rest)``, which builds another tuple)."""
    if not isinstance(raw, str):
        if not isinstance(raw, (bytes, bytearray)):
            raise _BadInput(f"trigger data must be a JSON string, got {type(raw).__name__}")
        raw = raw.decode("utf-8", "replace")
    try:
        # json.loads(raw) without its wrapper's cost in the common case: the host's JSON, nothing around it.
        # Whitespace around the document, or no JSON at all: json.loads decides, and names the error.
        data, end = _DECODER.raw_decode(raw)
        if end != len(raw):
            data = json.loads(raw)
    except json.JSONDecodeError:
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as exc:
            # The text itself is not logged: a connect request carries tokens.
            raise _BadInput(f"trigger data is not JSON ({exc.msg} at position {exc.pos})") from None
    if not isinstance(data, dict):  # what JSON objects decode to
        raise _BadInput(f"trigger data must be a JSON object, got {type(data).__name__}")
    socket_id = data.get("socketId")
    if not isinstance(socket_id, str) or not socket_id:
        raise _BadInput("trigger data has no 'socketId' string")
    namespace = data.get("namespace", spec.namespace)
    if not isinstance(namespace, str) or not namespace.startswith("/"):
        raise _BadInput(f"trigger data 'namespace' must be a string starting with '/', got {namespace!r}")
    socket = Socket(socket_id, namespace, spec.hub, actions, spec.kind == "connect")
    if spec.kind == "event":
        parameters = data.get("parameters")
        if parameters is None:
            parameters = []
        elif not isinstance(parameters, list):
            raise _BadInput(f"trigger data 'parameters' must be a JSON array or null, got {type(parameters).__name__}")
        if not spec.min_args <= len(parameters) <= spec.max_args:
            raise _BadInput(f"{spec.label} expects {_describe(spec)} after the socket, got {len(parameters)}")
        parameters.insert(0, socket)  # this invocation's own list, parsed above
        return socket, parameters
    if spec.kind == "connect":
        if spec.max_args < 1:
            return socket, (socket,)
        try:
            return socket, (socket, ConnectRequest.from_trigger(data))
        except TriggerDataError as exc:
            raise _BadInput(f"connect trigger data: {exc}") from None
    if spec.kind == "disconnected" and spec.max_args >= 1:
        reason = data.get("reason")
        return socket, (socket, "" if reason is None else str(reason))
    return socket, (socket,)


def _write(out: OutputLike, actions: ActionList) -> None:
    value = actions.encode()
    if value is not None:
        out.set(value)


def _success(spec: HandlerSpec, result: Any, actions: ActionList, out: OutputLike) -> str:
    if spec.kind == "connect":
        if result is False:
            logger.info("%s refused the socket by returning False", spec.label)
            _write(out, actions)
            return '{"statusCode": 401}'
        _write(out, actions)
        return _CONNECT_OK
    if spec.kind == "event":
        is_tuple = isinstance(result, tuple)
        if result is None or (is_tuple and not result):
            reply = _EMPTY
        else:
            ack = list(result) if is_tuple else [result]
            try:
                reply = to_json({"ack": ack})
            except (TypeError, ValueError) as exc:
                return _failure(spec, json_error(ack, f"the ack value of {spec.label}", exc), out)
        value = actions.encode()  # (_write, inline: once per event)
        if value is not None:
            out.set(value)
        return reply
    _write(out, actions)
    return _EMPTY


def _failure(spec: HandlerSpec, exc: BaseException, out: OutputLike, actions: ActionList | None = None) -> str:
    """The documented error result. ``actions`` are written only for expected refusals (AckError/ConnectRefused)."""
    if isinstance(exc, StorageError):
        actions = None  # the state behind the actions was not stored: send none of them (docs/state.md)
    if isinstance(exc, StorageConfigError):  # the operator's problem: logged once, never shown to clients
        report_config_error(exc, f"{spec.label} (function {spec.function_name})")
        if spec.kind == "connect":
            return '{"statusCode": 500}'
        if spec.kind == "event":
            return json.dumps({"ack": [{"error": f"internal error in event {spec.event!r}"}]})
        return _EMPTY
    if isinstance(exc, _BadInput):
        logger.error("%s (function %s): bad trigger data: %s", spec.label, spec.function_name, exc)
        if spec.kind == "connect":
            return '{"statusCode": 400}'
        if spec.kind == "event":
            return json.dumps({"ack": [{"error": f"bad request: {exc}"}]})
        return _EMPTY
    if spec.kind == "connect":
        if isinstance(exc, ConnectRefused):
            logger.info("%s refused the socket (%d): %s", spec.label, exc.status, exc.message)
            if actions:
                _write(out, actions)
            return json.dumps({"statusCode": exc.status})
        if isinstance(exc, ConnectionRefusedError):
            logger.info("%s refused the socket (401): %s", spec.label, exc)
            if actions:
                _write(out, actions)
            return '{"statusCode": 401}'
        logger.error("%s (function %s) raised", spec.label, spec.function_name, exc_info=exc)
        return '{"statusCode": 500}'
    if spec.kind == "event":
        if isinstance(exc, AckError):
            logger.info("%s answered with an error ack: %s", spec.label, exc.message)
            if actions:
                _write(out, actions)
            try:
                return json.dumps({"ack": [exc.payload()]})
            except (TypeError, ValueError):
                return json.dumps({"ack": [{"error": exc.message}]})
        logger.error("%s (function %s) raised", spec.label, spec.function_name, exc_info=exc)
        # The exception text is not sent: it may hold internals. The logs have the traceback.
        return json.dumps({"ack": [{"error": f"internal error in event {spec.event!r}"}]})
    logger.error("%s (function %s) raised", spec.label, spec.function_name, exc_info=exc)
    return _EMPTY


def _last_resort(spec: HandlerSpec, exc: BaseException) -> str:
    logger.critical("sioless wrapper failed for %s", spec.label, exc_info=exc)
    if spec.kind == "connect":
        return '{"statusCode": 500}'
    if spec.kind == "event":
        return '{"ack": [{"error": "internal error"}]}'
    return _EMPTY


def run_sync(spec: HandlerSpec, raw: Any, out: OutputLike) -> str:
    actions = ActionList()
    try:
        try:
            socket, arguments = _prepare(spec, raw, actions)
            if spec.tracking is not None:
                spec.tracking.before(spec.kind, socket, raw)
            if spec.greetings is not None and spec.kind in ("connect", "connected"):
                _greeting.before(spec.greetings, spec.kind, socket, actions, spec.tracking is not None)
            result = spec.handler(*arguments)
            if type(result) not in _PLAIN_RESULTS and inspect.isawaitable(result):
                close = getattr(result, "close", None)
                if close is not None:
                    close()
                raise TypeError(f"{spec.label} returned an awaitable from a sync function; declare it async def")
            if spec.kind == "connect":
                _greeting.after_connect(socket, actions, result is not False, spec.tracking is not None)
            if spec.tracking is not None:
                spec.tracking.after(spec.kind, socket, actions, result)
        except Exception as exc:
            if spec.kind == "connect" and actions:
                _greeting.after_connect(socket, actions, accepted=False)  # a refused socket gets nothing
            if actions and spec.tracking is not None and isinstance(exc, AckError):
                exc = spec.tracking.after_error(spec.kind, socket, actions, exc)  # its actions are still sent
            return _failure(spec, exc, out, actions)
        return _success(spec, result, actions, out)
    except Exception as exc:  # e.g. out.set failed: still answer with a JSON object
        return _last_resort(spec, exc)


async def run_async(spec: HandlerSpec, raw: Any, out: OutputLike) -> str:
    actions = ActionList()
    try:
        try:
            socket, arguments = _prepare(spec, raw, actions)
            if spec.tracking is not None:  # storage calls: in a thread, never on the worker's loop
                await asyncio.to_thread(spec.tracking.before, spec.kind, socket, raw)
            tracked = spec.tracking is not None
            if spec.greetings is not None and spec.kind == "connect":
                _greeting.before(spec.greetings, spec.kind, socket, actions)  # no I/O
            elif spec.greetings is not None and spec.kind == "connected":
                await asyncio.to_thread(_greeting.before, spec.greetings, spec.kind, socket, actions, tracked)
            result = await spec.handler(*arguments)
            if spec.kind == "connect" and actions:
                await asyncio.to_thread(_greeting.after_connect, socket, actions, result is not False, tracked)
            if spec.tracking is not None:
                await asyncio.to_thread(spec.tracking.after, spec.kind, socket, actions, result)
        except Exception as exc:
            if spec.kind == "connect" and actions:
                _greeting.after_connect(socket, actions, accepted=False)  # a refused socket gets nothing
            if actions and spec.tracking is not None and isinstance(exc, AckError):
                exc = await asyncio.to_thread(spec.tracking.after_error, spec.kind, socket, actions, exc)
            return _failure(spec, exc, out, actions)
        return _success(spec, result, actions, out)
    except Exception as exc:
        return _last_resort(spec, exc)
