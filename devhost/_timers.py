"""Timer triggers as the host's timer extension runs them: schedule, ``runOnStartup``, the TimerRequest JSON.

The worker gets the host's ``TimerInfo`` serialized by Newtonsoft.Json (TypedData ``json``)::

    {"Schedule":{"AdjustForDST":true},"ScheduleStatus":{"Last":...,"Next":...,"LastUpdated":...},"IsPastDue":false}

``ScheduleStatus`` is ``null`` when schedule monitoring is off: ``use_monitor=False``, a schedule firing more
than once a minute (the host turns monitoring off for those), or no ``AzureWebJobsStorage`` to keep it in.
Dates are .NET local ``DateTime`` values, UTC here: ``2026-12-02T17:00:01+00:00`` (fraction only when
non-zero); "never" is ``0001-01-01T00:00:00+00:00``.
One invocation at a time per timer; the next occurrence counts from when the invocation started, so a slow
invocation is followed at once by the next, never by two.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from ._functions import FunctionInfo
from ._ncrontab import ScheduleError, TimerSchedule, parse_schedule
from ._settings import Settings, SettingsError, resolve_app_setting

if TYPE_CHECKING:
    from azure.storage.blob.aio import BlobClient, BlobServiceClient

log = logging.getLogger("devhost")

HOSTS_CONTAINER = "azure-webjobs-hosts"
TIMER_TRIGGER = "timerTrigger"
NEVER = datetime(1, 1, 1, tzinfo=UTC)  # default(DateTime)


@dataclass(frozen=True)
class TimerSpec:
    """One timer function: its parsed schedule and the attribute's flags."""

    function: FunctionInfo
    expression: str
    schedule: TimerSchedule
    run_on_startup: bool
    use_monitor: bool

    @property
    def timer_name(self) -> str:
        """The host's name for the timer (``<declaring type>.<method>`` of a script function)."""
        return f"Host.Functions.{self.function.name}"

    @property
    def lock_id(self) -> str:
        return f"{self.timer_name}.Listener"


def timer_spec(function: FunctionInfo, settings: Settings) -> TimerSpec:
    """Read ``schedule`` (``%setting%`` resolved), ``runOnStartup`` and ``useMonitor``; refuse what the host does."""
    trigger = function.trigger
    raw = trigger.properties.get("schedule")
    if not isinstance(raw, str) or not raw.strip():
        raise SettingsError(f"The '{function.name}' function is in error: the timerTrigger needs a schedule.")
    expression = resolve_app_setting(settings, raw)
    try:
        schedule = parse_schedule(expression)
    except ScheduleError as exc:
        raise SettingsError(f"The '{function.name}' function is in error: {exc}") from None
    use_monitor = trigger.properties.get("useMonitor")
    # The host turns the monitor off for schedules that fire more than once a minute.
    sub_minute = schedule.occurrences_within(datetime.now(UTC), timedelta(minutes=1)) > 1
    return TimerSpec(
        function=function,
        expression=expression,
        schedule=schedule,
        run_on_startup=bool(trigger.properties.get("runOnStartup", False)),
        use_monitor=(use_monitor is None or bool(use_monitor)) and not sub_minute,
    )


def dotnet_datetime(value: datetime) -> str:
    """A UTC time as Newtonsoft writes a local-kind DateTime on a UTC host (``o``-like, trailing zeros cut)."""
    value = value.astimezone(UTC)
    text = value.strftime("%Y-%m-%dT%H:%M:%S")
    if value.year < 1000:
        text = f"{value.year:04d}" + text[text.index("-") :]
    if value.microsecond:
        text += "." + f"{value.microsecond:06d}".rstrip("0")
    return text + "+00:00"


@dataclass
class ScheduleStatus:
    last: datetime = NEVER
    next: datetime | None = None
    last_updated: datetime = NEVER

    def as_json(self) -> dict[str, str | None]:
        return {
            "Last": dotnet_datetime(self.last),
            "Next": dotnet_datetime(self.next) if self.next is not None else None,
            "LastUpdated": dotnet_datetime(self.last_updated),
        }


