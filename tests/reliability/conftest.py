"""One stack for the reliability tests that measure or break things: Azurite on disk (so it can restart with its
data), a 5 s upstream timeout (the bound every fault outcome must beat)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from devhost.stack import Stack

from .harness import ROOT

UPSTREAM_TIMEOUT = 5.0
# The plumbing alone: no per-socket rate limits, no chat history (each costs Table calls per event; docs/limits.md).
NO_RATE_LIMITS = {
    "SIOLESS_CHAT_EVENTS_PER_SECOND": "0",
    "SIOLESS_WHITEBOARD_EVENTS_PER_SECOND": "0",
    "SIOLESS_CHAT_HISTORY": "0",
}


@pytest.fixture(scope="package")
def reliability_stack(sioless_stack_factory: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    yield sioless_stack_factory(
        ROOT,
        azurite_location=tmp_path_factory.mktemp("azurite-reliability"),
        emulator_flags=("--upstream-timeout", str(UPSTREAM_TIMEOUT)),
        # These cases measure the plumbing under load and faults, not the samples' per-socket rate limits
        # (docs/limits.md; tests/integration/test_limits.py covers those).
        extra_env=NO_RATE_LIMITS,
    )
