"""Load, small: 40 node socket.io-client sockets in 4 rooms, 5 acked chat messages each, two rounds, through
emulator -> dev host -> functions/chat.py -> REST -> emulator. Nothing lost, order kept, no state left behind.
The full-size figures come from ``benchmarks/reliability.py`` (docs/reliability.md)."""

from __future__ import annotations

import pytest

from devhost.stack import Stack

from .harness import node_available, run_load, wait_drained

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not node_available(), reason="node and node_modules/socket.io-client are needed"),
]


@pytest.mark.timeout(180)
def test_load_loses_nothing_keeps_order_and_leaves_no_state(reliability_stack: Stack) -> None:
    for round_no in range(2):
        result = run_load(reliability_stack, clients=40, rooms=4, messages=5, prefix=f"ci{round_no}-", timeout=120)
        figures = {k: v for k, v in result.items() if k not in ("log", "config")}
        assert result["connected"] == 40, result["log"]
        assert result["acks"] == 200 and result["ackErrors"] == 0 and result["ackTimeouts"] == 0, figures
        assert result["expected"] == 200 * 9 and result["received"] == result["expected"], figures
        assert (result["lost"], result["duplicates"], result["unexpected"]) == (0, 0, 0), figures
        assert result["orderViolations"] == 0, figures
        assert result["unexpectedDisconnects"] == 0, figures
        # every socket left: the emulator forgets its connections and groups (no per-connection leak)
        assert wait_drained(reliability_stack, timeout=10.0) == {"connections": 0, "sockets": 0, "groups": 0}
