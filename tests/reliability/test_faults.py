"""Faults, small: the dev host SIGKILLed under traffic, Azurite restarted under writes, the emulator restarted
under connected node clients. The outcomes are the ones docs/reliability.md documents."""

from __future__ import annotations

import signal

import pytest

from devhost.stack import Stack

from .conftest import UPSTREAM_TIMEOUT
from .faults import azurite_restart, devhost_crash, emulator_restart
from .harness import node_available

pytestmark = pytest.mark.integration


@pytest.mark.timeout(120)
async def test_devhost_crash_gives_prompt_outcomes_and_bystanders_stay(reliability_stack: Stack) -> None:
    result = await devhost_crash(reliability_stack, senders=4, bystanders=4, outcome_limit=UPSTREAM_TIMEOUT + 5)
    assert result["acked_before_kill"] > 0, result
    # Every emit got an outcome: acked, or (sent while the host was down) its connection closed by the emulator
    # (user_event_failure=close_connection) -- never a hang past the upstream timeout.
    assert result["no_outcome"] == 0, result
    assert result["outcomes_before_kill"] == ["acked"], result
    assert result["emits_hit_by_the_crash"] > 0, result
    assert set(result["their_outcomes"]) <= {"acked", "disconnected"}, result
    assert result["their_outcomes"].get("disconnected", 0) >= 1, result
    assert result["slowest_outcome_ms"] < UPSTREAM_TIMEOUT * 1000, result
    # Clients that sent nothing meanwhile kept their connection and ids; traffic flows after the restart.
    assert result["bystanders_connected"] == result["bystanders_same_id"] == 4, result
    assert result["acked_after_restart"] == 4, result
    assert result["deliveries_after_restart_received"] == result["deliveries_after_restart_expected"] == 12, result


@pytest.mark.timeout(120)
async def test_azurite_restart_keeps_every_acked_shape_and_the_user_count(reliability_stack: Stack) -> None:
    result = await azurite_restart(reliability_stack, writers=3)
    assert result["shapes_acked"] > 0 and result["shapes_acked_missing"] == 0, result
    assert set(result["writes_refused"]) <= {"storage is unavailable"}, result
    assert result["diagram_status"] == 200, result
    assert result["users_after"] == result["users_before"], result
    assert result["clients_kept_connection"] == 3, result


@pytest.mark.timeout(120)
@pytest.mark.skipif(not node_available(), reason="node and node_modules/socket.io-client are needed")
async def test_emulator_restart_clients_reconnect_and_presence_converges(reliability_stack: Stack) -> None:
    result = await emulator_restart(reliability_stack, clients=6, sig=signal.SIGTERM)
    assert result["connected_before"] == 6, result
    assert result["reconnected"] == result["newIds"] == 6, result
    assert result["freshNegotiations"] >= 6, result
    assert result["users"] == [6] * 6, result  # the newest count each client holds
    assert result["probesAcked"] == 6, result
    assert result["presence_after_clients_left"] == 0, result


@pytest.mark.timeout(180)
@pytest.mark.skipif(not node_available(), reason="node and node_modules/socket.io-client are needed")
async def test_after_an_emulator_crash_the_user_count_is_exact_again_within_the_bound(
    reliability_stack: Stack,
) -> None:
    # SIGKILL: no disconnected webhooks, so the old sockets' presence rows stay until the whiteboard's presence
    # sweep (timer, SIOLESS_PRESENCE_SWEEP_SCHEDULE every 10 s) finds the service no longer has them. Bound:
    # one sweep period + the minimum age (20 s) for sockets that were younger + the sweep itself < 60 s.
    result = await emulator_restart(reliability_stack, clients=12, sig=signal.SIGKILL, timeout_ms=60_000)
    assert result["reconnected"] == result["newIds"] == 12, result
    assert result["users"] == [12] * 12, result  # exactly right: the stale rows are gone, no live one was removed
    assert result["convergeMs"] is not None and result["convergeMs"] < 60_000, result
    assert result["probesAcked"] == 12, result
    assert result["presence_after_clients_left"] == 0, result
