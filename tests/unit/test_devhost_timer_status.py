"""The timer schedule monitor's rules (the host's CheckPastDueAsync) and the status blob's JSON, in UTC."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from devhost._ncrontab import parse_schedule
from devhost._timers import NEVER, ScheduleStatus, check_past_due, parse_status

HOURLY = parse_schedule("0 0 * * * *")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_no_stored_status_starts_afresh_and_is_not_past_due() -> None:
    now = at("2026-12-02 12:30:00")
    status, store, past_due = check_past_due(now, HOURLY, None)
    assert status == ScheduleStatus(last=NEVER, next=at("2026-12-02 13:00:00"), last_updated=now)
    assert (store, past_due) == (True, False)


def test_a_missed_occurrence_is_past_due_and_the_stored_status_is_kept() -> None:
    stored = ScheduleStatus(at("2026-12-02 10:00:00"), at("2026-12-02 11:00:00"), at("2026-12-02 10:00:00"))
    status, store, past_due = check_past_due(at("2026-12-02 12:30:00"), HOURLY, stored)
    assert (status, store, past_due) == (stored, False, True)


def test_an_occurrence_still_ahead_is_not_past_due() -> None:
    stored = ScheduleStatus(at("2026-12-02 12:00:00"), at("2026-12-02 13:00:00"), at("2026-12-02 12:00:00"))
    assert check_past_due(at("2026-12-02 12:30:00"), HOURLY, stored) == (stored, False, False)


def test_a_changed_schedule_is_recomputed_and_never_counts_as_missed() -> None:
    # Stored by an every-5-minutes schedule; now hourly: Next from Last would be 11:00, already past -> from now.
    stored = ScheduleStatus(at("2026-12-02 10:55:00"), at("2026-12-02 11:00:00").replace(minute=5), NEVER)
    now = at("2026-12-02 12:30:00")
    status, store, past_due = check_past_due(now, HOURLY, stored)
    assert status == ScheduleStatus(last=NEVER, next=at("2026-12-02 13:00:00"), last_updated=now)
    assert (store, past_due) == (True, False)


def test_never_fired_uses_last_updated() -> None:
    stored = ScheduleStatus(NEVER, at("2026-12-02 11:00:00"), at("2026-12-02 10:30:00"))
    assert check_past_due(at("2026-12-02 11:00:01"), HOURLY, stored) == (stored, False, True)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            '{"Last":"2026-12-02T10:00:00.0105419+00:00","Next":"2026-12-02T11:00:00+00:00",'
            '"LastUpdated":"2026-12-02T10:00:00.0105419+00:00"}',
            ScheduleStatus(
                at("2026-12-02 10:00:00.010541"), at("2026-12-02 11:00:00"), at("2026-12-02 10:00:00.010541")
            ),
        ),
        (  # a status written by a host in another time zone, and .NET's "never"
            '{"Last":"0001-01-01T00:00:00","Next":"2022-03-28T15:45:00-05:00","LastUpdated":"0001-01-01T00:00:00"}',
            ScheduleStatus(NEVER, at("2022-03-28 20:45:00"), NEVER),
        ),
    ],
)
def test_status_blobs_parse_from_the_hosts_json(text: str, expected: ScheduleStatus) -> None:
    assert parse_status(text) == expected


def test_status_round_trips_through_its_json() -> None:
    import json

    status = ScheduleStatus(at("2026-12-02 10:00:00.5"), at("2026-12-02 11:00:00"), at("2026-12-02 10:00:00.5"))
    assert parse_status(json.dumps(status.as_json())) == status