def timer_request_json(schedule: TimerSchedule, status: ScheduleStatus | None, is_past_due: bool = False) -> str:
    """The TimerInfo JSON the host sends to the worker (property order and spacing as Newtonsoft writes them)."""
    body = {
        "Schedule": {"AdjustForDST": schedule.adjust_for_dst},
        "ScheduleStatus": status.as_json() if status is not None else None,
        "IsPastDue": is_past_due,
    }
    return json.dumps(body, separators=(",", ":"))


def parse_status(text: str) -> ScheduleStatus:
    """A status blob's JSON (``Last``, ``Next``, ``LastUpdated``; ISO dates, any offset; no offset = UTC)."""
    data = json.loads(text)

    def moment(key: str) -> datetime | None:
        value = data.get(key)
        if not isinstance(value, str) or not value:
            return None
        value = re.sub(r"(\.\d{6})\d+", r"\1", value)  # .NET writes 7 fractional digits, Python reads 6
        parsed = datetime.fromisoformat(value)
        return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)

    return ScheduleStatus(
        last=moment("Last") or NEVER, next=moment("Next"), last_updated=moment("LastUpdated") or NEVER
    )


def check_past_due(
    now: datetime, schedule: TimerSchedule, stored: ScheduleStatus | None
) -> tuple[ScheduleStatus, bool, bool]:
    """The host's ``ScheduleMonitor.CheckPastDueAsync``: (status, whether to store it, whether past due).

    No stored status: a fresh one (``Next`` from now). A stored ``Next`` that the schedule no longer gives from
    ``Last`` (or ``LastUpdated``) means the schedule changed: ``Next`` is recomputed, from now if it is already
    past, so a schedule change never counts as a missed occurrence. Past due = ``now`` is after ``Next``."""
    if stored is None:
        return ScheduleStatus(next=schedule.next_after(now), last_updated=now), True, False
    if stored.last != NEVER:
        base = stored.last
    elif stored.last_updated != NEVER:
        base = stored.last_updated
    else:
        base = now
    expected = schedule.next_after(base)
    status, changed = stored, False
    if stored.next != expected:
        if expected is not None and now > expected:
            expected, base = schedule.next_after(now), now
        status, changed = ScheduleStatus(next=expected, last_updated=base), True
    return status, changed, status.next is not None and now > status.next


class ScheduleMonitor(Protocol):
    async def get_status(self, timer_name: str) -> ScheduleStatus | None: ...

    async def update_status(self, timer_name: str, status: ScheduleStatus) -> None: ...

    async def aclose(self) -> None: ...


class BlobScheduleMonitor:
    """The host's storage schedule monitor: ``azure-webjobs-hosts/timers/<host id>/<timer name>/status``."""

    def __init__(self, connection_string: str, host_id: str) -> None:
        self._connection_string = connection_string
        self._host_id = host_id
        self._service: BlobServiceClient | None = None

    def _blob(self, timer_name: str) -> BlobClient:
        from azure.storage.blob.aio import BlobServiceClient

        if self._service is None:
            self._service = BlobServiceClient.from_connection_string(self._connection_string)
        return self._service.get_blob_client(HOSTS_CONTAINER, f"timers/{self._host_id}/{timer_name}/status")

    async def get_status(self, timer_name: str) -> ScheduleStatus | None:
        from azure.core.exceptions import ResourceNotFoundError

        try:
            download = await self._blob(timer_name).download_blob()
            return parse_status((await download.readall()).decode("utf-8"))
        except ResourceNotFoundError:
            return None
        except ValueError as exc:
            log.warning("Timer '%s': unreadable schedule status (%s); starting afresh.", timer_name, exc)
            return None

    async def update_status(self, timer_name: str, status: ScheduleStatus) -> None:
        from azure.core.exceptions import AzureError, ResourceExistsError, ResourceNotFoundError

        body = json.dumps(status.as_json(), separators=(",", ":")).encode("utf-8")
        blob = self._blob(timer_name)
        try:
            try:
                await blob.upload_blob(body, overwrite=True)
            except ResourceNotFoundError:  # no container yet
                assert self._service is not None
                with contextlib.suppress(ResourceExistsError):
                    await self._service.create_container(HOSTS_CONTAINER)
                await blob.upload_blob(body, overwrite=True)
        except AzureError as exc:
            log.error("Function '%s' failed to update the timer trigger status: %s", timer_name, exc)

    async def aclose(self) -> None:
        service, self._service = self._service, None
        if service is not None:
            await service.close()


