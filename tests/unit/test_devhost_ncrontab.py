"""Timer schedules: NCRONTAB expressions (six fields, seconds first; or five) and TimeSpan intervals, in UTC.

Vectors are worked out by hand from NCrontab's rules (docs/devhost.md "Triggers"); the property test checks
that an occurrence matches every field and that nothing earlier does.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devhost._ncrontab import ConstantSchedule, CronSchedule, ScheduleError, parse_schedule


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def nexts(expression: str, start: str, count: int = 1) -> list[str]:
    schedule = parse_schedule(expression)
    found: list[str] = []
    cursor: datetime | None = at(start)
    for _ in range(count):
        assert cursor is not None
        cursor = schedule.next_after(cursor)
        found.append(cursor.strftime("%Y-%m-%d %H:%M:%S %a") if cursor else "never")
    return found


@pytest.mark.parametrize(
    ("expression", "start", "expected"),
    [
        # every second; a fractional start goes to the next whole second
        ("* * * * * *", "2026-12-02 12:00:00", ["2026-12-02 12:00:01 Wed", "2026-12-02 12:00:02 Wed"]),
        ("* * * * * *", "2026-12-02 12:00:00.500", ["2026-12-02 12:00:01 Wed"]),
        # steps, and a value with a step means value-max
        ("0 */5 * * * *", "2026-12-02 12:03:10", ["2026-12-02 12:05:00 Wed", "2026-12-02 12:10:00 Wed"]),
        (
            "5/20 * * * * *",
            "2026-12-02 12:00:00",
            [
                "2026-12-02 12:00:05 Wed",
                "2026-12-02 12:00:25 Wed",
                "2026-12-02 12:00:45 Wed",
                "2026-12-02 12:01:05 Wed",
            ],
        ),
        # lists and ranges; a reversed range is swapped (17-9 = 9-17)
        ("0 0 8,12,18 * * *", "2026-12-02 13:00:00", ["2026-12-02 18:00:00 Wed", "2026-12-03 08:00:00 Thu"]),
        ("0 0 17-9/4 * * *", "2026-12-02 10:00:00", ["2026-12-02 13:00:00 Wed", "2026-12-02 17:00:00 Wed"]),
        ("0 0 17-9/4 * * *", "2026-12-02 17:00:00", ["2026-12-03 09:00:00 Thu"]),
        # day of week: numbers (Sunday = 0), names by prefix, ranges of names
        ("0 30 9 * * 1-5", "2026-12-04 10:00:00", ["2026-12-07 09:30:00 Mon"]),
        ("0 30 9 * * Mon-Fri", "2026-12-04 10:00:00", ["2026-12-07 09:30:00 Mon"]),
        ("0 0 0 * * Sat,sun", "2026-12-02 00:00:00", ["2026-12-05 00:00:00 Sat", "2026-12-06 00:00:00 Sun"]),
        ("0 0 0 * * T", "2026-12-02 00:00:00", ["2026-12-08 00:00:00 Tue"]),  # first prefix match: Tuesday
        ("0 0 0 * * 0", "2026-12-02 00:00:00", ["2026-12-06 00:00:00 Sun"]),
        # day of month AND day of week: Friday the 13th (classic cron's OR would fire on every Friday)
        ("0 0 0 13 * 5", "2026-01-01 00:00:00", ["2026-02-13 00:00:00 Fri", "2026-03-13 00:00:00 Fri"]),
        ("0 0 0 13 * Fri", "2026-12-01 00:00:00", ["2027-08-13 00:00:00 Fri"]),
        # calendar edges (UTC, no DST): month ends, leap days, year rollover
        ("0 0 0 31 * *", "2026-04-01 00:00:00", ["2026-05-31 00:00:00 Sun", "2026-07-31 00:00:00 Fri"]),
        ("0 0 12 29 2 *", "2026-03-01 00:00:00", ["2028-02-29 12:00:00 Tue"]),
        ("0 0 12 29 Feb *", "2028-02-29 12:00:00", ["2032-02-29 12:00:00 Sun"]),
        ("0 0 0 * * *", "2026-02-28 12:00:00", ["2026-03-01 00:00:00 Sun"]),
        ("59 59 23 31 12 *", "2026-12-31 23:59:59", ["2027-12-31 23:59:59 Fri"]),
        ("0 0 * * * *", "2026-12-31 23:59:59", ["2027-01-01 00:00:00 Fri"]),
        ("0 0 0 1 jan,Jul *", "2026-02-01 00:00:00", ["2026-07-01 00:00:00 Wed", "2027-01-01 00:00:00 Fri"]),
        # five fields: no seconds (second 0)
        ("*/15 * * * *", "2026-12-02 12:07:30", ["2026-12-02 12:15:00 Wed"]),
        ("30 9 * * Mon", "2026-12-02 00:00:00", ["2026-12-07 09:30:00 Mon"]),
        # never: 30 February
        ("0 0 0 30 2 *", "2026-01-01 00:00:00", ["never"]),
    ],
)
def test_next_occurrences(expression: str, start: str, expected: list[str]) -> None:
    assert nexts(expression, start, len(expected)) == expected


@pytest.mark.parametrize(
    ("expression", "reason"),
    [
        (
            "* * * * * 7",
            "7 is higher than the maximum allowable value for the [DayOfWeek] field. Value must be "
            "between 0 and 6 (all inclusive).",
        ),
        ("60 * * * * *", "60 is higher than the maximum allowable value for the [Second] field."),
        ("0 0 0 0 * *", "0 is lower than the minimum allowable value for the [Day] field."),
        (
            "* * * *",
            "It must contain 6 components of a schedule in the sequence of seconds, minutes, hours, days, "
            "months, and days of week.",
        ),
        ("* * * * * * *", "It must contain 6 components"),
        ("0 0 0 ? * *", "'?' is not a valid [Day] crontab field value. It must be a numeric value between 1 and 31"),
        ("0 0 0 L * *", "'L' is not a valid [Day] crontab field value."),
        ("0 0 0 * * 5#3", "'5#3' is not a valid [DayOfWeek] crontab field expression."),
        ("0 0 0 * Foo *", "'Foo' is not a known value name. Use one of the following: January, February"),
        ("0 0 0 1,,2 * *", "A crontab field value cannot be empty."),
        ("*/x * * * * *", "'*/x' is not a valid [Second] crontab field expression."),
        ("00:60:00", "It must contain 6 components"),  # not a cron expression and not a TimeSpan
        ("00:00:00", "a TimeSpan schedule must be longer than zero"),
        ("", "It must contain 6 components"),
    ],
)
def test_refusals_carry_the_hosts_message_and_ncrontabs_reason(expression: str, reason: str) -> None:
    with pytest.raises(ScheduleError) as caught:
        parse_schedule(expression)
    message = str(caught.value)
    assert message.startswith(
        "The schedule expression was not recognized as a valid cron expression or timespan string."
    )
    assert reason in message


@pytest.mark.parametrize(
    ("text", "interval"),
    [
        ("00:00:05", timedelta(seconds=5)),
        ("01:30", timedelta(hours=1, minutes=30)),
        ("1.02:03:04", timedelta(days=1, hours=2, minutes=3, seconds=4)),
        ("00:00:00.250", timedelta(milliseconds=250)),
        ("2", timedelta(days=2)),  # .NET reads a bare number as days
    ],
)
def test_timespan_schedules_are_constant_intervals(text: str, interval: timedelta) -> None:
    schedule = parse_schedule(text)
    assert schedule == ConstantSchedule(interval)
    assert schedule.next_after(at("2026-12-02 12:00:00")) == at("2026-12-02 12:00:00") + interval
    assert schedule.adjust_for_dst is False


def test_cron_schedules_serialize_adjust_for_dst_true_and_count_sub_minute_occurrences() -> None:
    now = at("2026-12-02 12:00:00")
    every_second = parse_schedule("* * * * * *")
    assert isinstance(every_second, CronSchedule) and every_second.adjust_for_dst is True
    assert every_second.occurrences_within(now, timedelta(minutes=1)) > 1
    assert parse_schedule("0 * * * * *").occurrences_within(now, timedelta(minutes=1)) == 1
    assert parse_schedule("0 0 0 30 2 *").occurrences_within(now, timedelta(minutes=1)) == 0
    assert str(every_second) == "Cron: '* * * * * *'"


FIELD_RANGES = [(0, 59), (0, 59), (0, 23), (1, 31), (1, 12), (0, 6)]


def _matches(moment: datetime, fields: list[set[int]]) -> bool:
    weekday = (moment.weekday() + 1) % 7  # Python Monday = 0 -> cron Sunday = 0
    values = [moment.second, moment.minute, moment.hour, moment.day, moment.month, weekday]
    return all(value in allowed for value, allowed in zip(values, fields, strict=True))


@st.composite
def expressions(draw: st.DrawFn) -> tuple[str, list[set[int]]]:
    fields: list[set[int]] = []
    tokens: list[str] = []
    for index, (low, high) in enumerate(FIELD_RANGES):
        if index >= 3 and draw(st.booleans()):
            fields.append(set(range(low, high + 1)))
            tokens.append("*")
            continue
        values = draw(st.sets(st.integers(low, high), min_size=1, max_size=4 if index < 3 else 8))
        fields.append(values)
        tokens.append(",".join(str(v) for v in sorted(values)))
    return " ".join(tokens), fields


@settings(max_examples=60, deadline=None)
@given(expressions(), st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2090, 1, 1)))
def test_an_occurrence_matches_every_field_and_nothing_earlier_does(
    case: tuple[str, list[set[int]]], start: datetime
) -> None:
    expression, fields = case
    start = start.replace(tzinfo=UTC)
    found = parse_schedule(expression).next_after(start)
    if found is None:  # only day/month combinations that never exist (e.g. 31 in 30-day months only)
        assert not any(
            _matches(
                datetime(year, month, day, tzinfo=UTC), [set(range(60)), set(range(60)), set(range(24)), *fields[3:]]
            )
            for year in range(start.year, start.year + 29)
            for month in fields[4]
            for day in fields[3]
            if day
            <= [
                31,
                29 if year % 4 == 0 and (year % 100 or year % 400 == 0) else 28,
                31,
                30,
                31,
                30,
                31,
                31,
                30,
                31,
                30,
                31,
            ][month - 1]
        )
        return
    assert found > start
    assert _matches(found, fields)
    # Nothing earlier: scan minute by minute (then second by second) when the gap is short enough to scan.
    if found - start <= timedelta(hours=1):
        cursor = start.replace(microsecond=0) + timedelta(seconds=1)
        while cursor < found:
            assert not _matches(cursor, fields), f"{expression}: {cursor} matches before {found}"
            cursor += timedelta(seconds=1)
