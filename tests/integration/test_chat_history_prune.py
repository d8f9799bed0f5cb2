"""The chat history is bounded by age (functions/_chat_history.py ``prune``, the timer ``chat_history_sweep``;
docs/limits.md), against Azurite: old rows of every room go, fresh rows stay; and the timer does it on a running
stack."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest

from devhost.stack import Stack
from functions import _chat_history as history
from shared import configure_storage

pytestmark = pytest.mark.integration

HOUR_MS = 3_600_000


def _message(room: str, ts: int) -> dict[str, object]:
    return {"id": os.urandom(8).hex(), "room": room, "from": "tester", "text": f"at {ts}", "ts": ts}


def _rows(room: str) -> list[str]:
    return [row["id"] for row in history.since(room, 0)]


@pytest.fixture
def storage(sioless_stack: Stack) -> Iterator[str]:
    configure_storage(sioless_stack.storage)
    yield sioless_stack.storage
    configure_storage()


def test_prune_deletes_the_old_messages_of_every_room_and_keeps_the_fresh_ones(storage: str) -> None:
    now = int(time.time() * 1000)
    rooms = [f"prune-{os.urandom(3).hex()}-{i}" for i in range(2)]
    counts = dict(zip(rooms, (130, 3), strict=True))
    old = {room: [_message(room, now - 2 * HOUR_MS + i) for i in range(count)] for room, count in counts.items()}
    fresh = {room: [_message(room, now - 1000 + i) for i in range(2)] for room in rooms}
    for messages in (*old.values(), *fresh.values()):
        for message in messages:
            history.record(message)
    # An hour: 130 old rows in one room (two transactions) and 3 in the other go, the 2 + 2 fresh ones stay.
    removed = history.prune(3600, now_ms=now)
    assert removed >= 133  # (other tests of the session may have left old rows too: they go as well)
    for room in rooms:
        assert _rows(room) == [m["id"] for m in fresh[room]]
    assert history.prune(3600, now_ms=now) == 0
    # A shorter age takes the rest; the age may not be negative.
    assert history.prune(0, now_ms=now + 1) >= 4 and all(_rows(room) == [] for room in rooms)
    with pytest.raises(ValueError, match="must not be negative"):
        history.prune(-1)


@pytest.mark.timeout(60)
def test_the_timer_deletes_messages_older_than_the_setting() -> None:
    stack = Stack(
        extra_env={"SIOLESS_CHAT_HISTORY_SWEEP_SCHEDULE": "* * * * * *", "SIOLESS_CHAT_HISTORY_MAX_AGE_SECONDS": "600"}
    )
    try:
        stack.start()
        configure_storage(stack.storage)
        now = int(time.time() * 1000)
        room = "timer"
        stale, recent = _message(room, now - HOUR_MS), _message(room, now - 5000)
        history.record(stale)
        history.record(recent)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and len(_rows(room)) > 1:
            time.sleep(0.2)
        assert _rows(room) == [recent["id"]]
        assert any("chat history: deleted 1 message(s) older than 600" in line for line in stack.outputs()["devhost"])
    finally:
        configure_storage()
        stack.stop()
