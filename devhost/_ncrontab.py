"""Timer schedules as the Functions host reads them: NCRONTAB expressions, else a TimeSpan interval.

The timer extension (``TimerSchedule.Create``) first tries a cron expression — six fields (second minute hour
day month day-of-week) or five (no seconds) — and then a .NET TimeSpan (``hh:mm:ss``) as a constant interval.
The cron grammar and its quirks are NCrontab's, so they are checked here, field by field:

- ``*``, a value, ``a-b`` (a reversed range is swapped), ``/step`` (``5/15`` means ``5-max/15``), ``,`` lists;
- month and day-of-week names match by case-insensitive prefix of the full English name (``Mon``, ``jan``);
- day-of-week is 0-6 with Sunday = 0 (no 7), and there is no ``?``, ``L``, ``W`` or ``#``;
- day-of-month AND day-of-week must both match (classic cron ORs them when both are restricted).

Each field resolves to its set of values; croniter then does the calendar arithmetic on those lists
(``second_at_beginning``, ``day_or=False``). Times are UTC, as in Azure (``WEBSITE_TIME_ZONE`` unset).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

__all__ = ["ConstantSchedule", "CronSchedule", "ScheduleError", "TimerSchedule", "parse_schedule"]

HOST_REFUSAL = "The schedule expression was not recognized as a valid cron expression or timespan string."


class ScheduleError(ValueError):
    """A schedule the host refuses; the message is the host's, with NCrontab's reason after it."""


class TimerSchedule(Protocol):
    @property
    def adjust_for_dst(self) -> bool: ...

    def next_after(self, now: datetime) -> datetime | None:
        """The first occurrence strictly after ``now`` (tz-aware UTC), or None when there is none."""
        ...

    def occurrences_within(self, now: datetime, window: timedelta) -> int: ...


@dataclass(frozen=True)
class _Field:
    kind: str
    low: int
    high: int
    names: tuple[str, ...] = ()

    def refuse(self, text: str) -> ScheduleError:
        return ScheduleError(f"'{text}' is not a valid [{self.kind}] crontab field expression.")

    def value(self, text: str, whole: str) -> int:
        if text[:1].isdigit():
            if not text.isdigit():
                raise self.refuse(whole)
            return int(text)
        if not self.names:
            raise ScheduleError(
                f"'{text}' is not a valid [{self.kind}] crontab field value. It must be a numeric value between "
                f"{self.low} and {self.high} (all inclusive)."
            )
        for index, name in enumerate(self.names):
            if text and name.lower().startswith(text.lower()):
                return self.low + index
        raise ScheduleError(f"'{text}' is not a known value name. Use one of the following: {', '.join(self.names)}.")

    def check(self, value: int) -> int:
        if value > self.high:
            raise ScheduleError(
                f"{value} is higher than the maximum allowable value for the [{self.kind}] field. "
                f"Value must be between {self.low} and {self.high} (all inclusive)."
            )
        if value < self.low:
            raise ScheduleError(
                f"{value} is lower than the minimum allowable value for the [{self.kind}] field. "
                f"Value must be between {self.low} and {self.high} (all inclusive)."
            )
        return value

    def parse(self, text: str) -> frozenset[int]:
        """The values a field expression selects, with NCrontab's rules."""
        if not text:
            raise ScheduleError("A crontab field value cannot be empty.")
        if text.find(",") > 0:
            values: set[int] = set()
            for item in text.split(","):
                if not item:
                    raise ScheduleError("A crontab field value cannot be empty.")
                values |= self.parse(item)
            return frozenset(values)
        body, step = text, None
        slash = text.find("/")
        if slash > 0:
            body, step_text = text[:slash], text[slash + 1 :]
            if not step_text.isdigit():
                raise self.refuse(text)
            step = max(1, int(step_text))  # NCrontab treats a step below 1 as 1
        if body == "*":
            first, last = self.low, self.high
        elif body.find("-") > 0:
            dash = body.find("-")
            first, last = self.value(body[:dash], text), self.value(body[dash + 1 :], text)
            first, last = sorted((first, last))
            self.check(first)
            self.check(last)
        else:
            first = self.check(self.value(body, text))
            last = self.high if step is not None else first
        return frozenset(range(first, last + 1, step or 1))


