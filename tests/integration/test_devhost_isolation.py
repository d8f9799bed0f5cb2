"""A raising or hanging handler never affects other clients (raw fixture app, function timeout 2 s)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from devhost.stack import Stack

pytestmark = pytest.mark.integration

APP = Path(__file__).resolve().parents[1] / "fixtures" / "apps" / "raw"
RAW_NEGOTIATE = "/api/negotiate"  # the raw app's route (the samples use /api/<hub>/negotiate)


@pytest.fixture(scope="module")
def raw_stack(sioless_stack_factory) -> Stack:
    return sioless_stack_factory(APP, azurite_ports=None, function_timeout=2.0)


async def test_raising_handler_does_not_affect_other_clients(raw_stack: Stack, sioless_connect) -> None:
    victim = await sioless_connect("v", stack=raw_stack, negotiate_path=RAW_NEGOTIATE)
    other = await sioless_connect("o", stack=raw_stack, negotiate_path=RAW_NEGOTIATE)
    # Without an ack the extension ignores the failure: the client stays and keeps working.
    await victim.emit("boom", "no ack")
    assert await victim.call("echo", "after boom", timeout=5)
    # With an ack the webhook gets 500; the emulator applies its failure policy to that client only.
    with pytest.raises(Exception):  # noqa: B017 - TimeoutError or a disconnect, depending on the policy
        await victim.call("boom", "ack please", timeout=2)
    answer = await other.call("echo", "still fine", timeout=5)
    assert answer["echo"] == ["still fine"]
    assert any("boom handler failed on purpose" in line for line in raw_stack.outputs()["devhost"])


@pytest.mark.parametrize("event", ["slow", "aslow"])
async def test_hanging_handler_does_not_block_other_clients(raw_stack: Stack, sioless_connect, event: str) -> None:
    def timeouts_logged() -> int:
        return sum("Timeout value of 00:00:02 exceeded" in line for line in raw_stack.outputs()["devhost"])

    sleeper = await sioless_connect("s", stack=raw_stack, negotiate_path=RAW_NEGOTIATE)
    other = await sioless_connect("o", stack=raw_stack, negotiate_path=RAW_NEGOTIATE)
    timeouts_before = timeouts_logged()
    hanging = asyncio.create_task(sleeper.call(event, 30, timeout=4))
    await asyncio.sleep(0.2)
    answer = await other.call("echo", "not blocked", timeout=5)
    assert answer["echo"] == ["not blocked"]
    # Ordering, not a stopwatch: the bystander was answered while the sleeper's function was still running
    # (it only ends at the 2 s function timeout, which then fails the sleeper's call).
    assert not hanging.done()
    assert timeouts_logged() == timeouts_before
    with pytest.raises(Exception):  # noqa: B017 - the timed-out call fails for the sleeper only
        await hanging
    assert timeouts_logged() == timeouts_before + 1
    assert (await other.call("echo", "after", timeout=5))["echo"] == ["after"]
