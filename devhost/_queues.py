"""Storage Queue triggers and outputs as the host's queue extension runs them, on Azurite's queue service.

- Polling: a batch (``batchSize``, 16) at a time with a 10-minute visibility timeout, renewed while the
  function runs; an empty queue doubles the wait (randomized) from 100 ms up to ``maxPollingInterval`` (1 min),
  a message resets it; a message written by this host's own queue output wakes its listener at once.
- The worker gets the body (TypedData ``string``, or ``bytes`` for ``dataType: binary``) and the trigger
  metadata ``QueueTrigger``, ``Id``, ``PopReceipt`` (strings), ``DequeueCount`` (int), ``InsertionTime``,
  ``ExpirationTime``, ``NextVisibleTime`` (DateTimeOffset as JSON strings).
- Success deletes the message. A failure makes it visible again after ``visibilityTimeout`` (0); the failure of
  dequeue ``maxDequeueCount`` (5) moves it to ``<queue>-poison`` instead. A message that cannot be decoded
  (``messageEncoding`` base64, the default, or none) goes to the poison queue without an invocation.
- ``queue`` outputs add one message per value (a JSON array: one per item) and create the queue if needed.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import json
import logging
import random
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ._functions import Binding, FunctionInfo
from ._settings import Settings, SettingsError, resolve_app_setting

if TYPE_CHECKING:
    from azure.storage.queue import QueueMessage
    from azure.storage.queue.aio import QueueClient

log = logging.getLogger("devhost")

QUEUE_TRIGGER = "queueTrigger"
QUEUE_OUTPUT = "queue"
STORAGE_SETTING = "AzureWebJobsStorage"
MIN_POLLING_INTERVAL = 0.1
PROCESSING_VISIBILITY = 600  # seconds a message stays hidden while its function runs (the host's 10 minutes)
_QUEUE_NAME = re.compile(r"^[a-z0-9](?:[a-z0-9]|-(?!-)){1,61}[a-z0-9]$")


@dataclass(frozen=True)
class TypedValue:
    """One TypedData value as the host hands it to the worker: ``string``, ``bytes``, ``json`` or ``int``."""

    type: str
    value: Any


@dataclass(frozen=True)
class QueuesOptions:
    """host.json ``extensions.queues`` (the host's defaults)."""

    max_polling_interval: float = 60.0
    visibility_timeout: float = 0.0
    batch_size: int = 16
    max_dequeue_count: int = 5
    message_encoding: str = "base64"


@dataclass(frozen=True)
class QueueSpec:
    function: FunctionInfo
    queue_name: str
    connection_string: str
    binary: bool


def check_queue_name(name: str, where: str) -> str:
    if not _QUEUE_NAME.match(name):
        raise SettingsError(
            f"{where}: invalid queue name '{name}'. A queue name has 3-63 lowercase letters, digits and single "
            "hyphens, and starts and ends with a letter or digit."
        )
    return name


def storage_connection(settings: Settings, binding: Binding, function_name: str) -> str:
    """The connection string named by the binding's ``connection`` (default ``AzureWebJobsStorage``)."""
    name = str(binding.properties.get("connection") or STORAGE_SETTING)
    value = settings.get(name) or settings.get(f"AzureWebJobs{name}")
    if not value:
        raise SettingsError(
            f"The '{function_name}' function is in error: Storage account connection string '{name}' does not "
            "exist. Make sure that it is a defined App Setting (the stack sets AzureWebJobsStorage to Azurite)."
        )
    return value


def queue_spec(function: FunctionInfo, settings: Settings) -> QueueSpec:
    trigger = function.trigger
    where = f"The '{function.name}' function is in error"
    name = check_queue_name(resolve_app_setting(settings, str(trigger.properties.get("queueName") or "")), where)
    return QueueSpec(
        function=function,
        queue_name=name,
        connection_string=storage_connection(settings, trigger, function.name),
        binary=(trigger.data_type or "").lower() == "binary",
    )


# -- message content -------------------------------------------------------------------------------------------
def encode_content(payload: bytes, encoding: str) -> str:
    if encoding == "base64":
        return base64.b64encode(payload).decode("ascii")
    try:
        return payload.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError("binary queue messages need host.json messageEncoding 'base64'") from None


def decode_content(content: str, encoding: str) -> bytes:
    """The message body; ValueError when ``content`` is not what ``messageEncoding`` says."""
    if encoding == "base64":
        try:
            return base64.b64decode(content.encode("ascii"), validate=True)
        except (binascii.Error, UnicodeEncodeError):
            raise ValueError("the message is not base64 (host.json messageEncoding is 'base64')") from None
    return content.encode("utf-8")


def _json_date(value: datetime | None) -> TypedValue | None:
    if value is None:
        return None
    return TypedValue("json", json.dumps(value.isoformat()))  # Newtonsoft's DateTimeOffset: ...+00:00


def trigger_input(message: QueueMessage, body: bytes, binary: bool) -> tuple[TypedValue, dict[str, TypedValue]]:
    """The trigger value and metadata the host sends for one message."""
    text = body.decode("utf-8", errors="replace")
    data = TypedValue("bytes", body) if binary else TypedValue("string", text)
    metadata: dict[str, TypedValue | None] = {
        "QueueTrigger": TypedValue("string", text),
        "Id": TypedValue("string", message.id),
        "PopReceipt": TypedValue("string", message.pop_receipt),
        "DequeueCount": TypedValue("int", int(message.dequeue_count or 0)),
        "InsertionTime": _json_date(message.inserted_on),
        "ExpirationTime": _json_date(message.expires_on),
        "NextVisibleTime": _json_date(message.next_visible_on),
    }
    return data, {key: value for key, value in metadata.items() if value is not None}


def messages_of(value: Any) -> list[bytes]:
    """What one ``queue`` output value adds, from the host value of the worker's TypedData (``string`` -> str,
    ``bytes``, ``json`` parsed): a str or bytes is one message, an array one per item (a non-string item as its
    JSON text), an object its JSON text, a number its text."""
    if isinstance(value, str):
        return [value.encode("utf-8")]
    if isinstance(value, (bytes, bytearray)):
        return [bytes(value)]
    if isinstance(value, list):
        return [item for element in value for item in messages_of(_message_item(element))]
    if isinstance(value, dict):
        return [json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return [str(value).encode("utf-8")]
    raise ValueError(f"a queue output cannot carry a {type(value).__name__}")


def _message_item(element: Any) -> Any:
    if isinstance(element, (str, bytes, bytearray, dict)) or (
        isinstance(element, (int, float)) and not isinstance(element, bool)
    ):
        return element
    return json.dumps(element, separators=(",", ":"), ensure_ascii=False)


# -- clients ---------------------------------------------------------------------------------------------------
@dataclass
class QueueClients:
    """One async client per (connection, queue); wakes this host's own listener when its output writes."""

    options: QueuesOptions
    _clients: dict[tuple[str, str], QueueClient] = field(default_factory=dict)
    _wake: dict[tuple[str, str], asyncio.Event] = field(default_factory=dict)

    def client(self, connection_string: str, queue_name: str) -> QueueClient:
        from azure.storage.queue.aio import QueueClient

        key = (connection_string, queue_name)
        if key not in self._clients:
            self._clients[key] = QueueClient.from_connection_string(connection_string, queue_name)
        return self._clients[key]

    def wake_event(self, connection_string: str, queue_name: str) -> asyncio.Event:
        return self._wake.setdefault((connection_string, queue_name), asyncio.Event())

    async def add(self, connection_string: str, queue_name: str, payloads: list[bytes]) -> None:
        from azure.core.exceptions import ResourceNotFoundError

        client = self.client(connection_string, queue_name)
        for payload in payloads:
            content = encode_content(payload, self.options.message_encoding)
            try:
                await client.send_message(content)
            except ResourceNotFoundError:  # the output binding creates its queue
                await _create_queue(client)
                await client.send_message(content)
        event = self._wake.get((connection_string, queue_name))
        if event is not None and payloads:
            event.set()

    async def write_output(self, binding: Binding, connection_string: str, value: Any) -> int:
        name = check_queue_name(str(binding.properties.get("queueName") or ""), f"queue output '{binding.name}'")
        payloads = messages_of(value)
        await self.add(connection_string, name, payloads)
        return len(payloads)

    async def aclose(self) -> None:
        clients, self._clients = self._clients, {}
        for client in clients.values():
            with contextlib.suppress(Exception):
                await client.close()


async def _create_queue(client: QueueClient) -> None:
    from azure.core.exceptions import ResourceExistsError

    with contextlib.suppress(ResourceExistsError):
        await client.create_queue()


async def _first(*events: asyncio.Event) -> None:
    waiters = [asyncio.create_task(event.wait()) for event in events]
    try:
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()


# (spec, trigger value, trigger metadata, reason) -> whether the invocation succeeded.
QueueInvoke = Callable[[QueueSpec, TypedValue, Mapping[str, TypedValue], str], Awaitable[bool]]


@dataclass
class QueueListener:
    """Polls one queue for one function until :meth:`drain` or cancellation.

    A new batch is fetched once the messages in flight drop to ``newBatchThreshold`` (half a batch), as the host
    does. Stopping waits for the messages in flight (up to a grace period); one whose invocation is cut off is
    made visible again at once, so another instance (or the next start) takes it: nothing is lost."""

    spec: QueueSpec
    clients: QueueClients
    invoke: QueueInvoke
    _in_flight: set[asyncio.Task[None]] = field(default_factory=set)
    _stopping: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def options(self) -> QueuesOptions:
        return self.clients.options

    async def run(self) -> None:
        from azure.core.exceptions import AzureError, ResourceNotFoundError

        client = self.clients.client(self.spec.connection_string, self.spec.queue_name)
        wake = self.clients.wake_event(self.spec.connection_string, self.spec.queue_name)
        threshold = self.options.batch_size // 2
        delay = MIN_POLLING_INTERVAL
        failing = False
        try:
            while not self._stopping.is_set():
                if len(self._in_flight) > threshold:
                    await asyncio.wait(self._in_flight, return_when=asyncio.FIRST_COMPLETED)
                    continue
                wake.clear()
                try:
                    batch = [
                        message
                        async for message in client.receive_messages(
                            messages_per_page=self.options.batch_size,
                            max_messages=self.options.batch_size,
                            visibility_timeout=PROCESSING_VISIBILITY,
                        )
                    ]
                    failing = False
                except ResourceNotFoundError:  # the queue does not exist yet: an empty queue
                    batch = []
                except AzureError as exc:
                    if not failing:
                        log.error("Queue '%s' for '%s' cannot be read: %s", self.spec.queue_name, self.name, exc)
                        failing = True
                    batch = []
                for message in batch:
                    task = asyncio.create_task(self._process(client, message))
                    self._in_flight.add(task)
                    task.add_done_callback(self._in_flight.discard)
                if batch:
                    delay = MIN_POLLING_INTERVAL
                    continue
                delay = min(self.options.max_polling_interval, delay * 2 * random.uniform(0.8, 1.2))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(_first(wake, self._stopping), delay)
                    delay = MIN_POLLING_INTERVAL
        finally:
            for task in list(self._in_flight):
                task.cancel()

    async def drain(self, grace: float) -> None:
        """Stop polling and give the messages in flight up to ``grace`` seconds to finish."""
        self._stopping.set()
        if self._in_flight:
            await asyncio.wait(set(self._in_flight), timeout=grace)

    @property
    def name(self) -> str:
        return self.spec.function.name

    async def _process(self, client: QueueClient, message: QueueMessage) -> None:
        from azure.core.exceptions import AzureError

        try:
            if (message.dequeue_count or 0) > self.options.max_dequeue_count:
                await self._to_poison(client, message)
                return
            try:
                body = decode_content(str(message.content), self.options.message_encoding)
            except ValueError as exc:
                log.error("Message decoding has failed for queue '%s': %s.", self.spec.queue_name, exc)
                await self._to_poison(client, message)
                return
            data, metadata = trigger_input(message, body, self.spec.binary)
            keep_hidden = asyncio.create_task(self._keep_hidden(client, message))
            try:
                succeeded = await self.invoke(
                    self.spec, data, metadata, f"New queue message detected on '{self.spec.queue_name}'."
                )
            except asyncio.CancelledError:  # the host stops: give the message back at once
                with contextlib.suppress(AzureError):
                    await asyncio.shield(client.update_message(message, visibility_timeout=0))
                raise
            finally:
                keep_hidden.cancel()
            if succeeded:
                await client.delete_message(message)
            elif (message.dequeue_count or 0) >= self.options.max_dequeue_count:
                await self._to_poison(client, message)
            else:
                await client.update_message(message, visibility_timeout=int(self.options.visibility_timeout))
        except AzureError as exc:  # the message reappears after its visibility timeout: nothing is lost
            log.error("Queue '%s': message %s could not be settled: %s", self.spec.queue_name, message.id, exc)

    async def _keep_hidden(self, client: QueueClient, message: QueueMessage) -> None:
        from azure.core.exceptions import AzureError

        while True:
            await asyncio.sleep(PROCESSING_VISIBILITY / 2)
            with contextlib.suppress(AzureError):
                updated = await client.update_message(message, visibility_timeout=PROCESSING_VISIBILITY)
                message.pop_receipt = updated.pop_receipt

    async def _to_poison(self, client: QueueClient, message: QueueMessage) -> None:
        poison_name = f"{self.spec.queue_name}-poison"
        log.warning(
            "Message has reached MaxDequeueCount of %d. Moving message to queue '%s'.",
            self.options.max_dequeue_count,
            poison_name,
        )
        poison = self.clients.client(self.spec.connection_string, poison_name)
        from azure.core.exceptions import ResourceNotFoundError

        try:
            await poison.send_message(message.content)
        except ResourceNotFoundError:
            await _create_queue(poison)
            await poison.send_message(message.content)
        await client.delete_message(message)