_FIELDS = (
    _Field("Second", 0, 59),
    _Field("Minute", 0, 59),
    _Field("Hour", 0, 23),
    _Field("Day", 1, 31),
    _Field(
        "Month",
        1,
        12,
        (
            "January",
            "February",
            "March",
            "April",
            "May",
            "June",
            "July",
            "August",
            "September",
            "October",
            "November",
            "December",
        ),
    ),
    _Field("DayOfWeek", 0, 6, ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")),
)


def _as_cron_field(values: frozenset[int], field: _Field) -> str:
    if len(values) == field.high - field.low + 1:
        return "*"
    return ",".join(str(v) for v in sorted(values))


@dataclass(frozen=True)
class CronSchedule:
    """An NCRONTAB schedule; ``fields`` holds the resolved values of all six fields (seconds first)."""

    expression: str
    fields: tuple[frozenset[int], ...]

    @property
    def adjust_for_dst(self) -> bool:
        return True  # what the host's CronSchedule serializes

    @property
    def has_seconds(self) -> bool:
        return len(self.expression.split()) == 6

    def next_after(self, now: datetime) -> datetime | None:
        from croniter import CroniterBadDateError, croniter  # ~45 ms: only when an app has a timer

        expression = " ".join(_as_cron_field(values, field) for values, field in zip(self.fields, _FIELDS, strict=True))
        start = now.astimezone(UTC)
        try:
            found = croniter(expression, start, second_at_beginning=True, day_or=False).get_next(datetime)
        except CroniterBadDateError:  # e.g. 30 February: never
            return None
        return found.astimezone(UTC)

    def occurrences_within(self, now: datetime, window: timedelta) -> int:
        count, cursor, end = 0, now, now + window
        while count < 2:
            found = self.next_after(cursor)
            if found is None or found > end:
                break
            count, cursor = count + 1, found
        return count

    def __str__(self) -> str:
        return f"Cron: '{self.expression}'"


@dataclass(frozen=True)
class ConstantSchedule:
    """A TimeSpan schedule: every ``interval`` from the previous occurrence (App Service plans)."""

    interval: timedelta

    @property
    def adjust_for_dst(self) -> bool:
        return False

    def next_after(self, now: datetime) -> datetime | None:
        return now + self.interval

    def occurrences_within(self, now: datetime, window: timedelta) -> int:
        return 2 if self.interval < window else 1

    def __str__(self) -> str:
        return f"Constant: {self.interval}"


def parse_cron(expression: str) -> CronSchedule:
    """Six fields (seconds first) or five (seconds = 0), with NCrontab's grammar and messages."""
    tokens = expression.split()
    if len(tokens) not in (5, 6):
        raise ScheduleError(
            f"'{expression}' is an invalid crontab expression. It must contain 6 components of a schedule in the "
            "sequence of seconds, minutes, hours, days, months, and days of week."
        )
    if len(tokens) == 5:
        tokens = ["0", *tokens]
    return CronSchedule(expression, tuple(field.parse(token) for field, token in zip(_FIELDS, tokens, strict=True)))


# .NET TimeSpan.TryParse (invariant): "d", "hh:mm", "hh:mm:ss", "d.hh:mm:ss", with ".fffffff" seconds.
_TIMESPAN = re.compile(r"^(?:(\d+)\.)?(\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:\.(\d{1,7}))?)?$")


def parse_timespan(text: str) -> timedelta | None:
    text = text.strip()
    if text.isdigit():
        return timedelta(days=int(text))
    match = _TIMESPAN.match(text)
    if not match:
        return None
    days, hours, minutes, seconds, fraction = match.groups()
    if int(hours) > 23 or int(minutes) > 59 or int(seconds or 0) > 59:
        return None
    return timedelta(
        days=int(days or 0),
        hours=int(hours),
        minutes=int(minutes),
        seconds=int(seconds or 0),
        microseconds=int((fraction or "0").ljust(7, "0")[:6]),
    )


def parse_schedule(expression: str) -> TimerSchedule:
    """The host's order: a cron expression first, then a TimeSpan; anything else is refused."""
    try:
        return parse_cron(expression)
    except ScheduleError as cron_error:
        interval = parse_timespan(expression)
        if interval is None:
            raise ScheduleError(f"{HOST_REFUSAL} ('{expression}': {cron_error})") from None
    if interval <= timedelta(0):
        raise ScheduleError(f"{HOST_REFUSAL} ('{expression}': a TimeSpan schedule must be longer than zero)")
    return ConstantSchedule(interval)
