"""The dev host: loaded functions, settings, the invoker and the REST sender, with the extension's lookups."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shared.protocol import ConnectionString

from . import _devauth
from ._actions import ActionSender
from ._invoke import Invocation, Invoker
from ._loader import HTTP_TRIGGER, Binding, LoadedFunction, index_function_app
from ._routes import Route, compile_route
from ._settings import Settings, SettingsError, resolve_app_setting
from ._triggers import BackgroundTriggers, TriggerOptions, discover

log = logging.getLogger("devhost")

DEFAULT_CONNECTION = "WebPubSubForSocketIOConnectionString"
HUB_SETTING = "WebPubSubForSocketIOHub"
SYSTEM_EVENTS = ("connect", "connected", "disconnected")
SOCKETIO_TRIGGER = "socketiotrigger"
SOCKETIO_OUTPUT = "socketio"
NEGOTIATION = "socketionegotiation"


@dataclass(frozen=True)
class SocketIOListener:
    """One socketiotrigger function under its extension key (hub, namespace, system|user, event)."""

    function: LoadedFunction
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
    function: LoadedFunction
    route: Route
    methods: frozenset[str] | None


class DevHost:
    """Everything the HTTP front end needs; build it with :meth:`load`."""

    def __init__(self, app_dir: Path, settings: Settings, functions: list[LoadedFunction]) -> None:
        self.app_dir = app_dir
        self.settings = settings
        self.functions = functions
        self.invoker = Invoker(settings.function_timeout, _thread_count(settings), str(app_dir))
        self.sender = ActionSender()
        self.listeners: dict[tuple[str, str, str, str], SocketIOListener] = {}
        self.http_functions: list[HttpFunction] = []
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
    def load(cls, app_dir: Path, settings: Settings) -> DevHost:
        _devauth.configure(settings)  # before the app sees its settings: WEBSITE_AUTH_ENABLED
        settings.apply_to_environ()
        return cls(app_dir, settings, index_function_app(app_dir))

    def close(self) -> None:
        self.invoker.close()
        self.sender.close()

    async def aclose(self) -> None:
        self.invoker.close()
        await self.sender.aclose()

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

    def _add_listener(self, function: LoadedFunction, trigger: Binding) -> None:
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

    async def run_outputs(self, function: LoadedFunction, invocation: Invocation) -> None:
        """Execute the socketio and queue output values of a successful invocation; a failing one fails it."""
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
                await self.sender.execute(self.connection_string_of(binding), self.hub_of(binding), value)
            except Exception as exc:  # ActionError, SettingsError or a REST failure: the invocation fails
                invocation.succeeded = False
                invocation.error = f"socketio output '{binding.name}' failed: {type(exc).__name__}: {exc}"
                log.error("Function '%s': %s", function.name, invocation.error)
                return

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


def _thread_count(settings: Settings) -> int | None:
    value = settings.get("PYTHON_THREADPOOL_THREAD_COUNT")
    try:
        return max(1, int(value)) if value else None
    except ValueError:
        return None


def loaded_inputs(function: LoadedFunction, values: dict[str, Any]) -> dict[str, Any]:
    """Inputs for every input parameter: given values, None for bindings the dev host does not feed."""
    return {name: values.get(name) for name in function.input_names}
