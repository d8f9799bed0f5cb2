"""The dev host: the host's role around Microsoft's worker runtime, with the Socket.IO extension's lookups.

:meth:`DevHost.start` checks the app folder, starts the worker process (devhost._channel), which imports and
indexes ``function_app.py`` with ``azure-functions-runtime``, and builds the host's tables from the indexed
functions: Socket.IO listeners, HTTP routes. :meth:`DevHost.invoke` is the one invocation path every trigger
uses (webhooks, HTTP, and other trigger sources).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shared.protocol import ConnectionString

from . import _devauth
from ._actions import ActionSender
from ._channel import WorkerChannel
from ._functions import HTTP_TRIGGER, Binding, FunctionInfo, check_app_folder, check_http_routes
from ._invoke import Invocation, Invoker
from ._routes import Route, compile_route
from ._settings import Settings, SettingsError, resolve_app_setting
from ._triggers import BackgroundTriggers, TriggerOptions, discover
from ._values import OutputValueError, socketio_items

log = logging.getLogger("devhost")

DEFAULT_CONNECTION = "WebPubSubForSocketIOConnectionString"
HUB_SETTING = "WebPubSubForSocketIOHub"
SYSTEM_EVENTS = ("connect", "connected", "disconnected")
SOCKETIO_TRIGGER = "socketiotrigger"
SOCKETIO_OUTPUT = "socketio"
NEGOTIATION = "socketionegotiation"
PROGRAMMATIC_REASON = "This function was programmatically called via the host APIs."


@dataclass(frozen=True)
class SocketIOListener:
    """One socketiotrigger function under its extension key (hub, namespace, system|user, event)."""

    function: FunctionInfo
    hub: str
    namespace: str
    event_name: str
    is_system: bool

    @property
    def key(self) -> tuple[str, str, str, str]:
        kind = "system" if self.is_system else "user"
        return (self.hub.lower(), self.namespace.lower(), kind, self.event_name.lower())


@dataclass(frozen=True)
class HttpFunction:
    function: FunctionInfo
    route: Route
    methods: frozenset[str] | None


class DevHost:
    """Everything the HTTP front end needs; build it with ``await DevHost.start(app_dir, settings)``."""

    def __init__(self, app_dir: Path, settings: Settings, channel: WorkerChannel, functions: list[FunctionInfo]):
        self.app_dir = app_dir
        self.settings = settings
        self.channel = channel
        self.functions = functions
        self.invoker = Invoker(channel, settings.function_timeout)
        self.sender = ActionSender()
        self.listeners: dict[tuple[str, str, str, str], SocketIOListener] = {}
        self.http_functions: list[HttpFunction] = []
        self._by_name = {function.name: function for function in functions}
        self._validation_keys: dict[str, list[str | None]] | None = None
        background = []
        for function in functions:
            trigger = function.trigger
            spec = discover(function, settings)
            if spec is not None:
                background.append(spec)
                continue
            if trigger.type.lower() == SOCKETIO_TRIGGER:
                self._add_listener(function, trigger)
            elif trigger.type == HTTP_TRIGGER:
                route = trigger.properties.get("route") or function.name
                methods = trigger.properties.get("methods")
                self.http_functions.append(
                    HttpFunction(
                        function,
                        compile_route(str(route)),
                        frozenset(str(m).upper() for m in methods) if methods else None,
                    )
                )
            else:
                log.warning(
                    "Function '%s' has a %s trigger, which the dev host does not run (it runs httpTrigger, "
                    "socketiotrigger, timerTrigger and queueTrigger).",
                    function.name,
                    trigger.type,
                )
        self.triggers = BackgroundTriggers(self, TriggerOptions.from_host_json(app_dir), background)

    @classmethod
    async def start(cls, app_dir: Path, settings: Settings, log_level: str = "info") -> DevHost:
        """Check the app folder, start the worker process and load the app through the worker runtime.

        Raises ``AppLoadError`` (the runtime's message), ``FunctionConfigError`` (the host's),
        ``SettingsError`` or ``RouteError``; no process is left running then."""
        check_app_folder(app_dir, settings.get("PYTHON_SCRIPT_FILE_NAME") or "function_app.py")
        _devauth.configure(settings)  # before the app sees its settings: WEBSITE_AUTH_ENABLED
        channel = WorkerChannel(app_dir, {**os.environ, **settings.values}, log_level)
        metadata = await channel.start()
        try:
            functions = [FunctionInfo.from_metadata(item) for item in metadata]
            check_http_routes(functions)
            return cls(app_dir, settings, channel, functions)
        except BaseException:
            await channel.aclose()
            raise

    async def aclose(self) -> None:
        await self.channel.aclose()
        await self.sender.aclose()

    def function(self, name: str) -> FunctionInfo:
        """The indexed function named ``name`` (KeyError names the known ones)."""
        try:
            return self._by_name[name]
        except KeyError:
            raise KeyError(f"No function named {name!r}; the app has {', '.join(sorted(self._by_name))}.") from None

    # -- the invocation path ---------------------------------------------------------------------------
    async def invoke(
        self,
        function_name: str,
        inputs: Mapping[str, Any],
        *,
        trigger_metadata: Mapping[str, Any] | None = None,
        reason: str = PROGRAMMATIC_REASON,
    ) -> Invocation:
        """Invoke one function through the worker runtime and run its ``socketio`` outputs; never raises for a
        failing function.

        ``inputs`` maps binding names to ``TypedData`` messages (``devhost.typed_data(value)`` builds them: a
        str becomes ``string``, a dict or list ``json``, bytes ``bytes``); input bindings not given are sent
        unset (the function gets ``None``). ``trigger_metadata`` maps names to ``TypedData`` too. ``reason`` is
        the ``Reason='...'`` of the ``Executing`` log line.

        The returned :class:`Invocation` holds host values: ``return_value`` (a ``string`` return stays a str,
        a ``json`` one is parsed), ``outputs`` by binding name (after a returned dict's keys overwrote
        same-named outputs, as the host does). Every ``socketio`` output has been executed, in order, before
        this returns; an output that fails makes the invocation fail (``succeeded`` False, ``error`` set).
        ``queue`` outputs are written too; outputs of other types are left in ``outputs``. The call is bounded by
        ``functionTimeout``; a crashed worker process fails it at once (and is restarted)."""
        function = self.function(function_name)
        invocation = await self.invoker.invoke(function, inputs, reason, trigger_metadata)
        if invocation.succeeded:
            await self.run_outputs(function, invocation)
        return invocation

    async def run_outputs(self, function: FunctionInfo, invocation: Invocation) -> None:
        """Execute the queue and socketio output values of a successful invocation; a failing one fails it."""
        queue_error = await self.triggers.write_queue_outputs(function, invocation)
        if queue_error is not None:
            invocation.succeeded = False
            invocation.error = queue_error
            log.error("Function '%s': %s", function.name, queue_error)
            return
        for binding in function.bindings_of_type(SOCKETIO_OUTPUT):
            value = invocation.outputs.get(binding.name)
            if value is None:
                continue
            try:
                items = socketio_items(value)
                await self.sender.execute(self.connection_string_of(binding), self.hub_of(binding), items)
            except Exception as exc:  # OutputValueError, ActionError, SettingsError or a REST failure
                invocation.succeeded = False
                detail = str(exc) if isinstance(exc, OutputValueError) else f"{type(exc).__name__}: {exc}"
                invocation.error = f"socketio output '{binding.name}' failed: {detail}"
                log.error("Function '%s': %s", function.name, invocation.error)
                return

    # -- extension lookups -------------------------------------------------------------------------
    def hub_of(self, binding: Binding) -> str:
        hub = binding.properties.get("hub") or self.settings.get(HUB_SETTING)
        if not hub:
            raise SettingsError(f"Binding '{binding.name}' has no hub and the app setting {HUB_SETTING} is not set.")
        return resolve_app_setting(self.settings, str(hub))

    def connection_string_of(self, binding: Binding) -> str:
        name = str(binding.properties.get("connection") or DEFAULT_CONNECTION)
        value = self.settings.get(name)
        if not value:
            raise SettingsError(
                f"Binding '{binding.name}' needs the app setting {name} (a Web PubSub for Socket.IO connection "
                "string); set it in local.settings.json."
            )
        return value

    def _add_listener(self, function: FunctionInfo, trigger: Binding) -> None:
        event = str(trigger.properties.get("eventName") or "")
        listener = SocketIOListener(
            function=function,
            hub=self.hub_of(trigger),
            namespace=str(trigger.properties.get("namespace") or "/"),
            event_name=event,
            is_system=event.lower() in SYSTEM_EVENTS,
        )
        if listener.key in self.listeners:
            # The extension's AddListener refuses the same key twice.
            raise SettingsError(
                f"Duplicated binding attribute find: functions '{self.listeners[listener.key].function.name}' and "
                f"'{function.name}' both listen to hub={listener.hub} namespace={listener.namespace} "
                f"event={listener.event_name}."
            )
        self.listeners[listener.key] = listener

    def validation_keys(self) -> dict[str, list[str | None]]:
        """Endpoint host (lower case) -> access keys, from every connection the socketio triggers use.

        Computed once: app settings do not change while the host runs."""
        if self._validation_keys is None:
            self._validation_keys = self._compute_validation_keys()
        return self._validation_keys

    def _compute_validation_keys(self) -> dict[str, list[str | None]]:
        hosts: dict[str, list[str | None]] = {}
        for listener in self.listeners.values():
            try:
                parsed = ConnectionString.parse(self.connection_string_of(listener.function.trigger))
            except (SettingsError, ValueError) as exc:
                log.error("Cannot validate webhooks for '%s': %s", listener.function.name, exc)
                continue
            keys = hosts.setdefault(parsed.host.lower(), [])
            if parsed.access_key not in keys:
                keys.append(parsed.access_key)
        return hosts

    def describe(self, base_url: str) -> str:
        """The ``Functions:`` listing ``func start`` prints."""
        lines = ["Functions:", ""]
        for http in self.http_functions:
            methods = ",".join(sorted(http.methods)) if http.methods else "GET,POST,PUT,PATCH,DELETE,HEAD,OPTIONS"
            prefix = f"/{self.settings.route_prefix}" if self.settings.route_prefix else ""
            lines.append(f"        {http.function.name}: [{methods}] {base_url}{prefix}/{http.route.template}")
        for listener in self.listeners.values():
            lines.append(
                f"        {listener.function.name}: socketiotrigger "
                f"(hub={listener.hub}, namespace={listener.namespace}, event={listener.event_name})"
            )
        for spec in self.triggers.specs:
            lines.append(f"        {spec.function.name}: {spec.function.trigger.type}")
        return "\n".join(lines) + "\n"