# (spec, TimerRequest JSON, reason) -> whether the invocation succeeded.
TimerInvoke = Callable[[TimerSpec, str, str], Awaitable[bool]]


@dataclass
class TimerListener:
    """Fires one timer function on its schedule until cancelled (run it while holding the singleton lock).

    With a ``monitor`` (``use_monitor`` and storage), the status is read at start, a missed occurrence fires at
    once with ``IsPastDue: true`` (before ``run_on_startup``, as the host orders them), the status goes to the
    worker as ``ScheduleStatus`` and is stored after every invocation; without one, ``ScheduleStatus`` is null."""

    spec: TimerSpec
    invoke: TimerInvoke
    monitor: ScheduleMonitor | None = None
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    status: ScheduleStatus = field(default_factory=ScheduleStatus)

    async def run(self) -> None:
        try:
            await self._run()
        finally:
            if self.monitor is not None:
                await self.monitor.aclose()

    async def _run(self) -> None:
        name = self.spec.function.name
        now = self.clock()
        past_due = False
        if self.monitor is not None:
            stored = await self.monitor.get_status(self.spec.timer_name)
            self.status, changed, past_due = check_past_due(now, self.spec.schedule, stored)
            if changed:
                await self.monitor.update_status(self.spec.timer_name, self.status)
        else:
            self.status = ScheduleStatus(next=self.spec.schedule.next_after(now))
        upcoming = _upcoming(self.spec.schedule, now, 5)
        log.info(
            "The next %d occurrences of the '%s' schedule (%s) will be (UTC): %s",
            len(upcoming),
            name,
            self.spec.schedule,
            ", ".join(dotnet_datetime(t) for t in upcoming) or "none",
        )
        if past_due:
            log.info("Function '%s' is past due on startup. Executing now.", name)
            await self._fire(self.clock(), on_startup=True, past_due=True)
        elif self.spec.run_on_startup:
            await self._fire(self.clock(), on_startup=True)
        while True:
            due = self.status.next
            if due is None:
                log.warning("The '%s' schedule (%s) has no further occurrence.", name, self.spec.schedule)
                return
            while (wait := (due - self.clock()).total_seconds()) > 0:
                await asyncio.sleep(min(wait, 3600.0))
            await self._fire(self.clock(), on_startup=False)

    async def _fire(self, invoked_at: datetime, on_startup: bool, past_due: bool = False) -> None:
        status = self.status if self.monitor is not None else None
        request = timer_request_json(self.spec.schedule, status, is_past_due=past_due)
        reason = f"Timer fired at {dotnet_datetime(invoked_at)}"
        try:
            await self.invoke(self.spec, request, reason)
        except Exception:  # the adapter never raises; a bug there must not stop the schedule
            log.exception("Timer '%s': the invocation could not be run.", self.spec.function.name)
        # A timer that fired a little early counts from its due time, so that occurrence is not fired twice.
        counted_from = invoked_at
        if not on_startup and self.status.next is not None and self.status.next > invoked_at:
            counted_from = self.status.next
        self.status = ScheduleStatus(
            last=counted_from, next=self.spec.schedule.next_after(counted_from), last_updated=counted_from
        )
        if self.monitor is not None:
            await self.monitor.update_status(self.spec.timer_name, self.status)


def _upcoming(schedule: TimerSchedule, now: datetime, count: int) -> list[datetime]:
    found: list[datetime] = []
    cursor: datetime | None = now
    while cursor is not None and len(found) < count:
        cursor = schedule.next_after(cursor)
        if cursor is not None:
            found.append(cursor)
    return found
