"""Background triggers (timer, Storage Queue): discovery, host.json options, listeners, and the ONE adapter
between them and the host's invocation path.

Everything here talks to the invocation path through :func:`invoke_triggered` only: a trigger hands it the
trigger value as the host's TypedData plus the trigger metadata, and learns whether the invocation (with its
output bindings) succeeded.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import _protos
from ._functions import Binding, FunctionInfo
from ._queues import (
    QUEUE_OUTPUT,
    QUEUE_TRIGGER,
    STORAGE_SETTING,
    QueueClients,
    QueueListener,
    QueuesOptions,
    QueueSpec,
    TypedValue,
    check_queue_name,
    queue_spec,
    storage_connection,
)
from ._settings import Settings, SettingsError, _read_json, parse_timespan, resolve_app_setting
from ._singleton import ListenerLock, SingletonOptions
from ._timers import TIMER_TRIGGER, BlobScheduleMonitor, TimerListener, TimerSpec, timer_spec

if TYPE_CHECKING:
    from ._host import DevHost
    from ._invoke import Invocation

log = logging.getLogger("devhost")

__all__ = ["BackgroundTriggers", "TriggerOptions", "discover", "host_id", "invoke_triggered"]


@dataclass(frozen=True)
class TriggerOptions:
    queues: QueuesOptions = field(default_factory=QueuesOptions)
    singleton: SingletonOptions = field(default_factory=SingletonOptions)

    @classmethod
    def from_host_json(cls, app_dir: Path) -> TriggerOptions:
        """``extensions.queues`` and ``singleton`` of ``<app_dir>/host.json`` over the host's defaults."""
        path = app_dir / "host.json"
        data = _read_json(path) if path.is_file() else {}
        extensions = data.get("extensions")
        queues = extensions.get("queues") if isinstance(extensions, dict) else None
        singleton = data.get("singleton")
        q = queues if isinstance(queues, dict) else {}
        s = singleton if isinstance(singleton, dict) else {}
        defaults_q, defaults_s = QueuesOptions(), SingletonOptions()
        encoding = str(q.get("messageEncoding", defaults_q.message_encoding)).lower()
        if encoding not in ("base64", "none"):
            raise SettingsError(f"{path}: extensions.queues.messageEncoding is 'base64' or 'none', not {encoding!r}.")
        return cls(
            queues=QueuesOptions(
                max_polling_interval=_seconds(q, "maxPollingInterval", defaults_q.max_polling_interval),
                visibility_timeout=_seconds(q, "visibilityTimeout", defaults_q.visibility_timeout),
                batch_size=max(1, min(32, int(q.get("batchSize", defaults_q.batch_size)))),
                max_dequeue_count=max(1, int(q.get("maxDequeueCount", defaults_q.max_dequeue_count))),
                message_encoding=encoding,
            ),
            singleton=SingletonOptions(
                listener_lock_period=_seconds(s, "listenerLockPeriod", defaults_s.listener_lock_period),
                listener_lock_recovery_polling_interval=_seconds(
                    s, "listenerLockRecoveryPollingInterval", defaults_s.listener_lock_recovery_polling_interval
                ),
            ),
        )


def _seconds(section: Mapping[str, Any], key: str, default: float) -> float:
    value = section.get(key)
    if value is None:
        return default
    if isinstance(value, (int, float)):  # the host reads a bare number as milliseconds
        return float(value) / 1000
    try:
        return parse_timespan(str(value))
    except SettingsError:
        raise SettingsError(f"host.json {key} {value!r} is not a hh:mm:ss timespan.") from None


def host_id(settings: Settings, app_dir: Path) -> str:
    """``AzureFunctionsWebHost__hostid``, else (like a local host) machine name + a stable hash of the app path.

    Instances of one app on one machine share it, and with it the timer locks."""
    configured = settings.get("AzureFunctionsWebHost__hostid")
    if configured:
        return configured.lower()[:32]
    machine = "".join(c for c in socket.gethostname().lower() if c.isalnum()) or "devhost"
    return f"{machine}-{zlib.crc32(str(app_dir.resolve()).encode())}"[:32].rstrip("-")


def discover(function: FunctionInfo, settings: Settings) -> TimerSpec | QueueSpec | None:
    """The background trigger of ``function`` (None for HTTP/Socket.IO/unsupported), refusing what the host does.

    Also checks the function's ``queue`` outputs, so a bad queue name fails at load, not at the first message."""
    for binding in function.bindings_of_type(QUEUE_OUTPUT):
        where = f"The '{function.name}' function is in error"
        check_queue_name(resolve_app_setting(settings, str(binding.properties.get("queueName") or "")), where)
        storage_connection(settings, binding, function.name)
    trigger_type = function.trigger.type
    if trigger_type == TIMER_TRIGGER:
        return timer_spec(function, settings)
    if trigger_type == QUEUE_TRIGGER:
        return queue_spec(function, settings)
    return None


