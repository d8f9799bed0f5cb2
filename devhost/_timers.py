"""Timer triggers as the host's timer extension runs them: schedule, ``runOnStartup``, the TimerRequest JSON.

The worker gets the host's ``TimerInfo`` serialized by Newtonsoft.Json (TypedData ``json``)::

    {"Schedule":{"AdjustForDST":true},"ScheduleStatus":{"Last":...,"Next":...,"LastUpdated":...},"IsPastDue":false}

``ScheduleStatus`` is ``null`` when schedule monitoring is off: ``use_monitor=False``, or a schedule firing more
than once a minute (the host turns monitoring off for those). Dates are .NET local ``DateTime`` values, UTC here:
``2026-12-02T17:00:01+00:00`` (fraction only when non-zero); "never" is ``0001-01-01T00:00:00+00:00``.
One invocation at a time per timer; the next occurrence counts from when the invocation started, so a slow
invocation is followed at once by the next, never by two.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from ._loader import LoadedFunction
from ._ncrontab import ScheduleError, TimerSchedule, parse_schedule
from ._settings import Settings, SettingsError, resolve_app_setting

log = logging.getLogger("devhost")

TIMER_TRIGGER = "timerTrigger"
NEVER = datetime(1, 1, 1, tzinfo=UTC)  # default(DateTime)


@dataclass(frozen=True)
class TimerSpec:
    """One timer function: its parsed schedule and the attribute's flags."""

    function: LoadedFunction
    expression: str
    schedule: TimerSchedule
    run_on_startup: bool
    use_monitor: bool

    @property
    def lock_id(self) -> str:
        return f"Host.Functions.{self.function.name}.Listener"


def timer_spec(function: LoadedFunction, settings: Settings) -> TimerSpec:
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


# (spec, TimerRequest JSON, reason) -> whether the invocation succeeded.
TimerInvoke = Callable[[TimerSpec, str, str], Awaitable[bool]]


@dataclass
class TimerListener:
    """Fires one timer function on its schedule until cancelled (run it while holding the singleton lock)."""

    spec: TimerSpec
    invoke: TimerInvoke
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    status: ScheduleStatus = field(default_factory=ScheduleStatus)

    async def run(self) -> None:
        name = self.spec.function.name
        now = self.clock()
        self.status = ScheduleStatus(next=self.spec.schedule.next_after(now))
        upcoming = _upcoming(self.spec.schedule, now, 5)
        log.info(
            "The next %d occurrences of the '%s' schedule (%s) will be (UTC): %s",
            len(upcoming),
            name,
            self.spec.schedule,
            ", ".join(dotnet_datetime(t) for t in upcoming) or "none",
        )
        if self.spec.run_on_startup:
            await self._fire(self.clock(), on_startup=True)
        while True:
            due = self.status.next
            if due is None:
                log.warning("The '%s' schedule (%s) has no further occurrence.", name, self.spec.schedule)
                return
            while (wait := (due - self.clock()).total_seconds()) > 0:
                await asyncio.sleep(min(wait, 3600.0))
            await self._fire(self.clock(), on_startup=False)

    async def _fire(self, invoked_at: datetime, on_startup: bool) -> None:
        status = self.status if self.spec.use_monitor else None
        request = timer_request_json(self.spec.schedule, status)
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


def _upcoming(schedule: TimerSchedule, now: datetime, count: int) -> list[datetime]:
    found: list[datetime] = []
    cursor: datetime | None = now
    while cursor is not None and len(found) < count:
        cursor = schedule.next_after(cursor)
        if cursor is not None:
            found.append(cursor)
    return found
