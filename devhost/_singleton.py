"""The host's listener singleton: a listener (a timer) runs on one instance only, the one holding a blob lease.

As the WebJobs host does, the lock is a blob in the ``AzureWebJobsStorage`` account, container
``azure-webjobs-hosts``, named ``locks/<host id>/<lock id>`` (the timer's lock id is
``Host.Functions.<name>.Listener``). The holder renews the lease at half its period; an instance that does not
hold it tries again every ``listenerLockRecoveryPollingInterval`` (host.json ``singleton``). A lost lease stops
the listener until the lock is taken again; a graceful stop releases it, so another instance takes over at its
next try instead of waiting for the lease to run out.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from azure.storage.blob.aio import BlobClient, BlobLeaseClient, BlobServiceClient

log = logging.getLogger("devhost")

LOCK_CONTAINER = "azure-webjobs-hosts"


@dataclass(frozen=True)
class SingletonOptions:
    """host.json ``singleton`` (the host's defaults; a blob lease lasts 15-60 s)."""

    listener_lock_period: float = 60.0
    listener_lock_recovery_polling_interval: float = 60.0


def instance_id() -> str:
    """Who holds a lock, written to the lock blob's metadata (the host writes its instance id there)."""
    return f"{socket.gethostname()}-{os.getpid()}"


class ListenerLock:
    """Runs a listener only while this process holds the lease on ``locks/<host id>/<lock id>``."""

    def __init__(self, connection_string: str, host_id: str, lock_id: str, options: SingletonOptions) -> None:
        self.blob_name = f"locks/{host_id}/{lock_id}"
        self._connection_string = connection_string
        self._period = int(min(60.0, max(15.0, options.listener_lock_period)))
        self._recovery = max(0.1, options.listener_lock_recovery_polling_interval)

    async def run_while_held(self, listener: Callable[[], Coroutine[Any, Any, None]], name: str) -> None:
        """Acquire, run ``listener`` while renewing, start over when the lease is lost; return when it ends."""
        from azure.core.exceptions import AzureError, HttpResponseError
        from azure.storage.blob.aio import BlobLeaseClient, BlobServiceClient

        async with BlobServiceClient.from_connection_string(self._connection_string) as service:
            blob = service.get_blob_client(LOCK_CONTAINER, self.blob_name)
            waiting_logged = False
            while True:
                lease = BlobLeaseClient(blob)
                try:
                    await _ensure_blob(service, blob)
                    await lease.acquire(lease_duration=self._period)
                except HttpResponseError as exc:
                    if exc.status_code != 409:  # 409 LeaseAlreadyPresent: another instance holds it
                        log.error("Cannot take the singleton lock %s for '%s': %s", self.blob_name, name, exc)
                        await asyncio.sleep(self._recovery)
                        continue
                    if not waiting_logged:
                        log.info("Timer '%s' runs on another instance (%s is leased); waiting.", name, self.blob_name)
                        waiting_logged = True
                    await asyncio.sleep(self._recovery)
                    continue
                except AzureError as exc:
                    log.error("Cannot take the singleton lock %s for '%s': %s", self.blob_name, name, exc)
                    await asyncio.sleep(self._recovery)
                    continue
                waiting_logged = False
                log.info("Singleton lock acquired for '%s' (%s).", name, self.blob_name)
                with contextlib.suppress(AzureError):
                    await blob.set_blob_metadata({"FunctionInstance": instance_id()}, lease=lease)
                task: asyncio.Task[None] = asyncio.create_task(listener(), name=f"listener-{name}")
                try:
                    lost = await self._renew_until_lost(lease, task)
                finally:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await task
                    with contextlib.suppress(AzureError, asyncio.CancelledError):
                        await asyncio.shield(lease.release())
                if not lost:  # the listener is done (a schedule with no further occurrence, or a bug): no retry
                    if not task.cancelled() and task.exception() is not None:
                        log.error("Timer '%s' stopped: %r", name, task.exception())
                    return
                log.warning("Singleton lock for '%s' was lost; the timer stops until it is taken again.", name)

    async def _renew_until_lost(self, lease: BlobLeaseClient, task: asyncio.Task[None]) -> bool:
        """Renew at half the period while ``task`` runs: True when the lease was lost, False when it ended."""
        from azure.core.exceptions import AzureError

        while True:
            done, _ = await asyncio.wait({task}, timeout=self._period / 2)
            if done:
                return False
            try:
                await lease.renew()
            except AzureError as exc:
                log.error("Renewing the singleton lock %s failed: %s", self.blob_name, exc)
                return True


async def _ensure_blob(service: BlobServiceClient, blob: BlobClient) -> None:
    from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError

    try:
        await blob.upload_blob(b"", overwrite=False)
    except ResourceExistsError:
        return
    except ResourceNotFoundError:  # no container yet
        with contextlib.suppress(ResourceExistsError):
            await service.create_container(LOCK_CONTAINER)
        with contextlib.suppress(ResourceExistsError):
            await blob.upload_blob(b"", overwrite=False)