async def invoke_triggered(
    host: DevHost, function: FunctionInfo, data: TypedValue, metadata: Mapping[str, TypedValue], reason: str
) -> bool:
    """THE adapter: invoke ``function`` with its trigger's TypedData and trigger metadata, run its outputs.

    The worker runtime decodes exactly this TypedData with azure.functions' converter for the trigger type
    (``TimerRequestConverter``, ``QueueMessageInConverter``), as in Azure. Never raises."""
    try:
        inputs = {function.trigger.name: _typed(data)}
        trigger_metadata = {key: _typed(value) for key, value in metadata.items()}
    except TypeError as exc:
        log.error("Function '%s': the %s input cannot be sent: %s", function.name, function.trigger.type, exc)
        return False
    try:
        invocation = await host.invoke(function.name, inputs, trigger_metadata=trigger_metadata, reason=reason)
    except Exception as exc:  # the invocation path failed, not the function: count it as a failed invocation
        log.error("Function '%s' could not be invoked: %s: %s", function.name, type(exc).__name__, exc)
        return False
    return invocation.succeeded


def _typed(value: TypedValue) -> Any:
    """A :class:`TypedValue` as the protocol's ``TypedData`` (its ``type`` names the oneof field).

    An ``int`` goes as ``json`` text: the host sends a number (``DequeueCount``) through its default conversion,
    ``JsonConvert.SerializeObject``, and the worker runtime cannot read TypedData ``int`` in trigger metadata."""
    if value.type == "int":
        return _protos.TypedData(json=json.dumps(value.value))
    if value.type not in ("string", "json", "bytes", "double"):
        raise TypeError(f"no TypedData field {value.type!r}")
    return _protos.TypedData(**{value.type: value.value})


class BackgroundTriggers:
    """Starts a listener per timer and queue function with the app, stops them (and releases locks) with it."""

    def __init__(self, host: DevHost, options: TriggerOptions, specs: list[TimerSpec | QueueSpec]) -> None:
        self.host = host
        self.options = options
        self.specs = specs
        self.queues = QueueClients(options.queues)
        self._tasks: list[asyncio.Task[None]] = []
        self._queue_listeners: list[QueueListener] = []

    async def start(self) -> None:
        storage = self.host.settings.get(STORAGE_SETTING)
        for spec in self.specs:
            if isinstance(spec, TimerSpec):
                identity = host_id(self.host.settings, self.host.app_dir)
                monitor = BlobScheduleMonitor(storage, identity) if storage and spec.use_monitor else None
                listener = TimerListener(spec, self._invoke_timer, monitor)
                if storage:
                    lock = ListenerLock(storage, identity, spec.lock_id, self.options.singleton)
                    self._spawn(lock.run_while_held(listener.run, spec.function.name), spec.function.name)
                else:
                    log.warning(
                        "Timer '%s' runs without its singleton lock (%s is not set): with several instances, "
                        "each one fires it.",
                        spec.function.name,
                        STORAGE_SETTING,
                    )
                    self._spawn(listener.run(), spec.function.name)
            else:
                queue_listener = QueueListener(spec, self.queues, self._invoke_queue)
                self._queue_listeners.append(queue_listener)
                self._spawn(queue_listener.run(), spec.function.name)

    def _spawn(self, coroutine: Any, name: str) -> None:
        task: asyncio.Task[None] = asyncio.create_task(coroutine, name=f"trigger-{name}")
        task.add_done_callback(_report_crash)
        self._tasks.append(task)

    async def stop(self, grace: float = 3.0) -> None:
        """Let queue messages in flight finish (up to ``grace`` s), then stop every listener and release locks."""
        listeners, self._queue_listeners = self._queue_listeners, []
        if listeners:
            await asyncio.wait([asyncio.create_task(listener.drain(grace)) for listener in listeners])
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=5)
        await self.queues.aclose()

    async def _invoke_timer(self, spec: TimerSpec, request_json: str, reason: str) -> bool:
        return await invoke_triggered(self.host, spec.function, TypedValue("json", request_json), {}, reason)

    async def _invoke_queue(
        self, spec: QueueSpec, data: TypedValue, metadata: Mapping[str, TypedValue], reason: str
    ) -> bool:
        return await invoke_triggered(self.host, spec.function, data, metadata, reason)

    async def write_queue_outputs(self, function: FunctionInfo, invocation: Invocation) -> str | None:
        """Add the messages of every ``queue`` output of a successful invocation; the error text, or None."""
        for binding in function.bindings_of_type(QUEUE_OUTPUT):
            value = invocation.return_value if binding.name == "$return" else invocation.outputs.get(binding.name)
            if value is None:
                continue
            try:
                connection = storage_connection(self.host.settings, binding, function.name)
                await self.queues.write_output(_resolved(binding, self.host.settings), connection, value)
            except Exception as exc:
                return f"queue output '{binding.name}' failed: {type(exc).__name__}: {exc}"
        return None


def _resolved(binding: Binding, settings: Settings) -> Binding:
    name = resolve_app_setting(settings, str(binding.properties.get("queueName") or ""))
    properties = {**binding.properties, "queueName": name}
    return Binding(binding.name, binding.type, binding.direction, binding.data_type, properties)


def _report_crash(task: asyncio.Task[None]) -> None:
    if task.cancelled():
        return
    exc = task.exception()
    if exc is not None:
        log.error("Trigger listener %s stopped: %s: %s", task.get_name(), type(exc).__name__, exc)
